package dev.skylark.broker.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.Broker;
import dev.skylark.broker.journal.ChronicleJournal;
import dev.skylark.broker.routing.ClusterLink;
import org.junit.jupiter.api.AfterEach;
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
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The heir of a dead node takes its persistent sessions over (issue 19): three brokers on one {@link InJvmCluster},
 * node 1 dies with node 2 as its heir; the double's replica of node 1 is node 1's own journal, read with the journal
 * classes after node 1 stopped — the records its buddy would hold. Real sockets, HiveMQ v5 and 3.1.1 clients and a
 * raw v5 client for the QoS 2 message in flight (exact packet id and DUP).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HeirTakeoverTest
{
    private static final long WAIT_MS = 10_000;

    @TempDir
    Path dataDir;
    private final InJvmCluster cluster = new InJvmCluster();
    private final InJvmCluster.Link[] links = new InJvmCluster.Link[4];
    private final Broker[] brokers = new Broker[4];
    private final List<AutoCloseable> clients = new ArrayList<>();

    private void start(final int node)
    {
        links[node] = cluster.link(node);
        brokers[node] = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0)
            .bindAddress("127.0.0.1").dataDir(dataDir.resolve("node" + node).toString()).durability("os")
            .clusterLink(links[node]));
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
            if (link != null)
            {
                link.paused = false;
            }
        }
        for (final Broker b : brokers)
        {
            if (b != null)
            {
                b.close();
            }
        }
    }

    private int port(final int node)
    {
        return brokers[node].mqttPort();
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

    private long metric(final int node, final String name) throws Exception
    {
        final java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" +
                brokers[node].httpPort() + "/metrics")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
        for (final String line : response.body().split("\n"))
        {
            if (line.startsWith(name + " "))
            {
                final String[] parts = line.trim().split(" ");
                return (long)Double.parseDouble(parts[parts.length - 1]);
            }
        }
        return -1;
    }

    private boolean allCaughtUp()
    {
        for (int i = 1; i < links.length; i++)
        {
            if (links[i] != null && links[i].up && !links[i].caughtUp())
            {
                return false;
            }
        }
        return true;
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

    /** A v5 CONNECT with Session Expiry Interval 300. */
    private static byte[] connect5(final String clientId, final boolean cleanStart)
    {
        final byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        return RawClient.packet(0x10,                                  // CONNECT
            b(0, 4, 'M', 'Q', 'T', 'T', 5),                            // protocol name, level 5
            b(cleanStart ? 0x02 : 0x00, 0, 60),                        // flags, keep alive 60
            b(5, 0x11, 0, 0, 0x01, 0x2C),                              // properties: Session Expiry Interval 300
            b(0, id.length), id);                                      // client id
    }

    /** The packet id of a QoS 1/2 PUBLISH (v5), after its topic. */
    private static int packetId(final byte[] publish)
    {
        int at = 1;
        while ((publish[at] & 0x80) != 0)
        {
            at++;
        }
        at++;
        final int topicLength = ((publish[at] & 0xFF) << 8) | (publish[at + 1] & 0xFF);
        at += 2 + topicLength;
        return ((publish[at] & 0xFF) << 8) | (publish[at + 1] & 0xFF);
    }


    /**
     * A node dies: the double's registry declares it down; the node stops; its journal becomes its replica. Its heir
     * takes nothing in meanwhile (the replica is not readable before the node stopped).
     */
    private void kill(final int node)
    {
        final InJvmCluster.Link heir = links[cluster.buddyOf(node)];
        heir.paused = true;
        killHeld(node);
        heir.paused = false;
    }

    /** {@link #kill}, the heir left paused (the caller has paused it, and resumes it). */
    private void killHeld(final int node)
    {
        cluster.nodeDown(node); // first: from now on its registry commands are refused, as for a dead node
        // The worst case: it still hears the log (cut off, not dead) and sees its client ids moved away before it
        // stops. What it does then must not reach its journal (the replica) ahead of the heir's replay.
        final InJvmCluster.Link dying = links[node];
        await(dying::caughtUp, "node " + node + " applied its own node-down");
        brokers[node].close();
        brokers[node] = null;
        final Path journal = dataDir.resolve("node" + node).resolve("journal");
        cluster.replica(node, (replayer) ->
        {
            try (ChronicleJournal replica = new ChronicleJournal(journal, false))
            {
                replica.replay(replayer::onRecord);
            }
        });
    }

    @Test
    void aClientThatReconnectsElsewhereBeforeItsNodeIsDeclaredDownGetsItsSessionFromTheHeir() throws Exception
    {
        reconnectBeforeTheNodeDown(3);
    }

    @Test
    void aClientThatReconnectsToTheHeirBeforeItsNodeIsDeclaredDownResumesThereAtOnce() throws Exception
    {
        reconnectBeforeTheNodeDown(2); // the heir itself: no transfer, and no wait for one
    }

    @Test
    void aClientWhoseFirstConnectWasLostWhileItsNodeWasNotYetDeclaredDownStillGetsItsSession() throws Exception
    {
        lostConnectBeforeTheNodeDown(3);
    }

    @Test
    void aClientWhoseFirstConnectToTheHeirWasLostWhileItsNodeWasNotYetDeclaredDownStillGetsItsSession()
        throws Exception
    {
        lostConnectBeforeTheNodeDown(2);
    }

    @Test
    void aCleanStartOnTheHeirBeforeTheNodeDownKeepsItsNewSession() throws Exception
    {
        start(1);
        start(2);
        start(3);
        await(() -> links[1].up && links[2].up && links[3].up, "every node up");
        final Mqtt5BlockingClient sub = Mqtt5Client.builder().identifier("fresh").serverHost("127.0.0.1")
            .serverPort(port(1)).buildBlocking();
        sub.connectWith().cleanStart(true).sessionExpiryInterval(300).send();
        sub.subscribeWith().topicFilter("old/#").qos(MqttQos.AT_LEAST_ONCE).send();
        sub.disconnect();
        final Mqtt5BlockingClient pub = hive(3, "pub-fresh");
        pub.publishWith().topic("old/1").qos(MqttQos.AT_LEAST_ONCE).payload("old".getBytes()).send();
        await(this::allCaughtUp, "every node applied the log");

        // Node 1 dies; the client comes back to the heir with Clean Start before the registry knows: a new session.
        brokers[1].close();
        brokers[1] = null;
        final Mqtt5BlockingClient again = Mqtt5Client.builder().identifier("fresh").serverHost("127.0.0.1")
            .serverPort(port(2)).buildBlocking();
        final BlockingQueue<Mqtt5Publish> in = new LinkedBlockingQueue<>();
        again.toAsync().publishes(MqttGlobalPublishFilter.ALL, in::add);
        assertFalse(again.connectWith().cleanStart(true).sessionExpiryInterval(300).send().isSessionPresent());
        clients.add(() ->
        {
            if (again.getState().isConnected())
            {
                again.disconnect();
            }
        });
        again.subscribeWith().topicFilter("new/#").qos(MqttQos.AT_LEAST_ONCE).send();

        node1DownWithItsReplica();
        await(() -> links[2].caughtUp() && links[3].caughtUp(), "the takeover is done");
        pub.publishWith().topic("new/1").qos(MqttQos.AT_LEAST_ONCE).payload("new".getBytes()).send();
        final Mqtt5Publish p = in.poll(WAIT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(p, "the new session still gets what it subscribed to");
        assertEquals("new", new String(p.getPayloadAsBytes()), "and not the dead node's old session's messages");
        assertTrue(again.getState().isConnected(), "still connected");
        assertEquals(2, cluster.owner("fresh"));
    }

    /**
     * NodeFailureTest kill-node-0-restart (node 0 the Raft leader): the dead node's clients reconnected to survivors
     * whose claims waited in the stalled log, the survivors fenced themselves and refused those CONNECTs (0x88), and
     * the claims committed afterwards all the same, taking the client ids from the dead node, still live to the
     * registry. The node released them (nobody connected), so the client's next CONNECT started a new session
     * (session present 0) and the heir rebuilt nothing: the subscriber lost every message queued for it.
     */
    private void lostConnectBeforeTheNodeDown(final int node) throws Exception
    {
        threeQueuedOnNode1("lost", "l");

        // Node 1 dies; the registry does not know yet. The client reconnects to another node, whose claim waits in
        // the log; that node fences itself meanwhile and refuses the CONNECT; the claim commits afterwards.
        brokers[1].close();
        brokers[1] = null;
        cluster.holdCommits();
        try (RawClient first = new RawClient(port(node)))
        {
            first.sendRaw(connect5("lost", false));
            await(() -> cluster.heldCommands() > 0, "the claim is in flight");
            fence(node, true);
            assertEquals(0x88, first.expect(2)[3] & 0xFF, "CONNACK 0x88: the node fenced while the claim waited");
        }
        fence(node, false);
        cluster.releaseCommits();
        await(() -> cluster.owner("lost") == node, "the claim committed, taking the client id from node 1");
        final long firstEpoch = cluster.epoch("lost");

        // The client comes back to that node before the registry declared node 1 down: it waits for the session.
        final BlockingQueue<Mqtt5Publish> in = new LinkedBlockingQueue<>();
        final java.util.concurrent.CompletableFuture<com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck>
            connack = resume("lost", node, in);
        await(() -> cluster.epoch("lost") > firstEpoch, "the second claim committed");
        await(() -> links[2].caughtUp() && links[3].caughtUp(), "nodes 2 and 3 applied the log");
        assertEquals(node, cluster.owner("lost"), "not released in between");
        assertFalse(connack.isDone(), "no CONNACK while the session is on its way");

        node1DownWithItsReplica();
        assertTrue(connack.get(WAIT_MS, TimeUnit.MILLISECONDS).isSessionPresent(), "session present 1 on node " + node);
        for (int i = 0; i < 3; i++)
        {
            final Mqtt5Publish p = in.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "queued message " + i);
            assertEquals("l" + i, new String(p.getPayloadAsBytes()), "in order");
        }
        assertEquals(node, cluster.owner("lost"), "still its");
    }

    /**
     * Three nodes; {@code clientId}'s persistent session on node 1, offline, owed {@code clientId}/0..2 (payloads
     * {@code payload} + i), and every node has applied the log.
     */
    private void threeQueuedOnNode1(final String clientId, final String payload) throws Exception
    {
        start(1);
        start(2);
        start(3);
        await(() -> links[1].up && links[2].up && links[3].up, "every node up");
        final Mqtt5BlockingClient sub = Mqtt5Client.builder().identifier(clientId).serverHost("127.0.0.1")
            .serverPort(port(1)).buildBlocking();
        sub.connectWith().cleanStart(true).sessionExpiryInterval(300).send();
        sub.subscribeWith().topicFilter(clientId + "/#").qos(MqttQos.AT_LEAST_ONCE).send();
        sub.disconnect();
        final Mqtt5BlockingClient pub = hive(1, "pub-" + clientId);
        for (int i = 0; i < 3; i++)
        {
            pub.publishWith().topic(clientId + "/" + i).qos(MqttQos.AT_LEAST_ONCE).payload((payload + i).getBytes())
                .send();
        }
        await(this::allCaughtUp, "every node applied the log");
    }

    /** {@code clientId} reconnects to {@code node} without Clean Start; its messages go to {@code in}. */
    private java.util.concurrent.CompletableFuture<com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck>
        resume(final String clientId, final int node, final BlockingQueue<Mqtt5Publish> in)
    {
        final Mqtt5BlockingClient again = Mqtt5Client.builder().identifier(clientId).serverHost("127.0.0.1")
            .serverPort(port(node)).buildBlocking();
        again.toAsync().publishes(MqttGlobalPublishFilter.ALL, in::add);
        clients.add(() ->
        {
            if (again.getState().isConnected())
            {
                again.disconnect();
            }
        });
        return again.toAsync().connectWith().cleanStart(false).sessionExpiryInterval(300).send();
    }

    /** The registry declares node 1 down, its heir reading node 1's journal as the replica. */
    private void node1DownWithItsReplica()
    {
        final Path journal = dataDir.resolve("node1").resolve("journal");
        cluster.replica(1, (replayer) ->
        {
            try (ChronicleJournal replica = new ChronicleJournal(journal, false))
            {
                replica.replay(replayer::onRecord);
            }
        });
        cluster.nodeDown(1);
    }

    /** Fences (or unfences) a node by hand and waits until its routing agent ran a duty cycle with it. */
    private void fence(final int node, final boolean fenced)
    {
        links[node].fenced = fenced;
        final int polls = links[node].polls.get();
        await(() -> links[node].polls.get() > polls + 1, "node " + node + "'s routing agent ran a duty cycle");
    }

    private void reconnectBeforeTheNodeDown(final int node) throws Exception
    {
        threeQueuedOnNode1("early", "e");

        // Node 1 dies; the registry does not know yet. The client reconnects to another node at once: the claim commits
        // with node 1 as the previous owner, which never sends the session. The CONNECT waits.
        brokers[1].close();
        brokers[1] = null;
        final BlockingQueue<Mqtt5Publish> in = new LinkedBlockingQueue<>();
        final java.util.concurrent.CompletableFuture<com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck>
            connack = resume("early", node, in);
        await(() -> cluster.owner("early") == node, "the claim committed");
        assertFalse(connack.isDone(), "no CONNACK while the previous owner is live to the registry");

        // Now the registry declares node 1 down: its heir, node 2, rebuilds the session from the replica and sends
        // it to the node where the CONNECT waits.
        node1DownWithItsReplica();
        assertTrue(connack.get(WAIT_MS, TimeUnit.MILLISECONDS).isSessionPresent(), "session present 1 on node " + node);
        for (int i = 0; i < 3; i++)
        {
            final Mqtt5Publish p = in.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "queued message " + i);
            assertEquals("e" + i, new String(p.getPayloadAsBytes()), "in order");
        }
        assertEquals(node, cluster.owner("early"), "still its");
    }

    @Test
    void theHeirTakesOverADeadNodesPersistentSessionsAndClientsResumeOnAnyNode() throws Exception
    {
        start(1);
        start(2);
        start(3);
        await(() -> links[1].up && links[2].up && links[3].up, "every node up");
        assertEquals(2, cluster.buddyOf(1), "node 2 holds node 1's replica and is its heir");

        // On node 1: a persistent v5 subscriber, a persistent 3.1.1 one, a raw v5 QoS 2 one, a clean session.
        final Mqtt5BlockingClient v5 = Mqtt5Client.builder().identifier("v5sub").serverHost("127.0.0.1")
            .serverPort(port(1)).buildBlocking();
        v5.connectWith().cleanStart(true).sessionExpiryInterval(300).send();
        v5.subscribeWith().topicFilter("h/a/#").qos(MqttQos.AT_LEAST_ONCE).send();
        v5.disconnect();
        final Mqtt3BlockingClient v3 = Mqtt3Client.builder().identifier("v3sub").serverHost("127.0.0.1")
            .serverPort(port(1)).buildBlocking();
        v3.connectWith().cleanSession(false).send();
        v3.subscribeWith().topicFilter("h/b/#").qos(MqttQos.AT_LEAST_ONCE).send();
        v3.disconnect();
        final RawClient q2 = new RawClient(port(1));
        clients.add(q2);
        q2.sendRaw(connect5("q2sub", true));
        assertEquals(0, q2.expect(2)[3], "CONNACK success");
        final byte[] filter = "h/q2".getBytes(StandardCharsets.UTF_8);
        q2.send(0x82, b(0, 1), b(0), b(0, filter.length), filter, b(2)); // SUBSCRIBE h/q2 QoS 2, no properties
        q2.expect(9);
        final Mqtt5BlockingClient clean = hive(1, "clean");
        clean.subscribeWith().topicFilter("h/c/#").qos(MqttQos.AT_LEAST_ONCE).send();

        final Mqtt5BlockingClient pub1 = hive(1, "pub1");
        for (int i = 0; i < 5; i++)
        {
            pub1.publishWith().topic("h/a/" + i).qos(MqttQos.AT_LEAST_ONCE).payload(("a" + i).getBytes()).send();
            pub1.publishWith().topic("h/b/" + i).qos(MqttQos.AT_LEAST_ONCE).payload(("b" + i).getBytes()).send();
        }
        pub1.publishWith().topic("h/q2").qos(MqttQos.EXACTLY_ONCE).payload("two".getBytes()).send();
        final byte[] inFlight = q2.expect(3);
        assertEquals(0x34, inFlight[0] & 0xFF, "QoS 2, first delivery");
        final int inFlightId = packetId(inFlight); // never answered: in flight at the node's death
        await(this::allCaughtUp, "every node applied the log");

        // Node 1 dies. The heir is held back until node 1 has stopped and its replica is readable; meanwhile node 3
        // routes a publish for node 1's subscriber to the heir through the moved route.
        links[2].paused = true;
        killHeld(1);
        await(() -> links[3].caughtUp(), "node 3 applied the node-down");
        final Mqtt5BlockingClient pub3 = hive(3, "pub3");
        pub3.publishWith().topic("h/a/later").qos(MqttQos.AT_LEAST_ONCE).payload("a-later".getBytes()).send();
        pub3.publishWith().topic("h/b/later").qos(MqttQos.AT_LEAST_ONCE).payload("b-later".getBytes()).send();
        links[2].paused = false;

        await(() -> cluster.replicaDropped(1), "the heir journaled what it took over and dropped the replica");
        assertEquals(2, cluster.owner("v5sub"));
        assertEquals(2, cluster.owner("v3sub"));
        assertEquals(2, cluster.owner("q2sub"));
        await(() -> cluster.owner("clean") == ClusterLink.NO_NODE, "the clean session's client id released");
        await(() -> cluster.routeCount("h/c/#", 2) == 0, "an inherited route nobody needs removed");
        await(() -> cluster.routeCount("h/a/#", 2) == 1, "the rebuilt subscription's own route, not the inherited");
        assertEquals(3, metric(2, "skylark_sessions"), "three sessions taken over");

        // The v5 session resumes on node 3 (session present 1): every message, in order, then the later one.
        final Mqtt5BlockingClient v5again = Mqtt5Client.builder().identifier("v5sub").serverHost("127.0.0.1")
            .serverPort(port(3)).buildBlocking();
        final BlockingQueue<Mqtt5Publish> in5 = new LinkedBlockingQueue<>();
        v5again.toAsync().publishes(MqttGlobalPublishFilter.ALL, in5::add);
        assertTrue(v5again.connectWith().cleanStart(false).sessionExpiryInterval(300).send().isSessionPresent(),
            "session present 1 on node 3");
        clients.add(v5again::disconnect);
        for (int i = 0; i < 5; i++)
        {
            final Mqtt5Publish p = in5.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "queued message " + i);
            assertEquals("a" + i, new String(p.getPayloadAsBytes()), "in order");
        }
        final Mqtt5Publish later = in5.poll(WAIT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(later, "published after the node-down, routed to the heir");
        assertEquals("a-later", new String(later.getPayloadAsBytes()));

        // The 3.1.1 session resumes on the heir itself.
        final Mqtt3BlockingClient v3again = Mqtt3Client.builder().identifier("v3sub").serverHost("127.0.0.1")
            .serverPort(port(2)).buildBlocking();
        final BlockingQueue<Mqtt3Publish> in3 = new LinkedBlockingQueue<>();
        v3again.toAsync().publishes(MqttGlobalPublishFilter.ALL, in3::add);
        assertTrue(v3again.connectWith().cleanSession(false).send().isSessionPresent(), "session present 1 on node 2");
        clients.add(v3again::disconnect);
        for (int i = 0; i < 5; i++)
        {
            final Mqtt3Publish p = in3.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "queued message " + i);
            assertEquals("b" + i, new String(p.getPayloadAsBytes()), "in order");
        }
        final Mqtt3Publish laterB = in3.poll(WAIT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(laterB);
        assertEquals("b-later", new String(laterB.getPayloadAsBytes()));

        // The QoS 2 message in flight comes again on node 3 under the same packet id, with DUP.
        final RawClient q2again = new RawClient(port(3));
        clients.add(q2again);
        q2again.sendRaw(connect5("q2sub", false));
        final byte[] connack = q2again.expect(2);
        assertEquals(1, connack[2], "session present 1");
        assertEquals(0, connack[3], "success");
        final byte[] resent = q2again.expect(3);
        assertEquals(0x3C, resent[0] & 0xFF, "QoS 2 with DUP");
        assertEquals(inFlightId, packetId(resent), "the packet id it went out under on the dead node");

        // The clean session is not resurrected.
        final Mqtt5BlockingClient cleanAgain = Mqtt5Client.builder().identifier("clean").serverHost("127.0.0.1")
            .serverPort(port(3)).buildBlocking();
        assertFalse(cleanAgain.connectWith().cleanStart(false).sessionExpiryInterval(300).send().isSessionPresent(),
            "a clean session of the dead node is gone");
        clients.add(cleanAgain::disconnect);

        // Node 1 comes back: it replays its own journal, then ends locally what others own now (no release).
        final long v5Epoch = cluster.epoch("v5sub");
        final long v3Epoch = cluster.epoch("v3sub");
        start(1);
        await(() -> links[1].up && links[1].caughtUp(), "node 1 rejoined and caught up");
        await(() -> metricQuietly(1, "skylark_sessions") == 0, "node 1 ended the sessions its heir took over");
        await(() -> cluster.routeCount("h/a/#", 1) == 0 && cluster.routeCount("h/b/#", 1) == 0,
            "node 1 holds no route for them");
        assertEquals(3, cluster.owner("v5sub"));
        assertEquals(v5Epoch, cluster.epoch("v5sub"), "not released, not claimed");
        assertEquals(2, cluster.owner("v3sub"));
        assertEquals(v3Epoch, cluster.epoch("v3sub"));
        pub3.publishWith().topic("h/a/after").qos(MqttQos.AT_LEAST_ONCE).payload("a-after".getBytes()).send();
        final Mqtt5Publish after = in5.poll(WAIT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(after);
        assertEquals("a-after", new String(after.getPayloadAsBytes()));
        assertEquals(null, in5.poll(300, TimeUnit.MILLISECONDS), "once");
    }

    @Test
    void whatAnHeirTookOverIsItsOwnJournalsAndItsOwnHeirTakesItOverInTurn() throws Exception
    {
        start(1);
        start(2);
        start(3);
        await(() -> links[1].up && links[2].up && links[3].up, "every node up");
        final Mqtt5BlockingClient sub = Mqtt5Client.builder().identifier("chain").serverHost("127.0.0.1")
            .serverPort(port(1)).buildBlocking();
        sub.connectWith().cleanStart(true).sessionExpiryInterval(300).send();
        sub.subscribeWith().topicFilter("chain/#").qos(MqttQos.AT_LEAST_ONCE).send();
        sub.disconnect();
        final int count = Integer.getInteger("heir.test.messages", 5_000);
        final Mqtt5BlockingClient pub = hive(1, "chainpub");
        final List<java.util.concurrent.CompletableFuture<?>> acks = new ArrayList<>();
        for (int i = 0; i < count; i++)
        {
            acks.add(pub.toAsync().publishWith().topic("chain/" + (i % 10)).qos(MqttQos.AT_LEAST_ONCE)
                .payload(Integer.toString(i).getBytes()).send());
            if (acks.size() >= 64)
            {
                acks.remove(0).get(WAIT_MS, TimeUnit.MILLISECONDS); // a window of 64 unacknowledged
            }
        }
        for (final java.util.concurrent.CompletableFuture<?> ack : acks)
        {
            ack.get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
        await(this::allCaughtUp, "every node applied the log");

        kill(1);
        await(() -> cluster.replicaDropped(1) && cluster.owner("chain") == 2, "node 2 took node 1 over");
        kill(2); // before anyone resumed: node 3 takes over from node 2's journal what node 2 had taken over
        await(() -> cluster.replicaDropped(2) && cluster.owner("chain") == 3, "node 3 took node 2 over");
        assertEquals(1, metric(3, "skylark_sessions"), "the session, offline on node 3");

        final Mqtt5BlockingClient again = Mqtt5Client.builder().identifier("chain").serverHost("127.0.0.1")
            .serverPort(port(3)).buildBlocking();
        final BlockingQueue<Mqtt5Publish> in = new LinkedBlockingQueue<>();
        again.toAsync().publishes(MqttGlobalPublishFilter.ALL, in::add);
        assertTrue(again.connectWith().cleanStart(false).sessionExpiryInterval(300).send().isSessionPresent());
        clients.add(again::disconnect);
        for (int i = 0; i < count; i++)
        {
            final Mqtt5Publish p = in.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "message " + i + " of " + count);
            assertEquals(Integer.toString(i), new String(p.getPayloadAsBytes()), "in order, none lost");
        }
        assertEquals(null, in.poll(300, TimeUnit.MILLISECONDS), "no more");
    }

    private long metricQuietly(final int node, final String name)
    {
        try
        {
            return metric(node, name);
        }
        catch (final Exception ex)
        {
            return -1;
        }
    }
}
