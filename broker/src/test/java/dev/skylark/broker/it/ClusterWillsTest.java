package dev.skylark.broker.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Wills of a dead node's clients (issue 19) on real sockets against three brokers of one {@link InJvmCluster}: the
 * owning node sets a client's will in the registry once its claim commits and clears it when it publishes or drops
 * the will itself; when the node dies, the registry makes the will due after its delay (the double's will clock
 * stands for the cluster timer) and the heir publishes it, once, to subscribers on every node; a client that
 * reconnects within the delay cancels it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterWillsTest
{
    private static final long WAIT_MS = 10_000;

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dataDir;
    private final InJvmCluster cluster = new InJvmCluster();
    private final List<InJvmCluster.Link> links = new ArrayList<>();
    private final List<Broker> brokers = new ArrayList<>();
    private final List<AutoCloseable> clients = new ArrayList<>();

    private void start(final int nodes)
    {
        for (int i = 1; i <= nodes; i++)
        {
            final InJvmCluster.Link link = cluster.link(i);
            links.add(link);
            brokers.add(Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0)
                .bindAddress("127.0.0.1").dataDir(dataDir.resolve("node" + i).toString()).clusterLink(link)));
        }
        await(() -> links.stream().allMatch((l) -> l.up), "every node up");
    }

    @AfterEach
    void stop()
    {
        for (final AutoCloseable c : clients)
        {
            try
            {
                c.close();
            }
            catch (final Exception ignore)
            {
            }
        }
        for (final InJvmCluster.Link link : links)
        {
            link.paused = false;
        }
        for (final Broker b : brokers)
        {
            b.close();
        }
    }

    private int port(final int node)
    {
        return brokers.get(node - 1).mqttPort();
    }

    private static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                fail("timed out waiting for: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private Mqtt5BlockingClient hive(final int node, final String id)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
            .serverPort(port(node)).buildBlocking();
        c.connect();
        clients.add(() ->
        {
            if (c.getState().isConnected())
            {
                c.disconnect();
            }
        });
        return c;
    }

    private static byte[] b(final int... v)
    {
        return RawClient.bytes(v);
    }

    /** A raw v5 client on {@code node} with a QoS 1 will on {@code topic}, connected (CONNACK 0 checked). */
    private RawClient connectWithWill(final int node, final String clientId, final int willDelayS, final int expiryS,
        final String topic, final String payload) throws Exception
    {
        final RawClient c = new RawClient(port(node));
        clients.add(c);
        final byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        final byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        final byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        c.sendRaw(RawClient.packet(0x10,                                    // CONNECT
            b(0, 4, 'M', 'Q', 'T', 'T', 5),                                 // MQTT 5
            b(0x02 | 0x04 | 0x08, 0, 60),                                   // clean start, will flag, will QoS 1
            b(5, 0x11, 0, 0, expiryS >> 8, expiryS & 0xFF),                 // Session Expiry Interval
            b(0, id.length), id,                                            // client id
            b(5, 0x18, 0, 0, willDelayS >> 8, willDelayS & 0xFF),           // will properties: Will Delay Interval
            b(0, t.length), t,                                              // will topic
            b(0, p.length), p));                                            // will payload
        final byte[] connack = c.expect(2);
        assertEquals(0, connack[3], "CONNACK success");
        return c;
    }

    /** Node {@code node} dies: it takes nothing in any more, and the registry declares it down. */
    private void kill(final int node)
    {
        links.get(node - 1).paused = true;
        cluster.nodeDown(node);
    }

    /**
     * A QoS 1 marker published on {@code node} (after that node handled everything the registry told it) reaches
     * {@code in} before anything else would have: returns what came before it.
     */
    private List<String> untilMarker(final int node, final Mqtt5BlockingClient.Mqtt5Publishes in) throws Exception
    {
        final InJvmCluster.Link link = links.get(node - 1);
        await(link::caughtUp, "node " + node + " handled the registry's events");
        hive(node, "marker-" + System.nanoTime()).publishWith().topic("will/marker").qos(MqttQos.AT_LEAST_ONCE)
            .payload("marker".getBytes(StandardCharsets.UTF_8)).send();
        final List<String> before = new ArrayList<>();
        while (true)
        {
            final Optional<Mqtt5Publish> message = in.receive(WAIT_MS, TimeUnit.MILLISECONDS);
            assertTrue(message.isPresent(), "the marker arrives");
            final String payload = new String(message.get().getPayloadAsBytes(), StandardCharsets.UTF_8);
            if (payload.equals("marker"))
            {
                return before;
            }
            before.add(message.get().getTopic() + " " + payload);
        }
    }

    @Test
    void theWillOfAClientOfADeadNodeReachesASubscriberOnAnotherNodeOnce() throws Exception
    {
        start(3);
        final Mqtt5BlockingClient watcher = hive(3, "watcher");
        try (Mqtt5BlockingClient.Mqtt5Publishes in = watcher.publishes(MqttGlobalPublishFilter.ALL))
        {
            watcher.subscribeWith().topicFilter("will/#").qos(MqttQos.AT_LEAST_ONCE).send();
            connectWithWill(1, "dying", 0, 0, "will/dying", "gone");
            await(() -> cluster.willCount() == 1, "node 1 set the will in the registry");
            kill(1); // the client's connection never drops on node 1: only the registry can publish its will
            final Mqtt5Publish will = in.receive(WAIT_MS, TimeUnit.MILLISECONDS).orElseThrow();
            assertEquals("will/dying", will.getTopic().toString());
            assertEquals("gone", new String(will.getPayloadAsBytes(), StandardCharsets.UTF_8));
            assertEquals(MqttQos.AT_LEAST_ONCE, will.getQos());
            assertEquals(List.of(), untilMarker(2, in), "published once, by the heir (node 2)");
            assertEquals(1, cluster.willsDue.get());
            assertEquals(0, cluster.willCount());
        }
    }

    @Test
    void aDelayedWillOfADeadNodesClientGoesAfterItsDelayAndNotBefore() throws Exception
    {
        start(3);
        final Mqtt5BlockingClient watcher = hive(3, "watcher");
        try (Mqtt5BlockingClient.Mqtt5Publishes in = watcher.publishes(MqttGlobalPublishFilter.ALL))
        {
            watcher.subscribeWith().topicFilter("will/#").qos(MqttQos.AT_LEAST_ONCE).send();
            connectWithWill(1, "slow", 5, 300, "will/slow", "late");
            await(() -> cluster.willCount() == 1, "node 1 set the will in the registry");
            kill(1);
            cluster.advanceWillClock(4_999); // boundary - 1
            assertEquals(List.of(), untilMarker(2, in), "not due yet");
            cluster.advanceWillClock(1);
            final Mqtt5Publish will = in.receive(WAIT_MS, TimeUnit.MILLISECONDS).orElseThrow();
            assertEquals("late", new String(will.getPayloadAsBytes(), StandardCharsets.UTF_8));
            assertEquals(List.of(), untilMarker(2, in), "once");
        }
    }

    @Test
    void aDelayedWillDoesNotArriveWhenItsClientReconnectsWithinTheDelay() throws Exception
    {
        start(3);
        final Mqtt5BlockingClient watcher = hive(3, "watcher");
        try (Mqtt5BlockingClient.Mqtt5Publishes in = watcher.publishes(MqttGlobalPublishFilter.ALL))
        {
            watcher.subscribeWith().topicFilter("will/#").qos(MqttQos.AT_LEAST_ONCE).send();
            connectWithWill(1, "back", 5, 300, "will/back", "never");
            await(() -> cluster.willCount() == 1, "node 1 set the will in the registry");
            kill(1);
            cluster.advanceWillClock(4_999);
            hive(2, "back"); // the client is back (on node 2) within the delay: its claim cancels the will
            assertEquals(0, cluster.willCount());
            cluster.advanceWillClock(60_000);
            assertEquals(List.of(), untilMarker(2, in), "the will never goes");
            assertEquals(0, cluster.willsDue.get());
        }
    }

    @Test
    void aNormalDisconnectOrAWillItsNodePublishedClearsItFromTheRegistry() throws Exception
    {
        start(3);
        final Mqtt5BlockingClient watcher = hive(3, "watcher");
        try (Mqtt5BlockingClient.Mqtt5Publishes in = watcher.publishes(MqttGlobalPublishFilter.ALL))
        {
            watcher.subscribeWith().topicFilter("will/#").qos(MqttQos.AT_LEAST_ONCE).send();
            final RawClient polite = connectWithWill(1, "polite", 0, 300, "will/polite", "no");
            await(() -> cluster.willCount() == 1, "node 1 set the will in the registry");
            polite.sendRaw(b(0xE0, 0));                                      // DISCONNECT: the will is discarded
            await(() -> cluster.willCount() == 0, "the discarded will is cleared in the registry");

            final RawClient rude = connectWithWill(1, "rude", 0, 300, "will/rude", "bye");
            await(() -> cluster.willCount() == 1, "node 1 set the will in the registry");
            rude.close();                                                    // no DISCONNECT: node 1 publishes it
            final Mqtt5Publish will = in.receive(WAIT_MS, TimeUnit.MILLISECONDS).orElseThrow();
            assertEquals("bye", new String(will.getPayloadAsBytes(), StandardCharsets.UTF_8));
            await(() -> cluster.willCount() == 0, "the published will is cleared in the registry");

            kill(1);
            cluster.advanceWillClock(60_000);
            assertEquals(List.of(), untilMarker(2, in), "nothing goes twice, and the discarded will never");
            assertEquals(0, cluster.willsDue.get());
            assertEquals(2, cluster.willsSet.get());
        }
    }
}
