package dev.skylark.broker.cluster;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A clean leave with three real broker JVMs ({@link BrokerCluster}): a node holding an offline persistent session
 * with queued QoS 1 messages and an online v5 client is stopped with SIGTERM; the online client gets DISCONNECT 0x9C
 * with the configured Server Reference, the node exits within its leave bound, and both clients, reconnecting to
 * another node, resume their sessions (session present 1) with every queued message in order.
 */
@Tag("cluster")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ClusterLeaveEndToEndTest
{
    private static final long WAIT_MS = 15_000;

    @TempDir
    Path dir;

    @Test
    void aNodeStoppedWithSigtermHandsItsPersistentSessionsToALiveNode() throws Exception
    {
        final List<AutoCloseable> clients = new ArrayList<>();
        try (BrokerCluster cluster = new BrokerCluster(dir.resolve("cluster"), 3,
            List.of("--auth.anonymous", "true", "--cluster.server.reference", "elsewhere.example.net:1883",
                "--cluster.leave.timeout.ms", "8000")))
        {
            cluster.start(60_000);
            final int leader = cluster.awaitFormed(60_000, -1);
            // A follower leaves (a leader leaving works too, but then the test also waits out an election).
            final int leaving = leader == 0 ? 1 : 0;
            final int other = 3 - leader - leaving; // neither the leaving node nor the leader
            final BrokerCluster.Node node = cluster.node(leaving);

            final Mqtt5BlockingClient parked = Mqtt5Client.builder().identifier("e2e-parked").serverHost("127.0.0.1")
                .serverPort(node.mqttPort()).buildBlocking();
            assertFalse(parked.connectWith().cleanStart(true).sessionExpiryInterval(300).send().isSessionPresent());
            parked.subscribeWith().topicFilter("e2e/leave/#").qos(MqttQos.AT_LEAST_ONCE).send();
            parked.disconnect(); // offline on the leaving node for 300 s

            final CompletableFuture<String> told = new CompletableFuture<>();
            final Mqtt5BlockingClient online = Mqtt5Client.builder().identifier("e2e-online").serverHost("127.0.0.1")
                .serverPort(node.mqttPort())
                .addDisconnectedListener((ctx) -> told.complete(ctx.getCause() instanceof Mqtt5DisconnectException d ?
                    Integer.toHexString(d.getMqttMessage().getReasonCode().getCode()) + " " +
                    d.getMqttMessage().getServerReference().map(Object::toString).orElse("-") : "none"))
                .buildBlocking();
            online.connectWith().cleanStart(true).sessionExpiryInterval(300).send();
            online.subscribeWith().topicFilter("e2e/online/#").qos(MqttQos.AT_LEAST_ONCE).send();

            final Mqtt5BlockingClient pub = Mqtt5Client.builder().identifier("e2e-leavepub").serverHost("127.0.0.1")
                .serverPort(cluster.node(other).mqttPort()).buildBlocking();
            pub.connect();
            clients.add(pub::disconnect);
            // The routes reach the publisher's node a moment after the SUBACKs: publish until the online one hears.
            final BlockingQueue<Mqtt5Publish> onlineIn = new LinkedBlockingQueue<>();
            online.toAsync().publishes(MqttGlobalPublishFilter.ALL, onlineIn::add);
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
            while (onlineIn.poll(100, TimeUnit.MILLISECONDS) == null)
            {
                assertTrue(System.nanoTime() < deadline, "the routes reached node " + other);
                pub.publishWith().topic("e2e/online/probe").qos(MqttQos.AT_MOST_ONCE).send();
            }
            for (int i = 0; i < 3; i++)
            {
                pub.publishWith().topic("e2e/leave/data").qos(MqttQos.AT_LEAST_ONCE).payload(("q" + i).getBytes())
                    .send(); // PUBACK: queued in the offline session on the leaving node
            }

            final long startNs = System.nanoTime();
            assertTrue(node.terminate(30_000), "SIGTERM: the node exits by itself\n" + node.logText());
            final long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
            assertEquals("9c elsewhere.example.net:1883", told.get(WAIT_MS, TimeUnit.MILLISECONDS),
                "the online v5 client: DISCONNECT 0x9C Use another server with the Server Reference");
            assertTrue(node.logText().contains("2 persistent session(s) handed over"),
                "both sessions handed over (in " + tookMs + " ms):\n" + node.logText());

            final BlockingQueue<Mqtt5Publish> in = new LinkedBlockingQueue<>();
            final Mqtt5BlockingClient back = Mqtt5Client.builder().identifier("e2e-parked").serverHost("127.0.0.1")
                .serverPort(cluster.node(other).mqttPort()).buildBlocking();
            back.toAsync().publishes(MqttGlobalPublishFilter.ALL, in::add);
            assertTrue(back.connectWith().cleanStart(false).sessionExpiryInterval(300).send().isSessionPresent(),
                "the parked session resumes on node " + other + ": session present 1");
            clients.add(back::disconnect);
            for (int i = 0; i < 3; i++)
            {
                final Mqtt5Publish p = in.poll(WAIT_MS, TimeUnit.MILLISECONDS);
                assertNotNull(p, "queued message " + i + " came with the session");
                assertEquals("q" + i, new String(p.getPayloadAsBytes()), "in order");
            }

            final Mqtt5BlockingClient again = Mqtt5Client.builder().identifier("e2e-online").serverHost("127.0.0.1")
                .serverPort(cluster.node(leader).mqttPort()).buildBlocking();
            assertTrue(again.connectWith().cleanStart(false).sessionExpiryInterval(0).send().isSessionPresent(),
                "the online client resumes on node " + leader + ": session present 1");
            again.disconnect();
        }
        finally
        {
            for (final AutoCloseable c : clients)
            {
                try
                {
                    c.close();
                }
                catch (final Exception ignore)
                {
                    // gone with its node
                }
            }
        }
    }
}
