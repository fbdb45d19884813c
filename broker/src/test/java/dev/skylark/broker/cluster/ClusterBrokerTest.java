package dev.skylark.broker.cluster;

import dev.skylark.broker.Broker;
import dev.skylark.broker.status.CountersSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The broker with {@code skylark.cluster.*} settings: bad ones refuse to start, good ones start a cluster node. */
@Timeout(60)
class ClusterBrokerTest
{
    @TempDir
    Path dir;
    private Broker broker;

    @AfterEach
    void stop()
    {
        if (broker != null)
        {
            broker.close();
        }
    }

    private Broker.Context context()
    {
        return new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .dataDir(dir.toString()).ioThreads(1);
    }

    @Test
    void badClusterSettingsFailWithAClearMessage()
    {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> context().clusterNodeId(0).conclude());
        assertTrue(ex.getMessage().contains("skylark.cluster.node.id=0 needs skylark.cluster.members"),
            ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class,
            () -> context().clusterNodeId(3).clusterMembers("0=127.0.0.1:9100,1=127.0.0.1:9200").conclude());
        assertTrue(ex.getMessage().contains("skylark.cluster.node.id=3 is not one of skylark.cluster.members"),
            ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class,
            () -> context().clusterMembers("0=127.0.0.1:9100").conclude());
        assertTrue(ex.getMessage().contains("skylark.cluster.members is set but skylark.cluster.node.id is not"),
            ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class,
            () -> context().clusterNodeId(0).clusterMembers("0=127.0.0.1:9100,1=127.0.0.1:9103").conclude());
        assertTrue(ex.getMessage().contains("base ports must be at least 6 apart"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class,
            () -> context().clusterNodeId(0).clusterMembers("0=127.0.0.1").conclude());
        assertTrue(ex.getMessage().contains("is not id=host:basePort"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class,
            () -> context().clusterNodeId(64).clusterMembers("0=127.0.0.1:9100").conclude());
        assertTrue(ex.getMessage().contains("skylark.cluster.node.id"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> context().clusterNodeId(0)
            .clusterMembers("0=127.0.0.1:9100").clusterTimeouts(1000, 5000, 5000).conclude());
        assertTrue(ex.getMessage().contains("skylark.cluster.session.timeout.ms must be above"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> context().clusterNodeId(0)
            .clusterMembers("0=127.0.0.1:9100").clusterPeerTermLength(1024 * 1024).conclude());
        assertTrue(ex.getMessage().contains("must fit an eighth of skylark.cluster.peer.term.length"), ex.getMessage());
        // one below the limit is accepted: 2 MB terms carry 256 KB messages
        context().clusterNodeId(0).clusterMembers("0=127.0.0.1:9100").clusterPeerTermLength(2 * 1024 * 1024)
            .maxPacketSize(256 * 1024 - 64).conclude();
    }

    @Test
    void withoutClusterSettingsNothingClusterRelatedStarts()
    {
        broker = Broker.launch(context());
        assertEquals(0, CountersSnapshot.of(broker.countersFile().reader()).total("skylark_cluster_live_nodes"));
        assertEquals(null, broker.clusterNodesJson());
        assertFalse(Files.exists(dir.resolve("cluster")));
    }

    @Test
    void aOneMemberClusterNodeStartsBecomesLeaderAndShowsItInTheMetrics() throws Exception
    {
        final int base = freeBase();
        broker = Broker.launch(context().clusterNodeId(0).clusterMembers("0=127.0.0.1:" + base)
            .clusterTimeouts(500, 1000, 3000));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && !(metric("skylark_cluster_role") == 2 &&
            metric("skylark_cluster_live_nodes") == 1 && metric("skylark_cluster_leader") == 0))
        {
            Thread.onSpinWait();
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertEquals(2, metric("skylark_cluster_role"), "leader of a one-member cluster");
        assertEquals(1, metric("skylark_cluster_live_nodes"));
        assertEquals(0, metric("skylark_cluster_leader"));
        assertTrue(Files.isDirectory(dir.resolve("cluster").resolve("consensus")), "cluster dir under data dir");
        assertEquals("{\"self\": 0, \"leader\": 0, \"nodes\": [{\"id\": 0, \"host\": \"127.0.0.1\", \"basePort\": " +
            base + ", \"live\": true, \"role\": \"leader\"}]}", broker.clusterNodesJson());
        broker.close();
        broker = null;
        // the node lock is free again: the same directory starts a second time
        broker = Broker.launch(context().clusterNodeId(0).clusterMembers("0=127.0.0.1:" + base)
            .clusterTimeouts(500, 1000, 3000));
    }

    private long metric(final String name)
    {
        return CountersSnapshot.of(broker.countersFile().reader()).total(name);
    }

    private static int freeBase() throws Exception
    {
        while (true)
        {
            final int base = 20_000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(20_000);
            boolean free = true;
            for (int p = base; p < base + ClusterMembers.PORTS_PER_MEMBER && free; p++)
            {
                try (DatagramSocket socket = new DatagramSocket(null))
                {
                    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), p));
                }
                catch (final java.io.IOException ex)
                {
                    free = false;
                }
            }
            if (free)
            {
                return base;
            }
        }
    }
}
