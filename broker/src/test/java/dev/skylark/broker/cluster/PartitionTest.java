package dev.skylark.broker.cluster;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A network partition, for real: three broker JVMs ({@link BrokerCluster}), node 2 started inside its own network
 * namespace, which the test creates and removes. Two veth pairs join it to the test's namespace: one carries the
 * cluster (its member address; nodes 0 and 1 sit on the other end's address), one its MQTT and HTTP listeners. The
 * cut poisons the cluster pair's neighbour entries on both ends (a made-up MAC address, {@code nud permanent}): every
 * cluster packet between node 2 and the others is dropped silently, as on a dead link, while its clients still reach
 * it — the case fencing is for, a client that can still talk to a node that cannot replicate. (Neither {@code tc
 * netem} nor iptables is needed, and an interface taken down would make the senders' sockets fail instead.)
 * <p>
 * Asserted: within the session timeout of the cut node 2 stops acknowledging and drops its clients (v5 DISCONNECT
 * 0x9C with the Server Reference); the majority keeps (or elects) a leader, declares node 2 down and accepts
 * connects and QoS 1 publishes; healed, node 2 rejoins and accepts again; a persistent subscriber on node 0 gets
 * every message its publishers (one on node 2, one on node 0) saw acknowledged. Skipped, with the reason, when not
 * root or {@code ip} (or namespaces) are missing. Everything it creates is removed, also on failure.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PartitionTest
{
    private static final String REFERENCE = "node0.example.net:1883";
    private static final long START_MS = 60_000;

    @TempDir
    Path dir;

    private final List<String> cleanup = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Test
    void aPartitionedNodeFencesTheMajorityGoesOnAndHealingLosesNothing() throws Exception
    {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")) || isRoot(),
            "needs root for network namespaces (ip netns)");
        Assumptions.assumeTrue(ipWorks(), "needs the ip command (iproute2) with network namespace support");

        final int r = ThreadLocalRandom.current().nextInt(16, 240);
        final String tag = Long.toString(ProcessHandle.current().pid() % 10_000) + "x" + r;
        final String ns = "skyfence" + tag;
        final String clusterHost = "skc" + tag;   // interface names: at most 15 characters
        final String clusterNs = "skcn" + tag;
        final String clientHost = "skm" + tag;
        final String clientNs = "skmn" + tag;
        final String majority = "10.213." + r + ".1";
        final String minority = "10.213." + r + ".2";
        final String clientSide = "10.214." + r + ".1";
        final String node2Address = "10.214." + r + ".2";

        // should the test JVM itself be killed (a surefire timeout), the namespace and the veth pairs go with it
        final Thread reaper = new Thread(this::removeNetwork, "partition-test-network-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        try
        {
            Assumptions.assumeTrue(run(false, "ip", "netns", "add", ns), "cannot create a network namespace");
            cleanup.add(0, "ip netns del " + ns);
            ip("link", "add", clusterHost, "type", "veth", "peer", "name", clusterNs);
            cleanup.add(0, "ip link del " + clusterHost);
            ip("link", "add", clientHost, "type", "veth", "peer", "name", clientNs);
            cleanup.add(0, "ip link del " + clientHost);
            ip("link", "set", clusterNs, "netns", ns);
            ip("link", "set", clientNs, "netns", ns);
            ip("addr", "add", majority + "/30", "dev", clusterHost);
            ip("addr", "add", clientSide + "/30", "dev", clientHost);
            ip("link", "set", clusterHost, "up");
            ip("link", "set", clientHost, "up");
            ip("netns", "exec", ns, "ip", "addr", "add", minority + "/30", "dev", clusterNs);
            ip("netns", "exec", ns, "ip", "addr", "add", node2Address + "/30", "dev", clientNs);
            ip("netns", "exec", ns, "ip", "link", "set", clusterNs, "up");
            ip("netns", "exec", ns, "ip", "link", "set", clientNs, "up");
            ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");

            final String[] loopback = BrokerCluster.freeMembers(3).split(",");
            final String members = loopback[0].replace("127.0.0.1", majority) + "," +
                loopback[1].replace("127.0.0.1", majority) + "," + loopback[2].replace("127.0.0.1", minority);
            try (BrokerCluster cluster = new BrokerCluster(dir.resolve("cluster"), members,
                List.of("--auth.mode", "none", "--cluster.server.reference", REFERENCE)))
            {
                cluster.node(2).inNamespace(ns, node2Address);
                cluster.start(START_MS);
                partitionAndHeal(cluster, ns, clusterHost, clusterNs, majority, minority);
            }
        }
        finally
        {
            removeNetwork();
            Runtime.getRuntime().removeShutdownHook(reaper);
        }
    }

    /** Removes what the test created, newest first (a namespace's veth ends go with it). */
    private void removeNetwork()
    {
        for (final String command : cleanup)
        {
            run(false, command.split(" "));
            cleanup.remove(command);
        }
    }

    private void partitionAndHeal(
        final BrokerCluster cluster, final String ns, final String clusterHost, final String clusterNs,
        final String majority, final String minority) throws Exception
    {
        final BrokerCluster.Node node0 = cluster.node(0);
        final BrokerCluster.Node node1 = cluster.node(1);
        final BrokerCluster.Node node2 = cluster.node(2);

        // a persistent QoS 1 subscriber on the majority side
        final Set<String> received = ConcurrentHashMap.newKeySet();
        // (it reconnects: when node 2 was the leader, the majority's failover may fence nodes 0 and 1 for a moment)
        final Mqtt5AsyncClient subscriber = Mqtt5Client.builder().identifier("part-sub").serverHost(node0.host())
            .serverPort(node0.mqttPort()).automaticReconnect().initialDelay(50, TimeUnit.MILLISECONDS)
            .maxDelay(500, TimeUnit.MILLISECONDS).applyAutomaticReconnect().buildAsync();
        subscriber.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL,
            (p) -> received.add(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)));
        subscriber.connectWith().cleanStart(false).sessionExpiryInterval(600).send().get(10, TimeUnit.SECONDS);
        subscriber.subscribeWith().topicFilter("part/#").qos(MqttQos.AT_LEAST_ONCE).send().get(10, TimeUnit.SECONDS);

        final Publisher onNode2 = new Publisher("p2", node2, false);
        final Publisher onNode0 = new Publisher("p0", node0, true);
        try
        {
            cluster.await(() -> onNode2.acked.size() >= 20 && onNode0.acked.size() >= 20, 30_000,
                "both publishers acknowledged");
            cluster.await(() -> received.containsAll(onNode2.acked), 10_000, "the first messages delivered");

            // ---- the cut
            final int leaderAtCut = leaderOf(node0);
            final Set<String> ackedBeforeCut = Set.copyOf(onNode2.acked);
            final long cutNs = System.nanoTime();
            ip("neigh", "replace", minority, "lladdr", "02:00:00:00:5c:01", "dev", clusterHost, "nud", "permanent");
            ip("netns", "exec", ns, "ip", "neigh", "replace", majority, "lladdr", "02:00:00:00:5c:02", "dev",
                clusterNs, "nud", "permanent");

            final String told = onNode2.disconnected.get(BrokerCluster.SESSION_MS * 3, TimeUnit.MILLISECONDS);
            final long fencedAfterMs = TimeUnit.NANOSECONDS.toMillis(onNode2.disconnectedNs - cutNs);
            final long lastAckAfterCutMs = TimeUnit.NANOSECONDS.toMillis(onNode2.lastAckNs.get() - cutNs);
            System.out.println("partition: node 2 dropped its clients " + fencedAfterMs + " ms after the cut (" +
                told + "); its last PUBACK " + lastAckAfterCutMs + " ms after the cut");
            assertEquals("9c " + REFERENCE, told, "DISCONNECT 0x9C Use another server with the Server Reference");
            assertTrue(fencedAfterMs < BrokerCluster.SESSION_MS,
                "fenced within the session timeout: " + fencedAfterMs + " ms");
            assertTrue(lastAckAfterCutMs < BrokerCluster.SESSION_MS, "no PUBACK from node 2 after the session timeout");
            assertEquals(1.0, node2.metric("skylark_cluster_fenced"), "node 2 says it is fenced");
            final Mqtt5BlockingClient refused = Mqtt5Client.builder().identifier("part-refused")
                .serverHost(node2.host()).serverPort(node2.mqttPort()).buildBlocking();
            try
            {
                refused.connect();
                throw new AssertionError("a CONNECT to the fenced node was accepted");
            }
            catch (final com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException expected)
            {
                assertEquals(Mqtt5ConnAckReasonCode.SERVER_UNAVAILABLE, expected.getMqttMessage().getReasonCode());
            }

            // the majority goes on: node 2 declared down, a leader among 0 and 1, connects and publishes work
            cluster.await(() -> node0.metric("skylark_cluster_live_nodes") == 2 &&
                node1.metric("skylark_cluster_live_nodes") == 2, 30_000, "the majority declares node 2 down");
            cluster.await(() -> leaderOf(node0) >= 0 && leaderOf(node0) < 2 && leaderOf(node0) == leaderOf(node1),
                30_000, "a leader of the majority");
            final Publisher onNode1 = new Publisher("p1", node1, true);
            cluster.await(() -> onNode1.acked.size() >= 5, 30_000, "a publisher on node 1 acknowledged");
            final int p0Before = onNode0.acked.size();
            cluster.await(() -> onNode0.acked.size() > p0Before + 5, 30_000, "node 0's publisher goes on");

            // ---- heal
            ip("neigh", "del", minority, "dev", clusterHost);
            ip("netns", "exec", ns, "ip", "neigh", "del", majority, "dev", clusterNs);
            final long healNs = System.nanoTime();
            cluster.await(() -> node2.metric("skylark_cluster_fenced") == 0 &&
                node0.metric("skylark_cluster_live_nodes") == 3 && node2.metric("skylark_cluster_live_nodes") == 3,
                60_000, "node 2 rejoins");
            System.out.println("partition: node 2 rejoined " +
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - healNs) + " ms after the heal");
            assertTrue(node2.metric("skylark_cluster_fencings_total") >= 1, "the fencing is counted");
            final Publisher again = new Publisher("p2again", node2, true);
            cluster.await(() -> again.acked.size() >= 5, 30_000, "node 2 acknowledges again");

            onNode0.stop();
            onNode1.stop();
            again.stop();
            final Set<String> acked = ConcurrentHashMap.newKeySet();
            for (final Publisher p : List.of(onNode2, onNode0, onNode1, again))
            {
                acked.addAll(p.acked);
            }
            cluster.await(() -> received.containsAll(acked), 30_000, "every acknowledged message delivered");
            System.out.println("partition: acknowledged " + acked.size() + " (node 2 before the cut " +
                ackedBeforeCut.size() + ", during it " + (onNode2.acked.size() - ackedBeforeCut.size()) +
                "), delivered " + received.size() + ", lost 0; leader at the cut: node " + leaderAtCut +
                "; fencings on the majority: node 0 " + node0.metric("skylark_cluster_fencings_total") + ", node 1 " +
                node1.metric("skylark_cluster_fencings_total"));
            node2.logText().lines().filter((l) -> l.contains("fenced") || l.contains("FENCED") ||
                l.contains("registry session")).forEach((l) -> System.out.println("node 2: " + l));
        }
        finally
        {
            onNode2.stop();
            onNode0.stop();
            subscriber.disconnect();
        }
    }

    private static int leaderOf(final BrokerCluster.Node node)
    {
        final double leader = node.metric("skylark_cluster_leader");
        return Double.isNaN(leader) ? -1 : (int)leader;
    }

    /**
     * Publishes QoS 1 in a loop, one at a time, noting what was acknowledged. When its connection goes it stops, or,
     * with {@code reconnects}, connects again (as a real client does after 0x9C) and goes on with the next message.
     */
    private static final class Publisher
    {
        final Set<String> acked = ConcurrentHashMap.newKeySet();
        final AtomicLong lastAckNs = new AtomicLong();
        final CompletableFuture<String> disconnected = new CompletableFuture<>();
        volatile long disconnectedNs;
        private volatile boolean running = true;
        private final Mqtt5BlockingClient client;
        private final Thread thread;
        private final boolean reconnects;

        Publisher(final String name, final BrokerCluster.Node node, final boolean reconnects)
        {
            this.reconnects = reconnects;
            client = Mqtt5Client.builder().identifier(name).serverHost(node.host()).serverPort(node.mqttPort())
                .addDisconnectedListener((ctx) ->
                {
                    disconnectedNs = System.nanoTime();
                    disconnected.complete(ctx.getCause() instanceof Mqtt5DisconnectException d ?
                        Integer.toHexString(d.getMqttMessage().getReasonCode().getCode()) + " " +
                        d.getMqttMessage().getServerReference().map(Object::toString).orElse("-") :
                        String.valueOf(ctx.getCause()));
                })
                .buildBlocking();
            client.connect();
            thread = new Thread(this::run, "publisher-" + name);
            thread.setDaemon(true);
            thread.start();
        }

        private void run()
        {
            for (int i = 0; running; i++)
            {
                final String payload = client.getConfig().getClientIdentifier().map(Object::toString).orElse("?") +
                    "-" + i;
                try
                {
                    client.publishWith().topic("part/" + payload).qos(MqttQos.AT_LEAST_ONCE)
                        .payload(payload.getBytes(StandardCharsets.UTF_8)).send();
                    acked.add(payload);
                    lastAckNs.set(System.nanoTime());
                }
                catch (final RuntimeException gone)
                {
                    // the connection went: the last one was not acknowledged
                    if (!reconnects || !reconnect())
                    {
                        return;
                    }
                }
            }
        }

        private boolean reconnect()
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (running && System.nanoTime() - deadline < 0)
            {
                try
                {
                    client.connect();
                    return true;
                }
                catch (final RuntimeException refused)
                {
                    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // retry pace
                }
            }
            return false;
        }

        void stop() throws InterruptedException
        {
            running = false;
            thread.join(10_000);
            try
            {
                client.disconnect();
            }
            catch (final RuntimeException alreadyGone)
            {
                // disconnected by the broker
            }
        }
    }

    private static boolean isRoot()
    {
        try
        {
            final Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
            final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 && "0".equals(out);
        }
        catch (final IOException | InterruptedException ex)
        {
            return false;
        }
    }

    private static boolean ipWorks()
    {
        return new File("/usr/sbin/ip").canExecute() || new File("/sbin/ip").canExecute() ||
            new File("/usr/bin/ip").canExecute() || new File("/bin/ip").canExecute();
    }

    private static void ip(final String... arguments)
    {
        final String[] command = new String[arguments.length + 1];
        command[0] = "ip";
        System.arraycopy(arguments, 0, command, 1, arguments.length);
        if (!run(true, command))
        {
            throw new AssertionError("failed: " + String.join(" ", command));
        }
    }

    /** Runs a command to completion (at most 10 s); true when it exited 0. */
    private static boolean run(final boolean report, final String... command)
    {
        try
        {
            final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            final String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS))
            {
                p.destroyForcibly();
                return false;
            }
            if (p.exitValue() != 0 && report)
            {
                System.out.println(String.join(" ", command) + ": " + out.trim());
            }
            return p.exitValue() == 0;
        }
        catch (final IOException ex)
        {
            return false;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
