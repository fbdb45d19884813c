package dev.skylark.broker.it;

import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What a fenced cluster node does (its link says {@code isFenced()}: cut off from the registry's majority), on real
 * sockets against two brokers of one {@link InJvmCluster} whose node 1 is fenced by hand: every client is
 * disconnected (v5 0x9C Use another server with the Server Reference, else 0x89 Server busy; 3.1.1 closed), a QoS 1
 * PUBLISH gets no PUBACK and goes nowhere, a new CONNECT gets CONNACK 0x88 (3.1.1: 3), a CONNECT waiting for its
 * claim too; a persistent session's queued messages stay; unfenced, the node accepts again.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FencingTest
{
    private static final long WAIT_MS = 10_000;
    private static final String REFERENCE = "mqtt2.example.net:1883";

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dataDir;
    private final InJvmCluster cluster = new InJvmCluster();
    private final List<InJvmCluster.Link> links = new ArrayList<>();
    private final List<Broker> brokers = new ArrayList<>();
    private final List<AutoCloseable> clients = new ArrayList<>();

    private void start(final String node1ServerReference)
    {
        for (int i = 1; i <= 2; i++)
        {
            final InJvmCluster.Link link = cluster.link(i);
            links.add(link);
            final Broker.Context context = new Broker.Context().authMode("none").mqttPort(0).httpPort(0)
                .bindAddress("127.0.0.1").dataDir(dataDir.resolve("node" + i).toString()).clusterLink(link);
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

    private RawClient raw(final int node) throws Exception
    {
        final RawClient c = new RawClient(brokers.get(node - 1).mqttPort());
        clients.add(c);
        return c;
    }

    private static byte[] b(final int... v)
    {
        return RawClient.bytes(v);
    }

    private static byte[] connect(final String clientId, final int level)
    {
        final byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        return RawClient.packet(0x10,                      // CONNECT
            b(0, 4, 'M', 'Q', 'T', 'T', level),            // protocol name, level
            b(0x02, 0, 60),                                // clean start, keep alive 60
            level == 5 ? b(0) : b(),                       // v5: properties length 0
            b(0, id.length), id);                          // client id
    }

    /** v5 CONNECT without Clean Start, Session Expiry Interval 300 s: a persistent session. */
    private static byte[] connectPersistent(final String clientId)
    {
        final byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        return RawClient.packet(0x10,
            b(0, 4, 'M', 'Q', 'T', 'T', 5),
            b(0x00, 0, 60),                                // no clean start, keep alive 60
            b(5, 0x11, 0, 0, 0x01, 0x2C),                  // properties: Session Expiry Interval 300
            b(0, id.length), id);
    }

    private static byte[] publishQos1(final String topic, final int packetId, final String payload)
    {
        return RawClient.packet(0x32,                      // PUBLISH QoS 1
            RawClient.str(topic), b(packetId >> 8, packetId & 0xFF), b(0), // topic, packet id, no properties
            payload.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] subscribeQos1(final String filter, final int packetId)
    {
        return RawClient.packet(0x82,                      // SUBSCRIBE
            b(packetId >> 8, packetId & 0xFF), b(0),       // packet id, no properties
            RawClient.str(filter), b(1));                  // filter, QoS 1
    }

    private RawClient connected(final int node, final String clientId, final int level) throws Exception
    {
        final RawClient c = raw(node);
        c.sendRaw(connect(clientId, level));
        assertEquals(0, c.expect(2)[3], "CONNACK success");
        return c;
    }

    private RawClient subscriber(final int node, final String clientId, final String filter) throws Exception
    {
        final RawClient c = connected(node, clientId, 5);
        c.sendRaw(subscribeQos1(filter, 1));
        assertEquals(1, c.expect(9)[5], "SUBACK granted QoS 1");
        return c;
    }

    /** Fences node 1 and waits until its routing agent has acted on it (its clients go). */
    private void fence(final boolean fenced)
    {
        links.get(0).fenced = fenced;
        final int polls = links.get(0).polls.get();
        await(() -> links.get(0).polls.get() > polls + 1, "node 1's routing agent ran a duty cycle");
    }

    @Test
    void aFencedNodeSendsV5ClientsUseAnotherServerWithItsServerReferenceAndClosesV3() throws Exception
    {
        start(REFERENCE);
        final CompletableFuture<String> told = new CompletableFuture<>();
        final Mqtt5BlockingClient hive = Mqtt5Client.builder().identifier("fence-hive").serverHost("127.0.0.1")
            .serverPort(brokers.get(0).mqttPort())
            .addDisconnectedListener((ctx) -> told.complete(ctx.getCause() instanceof Mqtt5DisconnectException d ?
                Integer.toHexString(d.getMqttMessage().getReasonCode().getCode()) + " " +
                d.getMqttMessage().getServerReference().map(Object::toString).orElse("-") : "none"))
            .buildBlocking();
        hive.connect();
        final RawClient v5 = connected(1, "fence-v5", 5);
        final RawClient v3 = connected(1, "fence-v3", 4);
        final RawClient other = connected(2, "fence-other", 5);

        links.get(0).fenced = true;

        assertEquals("9c " + REFERENCE, told.get(WAIT_MS, TimeUnit.MILLISECONDS),
            "HiveMQ: DISCONNECT 0x9C Use another server with the Server Reference");
        final byte[] disconnect = v5.expect(14);
        final byte[] reference = REFERENCE.getBytes(StandardCharsets.UTF_8);
        assertEquals(0x9C, disconnect[2] & 0xFF, "reason code Use another server");
        assertEquals(0x1C, disconnect[4], "first property: Server Reference");
        assertEquals(reference.length, ((disconnect[5] & 0xFF) << 8) | (disconnect[6] & 0xFF));
        assertArrayEquals(reference, Arrays.copyOfRange(disconnect, 7, 7 + reference.length));
        v5.assertClosed();
        v3.assertClosed(); // 3.1.1 has no DISCONNECT from the server: closed
        other.sendRaw(b(0xC0, 0));                         // PINGREQ: node 2 is not fenced, its client stays
        other.expect(13);
    }

    @Test
    void withoutAServerReferenceAFencedNodeSendsServerBusy() throws Exception
    {
        start(null);
        final RawClient v5 = connected(1, "busy-v5", 5);
        links.get(0).fenced = true;
        final byte[] disconnect = v5.expect(14);
        assertEquals(0x89, disconnect[2] & 0xFF, "reason code Server busy");
        assertTrue(disconnect.length < 5 || disconnect[4] != 0x1C, "no Server Reference");
        v5.assertClosed();
    }

    @Test
    void aFencedNodeRefusesConnectsAndAcknowledgesNoPublishUntilUnfenced() throws Exception
    {
        start(null);
        final RawClient sub = subscriber(2, "fq-sub", "fq/#");
        final RawClient pub = connected(1, "fq-pub", 5);
        pub.sendRaw(publishQos1("fq/before", 1, "before"));
        assertEquals(4, (pub.expect(4)[0] & 0xFF) >> 4, "PUBACK before fencing");
        assertEquals(3, (sub.expect(3)[0] & 0xFF) >> 4, "delivered before fencing");
        sub.sendRaw(b(0x40, 2, 0, 1));                     // PUBACK packet id 1 (the first delivery)

        links.get(0).fenced = true;
        pub.sendRaw(publishQos1("fq/during", 2, "during"));  // right behind the fence: read or not, never acked
        for (byte[] packet = pub.read(); packet != null; packet = pub.read())
        {
            assertNotEquals(4, (packet[0] & 0xFF) >> 4, "no PUBACK while fenced");
            assertEquals(14, (packet[0] & 0xFF) >> 4, "only DISCONNECT");
            assertEquals(0x89, packet[2] & 0xFF);
        }
        fence(true);

        final RawClient refusedV5 = raw(1);
        refusedV5.sendRaw(connect("fq-new5", 5));
        assertEquals(0x88, refusedV5.expect(2)[3] & 0xFF, "CONNACK 0x88 Server unavailable while fenced");
        final RawClient refusedV3 = raw(1);
        refusedV3.sendRaw(connect("fq-new3", 4));
        assertEquals(3, refusedV3.expect(2)[3], "3.1.1 CONNACK return code 3 while fenced");
        assertTrue(sub.silentFor(300), "nothing published on the fenced node reached the subscriber");

        fence(false);
        final RawClient again = connected(1, "fq-again", 5);
        again.sendRaw(publishQos1("fq/after", 7, "after"));
        final byte[] puback = again.expect(4);
        assertEquals(7, ((puback[2] & 0xFF) << 8) | (puback[3] & 0xFF), "PUBACK once unfenced");
        final byte[] delivered = sub.expect(3);
        assertTrue(new String(delivered, StandardCharsets.UTF_8).endsWith("after"),
            "the next delivery is the one published after unfencing");
    }

    @Test
    void aConnectWaitingForItsClaimIsRefusedWhenTheNodeFences() throws Exception
    {
        start(null);
        cluster.holdCommits();
        final RawClient waiting = raw(1);
        waiting.sendRaw(connect("fw-wait", 5));
        await(() -> cluster.heldCommands() > 0, "the claim is in flight");
        links.get(0).fenced = true;
        assertEquals(0x88, waiting.expect(2)[3] & 0xFF, "CONNACK 0x88: the node fenced while the claim waited");
        cluster.releaseCommits();
        await(() -> cluster.owner("fw-wait") == -1, "the claim, committed late, released again");
    }

    @Test
    void aPersistentSessionKeepsItsQueuedMessagesThroughAFence() throws Exception
    {
        start(REFERENCE);
        final RawClient sub = raw(1);
        sub.sendRaw(connectPersistent("fp-sub"));
        assertEquals(0, sub.expect(2)[3], "CONNACK success");
        sub.sendRaw(subscribeQos1("fp/t", 1));
        assertEquals(1, sub.expect(9)[5]);
        final RawClient pub = connected(2, "fp-pub", 5);
        pub.sendRaw(publishQos1("fp/t", 1, "queued"));
        assertNotNull(sub.expect(3), "delivered while connected");      // not acknowledged: in flight

        links.get(0).fenced = true;
        assertEquals(0x9C, sub.expect(14)[2] & 0xFF, "DISCONNECT 0x9C");
        fence(false);

        final RawClient back = raw(1);
        back.sendRaw(connectPersistent("fp-sub"));
        final byte[] connack = back.expect(2);
        assertEquals(1, connack[2], "session present: the session stayed on the node");
        assertEquals(0, connack[3]);
        final byte[] redelivered = back.expect(3);
        assertEquals(0x08, redelivered[0] & 0x08, "redelivered with DUP");
        assertTrue(new String(redelivered, StandardCharsets.UTF_8).endsWith("queued"));
    }
}
