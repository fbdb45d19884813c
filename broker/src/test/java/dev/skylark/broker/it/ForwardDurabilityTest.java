package dev.skylark.broker.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.Broker;
import dev.skylark.broker.journal.ChronicleJournal;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
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
 * Durable forwards (issue 19) on real sockets with HiveMQ and Paho clients against brokers of one
 * {@link InJvmCluster}: a QoS 1/2 message forwarded to another node is kept by its sender until that node confirms
 * it, goes to the heir when the receiver dies, is re-sent by the heir when the sender dies, is never applied twice by
 * a receiver, survives checkpoints while unconfirmed, and holds publishers back past the backlog bound.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ForwardDurabilityTest
{
    private static final long WAIT_MS = 10_000;
    /** The journal record type of a FORWARD (JournalRecord.FORWARD). */
    private static final int FORWARD_RECORD = 10;
    /** Where a FORWARD record's forward id is: type:1 pad:3 node:4, then origin:4 target:4 forwardId:8. */
    private static final int FORWARD_RECORD_ID_OFFSET = 16;

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path dataDir;
    private final InJvmCluster cluster = new InJvmCluster();
    private final List<InJvmCluster.Link> links = new ArrayList<>();
    private final List<Broker> brokers = new ArrayList<>();
    private final List<AutoCloseable> clients = new ArrayList<>();

    private void start(final int nodes, final String durability, final long checkpointBytes)
    {
        for (int i = 1; i <= nodes; i++)
        {
            final InJvmCluster.Link link = cluster.link(i);
            links.add(link);
            final java.nio.file.Path dir = dataDir.resolve("node" + i);
            cluster.journals.put(i, dir.resolve("journal"));
            final Broker.Context context = new Broker.Context().authMode("none").mqttPort(0).httpPort(0)
                .bindAddress("127.0.0.1").dataDir(dir.toString()).durability(durability).clusterLink(link);
            if (checkpointBytes > 0)
            {
                context.journalCheckpointBytes(checkpointBytes);
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

    private long metric(final int node, final String name)
    {
        try
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
        catch (final Exception ex)
        {
            throw new AssertionError(ex);
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

    private BlockingQueue<Mqtt5Publish> subscribe(final int node, final String id, final String filter)
        throws Exception
    {
        final Mqtt5AsyncClient sub = hive(node, id).toAsync();
        final BlockingQueue<Mqtt5Publish> received = new LinkedBlockingQueue<>();
        sub.publishes(MqttGlobalPublishFilter.ALL, received::add);
        sub.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send().get(WAIT_MS, TimeUnit.MILLISECONDS);
        return received;
    }

    private static byte[] numbered(final int i, final int size)
    {
        final byte[] payload = new byte[size];
        ByteBuffer.wrap(payload).putInt(i);
        return payload;
    }

    private static int number(final Mqtt5Publish publish)
    {
        return ByteBuffer.wrap(publish.getPayloadAsBytes()).getInt();
    }

    /** Stops a node's broker (its journal closed: what a buddy's replica of it would hold) and declares it down. */
    private void kill(final int node)
    {
        brokers.get(node - 1).close();
        cluster.nodeDown(node);
    }

    /** The forward ids of the FORWARD records a stopped node's journal replays, in order. */
    private List<Long> forwardRecords(final int node)
    {
        final List<Long> ids = new ArrayList<>();
        final ChronicleJournal journal = new ChronicleJournal(dataDir.resolve("node" + node).resolve("journal"), false);
        try
        {
            journal.replay((buffer, offset, length) ->
            {
                if (buffer.getByte(offset) == FORWARD_RECORD)
                {
                    ids.add(buffer.getLong(offset + FORWARD_RECORD_ID_OFFSET));
                }
            });
        }
        finally
        {
            journal.close();
        }
        return ids;
    }

    @Test
    void aForwardLostInFlightToANodeThatThenDiesReachesItsHeirsSubscriber() throws Exception
    {
        start(3, "none", 0);
        final BlockingQueue<Mqtt5Publish> onNode2 = subscribe(2, "sub2", "lost/#");
        final Mqtt5BlockingClient pub = hive(1, "pub");
        links.get(1).losePeerMessages = true; // node 2 never gets them, so never confirms them
        for (int i = 0; i < 3; i++)
        {
            pub.publishWith().topic("lost/x").qos(MqttQos.AT_LEAST_ONCE).payload(numbered(i, 16)).send();
        }
        // Acknowledged to the publisher, lost on the way to node 2. Node 3's subscriber stands in for the session
        // node 3 takes over from node 2 as its heir (subscribed there before node 2 goes down).
        final BlockingQueue<Mqtt5Publish> onHeir = subscribe(3, "heir-sub", "lost/#");
        kill(2); // its heir: node 3

        for (int i = 0; i < 3; i++)
        {
            final Mqtt5Publish p = onHeir.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "message " + i + " reaches the heir");
            assertEquals(i, number(p), "in publishing order");
        }
        assertNull(onHeir.poll(300, TimeUnit.MILLISECONDS), "exactly once");
        assertTrue(onNode2.isEmpty(), "node 2 never had them");
        await(() -> metric(1, "skylark_cluster_forward_backlog_bytes") == 0, "node 3 confirmed them to node 1");
    }

    @Test
    void aSenderRestartedBeforeItIsDeclaredDownResendsWhatWasNotConfirmed() throws Exception
    {
        start(2, "os", 0);
        final BlockingQueue<Mqtt5Publish> onNode2 = subscribe(2, "sub2", "restart/#");
        final Mqtt5BlockingClient pub = hive(1, "pub");
        links.get(1).losePeerMessages = true; // node 2 never gets them, so never confirms them
        for (int i = 0; i < 3; i++)
        {
            pub.publishWith().topic("restart/x").qos(MqttQos.AT_LEAST_ONCE).payload(numbered(i, 16)).send();
        }
        pub.disconnect();
        // Node 1 stops and comes back within the session timeout: the registry never declares it down (its new
        // session's HELLO replaces the old one), so no heir re-sends its forwards: it must, from its own journal.
        brokers.get(0).close();
        links.get(0).up = false; // quietly: no onNodeDown
        links.get(1).losePeerMessages = false;
        final InJvmCluster.Link again = cluster.link(1);
        links.set(0, again);
        brokers.set(0, Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0)
            .bindAddress("127.0.0.1").dataDir(dataDir.resolve("node1").toString()).durability("os")
            .clusterLink(again)));

        for (int i = 0; i < 3; i++)
        {
            final Mqtt5Publish p = onNode2.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "message " + i + " reaches node 2 after node 1's restart");
            assertEquals(i, number(p), "in publishing order");
        }
        assertNull(onNode2.poll(300, TimeUnit.MILLISECONDS), "exactly once");
        await(() -> metric(1, "skylark_cluster_forward_backlog_bytes") == 0, "node 2 confirmed them to node 1");
    }

    @Test
    void whatADeadReceiverAppliedWithoutConfirmingIsNotDeliveredAgainByItsHeir() throws Exception
    {
        start(3, "os", 0);
        final BlockingQueue<Mqtt5Publish> onNode2 = subscribe(2, "sub2", "applied/#");
        final Mqtt5BlockingClient pub = hive(1, "pub");
        links.get(0).losePeerMessages = true; // node 2's confirmations to node 1 are lost
        for (int i = 0; i < 5; i++)
        {
            pub.publishWith().topic("applied/x").qos(MqttQos.AT_LEAST_ONCE).payload(numbered(i, 16)).send();
            assertEquals(i, number(onNode2.poll(WAIT_MS, TimeUnit.MILLISECONDS)), "node 2 applied " + i);
        }
        links.get(1).losePeerMessages = true; // message 5 is lost on its way to node 2
        pub.publishWith().topic("applied/x").qos(MqttQos.AT_LEAST_ONCE).payload(numbered(5, 16)).send();
        final BlockingQueue<Mqtt5Publish> onHeir = subscribe(3, "heir-sub", "applied/#"); // stands in for a taken-over session
        links.get(0).losePeerMessages = false; // node 3's confirmations reach node 1
        kill(2); // its heir, node 3, reads from node 2's replica that it applied 0-4; node 1 re-sends 0-5

        final Mqtt5Publish p = onHeir.poll(WAIT_MS, TimeUnit.MILLISECONDS);
        assertNotNull(p, "the lost one reaches the heir");
        assertEquals(5, number(p));
        assertNull(onHeir.poll(300, TimeUnit.MILLISECONDS), "0-4, applied by node 2, are not delivered again");
        await(() -> metric(1, "skylark_cluster_forward_backlog_bytes") == 0, "node 3 confirmed all six to node 1");
    }

    @Test
    void aDeadSendersUnsentForwardsAreResentByItsHeirAndAReceiverThatHadThemDropsTheDuplicates() throws Exception
    {
        start(3, "os", 0);
        final BlockingQueue<Mqtt5Publish> onNode3 = subscribe(3, "sub3", "dead/#");
        final MqttClient pub = new MqttClient("tcp://127.0.0.1:" + port(1), "paho-pub", new MemoryPersistence());
        clients.add(() ->
        {
            if (pub.isConnected())
            {
                pub.disconnect();
            }
            pub.close();
        });
        final MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        pub.connect(options);

        links.get(0).losePeerMessages = true; // node 3's confirmations to node 1 are lost
        for (int i = 0; i < 5; i++)
        {
            pub.publish("dead/x", new MqttMessage(numbered(i, 32), 1, false, null)); // returns once PUBACKed
        }
        for (int i = 0; i < 5; i++)
        {
            final Mqtt5Publish p = onNode3.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "message " + i);
            assertEquals(i, number(p));
        }
        links.get(0).refuseSends = true; // from now on node 1 acknowledges forwards it cannot send
        for (int i = 5; i < 10; i++)
        {
            pub.publish("dead/x", new MqttMessage(numbered(i, 32), 1, false, null));
        }
        assertNull(onNode3.poll(200, TimeUnit.MILLISECONDS), "5-9 acknowledged but not sent");

        kill(1); // its heir: node 2, which re-sends 0-9 from node 1's replica; node 3 drops 0-4
        for (int i = 5; i < 10; i++)
        {
            final Mqtt5Publish p = onNode3.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "message " + i + " re-sent by the heir");
            assertEquals(i, number(p), "no duplicate of 0-4, in publishing order");
        }
        assertNull(onNode3.poll(300, TimeUnit.MILLISECONDS), "nothing more");
        assertEquals(1, cluster.replicaReplays.get(1).get(), "node 2 replayed node 1's replica once");
        await(() -> metric(2, "skylark_cluster_forward_backlog_bytes") == 0, "node 3 confirmed them to node 2");
    }

    /**
     * The heir re-sends a dead sender's forwards from the replica before it applies the node-down itself (it defers
     * that until the dead node's sessions are rebuilt): those meant for its own subscribers went through the check
     * that drops forwards naming as their origin a node that is neither their sender nor known down — passed only when
     * this node had applied some forward of that origin before. When it had not, they were dropped: acknowledged
     * messages lost.
     */
    @Test
    void aDeadSendersUnsentForwardsReachItsHeirsSubscriberThatNeverHadOneFromIt() throws Exception
    {
        start(3, "os", 0);
        final BlockingQueue<Mqtt5Publish> onNode2 = subscribe(2, "sub2", "first/#");
        final MqttClient pub = new MqttClient("tcp://127.0.0.1:" + port(1), "paho-first", new MemoryPersistence());
        clients.add(() ->
        {
            if (pub.isConnected())
            {
                pub.disconnect();
            }
            pub.close();
        });
        final MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        pub.connect(options);

        links.get(0).refuseSends = true; // node 1 acknowledges forwards it cannot send: node 2 never had one
        for (int i = 0; i < 5; i++)
        {
            pub.publish("first/x", new MqttMessage(numbered(i, 32), 1, false, null)); // returns once PUBACKed
        }
        assertNull(onNode2.poll(200, TimeUnit.MILLISECONDS), "acknowledged but not sent");

        kill(1); // its heir, node 2, re-sends them from node 1's replica to its own subscriber
        for (int i = 0; i < 5; i++)
        {
            final Mqtt5Publish p = onNode2.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "message " + i + " re-sent by the heir to its own subscriber");
            assertEquals(i, number(p), "in publishing order");
        }
    }

    @Test
    void aDeadSendersConfirmedForwardsAreNotResent() throws Exception
    {
        start(3, "os", 0);
        final BlockingQueue<Mqtt5Publish> onNode3 = subscribe(3, "sub3", "done/#");
        final Mqtt5BlockingClient pub = hive(1, "pub");
        for (int i = 0; i < 5; i++)
        {
            pub.publishWith().topic("done/x").qos(MqttQos.AT_LEAST_ONCE).payload(numbered(i, 32)).send();
        }
        for (int i = 0; i < 5; i++)
        {
            assertNotNull(onNode3.poll(WAIT_MS, TimeUnit.MILLISECONDS), "message " + i);
        }
        await(() -> metric(1, "skylark_cluster_forward_backlog_bytes") == 0, "node 3 confirmed all five");
        final int before = cluster.peerMessages(2, 3);
        kill(1);
        await(() -> cluster.replicaReplays.containsKey(1), "node 2 replayed node 1's replica");
        assertNull(onNode3.poll(300, TimeUnit.MILLISECONDS), "nothing again");
        assertEquals(before, cluster.peerMessages(2, 3), "the heir re-sent none: node 1 had them confirmed");
    }

    @Test
    void checkpointsKeepUnconfirmedForwardsAndDropConfirmedOnes() throws Exception
    {
        start(2, "os", 4096);
        final BlockingQueue<Mqtt5Publish> onNode2 = subscribe(2, "sub2", "cp/#");
        final Mqtt5BlockingClient pub = hive(1, "pub");
        for (int i = 0; i < 4; i++)
        {
            pub.publishWith().topic("cp/x").qos(MqttQos.AT_LEAST_ONCE).payload(numbered(i, 8 * 1024)).send();
            assertNotNull(onNode2.poll(WAIT_MS, TimeUnit.MILLISECONDS));
        }
        await(() -> metric(1, "skylark_cluster_forward_backlog_bytes") == 0, "node 2 confirmed all four");
        links.get(1).losePeerMessages = true; // the next three are sent, lost, never confirmed
        for (int i = 4; i < 7; i++)
        {
            pub.publishWith().topic("cp/x").qos(MqttQos.AT_LEAST_ONCE).payload(numbered(i, 8 * 1024)).send();
        }
        final long generation = metric(1, "skylark_journal_generation");
        await(() -> metric(1, "skylark_journal_generation") > generation, "a checkpoint after the last forward");
        brokers.get(0).close();

        final List<Long> kept = forwardRecords(1);
        assertEquals(3, kept.size(), "only the three unconfirmed forwards are in the journal: " + kept);
        assertTrue(kept.get(0) < kept.get(1) && kept.get(1) < kept.get(2), "in order: " + kept);
    }

    @Test
    void unconfirmedForwardsPastTheBacklogBoundHoldPublishersBack() throws Exception
    {
        start(2, "none", 0);
        final BlockingQueue<Mqtt5Publish> onNode2 = subscribe(2, "sub2", "bound/#");
        final Mqtt5AsyncClient pub = hive(1, "pub").toAsync();
        links.get(0).paused = true; // node 1 takes nothing in: node 2's confirmations wait
        final int count = 100; // 100 x 64 KiB sent but unconfirmed: past the 4 MiB bound
        final List<CompletableFuture<?>> acks = new ArrayList<>();
        for (int i = 0; i < count; i++)
        {
            acks.add(pub.publishWith().topic("bound/x").qos(MqttQos.AT_LEAST_ONCE).payload(numbered(i, 64 * 1024))
                .send());
        }
        await(() -> metric(1, "skylark_publish_gate_held") == 1, "node 1 holds QoS 1/2 publishers back");
        assertTrue(acks.stream().anyMatch((ack) -> !ack.isDone()), "some publishes wait at the gate");
        final long held = metric(1, "skylark_cluster_forward_backlog_bytes");
        assertTrue(held > 4L << 20, "past the bound: " + held);

        links.get(0).paused = false;
        for (int i = 0; i < count; i++)
        {
            final Mqtt5Publish p = onNode2.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(p, "message " + i);
            assertEquals(i, number(p), "in publishing order");
        }
        for (final CompletableFuture<?> ack : acks)
        {
            ack.get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
        await(() -> metric(1, "skylark_publish_gate_held") == 0, "the gate opens once confirmed");
        await(() -> metric(1, "skylark_cluster_forward_backlog_bytes") == 0, "every forward confirmed");
        assertNull(onNode2.poll(200, TimeUnit.MILLISECONDS), "exactly once each");
    }
}
