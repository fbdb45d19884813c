package dev.skylark.broker.cluster;

import org.junit.jupiter.api.Test;

import java.io.File;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When a node cut off from the registry log fences itself ({@code ClusterNodeAgent.fenceAfterMs}): a quarter of the
 * way from the session timeout back to the leader heartbeat timeout, at least an eighth of it early, and the
 * session timeout capped by Aeron's image liveness timeout (10 s), after which the leader closes a silent session too.
 */
class FenceTimeTest
{
    private static long fenceAfterMs(final long heartbeatMs, final long sessionMs)
    {
        return ClusterNodeAgent.fenceAfterMs(new ClusterNode.Settings(0, ClusterMembers.parse("0=127.0.0.1:9100"),
            new File("unused"), 1000, heartbeatMs, sessionMs, 64 * 1024, 0, 1024, 1024 * 1024, 64 * 1024));
    }

    @Test
    void aQuarterOfTheWayBackFromTheSessionTimeoutToTheHeartbeatTimeout()
    {
        assertEquals(8750, fenceAfterMs(5000, 10_000), "the defaults");
        assertEquals(2625, fenceAfterMs(1500, 3000), "the three-JVM tests' settings");
        assertEquals(8500, fenceAfterMs(4000, 10_000), "a shorter heartbeat timeout: T - (T - H) / 4");
    }

    @Test
    void atLeastAnEighthOfTheSessionTimeoutBeforeIt()
    {
        assertEquals(8750, fenceAfterMs(9000, 10_000), "a heartbeat timeout just under the session timeout");
        assertEquals(8750, fenceAfterMs(5001, 10_000));
        assertEquals(8750, fenceAfterMs(4999, 10_000), "(T - H) / 4 = 1250 (integer ms)");
        assertEquals(8749, fenceAfterMs(4995, 10_000), "(T - H) / 4 = 1251");
    }

    @Test
    void neverAfterAeronsImageLivenessTimeout()
    {
        final long fence = fenceAfterMs(5000, 60_000);
        assertTrue(fence < 10_000, "a silent session's ingress image goes after 10 s: " + fence);
        assertEquals(8750, fence);
    }
}
