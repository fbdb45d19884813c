package dev.skylark.broker.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A persistent session moving to the node its client reconnects to keeps every publisher's order and loses nothing
 * that was published on the new node while the session was on its way: the previous node sends the session, then
 * takes in the new node's forwards that were in flight to it (the session is gone there); the new node delivers
 * those itself, behind the messages that came with the session (NodeFailureTest's kill-node-2 lost them and
 * delivered the rest out of order). On the in-JVM cluster double, with real sockets and HiveMQ clients.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TakeoverOrderTest
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
        links.forEach((l) -> l.paused = false);
        for (final AutoCloseable c : clients)
        {
            try
            {
                c.close();
            }
            catch (final Exception ignore)
            {
                // already gone
            }
        }
        brokers.forEach(Broker::close);
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

    private static void publish(final Mqtt5BlockingClient pub, final String payload)
    {
        pub.publishWith().topic("to/" + payload).qos(MqttQos.AT_LEAST_ONCE).payload(payload.getBytes()).send();
    }

    @Test
    void publishesOnTheNewNodeWhileTheSessionIsOnItsWayArriveBehindItsQueueInOrder() throws Exception
    {
        start(3);
        // node 1 keeps its route to/# after the session left: node 2 goes on forwarding there
        hive(1, "local1").subscribeWith().topicFilter("to/#").qos(MqttQos.AT_LEAST_ONCE).send();
        final Mqtt5BlockingClient first = Mqtt5Client.builder().identifier("mover").serverHost("127.0.0.1")
            .serverPort(port(1)).buildBlocking();
        first.connectWith().cleanStart(true).sessionExpiryInterval(300).send();
        first.subscribeWith().topicFilter("to/#").qos(MqttQos.AT_LEAST_ONCE).send();
        first.disconnect();
        final Mqtt5BlockingClient pub = hive(2, "pub");
        for (int i = 0; i < 3; i++)
        {
            publish(pub, "q" + i); // queued for the offline session on node 1
        }
        await(() -> links.stream().allMatch(InJvmCluster.Link::caughtUp), "the messages are queued on node 1");

        // node 1 lags: it will send the session first, then take in what node 2 forwards meanwhile
        links.get(0).paused = true;
        final Mqtt5AsyncClient moved = Mqtt5Client.builder().identifier("mover").serverHost("127.0.0.1")
            .serverPort(port(2)).buildAsync();
        final BlockingQueue<Mqtt5Publish> in = new LinkedBlockingQueue<>();
        moved.publishes(MqttGlobalPublishFilter.ALL, in::add);
        final CompletableFuture<Mqtt5ConnAck> connack =
            moved.connectWith().cleanStart(false).sessionExpiryInterval(300).send();
        clients.add(() -> moved.disconnect().get(5, TimeUnit.SECONDS));
        await(() -> cluster.owner("mover") == 2 && links.get(1).caughtUp() && links.get(2).caughtUp(),
            "node 2's claim committed and applied there: its CONNECT waits for the session");
        for (int i = 0; i < 3; i++)
        {
            publish(pub, "w" + i); // forwarded to node 1, which still holds the session, but takes them in after
        }
        links.get(0).paused = false;

        assertTrue(connack.get(WAIT_MS, TimeUnit.MILLISECONDS).isSessionPresent(), "session present 1");
        publish(pub, "after");
        for (final String expected : List.of("q0", "q1", "q2", "w0", "w1", "w2", "after"))
        {
            final Mqtt5Publish p = in.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, expected + " arrived");
            assertEquals(expected, new String(p.getPayloadAsBytes()), "in the order published");
        }
        assertNull(in.poll(200, TimeUnit.MILLISECONDS), "nothing twice");
    }
}
