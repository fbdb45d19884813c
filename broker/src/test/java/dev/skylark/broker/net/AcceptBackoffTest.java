package dev.skylark.broker.net;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue #15: after accept() failed the listener looped hot and logged every pass. */
class AcceptBackoffTest
{
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @Test
    void pausesDoubleUpToOneSecondAndResetAfterASuccess()
    {
        final AcceptBackoff backoff = new AcceptBackoff();
        long nowNs = 1_000 * MS;
        assertFalse(backoff.isPaused());
        final long[] expectedMs = { 10, 20, 40, 80, 160, 320, 640, 1000, 1000 };
        for (final long ms : expectedMs)
        {
            assertEquals(ms * MS, backoff.onFailure(nowNs));
            assertFalse(backoff.resume(nowNs + ms * MS - 1), "1 ns before the pause ends: still paused");
            assertTrue(backoff.isPaused());
            nowNs += ms * MS;
            assertTrue(backoff.resume(nowNs), "at the end of the pause: accepting again");
            assertFalse(backoff.resume(nowNs), "resumed once");
        }
        backoff.onSuccess();
        assertEquals(10 * MS, backoff.onFailure(nowNs), "after a success: from 10 ms again");
    }

    @Test
    void logsOncePerPeriodWithTheFailuresItStandsFor()
    {
        final AcceptBackoff backoff = new AcceptBackoff();
        final long startNs = 5_000 * MS;
        backoff.onFailure(startNs);
        assertEquals(1, backoff.failuresToLog(startNs), "the first failure is logged");
        long lines = 1;
        long failures = 1;
        // A failure every millisecond for 3 s (as a hot loop would see): about one line a second.
        for (long t = startNs + MS; t <= startNs + 3_000 * MS; t += MS)
        {
            backoff.onFailure(t);
            failures++;
            final long logged = backoff.failuresToLog(t);
            if (logged > 0)
            {
                lines++;
                assertTrue(logged >= 999, "a line stands for the failures since the last one: " + logged);
            }
        }
        assertEquals(4, lines, "lines at 0, 1, 2 and 3 s for " + failures + " failures");
        assertEquals(0, backoff.failuresToLog(startNs + 3_000 * MS + 999 * MS), "999 ms after the last line: none yet");
    }
}
