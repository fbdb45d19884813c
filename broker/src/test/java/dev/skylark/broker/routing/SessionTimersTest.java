package dev.skylark.broker.routing;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Session timers on a controlled clock: each fires on the first poll at or past its deadline, however far the clock
 * jumped, and never before.
 */
class SessionTimersTest
{
    private static final long ONE_MS = 1_000_000L;
    private static final long START_NS = 123_456_789L;

    private final List<String> fired = new ArrayList<>();
    private final SessionTimers timers = new SessionTimers(START_NS);

    SessionTimersTest()
    {
        timers.handler(new SessionTimers.Handler()
        {
            public void onWillDelayElapsed(final Session session)
            {
                fired.add("will " + session.clientId);
            }

            public void onSessionExpired(final Session session)
            {
                fired.add("expired " + session.clientId);
            }
        });
    }

    @Test
    void firesExactlyAtTheDeadlineAfterAJump()
    {
        final Session a = new Session(1, "a");
        final long deadlineNs = START_NS + 5_000 * ONE_MS;
        timers.scheduleExpiry(a, deadlineNs);

        timers.poll(deadlineNs - ONE_MS);
        assertEquals(List.of(), fired);
        timers.poll(deadlineNs + ONE_MS);
        assertEquals(List.of("expired a"), fired);
        assertEquals(SessionTimers.NO_TIMER, a.expiryTimerId);
        assertEquals(0, timers.timerCount());
    }

    @Test
    void firesAtTheDeadlineNanosecondAndNotOneBefore()
    {
        final Session a = new Session(1, "a");
        final long deadlineNs = START_NS + 2 * ONE_MS + 17;
        timers.scheduleWill(a, deadlineNs);
        timers.poll(deadlineNs - 1);
        assertEquals(List.of(), fired);
        timers.poll(deadlineNs);
        assertEquals(List.of("will a"), fired);
    }

    @Test
    void firesAfterAJumpOfManyTurnsOfTheWheelWithOtherTimersPending()
    {
        final Session a = new Session(1, "a");
        final Session b = new Session(2, "b");
        timers.scheduleExpiry(a, START_NS + 3_600_000 * ONE_MS); // an hour: many turns of the wheel
        timers.scheduleExpiry(b, START_NS + 7_200_000 * ONE_MS);
        timers.poll(START_NS + 3_600_000 * ONE_MS - ONE_MS);
        assertEquals(List.of(), fired);
        timers.poll(START_NS + 3_600_000 * ONE_MS + ONE_MS);
        assertEquals(List.of("expired a"), fired);
        timers.poll(START_NS + 7_200_000 * ONE_MS - ONE_MS);
        assertEquals(List.of("expired a"), fired);
        timers.poll(START_NS + 7_200_000 * ONE_MS);
        assertEquals(List.of("expired a", "expired b"), fired);
    }

    @Test
    void aCancelledOrRescheduledTimerDoesNotFire()
    {
        final Session a = new Session(1, "a");
        final Session b = new Session(2, "b");
        timers.scheduleExpiry(a, START_NS + 10 * ONE_MS);
        timers.scheduleWill(a, START_NS + 10 * ONE_MS);
        timers.scheduleExpiry(b, START_NS + 10 * ONE_MS);
        timers.cancelWill(a);
        timers.scheduleExpiry(b, START_NS + 20 * ONE_MS);
        timers.poll(START_NS + 15 * ONE_MS);
        assertEquals(List.of("expired a"), fired);
        timers.poll(START_NS + 20 * ONE_MS);
        assertEquals(List.of("expired a", "expired b"), fired);
        assertEquals(0, timers.timerCount());
    }
}
