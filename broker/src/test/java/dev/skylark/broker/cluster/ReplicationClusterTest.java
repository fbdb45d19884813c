package dev.skylark.broker.cluster;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import dev.skylark.broker.journal.ChronicleJournal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Journal replication with three real broker JVMs ({@link BrokerCluster}, durability os): nodes 0 and 1 with
 * {@code skylark.cluster.ack=replica} (the default), node 2 with {@code local}. Buddies: 0 → 1, 1 → 2, 2 → 0.
 * <ul>
 * <li>a QoS 1 PUBACK from a replica node does not come while its buddy's JVM is stopped (SIGSTOP) and comes after
 *     SIGCONT; from the local node it comes while its buddy is stopped;</li>
 * <li>the buddy's replica, replayed, holds exactly the records of the origin's journal, replayed;</li>
 * <li>after SIGKILL of node 0's buddy, the registry names a new buddy (node 2), which receives a checkpoint, and node
 *     0's acknowledgements resume; its replica equals node 0's journal too.</li>
 * </ul>
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReplicationClusterTest
{
    private static final long WAIT_MS = 30_000;

    @TempDir
    Path dir;

    private BrokerCluster cluster;
    private final List<Mqtt5AsyncClient> clients = new ArrayList<>();
    private final List<Long> stopped = new ArrayList<>();
    private int sent;

    @AfterEach
    void tearDown() throws Exception
    {
        for (final long pid : stopped)
        {
            signal("CONT", pid);
        }
        for (final Mqtt5AsyncClient client : clients)
        {
            try
            {
                client.disconnect().get(2, TimeUnit.SECONDS);
            }
            catch (final Exception ex)
            {
                // the broker may be gone
            }
        }
        if (cluster != null)
        {
            cluster.close();
        }
    }

    @Test
    void acknowledgementsWaitForTheBuddyAndANewBuddyStartsFromACheckpoint() throws Exception
    {
        cluster = new BrokerCluster(dir.resolve("cluster"), 3,
            List.of("--auth.anonymous", "true", "--durability", "os"));
        cluster.node(2).own.addAll(List.of("--cluster.ack", "local"));
        cluster.start(90_000);
        cluster.await(() -> buddy(0) == 1 && buddy(1) == 2 && buddy(2) == 0, WAIT_MS, "buddies 0→1, 1→2, 2→0");

        // A persistent subscriber on node 0, offline: the messages are journaled as owed to it.
        final Mqtt5BlockingClient subscriber = Mqtt5Client.builder().identifier("owed").serverHost("127.0.0.1")
            .serverPort(cluster.node(0).mqttPort()).buildBlocking();
        subscriber.connectWith().cleanStart(true).sessionExpiryInterval(3600).send();
        subscriber.subscribeWith().topicFilter("rep/#").qos(MqttQos.AT_LEAST_ONCE).send();
        subscriber.disconnect();

        final Mqtt5AsyncClient[] publishers = new Mqtt5AsyncClient[3];
        for (int n = 0; n < 3; n++)
        {
            publishers[n] = client("pub" + n, n);
            publish(publishers[n]).get(WAIT_MS, TimeUnit.MILLISECONDS); // every node's stream is up
        }

        // ack=replica: no PUBACK while the buddy is stopped; it comes after SIGCONT. A buddy that is not the leader
        // (stopping the leader only adds an election).
        final int leader = cluster.awaitFormed(WAIT_MS, -1);
        final int origin = leader != 1 ? 0 : 1;
        final int buddy = origin + 1;
        stop(buddy);
        final CompletableFuture<Mqtt5PublishResult> held = publish(publishers[origin]);
        assertThrows(TimeoutException.class, () -> held.get(1500, TimeUnit.MILLISECONDS),
            "node " + origin + " acknowledged while its buddy (node " + buddy + ") was stopped");
        resume(buddy);
        held.get(WAIT_MS, TimeUnit.MILLISECONDS);

        // ack=local (node 2, buddy node 0): the PUBACK comes with the buddy stopped.
        stop(0);
        try
        {
            publish(publishers[2]).get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
        finally
        {
            resume(0);
        }
        // Stopped longer than its fencing threshold, node 0 may fence itself once it runs again (its registry round
        // trips are late) and drop its clients, then unfence: its publisher connects again if it was dropped.
        fencedOrNot(publishers, 0);

        // The replica holds exactly what node 0 journaled.
        for (int i = 0; i < 20; i++)
        {
            publish(publishers[0]).get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
        awaitSameRecords(0, 1);

        // SIGKILL of node 0's buddy: node 2 becomes its buddy, gets a checkpoint, and acknowledgements resume.
        cluster.node(1).kill();
        cluster.awaitFormed(WAIT_MS, -1);
        cluster.await(() -> buddy(0) == 2, WAIT_MS, "node 2 as node 0's buddy");
        for (int i = 0; i < 20; i++)
        {
            publish(publishers[0]).get(WAIT_MS, TimeUnit.MILLISECONDS);
        }
        assertTrue(cluster.node(2).logText().contains("replica of node 0: checkpoint at its sequence"),
            "node 2 received a checkpoint of node 0");
        awaitSameRecords(0, 2);
        assertTrue(cluster.node(0).metric("skylark_replica_stream_restarts_total") >= 2);
    }

    private double buddy(final int node)
    {
        return cluster.node(node).metric("skylark_replica_buddy");
    }

    private Mqtt5AsyncClient client(final String id, final int node) throws Exception
    {
        final Mqtt5AsyncClient client = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
            .serverPort(cluster.node(node).mqttPort()).buildAsync();
        client.connect().get(WAIT_MS, TimeUnit.MILLISECONDS);
        clients.add(client);
        return client;
    }

    /**
     * After node {@code node} was stopped: publishes on it until one is acknowledged, connecting its publisher again
     * whenever the node dropped it (it fenced itself) — a fenced node refuses connects until it unfences.
     */
    private void fencedOrNot(final Mqtt5AsyncClient[] publishers, final int node) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (true)
        {
            publishers[node] = connected(publishers[node], "pub" + node, node);
            try
            {
                publish(publishers[node]).get(WAIT_MS, TimeUnit.MILLISECONDS);
                if (cluster.node(node).metric("skylark_cluster_fenced") == 0)
                {
                    return;
                }
            }
            catch (final java.util.concurrent.ExecutionException dropped)
            {
                if (System.nanoTime() > deadline)
                {
                    throw dropped;
                }
            }
        }
    }

    /** {@code client}, or once it was dropped (fencing), a new one with its id, retried until the node accepts it. */
    private Mqtt5AsyncClient connected(final Mqtt5AsyncClient client, final String id, final int node)
        throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        Mqtt5AsyncClient current = client;
        while (!current.getState().isConnected())
        {
            try
            {
                current = client(id, node);
            }
            catch (final java.util.concurrent.ExecutionException refused)
            {
                if (System.nanoTime() > deadline)
                {
                    throw refused;
                }
                Thread.onSpinWait(); // fenced still: CONNACK 0x88; try again
            }
        }
        return current;
    }

    private CompletableFuture<Mqtt5PublishResult> publish(final Mqtt5AsyncClient client)
    {
        return client.publishWith().topic("rep/" + (sent % 4)).qos(MqttQos.AT_LEAST_ONCE)
            .payload(("message " + sent++).getBytes(StandardCharsets.UTF_8)).send();
    }

    /** Replays the origin's journal and the buddy's replica of it (both in place) until they hold the same records. */
    private void awaitSameRecords(final int origin, final int buddy)
    {
        final Path journal = cluster.node(origin).dataDir.resolve("journal");
        final Path replica = cluster.node(buddy).dataDir.resolve("replicas").resolve("node-" + origin);
        final List<String>[] last = new List[2];
        try
        {
            cluster.await(() ->
            {
                last[0] = records(journal);
                last[1] = records(replica);
                return last[0].size() > 20 && last[0].equals(last[1]);
            }, WAIT_MS, "node " + buddy + "'s replica of node " + origin + " to equal its journal");
        }
        catch (final AssertionError ex)
        {
            throw new AssertionError("journal " + last[0].size() + " record(s), replica " +
                (last[1] == null ? "none" : last[1].size() + " record(s)") + ": " + ex.getMessage(), ex);
        }
        assertFalse(last[0].isEmpty());
    }

    private static List<String> records(final Path journal)
    {
        final List<String> records = new ArrayList<>();
        final HexFormat hex = HexFormat.of();
        ChronicleJournal.replayInPlace(journal, (buffer, offset, length) ->
        {
            final byte[] bytes = new byte[length];
            buffer.getBytes(offset, bytes);
            records.add(hex.formatHex(bytes));
        });
        return records;
    }

    private void stop(final int node) throws Exception
    {
        final long pid = cluster.node(node).pid();
        signal("STOP", pid);
        stopped.add(pid);
        cluster.await(() -> state(pid) == 'T', WAIT_MS, "node " + node + " stopped");
    }

    private void resume(final int node) throws Exception
    {
        final long pid = cluster.node(node).pid();
        signal("CONT", pid);
        stopped.remove(pid);
    }

    private static void signal(final String signal, final long pid) throws IOException, InterruptedException
    {
        new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
    }

    /** The process state letter from /proc (T: stopped). */
    private static char state(final long pid)
    {
        try
        {
            final String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2);
        }
        catch (final IOException ex)
        {
            return '?';
        }
    }
}
