package dev.skylark.broker.session;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GCRA at its boundaries, with time moved by hand: the burst, then one packet per interval. */
class PacketRateLimiterTest
{
    private static final long INTERVAL_NS = 100_000_000L; // 10 packets a second
    private static final long START_NS = 5_000_000_000L;

    private final PacketRateLimiter limiter = new PacketRateLimiter(10, 3);
    private long tatNs;

    private boolean offer(final long nowNs)
    {
        final long next = limiter.admit(tatNs, nowNs);
        if (next == PacketRateLimiter.REFUSED)
        {
            return false;
        }
        tatNs = next;
        return true;
    }

    @Test
    void zeroRateIsUnlimited()
    {
        assertFalse(new PacketRateLimiter(0, 10).enabled());
        assertTrue(limiter.enabled());
    }

    @Test
    void burstThenOnePerInterval()
    {
        assertTrue(offer(START_NS));
        assertTrue(offer(START_NS));
        assertTrue(offer(START_NS));
        assertFalse(offer(START_NS), "a fourth packet at once is beyond the burst of 3");
        assertEquals(START_NS + 3 * INTERVAL_NS, tatNs, "a refused packet leaves the arrival time as it was");

        assertFalse(offer(START_NS + INTERVAL_NS - 1), "one interval − 1 ns later: still too early");
        assertTrue(offer(START_NS + INTERVAL_NS), "one interval later: one packet more");
        assertFalse(offer(START_NS + INTERVAL_NS));
    }

    @Test
    void idleTimeRefillsTheBurstButNoMore()
    {
        assertTrue(offer(START_NS));
        final long later = START_NS + 60 * INTERVAL_NS;
        assertTrue(offer(later));
        assertTrue(offer(later));
        assertTrue(offer(later));
        assertFalse(offer(later), "a long silence refills the burst, not more");
    }
}
