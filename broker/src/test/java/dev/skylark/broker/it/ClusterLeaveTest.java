package dev.skylark.broker.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.Broker;
import dev.skylark.broker.routing.ClusterLink;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A clustered node's clean leave ({@link Broker#shutdown()}) on brokers of one {@link InJvmCluster}, with real
 * sockets and independent clients (HiveMQ, Paho): its clients get DISCONNECT 0x9C, its persistent sessions — with
 * their queued QoS 1 messages — go to its heir (the next live node id) and resume on any node with session present
 * 1; sessions that end with their connection are released; a heir that never answers does not hold the shutdown
 * past {@code skylark.cluster.leave.timeout.ms}, and what it did not take stays owned by the leaving node.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterLeaveTest
{
    private static final long WAIT_MS = 10_000;

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dataDir;
    private final InJvmCluster cluster = new InJvmCluster();
    private final List<InJvmCluster.Link> links = new ArrayList<>();
    private final List<Broker> brokers = new ArrayList<>();
    private final List<AutoCloseable> clients = new ArrayList<>();
    /** Per node id, what a test sets on that node's context before it starts. */
    private final Map<Integer, Consumer<Broker.Context>> settings = new ConcurrentHashMap<>();

    private void start(final int nodes)
    {
        for (int i = 1; i <= nodes; i++)
        {
            final InJvmCluster.Link link = cluster.link(i);
            links.add(link);
            final Broker.Context context = new Broker.Context().authMode("none").mqttPort(0).httpPort(0)
                .bindAddress("127.0.0.1").dataDir(dataDir.resolve("node" + i).toString()).clusterLink(link);
            settings.getOrDefault(i, (c) -> { }).accept(context);
            brokers.add(Broker.launch(context));
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
        cluster.releaseCommits();
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

    /** Every node but the ones that stopped has applied everything committed so far. */
    private void awaitCaughtUp(final int... stoppedNodes)
    {
        await(() ->
        {
            for (final InJvmCluster.Link link : links)
            {
                if (java.util.Arrays.stream(stoppedNodes).noneMatch((n) -> n == link.nodeId) && !link.caughtUp())
                {
                    return false;
                }
            }
            return true;
        }, "the running nodes applied the log");
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

    /** A persistent session (expiry 300 s) of {@code id} on {@code node}, subscribed to {@code filter} (QoS 1), offline. */
    private void offlineSession(final int node, final String id, final String filter)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
            .serverPort(port(node)).buildBlocking();
        c.connectWith().cleanStart(true).sessionExpiryInterval(300).send();
        c.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send();
        c.disconnect();
    }

    /** Reconnects {@code id} to {@code node} without clean start; its publishes go to {@code in}. */
    private boolean resume(final int node, final String id, final BlockingQueue<Mqtt5Publish> in)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
            .serverPort(port(node)).buildBlocking();
        c.toAsync().publishes(MqttGlobalPublishFilter.ALL, in::add);
        final boolean present = c.connectWith().cleanStart(false).sessionExpiryInterval(300).send().isSessionPresent();
        clients.add(c::disconnect);
        return present;
    }

    @Test
    void aPersistentSessionWithQueuedMessagesResumesOnAnotherNodeWithEveryMessageInOrder() throws Exception
    {
        start(3);
        offlineSession(1, "leaver", "lv/#");
        final Mqtt5BlockingClient pub = hive(2, "lvpub");
        for (int i = 0; i < 3; i++)
        {
            pub.publishWith().topic("lv/" + i).qos(MqttQos.AT_LEAST_ONCE).payload(("q" + i).getBytes()).send();
        }
        awaitCaughtUp();
        final int claimsBefore = cluster.claims.get();

        final long startNs = System.nanoTime();
        brokers.get(0).shutdown();
        assertTrue(System.nanoTime() - startNs < TimeUnit.SECONDS.toNanos(3), "the leave did not wait out its bound");

        assertEquals(2, cluster.owner("leaver"), "the heir (the next node id above 1) owns the session now");
        assertEquals(claimsBefore + 1, cluster.claims.get(), "one claim: the heir's, handed over once");
        awaitCaughtUp(1);
        final BlockingQueue<Mqtt5Publish> in = new LinkedBlockingQueue<>();
        assertTrue(resume(3, "leaver", in), "CONNACK session present 1 on a third node");
        for (int i = 0; i < 3; i++)
        {
            final Mqtt5Publish p = in.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "queued message " + i + " was handed over with the session");
            assertEquals("q" + i, new String(p.getPayloadAsBytes()), "in order");
        }
        assertNull(in.poll(200, TimeUnit.MILLISECONDS), "each message once");
        assertEquals(3, cluster.owner("leaver"));
    }

    @Test
    void anOnlineV5ClientGetsUseAnotherServerThenResumesElsewhereWithWhatCameMeanwhile() throws Exception
    {
        settings.put(1, (c) -> c.clusterServerReference("node2.example.net:1883"));
        start(3);
        final CompletableFuture<String> told = new CompletableFuture<>();
        final Mqtt5BlockingClient online = Mqtt5Client.builder().identifier("onl").serverHost("127.0.0.1")
            .serverPort(port(1))
            .addDisconnectedListener((ctx) -> told.complete(ctx.getCause() instanceof Mqtt5DisconnectException d ?
                Integer.toHexString(d.getMqttMessage().getReasonCode().getCode()) + " " +
                d.getMqttMessage().getServerReference().map(Object::toString).orElse("-") : "none"))
            .buildBlocking();
        online.connectWith().cleanStart(true).sessionExpiryInterval(300).send();
        online.subscribeWith().topicFilter("on/#").qos(MqttQos.AT_LEAST_ONCE).send();

        brokers.get(0).shutdown();

        assertEquals("9c node2.example.net:1883", told.get(WAIT_MS, TimeUnit.MILLISECONDS),
            "DISCONNECT 0x9C Use another server with the Server Reference");
        assertEquals(2, cluster.owner("onl"), "the session went to the heir");
        awaitCaughtUp(1);
        final Mqtt5BlockingClient pub = hive(3, "onpub");
        pub.publishWith().topic("on/a").qos(MqttQos.AT_LEAST_ONCE).payload("a".getBytes()).send();
        pub.publishWith().topic("on/b").qos(MqttQos.AT_LEAST_ONCE).payload("b".getBytes()).send();
        awaitCaughtUp(1);

        // Paho, another independent client, resumes it on node 3.
        final BlockingQueue<String> got = new LinkedBlockingQueue<>();
        final MqttAsyncClient paho = new MqttAsyncClient("tcp://127.0.0.1:" + port(3), "onl", new MemoryPersistence());
        paho.setCallback(new MqttCallback()
        {
            public void disconnected(final MqttDisconnectResponse response)
            {
            }

            public void mqttErrorOccurred(final MqttException exception)
            {
            }

            public void messageArrived(final String topic, final MqttMessage message)
            {
                got.add(topic + "=" + new String(message.getPayload()));
            }

            public void deliveryComplete(final IMqttToken token)
            {
            }

            public void connectComplete(final boolean reconnect, final String serverURI)
            {
            }

            public void authPacketArrived(final int reasonCode, final MqttProperties properties)
            {
            }
        });
        final MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(false);
        options.setSessionExpiryInterval(300L);
        final IMqttToken token = paho.connect(options);
        token.waitForCompletion(WAIT_MS);
        clients.add(() ->
        {
            paho.disconnect().waitForCompletion(WAIT_MS);
            paho.close();
        });
        assertTrue(token.getSessionPresent(), "CONNACK session present 1");
        assertEquals("on/a=a", got.poll(WAIT_MS, TimeUnit.MILLISECONDS));
        assertEquals("on/b=b", got.poll(WAIT_MS, TimeUnit.MILLISECONDS));
    }

    @Test
    void shutdownEndsWithinTheBoundWhenTheHeirNeverAnswersAndTheSessionStaysOwnedByTheLeavingNode() throws Exception
    {
        settings.put(1, (c) -> c.clusterLeaveTimeoutMs(500));
        start(2);
        offlineSession(1, "stuck", "st/#");
        awaitCaughtUp();
        links.get(1).losePeerMessages = true; // the heir hears nothing: it never claims, never confirms

        final long startNs = System.nanoTime();
        brokers.get(0).shutdown();
        final long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);

        assertTrue(tookMs >= 450, "the leave waited for the heir (" + tookMs + " ms)");
        assertTrue(tookMs < 2500, "and no longer than its bound allows (" + tookMs + " ms)");
        assertEquals(1, cluster.owner("stuck"), "not handed over: still the leaving node's, for part 2's heir");
    }

    @Test
    void aClientThatReconnectsElsewhereBeforeTheHeirClaimsKeepsItsSessionThereAndTheHeirTakesNothing()
        throws Exception
    {
        start(3);
        offlineSession(1, "racer", "r/#");
        final Mqtt5BlockingClient pub = hive(2, "rpub");
        pub.publishWith().topic("r/1").qos(MqttQos.AT_LEAST_ONCE).payload("one".getBytes()).send();
        awaitCaughtUp();
        final InJvmCluster.Link heir = links.get(1);
        heir.paused = true; // the heir gets the request but acts on it only after the client came back elsewhere
        final int before = cluster.peerMessages(1, 2);
        final CompletableFuture<Void> leaving = CompletableFuture.runAsync(() -> brokers.get(0).shutdown());
        await(() -> cluster.peerMessages(1, 2) > before, "node 1 asked its heir");

        final CompletableFuture<Integer> dropped = new CompletableFuture<>();
        final Mqtt5BlockingClient back = Mqtt5Client.builder().identifier("racer").serverHost("127.0.0.1")
            .serverPort(port(3))
            .addDisconnectedListener((ctx) -> dropped.complete(ctx.getCause() instanceof Mqtt5DisconnectException d ?
                d.getMqttMessage().getReasonCode().getCode() : -1))
            .buildBlocking();
        final BlockingQueue<Mqtt5Publish> in = new LinkedBlockingQueue<>();
        back.toAsync().publishes(MqttGlobalPublishFilter.ALL, in::add);
        assertTrue(back.connectWith().cleanStart(false).sessionExpiryInterval(300).send().isSessionPresent(),
            "the client's own takeover moved the session from the leaving node");
        clients.add(back::disconnect);
        assertEquals("one", new String(in.poll(WAIT_MS, TimeUnit.MILLISECONDS).getPayloadAsBytes()));
        leaving.get(WAIT_MS, TimeUnit.MILLISECONDS); // nothing left to hand over: the leave is done

        heir.paused = false;
        awaitCaughtUp(1);
        assertEquals(3, cluster.owner("racer"), "the heir's claim was conditional on node 1 still owning it");
        assertTrue(back.getState().isConnected() && !dropped.isDone(), "the client stays connected on node 3");
    }

    @Test
    void aClientThatReconnectsWhileItsSessionIsOnItsWayToTheHeirGetsItFromTheHeir() throws Exception
    {
        start(3);
        offlineSession(1, "chain", "ch/#");
        final Mqtt5BlockingClient pub = hive(2, "chpub");
        for (int i = 0; i < 2; i++)
        {
            pub.publishWith().topic("ch/" + i).qos(MqttQos.AT_LEAST_ONCE).payload(("c" + i).getBytes()).send();
        }
        awaitCaughtUp();
        final InJvmCluster.Link leavingLink = links.get(0);
        final InJvmCluster.Link heir = links.get(1);
        heir.paused = true;
        final int before = cluster.peerMessages(1, 2);
        final CompletableFuture<Void> leaving = CompletableFuture.runAsync(() -> brokers.get(0).shutdown());
        await(() -> cluster.peerMessages(1, 2) > before, "node 1 asked its heir");
        leavingLink.paused = true; // node 1 will not see the heir's claim yet: the session stays on its way
        heir.paused = false;
        await(() -> cluster.owner("chain") == 2, "the heir's claim committed");
        await(heir::caughtUp, "the heir waits for the session");

        final BlockingQueue<Mqtt5Publish> in = new LinkedBlockingQueue<>();
        final Mqtt5BlockingClient back = Mqtt5Client.builder().identifier("chain").serverHost("127.0.0.1")
            .serverPort(port(3)).buildBlocking();
        back.toAsync().publishes(MqttGlobalPublishFilter.ALL, in::add);
        final CompletableFuture<Boolean> present = CompletableFuture.supplyAsync(() ->
            back.connectWith().cleanStart(false).sessionExpiryInterval(300).send().isSessionPresent());
        clients.add(back::disconnect);
        await(() -> cluster.owner("chain") == 3, "node 3's claim committed after the heir's");
        await(heir::caughtUp, "the heir saw node 3's claim while still waiting");
        leavingLink.paused = false; // now node 1 streams the session to the heir, which hands it on to node 3

        assertTrue(present.get(WAIT_MS, TimeUnit.MILLISECONDS), "session present 1 on node 3");
        for (int i = 0; i < 2; i++)
        {
            final Mqtt5Publish p = in.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "queued message " + i + " came along both hops");
            assertEquals("c" + i, new String(p.getPayloadAsBytes()));
        }
        leaving.get(WAIT_MS, TimeUnit.MILLISECONDS);
        assertEquals(3, cluster.owner("chain"));
    }

    @Test
    void sessionsThatEndWithTheirConnectionAreReleasedAndPersistentOnesHandedOver() throws Exception
    {
        start(3);
        offlineSession(1, "keep", "k/#");
        final CompletableFuture<Integer> cleanTold = new CompletableFuture<>();
        final Mqtt5BlockingClient clean = Mqtt5Client.builder().identifier("clean").serverHost("127.0.0.1")
            .serverPort(port(1))
            .addDisconnectedListener((ctx) -> cleanTold.complete(ctx.getCause() instanceof Mqtt5DisconnectException d ?
                d.getMqttMessage().getReasonCode().getCode() : -1))
            .buildBlocking();
        clean.connectWith().cleanStart(true).sessionExpiryInterval(0).send();
        awaitCaughtUp();
        assertEquals(1, cluster.owner("clean"));

        brokers.get(0).shutdown();

        assertEquals(0x8B, cleanTold.get(WAIT_MS, TimeUnit.MILLISECONDS), "no Server Reference: Server shutting down");
        assertEquals(ClusterLink.NO_NODE, cluster.owner("clean"), "a session of expiry 0 just ends: released");
        assertEquals(2, cluster.owner("keep"), "the persistent one went to the heir");
        awaitCaughtUp(1);
        assertTrue(resume(2, "keep", new LinkedBlockingQueue<>()), "and resumes on the heir itself");
    }
}
