package dev.skylark.broker.routing;

import org.agrona.DeadlineTimerWheel;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.concurrent.TimeUnit;

/**
 * The routing agent's deadlines for sessions on a {@link DeadlineTimerWheel}: an offline session's expiry and its will
 * delay, and a connected one's slow-consumer check. Each fires on the first {@link #poll} whose {@code nowNs} has reached it, so the cost per duty cycle is one
 * spoke of the wheel rather than a scan over every session. Called by {@link SessionRegistry} and {@link Wills} to
 * schedule and cancel, and by the agent's duty cycle to poll.
 */
final class SessionTimers implements DeadlineTimerWheel.TimerHandler
{
    /** A session's timer id field when it has no timer of that kind. */
    static final long NO_TIMER = -1;
    /** About 1 ms per tick. */
    private static final long TICK_RESOLUTION_NS = 1L << 20;
    /** A turn of the wheel covers about 1 s; later deadlines wait in their spoke for their turn. */
    private static final int TICKS_PER_WHEEL = 1024;
    private static final int INITIAL_TICK_ALLOCATION = 16;

    /** What a timer firing means. */
    interface Handler
    {
        /** A disconnected session's will delay ran out: its will goes now. */
        void onWillDelayElapsed(Session session);

        /** A disconnected session's expiry interval ran out: it ends now. */
        void onSessionExpired(Session session);
    }

    private final DeadlineTimerWheel wheel;
    private final Long2ObjectHashMap<Session> owners = new Long2ObjectHashMap<>();
    private Handler handler;
    private SlowSubscribers slowSubscribers;

    SessionTimers(final long startNs)
    {
        wheel = new DeadlineTimerWheel(
            TimeUnit.NANOSECONDS, startNs, TICK_RESOLUTION_NS, TICKS_PER_WHEEL, INITIAL_TICK_ALLOCATION);
    }

    void handler(final Handler handler)
    {
        this.handler = handler;
    }

    void slowSubscribers(final SlowSubscribers slowSubscribers)
    {
        this.slowSubscribers = slowSubscribers;
    }

    /** When a connected session's stalled window is next looked at ({@link SlowSubscribers}). */
    void scheduleSlowCheck(final Session session, final long deadlineNs)
    {
        cancelSlowCheck(session);
        session.slowTimerId = schedule(session, deadlineNs);
    }

    void cancelSlowCheck(final Session session)
    {
        session.slowTimerId = cancel(session.slowTimerId);
    }

    void scheduleExpiry(final Session session, final long deadlineNs)
    {
        cancelExpiry(session);
        session.expiryTimerId = schedule(session, deadlineNs);
    }

    void cancelExpiry(final Session session)
    {
        session.expiryTimerId = cancel(session.expiryTimerId);
    }

    void scheduleWill(final Session session, final long deadlineNs)
    {
        cancelWill(session);
        session.willTimerId = schedule(session, deadlineNs);
    }

    void cancelWill(final Session session)
    {
        session.willTimerId = cancel(session.willTimerId);
    }

    /** Timers scheduled and not yet fired or cancelled. */
    long timerCount()
    {
        return wheel.timerCount();
    }

    /**
     * Fires every timer whose deadline {@code nowNs} has reached. The wheel moves one tick per poll, so after the
     * clock jumped this polls on (at most one whole turn, which visits every spoke at {@code nowNs}) and then winds
     * the wheel forward: nothing due waits for a later duty cycle.
     *
     * @return the number of timers fired.
     */
    int poll(final long nowNs)
    {
        int fired = 0;
        for (int i = 0; i <= TICKS_PER_WHEEL; i++)
        {
            final long tickTime = wheel.currentTickTime();
            fired += wheel.poll(nowNs, this, Integer.MAX_VALUE);
            if (wheel.currentTickTime() == tickTime)
            {
                return fired; // the spoke of nowNs's own tick has been scanned
            }
            if (wheel.timerCount() == 0)
            {
                break;
            }
        }
        wheel.currentTickTime(nowNs);
        return fired;
    }

    @Override
    public boolean onTimerExpiry(final TimeUnit timeUnit, final long now, final long timerId)
    {
        final Session session = owners.remove(timerId);
        if (session != null)
        {
            if (session.willTimerId == timerId)
            {
                session.willTimerId = NO_TIMER;
                handler.onWillDelayElapsed(session);
            }
            else if (session.expiryTimerId == timerId)
            {
                session.expiryTimerId = NO_TIMER;
                handler.onSessionExpired(session);
            }
            else if (session.slowTimerId == timerId)
            {
                session.slowTimerId = NO_TIMER;
                slowSubscribers.onTimer(session);
            }
        }
        return true;
    }

    private long schedule(final Session session, final long deadlineNs)
    {
        final long timerId = wheel.scheduleTimer(deadlineNs);
        owners.put(timerId, session);
        return timerId;
    }

    private long cancel(final long timerId)
    {
        if (timerId != NO_TIMER)
        {
            wheel.cancelTimer(timerId);
            owners.remove(timerId);
        }
        return NO_TIMER;
    }
}
