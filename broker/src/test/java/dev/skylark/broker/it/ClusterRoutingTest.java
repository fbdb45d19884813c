package dev.skylark.broker.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAck;
import dev.skylark.broker.Broker;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Cluster routing on real sockets with independent clients (HiveMQ, Paho, raw bytes) against brokers of one
 * {@link InJvmCluster}: CONNACK after the claim commits, SUBACK after the route commits, forwarding once per node
 * with every v5 property, shared groups and retained messages cluster-wide, takeover across nodes, wills.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterRoutingTest
{
    private static final long WAIT_MS = 10_000;

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dataDir;
    private final InJvmCluster cluster = new InJvmCluster();
    private final List<InJvmCluster.Link> links = new ArrayList<>();
    private final List<Broker> brokers = new ArrayList<>();
    private final List<AutoCloseable> clients = new ArrayList<>();
    /** Node 1's clock, when a test moves its time (null: the real one). */
    private AdjustableClock node1Clock;
    /** Node 1's {@code skylark.cluster.server.reference}, when a test sets one (null: none). */
    private String node1ServerReference;

    private void start(final int nodes)
    {
        for (int i = 1; i <= nodes; i++)
        {
            final InJvmCluster.Link link = cluster.link(i);
            links.add(link);
            final Broker.Context context = new Broker.Context().authMode("none").mqttPort(0).httpPort(0)
                .bindAddress("127.0.0.1").dataDir(dataDir.resolve("node" + i).toString()).clusterLink(link);
            if (i == 1 && node1Clock != null)
            {
                context.nanoClock(node1Clock);
            }
            if (i == 1 && node1ServerReference != null)
            {
                context.clusterServerReference(node1ServerReference);
            }
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

    /** A counter or gauge of {@code node}'s {@code /metrics} (summed over labels), or -1 when absent. */
    private long metric(final int node, final String name) throws Exception
    {
        final java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" +
                brokers.get(node - 1).httpPort() + "/metrics")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
        long total = -1;
        for (final String line : response.body().split("\n"))
        {
            if (line.startsWith(name + " ") || line.startsWith(name + "{"))
            {
                final String[] parts = line.trim().split(" ");
                total = Math.max(total, 0) + (long)Double.parseDouble(parts[parts.length - 1]);
            }
        }
        return total;
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

    private RawClient raw(final int node) throws Exception
    {
        final RawClient c = new RawClient(port(node));
        clients.add(c);
        return c;
    }

    private static byte[] b(final int... v)
    {
        return RawClient.bytes(v);
    }

    private static byte[] connectPacket(final String clientId, final int level)
    {
        final byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        return RawClient.packet(0x10,                      // CONNECT
            b(0, 4, 'M', 'Q', 'T', 'T', level),            // protocol name, level
            b(0x02, 0, 60),                                // clean start, keep alive 60
            level == 5 ? b(0) : b(),                       // v5: properties length 0
            b(0, id.length), id);                          // client id
    }

    @Test
    void connackAndThePacketsAfterConnectWaitForTheClaimToCommit() throws Exception
    {
        start(2);
        cluster.holdCommits();
        final RawClient c = raw(1);
        final byte[] filter = "held/t".getBytes(StandardCharsets.UTF_8);
        c.sendRaw(RawClient.concat(connectPacket("held", 5),
            RawClient.packet(0x82,                          // SUBSCRIBE, sent before any CONNACK
                b(0, 1),                                    // packet id 1
                b(0),                                       // properties length 0
                b(0, filter.length), filter, b(1))));       // filter, QoS 1
        await(() -> cluster.heldCommands() == 1, "the claim reaches the registry");
        assertTrue(c.silentFor(300), "no CONNACK before the claim commits");
        cluster.releaseCommits();
        final byte[] connack = c.expect(2);
        assertEquals(0, connack[3], "CONNACK success");
        final byte[] suback = c.expect(9);
        assertEquals(1, suback[suback.length - 1], "the SUBSCRIBE sent before CONNACK is served after it: QoS 1");
        assertEquals(1, cluster.owner("held"), "node 1 owns the client id");
    }

    @Test
    void aClaimThatCannotBeQueuedIsRefusedWithServerUnavailable() throws Exception
    {
        start(1);
        cluster.refuseCommands = true;
        final RawClient v5 = raw(1);
        v5.sendRaw(connectPacket("refused5", 5));
        final byte[] connack5 = v5.expect(2);
        assertEquals(0x88, connack5[3] & 0xFF, "v5 CONNACK 0x88 Server unavailable");
        v5.assertClosed();
        final RawClient v3 = raw(1);
        v3.sendRaw(connectPacket("refused3", 4));
        final byte[] connack3 = v3.expect(2);
        assertEquals(3, connack3[3], "3.1.1 CONNACK return code 3 Server unavailable");
        v3.assertClosed();
        cluster.refuseCommands = false;
        hive(1, "accepted-again"); // and connects work again once the registry takes commands
    }

    @Test
    void subackWaitsForTheRouteAndAPublishOnAnyNodeThenReachesTheSubscriber() throws Exception
    {
        start(3);
        final Mqtt5BlockingClient sub = hive(2, "sub");
        final Mqtt5AsyncClient async = sub.toAsync();
        final BlockingQueue<Mqtt5Publish> received = new LinkedBlockingQueue<>();
        async.publishes(MqttGlobalPublishFilter.ALL, received::add);
        cluster.holdCommits();
        final CompletableFuture<Mqtt5SubAck> suback =
            async.subscribeWith().topicFilter("t/#").qos(MqttQos.EXACTLY_ONCE).send();
        await(() -> cluster.heldCommands() == 1, "the route add reaches the registry");
        assertTrue(noAnswerWithin(suback, 300), "no SUBACK before the route commits");
        cluster.releaseCommits();
        suback.get(WAIT_MS, TimeUnit.MILLISECONDS);

        final Mqtt5BlockingClient pub1 = hive(1, "pub1");
        final Mqtt5BlockingClient pub3 = hive(3, "pub3");
        for (final MqttQos qos : MqttQos.values())
        {
            pub1.publishWith().topic("t/1").qos(qos).payload(("1-" + qos).getBytes()).send();
            pub3.publishWith().topic("t/3").qos(qos).payload(("3-" + qos).getBytes()).send();
        }
        final Map<String, MqttQos> got = new HashMap<>();
        for (int i = 0; i < 6; i++)
        {
            final Mqtt5Publish p = received.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "message " + i);
            got.put(new String(p.getPayloadAsBytes()), p.getQos());
        }
        for (final MqttQos qos : MqttQos.values())
        {
            assertEquals(qos, got.get("1-" + qos), "from node 1 at " + qos);
            assertEquals(qos, got.get("3-" + qos), "from node 3 at " + qos);
        }
    }

    @Test
    void aPublishRightAfterSubackOnALaggingNodeReachesTheSubscriber() throws Exception
    {
        start(3);
        final Mqtt5AsyncClient pub = hive(1, "pub").toAsync();
        final Mqtt5AsyncClient sub = hive(2, "sub").toAsync();
        final BlockingQueue<Mqtt5Publish> received = new LinkedBlockingQueue<>();
        sub.publishes(MqttGlobalPublishFilter.ALL, received::add);
        links.get(0).paused = true; // node 1 takes no committed event in: it has not applied the route
        final CompletableFuture<Mqtt5SubAck> suback = sub.subscribeWith().topicFilter("lag/#")
            .qos(MqttQos.AT_LEAST_ONCE).send();
        // The publisher acts on the SUBACK at once, on the node that lags.
        final CompletableFuture<?> published = suback.thenCompose((ack) ->
            pub.publishWith().topic("lag/1").qos(MqttQos.AT_LEAST_ONCE).payload("right after".getBytes()).send());
        await(() -> links.get(2).caughtUp() && links.get(1).caughtUp(), "nodes 2 and 3 apply the route");
        assertTrue(noAnswerWithin(suback, 300), "no SUBACK while node 1 has not applied the route");
        links.get(0).paused = false;
        suback.get(WAIT_MS, TimeUnit.MILLISECONDS);
        published.get(WAIT_MS, TimeUnit.MILLISECONDS);
        final Mqtt5Publish p = received.poll(WAIT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(p, "the publish right after the SUBACK on node 1");
        assertEquals("right after", new String(p.getPayloadAsBytes()));
        assertEquals(0, metric(2, "skylark_cluster_route_ack_timeouts_total"));

        // A filter node 2 already routes needs no acknowledgement: its SUBACK goes while node 1 lags again.
        links.get(0).paused = true;
        final Mqtt5AsyncClient sub2 = hive(2, "sub2").toAsync();
        sub2.subscribeWith().topicFilter("lag/#").qos(MqttQos.AT_LEAST_ONCE).send()
            .get(WAIT_MS, TimeUnit.MILLISECONDS);
        links.get(0).paused = false;
    }

    @Test
    void aNodeThatNeverAcknowledgesARouteHoldsTheSubackABoundedTimeAndIsCounted() throws Exception
    {
        start(3);
        final Mqtt5BlockingClient pub = hive(1, "pub");
        final Mqtt5AsyncClient sub = hive(2, "sub").toAsync();
        final BlockingQueue<Mqtt5Publish> received = new LinkedBlockingQueue<>();
        sub.publishes(MqttGlobalPublishFilter.ALL, received::add);
        links.get(2).paused = true; // node 3 never answers
        final long start = System.nanoTime();
        final CompletableFuture<Mqtt5SubAck> suback = sub.subscribeWith().topicFilter("mute/#")
            .qos(MqttQos.AT_LEAST_ONCE).send();
        await(() -> links.get(0).caughtUp() && links.get(1).caughtUp(), "nodes 1 and 2 apply the route");
        assertTrue(noAnswerWithin(suback, 300), "the SUBACK waits for node 3");
        suback.get(WAIT_MS, TimeUnit.MILLISECONDS);
        final long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(waitedMs >= 2_900 && waitedMs < 8_000, "waited about 3 s for node 3: " + waitedMs);
        assertEquals(1, metric(2, "skylark_cluster_route_ack_timeouts_total"));
        pub.publishWith().topic("mute/1").qos(MqttQos.AT_LEAST_ONCE).payload("x".getBytes()).send();
        assertNotNull(received.poll(WAIT_MS, TimeUnit.MILLISECONDS), "node 1 acknowledged and routes it");
    }

    @Test
    void aNodeGoingDownNoLongerHoldsTheSuback() throws Exception
    {
        start(3);
        final Mqtt5AsyncClient sub = hive(2, "sub").toAsync();
        links.get(2).paused = true;
        final CompletableFuture<Mqtt5SubAck> suback = sub.subscribeWith().topicFilter("down/#")
            .qos(MqttQos.AT_LEAST_ONCE).send();
        await(() -> links.get(0).caughtUp() && links.get(1).caughtUp(), "nodes 1 and 2 apply the route");
        assertTrue(noAnswerWithin(suback, 300), "the SUBACK waits for node 3");
        final long start = System.nanoTime();
        cluster.nodeDown(3);
        suback.get(WAIT_MS, TimeUnit.MILLISECONDS);
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 2_500,
            "released by the node going down, not by the time bound");
        assertEquals(0, metric(2, "skylark_cluster_route_ack_timeouts_total"));
    }

    @Test
    void forwardsTheLinkRefusesWaitInOrderHoldPublishersBackAndNoQos1IsLost() throws Exception
    {
        start(2);
        final Mqtt5AsyncClient pub = hive(1, "pub").toAsync();
        final Mqtt5AsyncClient pub0 = hive(1, "pub0").toAsync();
        final Mqtt5AsyncClient sub = hive(2, "sub").toAsync();
        final BlockingQueue<Mqtt5Publish> received = new LinkedBlockingQueue<>();
        sub.publishes(MqttGlobalPublishFilter.ALL, received::add);
        sub.subscribeWith().topicFilter("bp/#").qos(MqttQos.AT_LEAST_ONCE).send().get(WAIT_MS, TimeUnit.MILLISECONDS);
        links.get(0).refuseSends = true; // node 1's link pushes back

        final int count = 100; // 100 x 64 KiB: past the 4 MiB bound of node 2's backlog
        final List<CompletableFuture<?>> acks = new ArrayList<>();
        for (int i = 0; i < count; i++)
        {
            final byte[] payload = new byte[64 * 1024];
            java.nio.ByteBuffer.wrap(payload).putInt(i);
            acks.add(pub.publishWith().topic("bp/x").qos(MqttQos.AT_LEAST_ONCE).payload(payload).send());
        }
        await(() -> metricOrFail(1, "skylark_publish_gate_held") == 1, "node 1 holds QoS 1/2 publishers back");
        assertTrue(acks.stream().anyMatch((ack) -> !ack.isDone()), "some publishes wait at the gate");
        pub0.publishWith().topic("bp/zero").qos(MqttQos.AT_MOST_ONCE).payload(new byte[64 * 1024]).send();
        await(() -> metricOrFail(1, "skylark_cluster_forward_dropped_total") == 1, "QoS 0 past the bound dropped");
        assertTrue(received.isEmpty(), "nothing went while the link refused");

        links.get(0).refuseSends = false;
        for (int i = 0; i < count; i++)
        {
            final Mqtt5Publish p = received.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "QoS 1 message " + i);
            assertEquals(i, java.nio.ByteBuffer.wrap(p.getPayloadAsBytes()).getInt(), "in publishing order");
        }
        for (final CompletableFuture<?> ack : acks)
        {
            ack.get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
        await(() -> metricOrFail(1, "skylark_publish_gate_held") == 0, "the gate opens once drained");
        assertTrue(metric(1, "skylark_publish_gate_closed_total") >= 1);
        assertEquals(1, metric(1, "skylark_cluster_forward_dropped_total"), "only the QoS 0 message was dropped");
        assertEquals(count, metric(1, "skylark_cluster_forwarded_out_total"));
        assertTrue(received.poll(200, TimeUnit.MILLISECONDS) == null, "nothing more (the QoS 0 one was dropped)");
    }

    @Test
    void aPeerThatGoesDownDropsItsBacklog() throws Exception
    {
        start(2);
        final Mqtt5AsyncClient pub = hive(1, "pub").toAsync();
        hive(2, "sub").toAsync().subscribeWith().topicFilter("gone/#").qos(MqttQos.AT_LEAST_ONCE).send()
            .get(WAIT_MS, TimeUnit.MILLISECONDS);
        links.get(0).refuseSends = true;
        for (int i = 0; i < 3; i++)
        {
            pub.publishWith().topic("gone/x").qos(MqttQos.AT_LEAST_ONCE).payload(new byte[100]).send()
                .get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
        assertTrue(metric(1, "skylark_cluster_forward_backlog_bytes") > 300, "three forwards wait");
        cluster.nodeDown(2);
        await(() -> metricOrFail(1, "skylark_cluster_forward_backlog_bytes") == 0, "node 2's backlog dropped");
        assertEquals(0, metric(1, "skylark_publish_gate_held"));
    }

    @Test
    void aForwardedMessagesExpiryCountsTheTimeItWaitedOnTheOriginNode() throws Exception
    {
        node1Clock = new AdjustableClock();
        start(2);
        final Mqtt5AsyncClient pub = hive(1, "pub").toAsync();
        final Mqtt5AsyncClient sub = hive(2, "sub").toAsync();
        final BlockingQueue<Mqtt5Publish> received = new LinkedBlockingQueue<>();
        sub.publishes(MqttGlobalPublishFilter.ALL, received::add);
        sub.subscribeWith().topicFilter("exp/#").qos(MqttQos.AT_LEAST_ONCE).send().get(WAIT_MS, TimeUnit.MILLISECONDS);
        links.get(0).refuseSends = true;
        pub.publishWith().topic("exp/long").qos(MqttQos.AT_LEAST_ONCE).messageExpiryInterval(100)
            .payload("long".getBytes()).send().get(WAIT_MS, TimeUnit.MILLISECONDS);
        pub.publishWith().topic("exp/short").qos(MqttQos.AT_LEAST_ONCE).messageExpiryInterval(30)
            .payload("short".getBytes()).send().get(WAIT_MS, TimeUnit.MILLISECONDS);
        assertTrue(metric(1, "skylark_cluster_forward_backlog_bytes") > 0, "both wait on node 1");
        node1Clock.advanceMs(50_000);
        final int polls = links.get(0).polls.get();
        // A whole duty cycle of node 1 begins after the advance: it sees the new time before the link takes sends.
        await(() -> links.get(0).polls.get() >= polls + 2, "node 1 runs a duty cycle on the advanced clock");
        links.get(0).refuseSends = false;
        final Mqtt5Publish p = received.poll(WAIT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(p);
        assertEquals("long", new String(p.getPayloadAsBytes()));
        final long left = p.getMessageExpiryInterval().getAsLong();
        // 100 s less the 50 s it waited on node 1 (and the real time the test took, on a loaded machine).
        assertTrue(left <= 50 && left >= 35, "100 s less the 50 s it waited on node 1: " + left);
        await(() -> metricOrFail(1, "skylark_cluster_forward_backlog_bytes") == 0, "the backlog drained");
        assertEquals(1, metric(1, "skylark_messages_expired_total"), "the 30 s one expired on node 1");
        assertTrue(received.poll(200, TimeUnit.MILLISECONDS) == null, "the expired one never arrives");
    }

    private long metricOrFail(final int node, final String name)
    {
        try
        {
            return metric(node, name);
        }
        catch (final Exception e)
        {
            throw new AssertionError(e);
        }
    }

    private static boolean noAnswerWithin(final CompletableFuture<?> future, final long millis) throws Exception
    {
        try
        {
            future.get(millis, TimeUnit.MILLISECONDS);
            return false;
        }
        catch (final java.util.concurrent.TimeoutException expected)
        {
            return true;
        }
    }

    @Test
    void aMessageGoesOnceToEachNodeAndOnlyFirstAndLastSubscribersReachTheRegistry() throws Exception
    {
        start(3);
        final Mqtt5BlockingClient a = hive(2, "a");
        final Mqtt5BlockingClient b = hive(2, "b");
        final Mqtt3BlockingClient c = Mqtt3Client.builder().identifier("c3").serverHost("127.0.0.1")
            .serverPort(port(3)).buildBlocking();
        c.connect();
        clients.add(c::disconnect);
        try (Mqtt5BlockingClient.Mqtt5Publishes pa = a.publishes(MqttGlobalPublishFilter.ALL);
            Mqtt5BlockingClient.Mqtt5Publishes pb = b.publishes(MqttGlobalPublishFilter.ALL);
            var pc = c.publishes(MqttGlobalPublishFilter.ALL))
        {
            a.subscribeWith().topicFilter("f/+").qos(MqttQos.AT_LEAST_ONCE).send();
            b.subscribeWith().topicFilter("f/+").qos(MqttQos.AT_MOST_ONCE).send();
            c.subscribeWith().topicFilter("f/#").qos(MqttQos.AT_LEAST_ONCE).send();
            assertEquals(1, cluster.routeAdds("f/+", 2), "two subscribers on node 2: one route add");
            final Mqtt5BlockingClient pub = hive(1, "fpub");
            for (int i = 0; i < 10; i++)
            {
                pub.publishWith().topic("f/x").qos(MqttQos.EXACTLY_ONCE).payload(("" + i).getBytes()).send();
            }
            for (int i = 0; i < 10; i++)
            {
                final Mqtt5Publish ma = pa.receive(WAIT_MS, TimeUnit.MILLISECONDS).orElseThrow();
                assertEquals("" + i, new String(ma.getPayloadAsBytes()), "order kept on node 2");
                assertEquals(MqttQos.AT_LEAST_ONCE, ma.getQos(), "downgraded to the subscription's QoS 1");
                final Mqtt5Publish mb = pb.receive(WAIT_MS, TimeUnit.MILLISECONDS).orElseThrow();
                assertEquals(MqttQos.AT_MOST_ONCE, mb.getQos(), "downgraded to QoS 0");
                final var mc = pc.receive(WAIT_MS, TimeUnit.MILLISECONDS).orElseThrow();
                assertEquals("" + i, new String(mc.getPayloadAsBytes()), "3.1.1 subscriber on node 3, in order");
            }
            assertEquals(10, cluster.peerMessages(1, 2), "once per node, not once per subscriber");
            assertEquals(10, cluster.peerMessages(1, 3));
            assertEquals(0, cluster.peerMessages(2, 3) + cluster.peerMessages(3, 2), "never forwarded again");
            assertEquals(20, metric(1, "skylark_cluster_forwarded_out_total"), "node 1 sent 10 to each node");
            assertEquals(10, metric(2, "skylark_cluster_forwarded_in_total"));
            assertEquals(10, metric(3, "skylark_cluster_forwarded_in_total"));
            assertEquals(0, metric(1, "skylark_cluster_forwarded_in_total"));
            assertEquals(2, metric(1, "skylark_cluster_routes"), "node 1's route table: f/+ on 2, f/# on 3");

            b.unsubscribeWith().topicFilter("f/+").send();
            a.unsubscribeWith().topicFilter("f/+").send();
            // The UNSUBACK follows the commit on node 2; node 1 applies the same log a moment later.
            await(() -> links.stream().allMatch(InJvmCluster.Link::caughtUp), "every node applied the log");
            pub.publishWith().topic("f/x").qos(MqttQos.AT_LEAST_ONCE).payload("after".getBytes()).send();
            assertEquals("after", new String(pc.receive(WAIT_MS, TimeUnit.MILLISECONDS).orElseThrow()
                .getPayloadAsBytes()));
            assertEquals(10, cluster.peerMessages(1, 2), "the last unsubscribe removed node 2's route");
        }
    }

    @Test
    void forwardedMessagesKeepEveryPropertyAndTheReceivingNodesOptions() throws Exception
    {
        start(2);
        final Paho sub = new Paho(2, "props-sub").connect();
        final MqttProperties withId = new MqttProperties();
        withId.setSubscriptionIdentifier(42);
        final MqttSubscription rap = new MqttSubscription("p/#", 2);
        rap.setRetainAsPublished(true);
        sub.subscribe(rap, withId);
        final Paho pub = new Paho(1, "props-pub").connect();
        final MqttProperties properties = new MqttProperties();
        properties.setUserProperties(List.of(new UserProperty("k", "v"), new UserProperty("k", "w")));
        properties.setContentType("text/plain");
        properties.setCorrelationData(new byte[] {1, 2, 3});
        properties.setResponseTopic("reply/here");
        properties.setMessageExpiryInterval(600L);
        properties.setPayloadFormat(true);
        final MqttMessage message = new MqttMessage("payload".getBytes(StandardCharsets.UTF_8), 1, true, properties);
        pub.client.publish("p/q", message).waitForCompletion(WAIT_MS);
        final MqttMessage got = sub.next();
        final MqttProperties p = got.getProperties();
        assertEquals("payload", new String(got.getPayload(), StandardCharsets.UTF_8));
        assertEquals(1, got.getQos());
        assertTrue(got.isRetained(), "retain as published");
        assertEquals(List.of(new UserProperty("k", "v"), new UserProperty("k", "w")), p.getUserProperties());
        assertEquals("text/plain", p.getContentType());
        assertArrayEquals(new byte[] {1, 2, 3}, p.getCorrelationData());
        assertEquals("reply/here", p.getResponseTopic());
        assertTrue(p.getPayloadFormat());
        assertEquals(List.of(42), p.getSubscriptionIdentifiers(), "the receiving node's subscription identifier");
        final long left = p.getMessageExpiryInterval();
        assertTrue(left > 0 && left <= 600, "expiry counted down, not reset: " + left);
    }

    @Test
    void aSharedGroupSpreadOverNodesGetsEachMessageExactlyOnce() throws Exception
    {
        start(3);
        final List<Mqtt5BlockingClient.Mqtt5Publishes> members = new ArrayList<>();
        for (int node = 1; node <= 3; node++)
        {
            final Mqtt5BlockingClient m = hive(node, "member" + node);
            members.add(m.publishes(MqttGlobalPublishFilter.ALL));
            m.subscribeWith().topicFilter("$share/g/s/#").qos(MqttQos.AT_LEAST_ONCE).send();
        }
        final Mqtt5BlockingClient plain = hive(3, "plain");
        final Mqtt5BlockingClient.Mqtt5Publishes plainIn = plain.publishes(MqttGlobalPublishFilter.ALL);
        plain.subscribeWith().topicFilter("s/#").qos(MqttQos.AT_LEAST_ONCE).send();
        await(() -> links.size() == 3, "nodes");
        final Mqtt5BlockingClient pub = hive(1, "spub");
        final int messages = 60;
        for (int i = 0; i < messages; i++)
        {
            pub.publishWith().topic("s/" + i).qos(MqttQos.AT_LEAST_ONCE).payload(("" + i).getBytes()).send();
        }
        final boolean[] seen = new boolean[messages];
        final int[] perMember = new int[3];
        int total = 0;
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (total < messages && System.nanoTime() < deadline)
        {
            for (int m = 0; m < 3; m++)
            {
                final Optional<Mqtt5Publish> p = members.get(m).receive(5, TimeUnit.MILLISECONDS);
                if (p.isPresent())
                {
                    final int i = Integer.parseInt(new String(p.get().getPayloadAsBytes()));
                    assertFalse(seen[i], "message " + i + " reached the group twice");
                    seen[i] = true;
                    perMember[m]++;
                    total++;
                }
            }
        }
        assertEquals(messages, total, "every message reached exactly one member");
        for (int m = 0; m < 3; m++)
        {
            assertTrue(perMember[m] > 0, "member on node " + (m + 1) + " got some: " + perMember[m]);
        }
        for (int i = 0; i < messages; i++)
        {
            assertTrue(plainIn.receive(WAIT_MS, TimeUnit.MILLISECONDS).isPresent(), "plain subscriber gets all");
        }
        for (final Mqtt5BlockingClient.Mqtt5Publishes p : members)
        {
            p.close();
        }
        plainIn.close();
    }

    @Test
    void retainedMessagesConvergeOnEveryNode() throws Exception
    {
        start(3);
        final Mqtt5BlockingClient pub = hive(1, "rpub");
        pub.publishWith().topic("r/t").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload("one".getBytes()).send();
        assertEquals("one", retainedOn(1, "r/t", "same-node"), "a subscriber on the origin right after");
        assertEquals("one", awaitRetained(2, "r/t", "one"));
        assertEquals("one", awaitRetained(3, "r/t", "one"));

        final Mqtt5BlockingClient pub3 = hive(3, "rpub3");
        pub3.publishWith().topic("r/t").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload("two".getBytes()).send();
        pub.publishWith().topic("r/t").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload("three".getBytes()).send();
        for (int node = 1; node <= 3; node++)
        {
            assertEquals("three", awaitRetained(node, "r/t", "three"), "the log's last value on node " + node);
        }
        pub3.publishWith().topic("r/t").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload(new byte[0]).send();
        for (int node = 1; node <= 3; node++)
        {
            assertEquals("", awaitRetained(node, "r/t", ""), "cleared on node " + node);
        }
    }

    private int probes;

    /** The retained message a new subscriber on {@code node} gets for {@code topic} ("" for none within 300 ms). */
    private String retainedOn(final int node, final String topic, final String name) throws Exception
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier("probe-" + name + "-" + probes++)
            .serverHost("127.0.0.1").serverPort(port(node)).buildBlocking();
        c.connect();
        try (Mqtt5BlockingClient.Mqtt5Publishes in = c.publishes(MqttGlobalPublishFilter.ALL))
        {
            c.subscribeWith().topicFilter(topic).qos(MqttQos.AT_LEAST_ONCE).send();
            return in.receive(300, TimeUnit.MILLISECONDS).map((p) -> new String(p.getPayloadAsBytes())).orElse("");
        }
        finally
        {
            c.disconnect();
        }
    }

    /** Probes {@code node} until its retained value for {@code topic} is {@code expected} (or the deadline). */
    private String awaitRetained(final int node, final String topic, final String expected) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        String value;
        do
        {
            value = retainedOn(node, topic, "n" + node);
        }
        while (!value.equals(expected) && System.nanoTime() < deadline);
        return value;
    }

    @Test
    void aConnectOnAnotherNodeTakesTheClientIdOverWith0x8E() throws Exception
    {
        start(2);
        final CompletableFuture<Integer> reason = new CompletableFuture<>();
        final Mqtt5BlockingClient first = Mqtt5Client.builder().identifier("tk").serverHost("127.0.0.1")
            .serverPort(port(1))
            .addDisconnectedListener((ctx) -> reason.complete(ctx.getCause() instanceof Mqtt5DisconnectException d ?
                d.getMqttMessage().getReasonCode().getCode() : -1))
            .buildBlocking();
        first.connect();
        first.subscribeWith().topicFilter("tk/#").send();
        final Mqtt5BlockingClient second = hive(2, "tk");
        assertEquals(0x8E, reason.get(WAIT_MS, TimeUnit.MILLISECONDS), "the old connection: Session taken over");
        assertEquals(2, cluster.owner("tk"));
        await(() -> cluster.routeAdds("tk/#", 1) == 1, "route was added once");
        final Mqtt5BlockingClient pub = hive(2, "tkpub");
        final Mqtt5BlockingClient watcher = hive(1, "tkwatch");
        try (Mqtt5BlockingClient.Mqtt5Publishes in = watcher.publishes(MqttGlobalPublishFilter.ALL))
        {
            watcher.subscribeWith().topicFilter("w/#").send();
            // pub was connected before the route existed: node 2 applies the log a moment after node 1's SUBACK.
            await(() -> links.stream().allMatch(InJvmCluster.Link::caughtUp), "every node applied the log");
            pub.publishWith().topic("tk/x").payload("x".getBytes()).send();
            pub.publishWith().topic("w/x").payload("w".getBytes()).send();
            assertEquals("w", new String(in.receive(WAIT_MS, TimeUnit.MILLISECONDS).orElseThrow().getPayloadAsBytes()));
        }
        assertEquals(0, cluster.peerMessages(2, 1) - 1, "only w/x went to node 1: the old session's route is gone");
        assertTrue(second.getState().isConnected());
    }

    @Test
    void aPersistentSessionMovesToTheNodeItReconnectsTo() throws Exception
    {
        start(3);
        final Mqtt5BlockingClient first = Mqtt5Client.builder().identifier("mover").serverHost("127.0.0.1")
            .serverPort(port(1)).buildBlocking();
        first.connectWith().cleanStart(true).sessionExpiryInterval(300).send();
        first.subscribeWith().topicFilter("mv/#").qos(MqttQos.AT_LEAST_ONCE).send();
        first.disconnect();
        final Mqtt5BlockingClient pub = hive(2, "mvpub");
        for (int i = 0; i < 3; i++)
        {
            pub.publishWith().topic("mv/" + i).qos(MqttQos.AT_LEAST_ONCE).payload(("q" + i).getBytes()).send();
        }
        await(() -> links.stream().allMatch(InJvmCluster.Link::caughtUp), "the messages are queued on node 1");

        final Mqtt5BlockingClient moved = Mqtt5Client.builder().identifier("mover").serverHost("127.0.0.1")
            .serverPort(port(2)).buildBlocking();
        final BlockingQueue<Mqtt5Publish> in = new LinkedBlockingQueue<>();
        moved.toAsync().publishes(MqttGlobalPublishFilter.ALL, in::add);
        final var connack = moved.connectWith().cleanStart(false).sessionExpiryInterval(300).send();
        clients.add(moved::disconnect);
        assertTrue(connack.isSessionPresent(), "CONNACK session present 1: the session came from node 1");
        for (int i = 0; i < 3; i++)
        {
            final Mqtt5Publish p = in.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "queued message " + i + " moved with the session");
            assertEquals("q" + i, new String(p.getPayloadAsBytes()), "in order");
        }
        assertEquals(2, cluster.owner("mover"));
        final Mqtt5BlockingClient pub3 = hive(3, "mvpub3");
        await(() -> links.stream().allMatch(InJvmCluster.Link::caughtUp), "every node applied the log");
        pub3.publishWith().topic("mv/later").qos(MqttQos.AT_LEAST_ONCE).payload("later".getBytes()).send();
        final Mqtt5Publish later = in.poll(WAIT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(later, "the moved subscription routes to node 2");
        assertEquals("later", new String(later.getPayloadAsBytes()));
        assertEquals(0, cluster.peerMessages(3, 1), "node 1 no longer has the route");
    }

    @Test
    void aLeavingNodeSendsV5ClientsUseAnotherServerWithTheServerReference() throws Exception
    {
        node1ServerReference = "mqtt2.example.net:1883";
        start(2);
        final CompletableFuture<String> told = new CompletableFuture<>();
        final Mqtt5BlockingClient hive = Mqtt5Client.builder().identifier("leave5").serverHost("127.0.0.1")
            .serverPort(port(1))
            .addDisconnectedListener((ctx) -> told.complete(ctx.getCause() instanceof Mqtt5DisconnectException d ?
                Integer.toHexString(d.getMqttMessage().getReasonCode().getCode()) + " " +
                d.getMqttMessage().getServerReference().map(Object::toString).orElse("-") : "none"))
            .buildBlocking();
        hive.connect();
        final RawClient v5 = raw(1);
        v5.sendRaw(connectPacket("leave5raw", 5));
        assertEquals(0, v5.expect(2)[3], "CONNACK success");
        final RawClient v3 = raw(1);
        v3.sendRaw(connectPacket("leave3raw", 4));
        assertEquals(0, v3.expect(2)[3], "CONNACK accepted");

        brokers.get(0).shutdown();

        assertEquals("9c mqtt2.example.net:1883", told.get(WAIT_MS, TimeUnit.MILLISECONDS),
            "HiveMQ: DISCONNECT 0x9C Use another server with the Server Reference");
        final byte[] disconnect = v5.expect(14);
        final byte[] reference = "mqtt2.example.net:1883".getBytes(StandardCharsets.UTF_8);
        assertEquals(0x9C, disconnect[2] & 0xFF, "reason code Use another server");
        assertEquals(0x1C, disconnect[4], "first property: Server Reference");
        assertEquals(reference.length, ((disconnect[5] & 0xFF) << 8) | (disconnect[6] & 0xFF));
        assertArrayEquals(reference, java.util.Arrays.copyOfRange(disconnect, 7, 7 + reference.length));
        v5.assertClosed();
        v3.assertClosed(); // 3.1.1 has no DISCONNECT from the server: closed
    }

    @Test
    void theServerReferenceStaysWhenTheReasonStringDoesNotFitTheClientsMaximumPacketSize() throws Exception
    {
        node1ServerReference = "mqtt2.example.net:1883";
        start(2);
        final RawClient[] clients = new RawClient[2];
        for (int i = 0; i < 2; i++)
        {
            final byte[] id = ("leavemax" + i).getBytes(StandardCharsets.UTF_8);
            final int max = 29 - i; // 29: DISCONNECT with the reference alone fits exactly; 28: one byte short
            clients[i] = raw(1);
            clients[i].sendRaw(RawClient.packet(0x10,
                b(0, 4, 'M', 'Q', 'T', 'T', 5), b(0x02, 0, 60),
                b(5, 0x27, 0, 0, 0, max),                  // properties: Maximum Packet Size
                b(0, id.length), id));
            assertEquals(0, clients[i].expect(2)[3], "CONNACK success");
        }
        brokers.get(0).shutdown();
        final byte[] fits = clients[0].expect(14);
        assertEquals(29, fits.length, "the Reason String left out, the Server Reference kept");
        assertEquals(0x9C, fits[2] & 0xFF);
        assertEquals(0x1C, fits[4]);
        final byte[] bare = clients[1].expect(14);
        assertEquals(3, bare.length, "nothing but the reason code fits");
        assertEquals(0x9C, bare[2] & 0xFF);
    }

    @Test
    void aLeavingNodeWithoutAServerReferenceSendsServerShuttingDown() throws Exception
    {
        start(2);
        final RawClient v5 = raw(1);
        v5.sendRaw(connectPacket("leave5plain", 5));
        assertEquals(0, v5.expect(2)[3], "CONNACK success");
        brokers.get(0).shutdown();
        final byte[] disconnect = v5.expect(14);
        assertEquals(0x8B, disconnect[2] & 0xFF, "reason code Server shutting down");
        assertTrue(disconnect.length < 5 || disconnect[4] != 0x1C, "no Server Reference");
        v5.assertClosed();
    }

    @Test
    void aSessionWhosePreviousNodeIsDownStartsAfresh() throws Exception
    {
        start(2);
        final Mqtt5BlockingClient first = Mqtt5Client.builder().identifier("orphan").serverHost("127.0.0.1")
            .serverPort(port(1)).buildBlocking();
        first.connectWith().cleanStart(true).sessionExpiryInterval(300).send();
        first.disconnect();
        cluster.nodeDown(1);
        final Mqtt5BlockingClient again = Mqtt5Client.builder().identifier("orphan").serverHost("127.0.0.1")
            .serverPort(port(2)).buildBlocking();
        final var connack = again.connectWith().cleanStart(false).sessionExpiryInterval(300).send();
        clients.add(again::disconnect);
        assertFalse(connack.isSessionPresent(), "the previous node is down: no session to move (part 2 restores it)");
    }

    @Test
    void twoSimultaneousConnectsOnTwoNodesEndWithExactlyOneOwner() throws Exception
    {
        start(2);
        cluster.holdCommits();
        final RawClient one = raw(1);
        final RawClient two = raw(2);
        one.sendRaw(connectPacket("twin", 5));
        two.sendRaw(connectPacket("twin", 5));
        await(() -> cluster.heldCommands() == 2, "both claims reach the registry");
        cluster.releaseCommits();
        final int owner = cluster.owner("twin");
        final RawClient winner = owner == 1 ? one : two;
        final RawClient loser = owner == 1 ? two : one;
        assertEquals(0, loser.expect(2)[3], "the first claim in the log connects");
        final byte[] disconnect = loser.expect(14);
        assertEquals(0x8E, disconnect[2] & 0xFF, "then loses to the log's last claim: 0x8E");
        assertEquals(0, winner.expect(2)[3], "the log's last claim owns the client id");
        assertTrue(winner.silentFor(200), "and stays connected");
    }

    @Test
    void aWillOfAClientOnOneNodeReachesSubscribersOnAnother() throws Exception
    {
        start(2);
        final Mqtt5BlockingClient watcher = hive(2, "will-watch");
        try (Mqtt5BlockingClient.Mqtt5Publishes in = watcher.publishes(MqttGlobalPublishFilter.ALL))
        {
            watcher.subscribeWith().topicFilter("will/#").qos(MqttQos.AT_LEAST_ONCE).send();
            final RawClient dying = raw(1);
            final byte[] id = "dying".getBytes(StandardCharsets.UTF_8);
            final byte[] topic = "will/dying".getBytes(StandardCharsets.UTF_8);
            final byte[] payload = "gone".getBytes(StandardCharsets.UTF_8);
            dying.sendRaw(RawClient.packet(0x10,                  // CONNECT
                b(0, 4, 'M', 'Q', 'T', 'T', 4),                   // MQTT 3.1.1
                b(0x02 | 0x04 | 0x08, 0, 60),                     // clean session, will flag, will QoS 1
                b(0, id.length), id,                              // client id
                b(0, topic.length), topic,                        // will topic
                b(0, payload.length), payload));                  // will payload
            assertEquals(0, dying.expect(2)[3]);
            dying.close();                                        // no DISCONNECT: the will goes
            final Mqtt5Publish will = in.receive(WAIT_MS, TimeUnit.MILLISECONDS).orElseThrow();
            assertEquals("gone", new String(will.getPayloadAsBytes()));
        }
    }

    /** A Paho mqttv5 client whose received messages land in a queue. */
    private final class Paho implements MqttCallback
    {
        final MqttAsyncClient client;
        final BlockingQueue<MqttMessage> received = new LinkedBlockingQueue<>();

        Paho(final int node, final String clientId) throws MqttException
        {
            client = new MqttAsyncClient("tcp://127.0.0.1:" + port(node), clientId, new MemoryPersistence());
            client.setCallback(this);
            clients.add(() ->
            {
                if (client.isConnected())
                {
                    client.disconnect().waitForCompletion(WAIT_MS);
                }
                client.close(true);
            });
        }

        Paho connect() throws MqttException
        {
            client.connect().waitForCompletion(WAIT_MS);
            return this;
        }

        void subscribe(final MqttSubscription subscription, final MqttProperties properties) throws MqttException
        {
            final IMqttToken token = client.subscribe(new MqttSubscription[] {subscription}, null, null, properties);
            token.waitForCompletion(WAIT_MS);
        }

        MqttMessage next() throws InterruptedException
        {
            final MqttMessage next = received.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(next, "a message within " + WAIT_MS + " ms");
            return next;
        }

        public void disconnected(final MqttDisconnectResponse response)
        {
        }

        public void mqttErrorOccurred(final MqttException exception)
        {
        }

        public void messageArrived(final String topic, final MqttMessage message)
        {
            received.add(message);
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
    }
}
