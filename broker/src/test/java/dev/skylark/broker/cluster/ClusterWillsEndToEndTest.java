package dev.skylark.broker.cluster;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 19: the will of a client of a node that dies is published by the node's heir. Three real brokers, each in
 * its own JVM ({@link BrokerCluster}); a HiveMQ v5 client with a delayed will on node A (not the Raft leader), a
 * HiveMQ v5 subscriber on node C; SIGKILL of A: the will arrives at C once, after the registry's session timeout
 * (A is declared down) plus the will delay, published by A's heir.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ClusterWillsEndToEndTest
{
    private static final long WAIT_MS = 10_000;
    private static final int WILL_DELAY_S = 2;

    @TempDir
    Path dir;

    private static Mqtt5BlockingClient hive(final BrokerCluster cluster, final int node, final String id,
        final List<Mqtt5BlockingClient> clients)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
            .serverPort(cluster.node(node).mqttPort()).buildBlocking();
        clients.add(c);
        return c;
    }

    @Test
    void theWillOfAClientOfAKilledNodeArrivesOnceAfterTheSessionTimeoutPlusItsDelay() throws Exception
    {
        final List<Mqtt5BlockingClient> clients = new ArrayList<>();
        try (BrokerCluster cluster = new BrokerCluster(dir.resolve("cluster"), 3, List.of("--auth.anonymous", "true")))
        {
            cluster.start(60_000);
            final int leader = cluster.awaitFormed(WAIT_MS, -1);
            final int a = leader == 0 ? 1 : 0;   // the node that dies: not the leader, so no election is in the way
            final int heir = (a + 1) % 3;         // its buddy: the next live node id above it
            final int c = 3 - a - heir;           // the subscriber's node

            final Mqtt5BlockingClient watcher = hive(cluster, c, "will-watcher", clients);
            watcher.connect();
            final BlockingQueue<String> in = new LinkedBlockingQueue<>();
            watcher.toAsync().subscribeWith().topicFilter("e2e/will/#").qos(MqttQos.AT_LEAST_ONCE)
                .callback((p) -> in.add(p.getTopic() + " " + new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)))
                .send().join();

            final Mqtt5BlockingClient dying = hive(cluster, a, "will-dying", clients);
            dying.connectWith().cleanStart(true).sessionExpiryInterval(60)
                .willPublish().topic("e2e/will/dying").qos(MqttQos.AT_LEAST_ONCE)
                .payload("gone with its node".getBytes(StandardCharsets.UTF_8)).delayInterval(WILL_DELAY_S)
                .applyWillPublish().send();
            // A's registry commands commit in order: once a later claim from A has committed (its CONNACK), so has
            // the will A set for "will-dying".
            hive(cluster, a, "will-after", clients).connect();

            // Routed: a probe from the heir reaches the watcher (C's route is applied on the heir).
            final Mqtt5BlockingClient probe = hive(cluster, heir, "will-probe", clients);
            probe.connect();
            probe.publishWith().topic("e2e/will/probe").qos(MqttQos.AT_LEAST_ONCE)
                .payload("probe".getBytes(StandardCharsets.UTF_8)).send();
            assertEquals("e2e/will/probe probe", in.poll(WAIT_MS, TimeUnit.MILLISECONDS));

            final long killedNs = System.nanoTime();
            cluster.node(a).kill();
            final String will = in.poll(BrokerCluster.SESSION_MS + TimeUnit.SECONDS.toMillis(WILL_DELAY_S) + 20_000,
                TimeUnit.MILLISECONDS);
            final long afterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedNs);
            assertNotNull(will, "the will of a client of the killed node arrives\n" + cluster.logs());
            assertEquals("e2e/will/dying gone with its node", will);
            assertTrue(afterMs >= TimeUnit.SECONDS.toMillis(WILL_DELAY_S),
                "not before its delay: " + afterMs + " ms after SIGKILL");
            System.out.println("the will arrived " + afterMs + " ms after SIGKILL (session timeout " +
                BrokerCluster.SESSION_MS + " ms, will delay " + WILL_DELAY_S + " s)");

            // Once: markers from both survivors come after it, and nothing else does.
            for (final int node : new int[] {heir, c})
            {
                final Mqtt5BlockingClient marker = hive(cluster, node, "will-marker-" + node, clients);
                marker.connect();
                marker.publishWith().topic("e2e/will/marker").qos(MqttQos.AT_LEAST_ONCE)
                    .payload(("marker " + node).getBytes(StandardCharsets.UTF_8)).send();
                assertEquals("e2e/will/marker marker " + node, in.poll(WAIT_MS, TimeUnit.MILLISECONDS),
                    "no second will");
            }
            assertEquals(null, in.poll(500, TimeUnit.MILLISECONDS), "nothing more");
        }
        finally
        {
            for (final Mqtt5BlockingClient client : clients)
            {
                try
                {
                    client.toAsync().disconnect();
                }
                catch (final RuntimeException ignore)
                {
                    // never connected, or its node is gone
                }
            }
        }
    }
}
