/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.IOException;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The options that spread one run over a cluster's nodes ({@code perf-scripts/compare.sh}'s {@code skylark-cluster3}):
 * {@code --publisher-ports} / {@code --subscriber-ports} put connection i of a role on port list[i mod n], every
 * other connection stays on {@code --port}; {@code --broker-pids} sums the broker figures over several processes.
 */
class ClusterPlacementOptionsTest
{
    @Test
    void connectionsOfEachRoleGoRoundRobinOverTheirPorts() throws IOException
    {
        final LoadConfig config = LoadConfig.parse(new String[] {"--port", "1883", "--scenario", "fan-out",
            "--publishers", "2", "--subscribers", "7", "--publisher-ports", "2001",
            "--subscriber-ports", "3001,3002,3003"});
        final ClientConnectionFactory factory = new ClientConnectionFactory(config);

        final ClientConnection[] subscribers = factory.subscribers();
        final int[] expected = {3001, 3002, 3003, 3001, 3002, 3003, 3001};
        for (int i = 0; i < subscribers.length; i++)
        {
            assertEquals(expected[i], subscribers[i].remoteAddress.getPort(), "subscriber " + i);
            assertEquals("127.0.0.1", subscribers[i].remoteAddress.getHostString());
        }
        for (final ClientConnection publisher : factory.publishers())
        {
            assertEquals(2001, publisher.remoteAddress.getPort());
        }
    }

    @Test
    void withoutPortListsEveryConnectionUsesPort() throws IOException
    {
        final LoadConfig config = LoadConfig.parse(new String[] {"--port", "1999", "--publishers", "3",
            "--subscriber-ports", "2500"});
        final ClientConnectionFactory factory = new ClientConnectionFactory(config);

        for (final ClientConnection publisher : factory.publishers())
        {
            assertEquals(1999, publisher.remoteAddress.getPort());
        }
        assertEquals(2500, factory.subscribers()[0].remoteAddress.getPort());
    }

    @Test
    void brokerPidsAreSummed()
    {
        final long self = ProcessHandle.current().pid();
        final LoadConfig config = LoadConfig.parse(new String[] {"--broker-pids", self + "," + self});
        assertEquals(self, config.brokerPid);
        assertArrayEquals(new long[] {self}, config.extraBrokerPids);

        final long one = ProcessUsage.statusKb(self, "VmExe");
        assertTrue(one > 0, "VmExe of this JVM (constant)");
        assertEquals(2 * one, config.brokerStatusKb("VmExe"));
        assertTrue(config.brokerCpuNs() >= 2 * ProcessUsage.cpuNs(self) - 1_000_000_000L);

        // one unreadable process makes the sum unknown, not too small
        final LoadConfig missing = LoadConfig.parse(new String[] {"--broker-pids", self + ",999999999"});
        assertEquals(-1, missing.brokerCpuNs());
        assertEquals(-1, missing.brokerStatusKb("VmExe"));
    }

    @Test
    void badListsAreRefused()
    {
        assertThrows(IllegalArgumentException.class,
            () -> LoadConfig.parse(new String[] {"--subscriber-ports", "1883,x"}));
        assertThrows(IllegalArgumentException.class,
            () -> LoadConfig.parse(new String[] {"--publisher-ports", "1883,70000"}));
        assertThrows(IllegalArgumentException.class,
            () -> LoadConfig.parse(new String[] {"--publisher-ports", "1883,"}));
        assertThrows(IllegalArgumentException.class,
            () -> LoadConfig.parse(new String[] {"--broker-pids", ""}));
    }
}
