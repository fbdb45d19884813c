package dev.skylark.broker.cluster;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.lifecycle.MqttDisconnectSource;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.lifecycle.Mqtt5ClientConnectedContext;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 19's acceptance test: no message a publisher saw acknowledged is lost when a whole node dies. Three broker
 * JVMs ({@link BrokerCluster}, loopback, ports chosen at run time); QoS 1 publishers (HiveMQ async v5, a window of
 * {@value #WINDOW} in flight each, paced at {@code nodefailure.rate} msgs/s) on nodes 0 and 1; a persistent QoS 1
 * subscriber (clean start 0, session expiry 300 s) on each of the three nodes. In the middle of the load one node is
 * killed with SIGKILL; its clients reconnect to the next address of the three (each client knows them all) and the
 * publishers keep publishing. At the end every message a publisher saw acknowledged (PUBACK without an error code)
 * must have reached every subscriber (all subscribed before the first publish), in order per publisher (a message
 * may come again after a reconnect: QoS 1), and the registry's ownership history of every node must be sound
 * ({@link OwnershipHistory}: no client id with two owners in one epoch). Each message carries its publisher and
 * sequence number, so the check needs no shared state with the brokers.
 * <p>
 * Each scenario prints one report line ({@code NODE-FAILURE ...}): per subscriber acknowledged / delivered / lost /
 * duplicate / out-of-order counts, the failover times (SIGKILL to the first CONNACK a client of the dead node got
 * from a survivor, and to the first message the dead node's subscriber got after the kill) and the ownership check.
 * Scenarios: kill node 0 (publishers and a subscriber) and node 2 (a subscriber only), kill the Raft leader, the
 * same with {@code durability=fsync}, and kill node 0 then restart it (it rejoins; nothing lost).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class NodeFailureTest
{
    static final int WINDOW = 64;
    static final int PAYLOAD = 64;
    /** Messages per second per publisher (paced, so the three JVMs on a small machine keep up and the run is bounded). */
    static final int RATE = Integer.getInteger("nodefailure.rate", 250);
    static final int[] PUBLISHING_NODES = { 0, 1 };
    static final int PUBLISHERS_PER_NODE = 2;
    /** Optional {@code skylark.cluster.ack} for every node (unset: the broker's default). */
    static final String ACK = System.getProperty("nodefailure.ack", "");
    /** Optional file each scenario's report is appended to ({@code perf-scripts/failover.sh} reads it). */
    static final String REPORT_FILE = System.getProperty("nodefailure.report", "");
    static final long START_MS = 90_000;
    static final long WAIT_MS = 30_000;
    /** Delivery is over when nothing arrived for this long (or everything did). */
    static final long SETTLE_QUIET_MS = 8_000;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "kill node {0}")
    @ValueSource(ints = { 0, 2 })
    void killOneNodeUnderLoad(final int node) throws Exception
    {
        new Scenario("kill-node-" + node, node, "os", false).run();
    }

    @Test
    void killTheRaftLeaderUnderLoad() throws Exception
    {
        new Scenario("kill-leader", -1, "os", false).run();
    }

    @Test
    void killTheRaftLeaderUnderLoadWithFsync() throws Exception
    {
        new Scenario("kill-leader-fsync", -1, "fsync", false).run();
    }

    @Test
    void killANodeUnderLoadThenRestartIt() throws Exception
    {
        new Scenario("kill-node-0-restart", 0, "os", true).run();
    }

    /** What one subscriber got: per publisher, each message's sequence number in arrival order. */
    static final class Received
    {
        final Map<String, List<Integer>> byPublisher = new HashMap<>();
        final AtomicLong lastArrivalNs = new AtomicLong(System.nanoTime());
        volatile long firstAfterNs;

        synchronized void add(final String publisher, final int seq)
        {
            byPublisher.computeIfAbsent(publisher, (k) -> new ArrayList<>()).add(seq);
            lastArrivalNs.set(System.nanoTime());
        }

        synchronized List<Integer> of(final String publisher)
        {
            return new ArrayList<>(byPublisher.getOrDefault(publisher, List.of()));
        }

        synchronized int count()
        {
            return byPublisher.values().stream().mapToInt(List::size).sum();
        }
    }

    /**
     * A client that knows all three nodes: on a lost connection it reconnects to the next one (200 ms apart). Next is
     * the node id above for publishers (the dead node's heir, its buddy) and the one below for subscribers (not the
     * heir: their sessions must follow them from the heir to another node).
     */
    final class Client
    {
        final String id;
        final int home;
        final int step;
        final Mqtt5AsyncClient mqtt;
        volatile int at;
        volatile boolean stopping;
        final List<String> connects = java.util.Collections.synchronizedList(new ArrayList<>());
        volatile long firstConnackAfterKillNs;
        /** A subscriber's filter (null: a publisher). */
        volatile String filter;

        Client(final String id, final int home, final boolean subscriber)
        {
            this.id = id;
            this.home = home;
            this.step = subscriber ? cluster.size - 1 : 1;
            this.at = home;
            mqtt = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1").serverPort(cluster.node(home).mqttPort())
                .addConnectedListener((ctx) -> connected((Mqtt5ClientConnectedContext)ctx))
                .addDisconnectedListener((ctx) ->
                {
                    if (stopping || ctx.getSource() == MqttDisconnectSource.USER)
                    {
                        ctx.getReconnector().reconnect(false);
                        return;
                    }
                    at = (at + step) % cluster.size;
                    ctx.getReconnector().reconnect(true).delay(200, TimeUnit.MILLISECONDS)
                        .transportConfig().serverHost("127.0.0.1").serverPort(cluster.node(at).mqttPort())
                        .applyTransportConfig();
                })
                .buildAsync();
        }

        private void connected(final Mqtt5ClientConnectedContext ctx)
        {
            final long now = System.nanoTime();
            if (killedAtNs != 0 && firstConnackAfterKillNs == 0)
            {
                firstConnackAfterKillNs = now;
            }
            final boolean present = ctx.getConnAck().isSessionPresent();
            connects.add("node " + at + (killedAtNs == 0 ? "" : " +" + ms(now - killedAtNs) + " ms") +
                " session present " + (present ? 1 : 0));
            if (!present && filter != null && connects.size() > 1)
            {
                // its session is gone: subscribe again, as an application would (what it missed meanwhile is lost)
                mqtt.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send();
            }
        }

        void connect() throws Exception
        {
            mqtt.connectWith().cleanStart(false).sessionExpiryInterval(300).send().get(WAIT_MS, TimeUnit.MILLISECONDS);
        }

        void close()
        {
            stopping = true;
            try
            {
                mqtt.disconnect().get(5, TimeUnit.SECONDS);
            }
            catch (final Exception ignore)
            {
                // not connected (reconnecting, or its node is gone)
            }
        }
    }

    /** A paced QoS 1 publisher with a window of {@value #WINDOW}: acknowledged = PUBACK without an error code. */
    final class Publisher implements Runnable
    {
        final Client client;
        final String name;
        final Semaphore window = new Semaphore(WINDOW);
        final BitSet acked = new BitSet();
        final AtomicInteger ackedCount = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final AtomicInteger ackedAfterKill = new AtomicInteger();
        volatile boolean stop;
        volatile int sent;
        final Thread thread;

        Publisher(final Client client)
        {
            this.client = client;
            this.name = client.id;
            thread = new Thread(this, "publisher-" + name);
            thread.setDaemon(true);
        }

        public void run()
        {
            final long periodNs = TimeUnit.SECONDS.toNanos(1) / RATE;
            long next = System.nanoTime();
            for (int seq = 0; !stop; seq++)
            {
                // pacing: the next send time of a fixed rate (a rate, not a wait for a condition)
                final long wait = next - System.nanoTime();
                if (wait > 0)
                {
                    LockSupport.parkNanos(wait);
                }
                next += periodNs;
                try
                {
                    while (!window.tryAcquire(100, TimeUnit.MILLISECONDS))
                    {
                        if (stop)
                        {
                            return;
                        }
                        next = System.nanoTime(); // a full window: no burst to catch up afterwards
                    }
                }
                catch (final InterruptedException ex)
                {
                    return;
                }
                final int s = seq;
                final boolean afterKill = killedAtNs != 0;
                client.mqtt.publishWith().topic("nf/" + name).qos(MqttQos.AT_LEAST_ONCE).payload(payload(name, s))
                    .send().whenComplete((result, error) ->
                    {
                        if (error == null && result.getError().isEmpty())
                        {
                            synchronized (acked)
                            {
                                acked.set(s);
                            }
                            ackedCount.incrementAndGet();
                            if (afterKill || killedAtNs != 0)
                            {
                                ackedAfterKill.incrementAndGet();
                            }
                        }
                        else
                        {
                            failed.incrementAndGet();
                        }
                        window.release();
                    });
                sent = s + 1;
            }
        }

        BitSet acked()
        {
            synchronized (acked)
            {
                return (BitSet)acked.clone();
            }
        }
    }

    static byte[] payload(final String publisher, final int seq)
    {
        final byte[] bytes = new byte[PAYLOAD];
        Arrays.fill(bytes, (byte)'.');
        final byte[] head = (publisher + " " + seq + " ").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, bytes, 0, head.length);
        return bytes;
    }

    private BrokerCluster cluster;
    private volatile long killedAtNs;

    static long ms(final long ns)
    {
        return TimeUnit.NANOSECONDS.toMillis(ns);
    }

    final class Scenario
    {
        final String name;
        final int kill;
        final String durability;
        final boolean restart;

        Scenario(final String name, final int kill, final String durability, final boolean restart)
        {
            this.name = name;
            this.kill = kill;
            this.durability = durability;
            this.restart = restart;
        }

        void run() throws Exception
        {
            final long began = System.nanoTime();
            final List<String> settings = new ArrayList<>(List.of("--auth.mode", "none", "--durability", durability));
            if (!ACK.isEmpty())
            {
                settings.addAll(List.of("--cluster.ack", ACK));
            }
            cluster = new BrokerCluster(dir.resolve("cluster"), 3, settings).withOwnershipLogs();
            final List<Client> clients = new ArrayList<>();
            final List<Publisher> publishers = new ArrayList<>();
            final Map<Integer, Received> received = new LinkedHashMap<>();
            final Map<Integer, Client> subscribers = new LinkedHashMap<>();
            try
            {
                cluster.start(START_MS);
                final long formedMs = ms(System.nanoTime() - began);

                for (int node = 0; node < cluster.size; node++)
                {
                    final Received in = new Received();
                    final Client sub = new Client("nf-sub-" + node, node, true);
                    sub.mqtt.publishes(MqttGlobalPublishFilter.ALL, (p) -> onMessage(sub, in, p));
                    sub.connect();
                    sub.filter = "nf/#";
                    sub.mqtt.subscribeWith().topicFilter("nf/#").qos(MqttQos.AT_LEAST_ONCE).send()
                        .get(WAIT_MS, TimeUnit.MILLISECONDS);
                    clients.add(sub);
                    subscribers.put(node, sub);
                    received.put(node, in);
                }
                for (final int node : PUBLISHING_NODES)
                {
                    for (int k = 0; k < PUBLISHERS_PER_NODE; k++)
                    {
                        final Client c = new Client("nf-pub-" + node + "-" + k, node, false);
                        c.connect();
                        clients.add(c);
                        publishers.add(new Publisher(c));
                    }
                }
                publishers.forEach((p) -> p.thread.start());

                // the load runs: at least RATE messages (about a second) acknowledged per publisher
                cluster.await(() -> publishers.stream().allMatch((p) -> p.ackedCount.get() >= RATE), WAIT_MS,
                    "every publisher acknowledged " + RATE + " messages before the kill");
                final int victim = kill >= 0 ? kill : cluster.leader();
                assertTrue(victim >= 0, "no leader every node agrees on");
                killedAtNs = System.nanoTime();
                cluster.node(victim).kill();
                final long killedAtMs = ms(killedAtNs - began);

                // the dead node's clients reconnect to a survivor; the publishers go on
                final List<Client> orphans = clients.stream().filter((c) -> c.home == victim).toList();
                cluster.await(() -> orphans.stream().allMatch((c) -> c.firstConnackAfterKillNs != 0), WAIT_MS,
                    "every client of node " + victim + " connected to a survivor");
                final int[] mark = publishers.stream().mapToInt((p) -> p.ackedCount.get()).toArray();
                cluster.await(() -> allAckedMore(publishers, mark, RATE), WAIT_MS,
                    "every publisher acknowledged " + RATE + " more messages after the failover");
                // and the dead node's subscriber gets messages published after it came back (not a verdict: a branch
                // without fail-over loses its session and subscribes again; the report says how long that took)
                final Received orphan = received.get(victim);
                final Map<String, Integer> sentAt = new HashMap<>();
                publishers.forEach((p) -> sentAt.put(p.name, p.sent));
                final long caughtUpNs = awaitQuietly(() -> sentAt.entrySet().stream().anyMatch((e) ->
                    orphan.of(e.getKey()).stream().anyMatch((seq) -> seq >= e.getValue())), WAIT_MS);
                String restarted = "";
                if (restart)
                {
                    final long at = System.nanoTime();
                    cluster.restart(victim, START_MS);
                    cluster.awaitFormed(START_MS, -1);
                    restarted = "; node " + victim + " restarted and rejoined in " + ms(System.nanoTime() - at) + " ms";
                    final int[] again = publishers.stream().mapToInt((p) -> p.ackedCount.get()).toArray();
                    cluster.await(() -> allAckedMore(publishers, again, RATE), WAIT_MS,
                        "every publisher acknowledged " + RATE + " more messages after the restart");
                }

                // stop publishing, wait for every outstanding PUBACK (or its failure), then for delivery to settle
                publishers.forEach((p) -> p.stop = true);
                for (final Publisher p : publishers)
                {
                    p.thread.join(WAIT_MS);
                }
                cluster.await(() -> publishers.stream().allMatch((p) -> p.window.availablePermits() == WINDOW), WAIT_MS,
                    "every publish acknowledged or failed");
                final Map<String, BitSet> acked = new LinkedHashMap<>();
                publishers.forEach((p) -> acked.put(p.name, p.acked()));
                final long expectedTotal = acked.values().stream().mapToLong(BitSet::cardinality).sum();
                cluster.await(() -> received.values().stream().allMatch((r) -> everyAckedIn(r, acked) ||
                    System.nanoTime() - r.lastArrivalNs.get() > TimeUnit.MILLISECONDS.toNanos(SETTLE_QUIET_MS)),
                    60_000, "delivery to settle");

                // the verdict
                final StringBuilder report = new StringBuilder("NODE-FAILURE ").append(name).append(": durability ")
                    .append(durability).append(ACK.isEmpty() ? "" : ", cluster.ack " + ACK)
                    .append("; cluster formed in ").append(formedMs).append(" ms; SIGKILL of node ").append(victim)
                    .append(kill < 0 ? " (the Raft leader)" : "").append(" at +").append(killedAtMs).append(" ms")
                    .append(restarted).append("\n  publishers (").append(RATE).append(" msgs/s, window ").append(WINDOW)
                    .append("):");
                for (final Publisher p : publishers)
                {
                    report.append(' ').append(p.name).append(" sent ").append(p.sent).append(" acked ")
                        .append(p.ackedCount.get()).append(" (").append(p.ackedAfterKill.get()).append(" after the kill)")
                        .append(" failed ").append(p.failed.get()).append(';');
                }
                final long connack = orphans.stream().mapToLong((c) -> c.firstConnackAfterKillNs).filter((t) -> t != 0)
                    .min().orElse(0);
                final Received orphanIn = received.get(victim);
                report.append("\n  failover: SIGKILL -> first CONNACK on a survivor ")
                    .append(connack == 0 ? "never" : ms(connack - killedAtNs) + " ms")
                    .append(", -> first message to node ").append(victim).append("'s subscriber after it reconnected ")
                    .append(orphanIn.firstAfterNs == 0 ? "never" : ms(orphanIn.firstAfterNs - killedAtNs) + " ms")
                    .append(", -> first message published after its reconnect reached it ")
                    .append(caughtUpNs == 0 ? "not within " + WAIT_MS + " ms" : ms(caughtUpNs - killedAtNs) + " ms");
                long lostTotal = 0;
                long disorderTotal = 0;
                for (final Map.Entry<Integer, Received> entry : received.entrySet())
                {
                    final long[] counts = verdict(entry.getValue(), acked);
                    lostTotal += counts[2];
                    disorderTotal += counts[4];
                    report.append("\n  subscriber on node ").append(entry.getKey()).append(": acknowledged ")
                        .append(expectedTotal).append(" delivered ").append(counts[1]).append(" lost ").append(counts[2])
                        .append(" duplicate ").append(counts[3]).append(" out-of-order ").append(counts[4])
                        .append(counts[7] > 0 ? " (" + counts[7] + " of them never acknowledged)" : "")
                        .append(counts[5] >= 0 ? " (first lost: " + describe(counts) + ")" : "")
                        .append("; connects: ").append(subscribers.get(entry.getKey()).connects);
                    if (counts[2] > 0 || counts[4] > 0)
                    {
                        arrivals(report, entry.getValue(), acked);
                    }
                }
                final OwnershipHistory.Result ownership = cluster.checkOwnership();
                report.append("\n  ").append(ownership.summary()).append("\n  took ")
                    .append(ms(System.nanoTime() - began)).append(" ms");
                System.out.println(report);
                if (!REPORT_FILE.isEmpty())
                {
                    java.nio.file.Files.writeString(Path.of(REPORT_FILE), report + "\n", StandardCharsets.UTF_8,
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
                }

                assertTrue(publishers.stream().allMatch((p) -> p.ackedAfterKill.get() > 0),
                    "every publisher kept publishing after the kill\n" + report);
                assertTrue(lostTotal == 0 && disorderTotal == 0 && ownership.ok(),
                    "acknowledged messages lost or out of order, or ownership unsound:\n" + report);
            }
            finally
            {
                publishers.forEach((p) -> p.stop = true);
                clients.forEach(Client::close);
                cluster.close();
                killedAtNs = 0;
            }
        }

        private void onMessage(final Client sub, final Received in, final Mqtt5Publish publish)
        {
            final String[] parts = new String(publish.getPayloadAsBytes(), StandardCharsets.US_ASCII).split(" ");
            if (sub.firstConnackAfterKillNs != 0 && in.firstAfterNs == 0)
            {
                in.firstAfterNs = System.nanoTime();
            }
            in.add(parts[0], Integer.parseInt(parts[1]));
        }
    }

    /** Polls {@code condition} until true (returns when, in nanoTime) or the deadline (returns 0); never fails. */
    private static long awaitQuietly(final java.util.function.BooleanSupplier condition, final long timeoutMs)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                return 0;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // a poll interval, bounded by the deadline
        }
        return System.nanoTime();
    }

    private static boolean allAckedMore(final List<Publisher> publishers, final int[] mark, final int more)
    {
        for (int i = 0; i < publishers.size(); i++)
        {
            if (publishers.get(i).ackedCount.get() < mark[i] + more)
            {
                return false;
            }
        }
        return true;
    }

    private static boolean everyAckedIn(final Received in, final Map<String, BitSet> acked)
    {
        for (final Map.Entry<String, BitSet> entry : acked.entrySet())
        {
            final BitSet missing = (BitSet)entry.getValue().clone();
            in.of(entry.getKey()).forEach(missing::clear);
            if (!missing.isEmpty())
            {
                return false;
            }
        }
        return true;
    }

    /**
     * {acknowledged, delivered, lost, duplicate, out of order, first lost sequence (-1: none), its publisher index,
     * out of order and never acknowledged}:
     * lost = acknowledged and never delivered; duplicate = delivered again; out of order = a first delivery below a
     * sequence number already delivered from the same publisher; then how many of those out of order were never
     * acknowledged.
     */
    private static long[] verdict(final Received in, final Map<String, BitSet> acked)
    {
        final long[] counts = { 0, 0, 0, 0, 0, -1, -1, 0 };
        int index = 0;
        for (final Map.Entry<String, BitSet> entry : acked.entrySet())
        {
            final BitSet seen = new BitSet();
            int highest = -1;
            for (final int seq : in.of(entry.getKey()))
            {
                counts[1]++;
                if (seen.get(seq))
                {
                    counts[3]++;
                    continue;
                }
                if (seq < highest)
                {
                    counts[4]++;
                    if (!entry.getValue().get(seq))
                    {
                        counts[7]++;
                    }
                }
                seen.set(seq);
                highest = Math.max(highest, seq);
            }
            counts[0] += entry.getValue().cardinality();
            final BitSet lost = (BitSet)entry.getValue().clone();
            lost.andNot(seen);
            counts[2] += lost.cardinality();
            if (!lost.isEmpty() && counts[5] < 0)
            {
                counts[5] = lost.nextSetBit(0);
                counts[6] = index;
            }
            index++;
        }
        return counts;
    }

    /**
     * Where a subscriber lost or reordered messages: per publisher, its sequence numbers in arrival order as runs
     * ({@code 0-250 544-549 251-273 ...}), the first 40 runs; a run marked {@code *} holds messages the publisher
     * never saw acknowledged (it saw them fail).
     */
    private static void arrivals(final StringBuilder report, final Received in, final Map<String, BitSet> acked)
    {
        for (final String publisher : acked.keySet())
        {
            report.append("\n    arrivals from ").append(publisher).append(':');
            final BitSet ackedByPublisher = acked.get(publisher);
            int first = -2;
            int last = -2;
            int runs = 0;
            boolean unacked = false;
            for (final int seq : in.of(publisher))
            {
                if (seq == last + 1)
                {
                    last = seq;
                    unacked |= !ackedByPublisher.get(seq);
                    continue;
                }
                if (first != -2 && runs++ < 40)
                {
                    report.append(' ').append(first).append(first == last ? "" : "-" + last).append(unacked ? "*" : "");
                }
                first = seq;
                last = seq;
                unacked = !ackedByPublisher.get(seq);
            }
            if (first != -2)
            {
                report.append(runs < 40 ? " " + first + (first == last ? "" : "-" + last) + (unacked ? "*" : "") :
                    " ...");
            }
        }
    }

    private static String describe(final long[] counts)
    {
        return "publisher #" + counts[6] + " sequence " + counts[5];
    }
}
