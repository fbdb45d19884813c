package dev.skylark.broker.cluster;

import org.junit.jupiter.api.Test;

import java.io.File;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When a node cut off from the registry log fences itself ({@code ClusterNodeAgent.fenceAfterMs}): halfway between
 * the leader heartbeat timeout and the session timeout, at least a quarter of the session timeout before it, and the
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
    void halfwayBetweenTheHeartbeatTimeoutAndTheSessionTimeout()
    {
        assertEquals(7500, fenceAfterMs(5000, 10_000), "the defaults");
        assertEquals(2250, fenceAfterMs(1500, 3000), "the three-JVM tests' settings");
    }

    @Test
    void atLeastAQuarterOfTheSessionTimeoutBeforeIt()
    {
        assertEquals(7500, fenceAfterMs(9000, 10_000), "a heartbeat timeout just under the session timeout");
        assertEquals(7500, fenceAfterMs(7499, 10_000));
        assertEquals(7500, fenceAfterMs(5001, 10_000));
        assertEquals(7000, fenceAfterMs(4000, 10_000), "a shorter heartbeat timeout: halfway, (T + H) / 2");
    }

    @Test
    void neverAfterAeronsImageLivenessTimeout()
    {
        final long fence = fenceAfterMs(5000, 60_000);
        assertTrue(fence < 10_000, "a silent session's ingress image goes after 10 s: " + fence);
        assertEquals(7500, fence);
    }
}
