package dev.skylark.broker.cluster;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Three (or N) real Skylark brokers, each in its own JVM started as an operator starts it ({@code SkylarkMain} with
 * settings), forming one cluster on loopback: MQTT and HTTP ports are 0 (read back from each broker's log), the six
 * UDP ports of each member and the data directories are chosen at run time. {@link #close()} destroys every process,
 * also when a test failed.
 */
final class BrokerCluster implements AutoCloseable
{
    static final long ELECTION_MS = 500;
    /**
     * 1 s: a leader killed by a test is replaced in about 1.5 s, well inside the 2.5 s a node waits for its registry
     * round trip before it fences itself (3 s session timeout); at 1.5 s the margin was a tenth of a second.
     */
    static final long HEARTBEAT_MS = 1000;
    static final long SESSION_MS = 3000;
    private static final Pattern LISTENER = Pattern.compile("\\b(mqtt|http) listener on [^:]+:(\\d+)");
    private static final Pattern GAUGE = Pattern.compile("(?m)^([a-z_]+)(\\{[^}]*\\})? ([-0-9.eE+]+)$");

    final int size;
    private final Path dir;
    private final String members;
    private final List<String> extra;
    private final Node[] nodes;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    /** Settings of one node only, after the common ones (a later setting wins). */
    private final Map<Integer, List<String>> nodeSettings = new java.util.concurrent.ConcurrentHashMap<>();

    /** One broker process; a SIGKILLed one can be started again on the same directory and member ports. */
    final class Node
    {
        final int id;
        final Path dataDir;
        final Path log;
        private Process process;
        private volatile int mqttPort;
        private volatile int httpPort;
        /** Settings of this node only, after the cluster's (a later one wins). */
        final List<String> own = new ArrayList<>();
        /** The network namespace this node runs in ({@code ip netns exec}); null: the test's own. */
        private volatile String namespace;
        /** The address its MQTT and HTTP listeners bind to, and clients and the test reach it on. */
        private volatile String host = "127.0.0.1";

        Node(final int id) throws IOException
        {
            this.id = id;
            this.dataDir = Files.createDirectories(dir.resolve("node" + id));
            this.log = dir.resolve("node" + id + ".log");
        }

        void start() throws IOException
        {
            final List<String> command = new ArrayList<>();
            if (namespace != null)
            {
                command.addAll(List.of("ip", "netns", "exec", namespace)); // execs java: the same process
            }
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            for (final String argument : ManagementFactory.getRuntimeMXBean().getInputArguments())
            {
                if (argument.startsWith("--add-"))
                {
                    command.add(argument);
                }
            }
            command.addAll(List.of("-Xmx160m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dchronicle.analytics.disable=true", "-Daeron.print.configuration=false",
                "-cp", System.getProperty("java.class.path"), "dev.skylark.broker.cli.SkylarkMain",
                "--data.dir", dataDir.toString(), "--mqtt.port", "0", "--http.port", "0",
                "--bind.address", host, "--durability", "none",
                "--cluster.node.id", String.valueOf(id), "--cluster.members", members,
                "--cluster.election.timeout.ms", String.valueOf(ELECTION_MS),
                "--cluster.leader.heartbeat.timeout.ms", String.valueOf(HEARTBEAT_MS),
                "--cluster.session.timeout.ms", String.valueOf(SESSION_MS)));
            command.addAll(extra);
            command.addAll(nodeSettings.getOrDefault(id, List.of()));
            command.addAll(own);
            final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            builder.environment().keySet().removeIf((name) -> name.startsWith("SKYLARK_"));
            mqttPort = 0;
            httpPort = 0;
            process = builder.start();
        }

        /** Waits until this broker logged its listeners (after a restart: the new ones). */
        void awaitStarted(final long timeoutMs)
        {
            await(this::readPorts, timeoutMs, "node " + id + " listeners");
        }

        /** Where this run's log starts (after a restart, past the killed run's lines). */
        private int logOffset;

        private boolean readPorts()
        {
            if (!process.isAlive())
            {
                throw new AssertionError("node " + id + " exited (" + process.exitValue() + "):\n" + logText());
            }
            final String all = logText();
            final String text = all.substring(Math.min(logOffset, all.length()));
            final Matcher m = LISTENER.matcher(text);
            int mqtt = 0;
            int web = 0;
            while (m.find())
            {
                if ("mqtt".equals(m.group(1)))
                {
                    mqtt = Integer.parseInt(m.group(2));
                }
                else
                {
                    web = Integer.parseInt(m.group(2));
                }
            }
            if (mqtt != 0 && web != 0)
            {
                mqttPort = mqtt;
                httpPort = web;
                return true;
            }
            return false;
        }

        int mqttPort()
        {
            return mqttPort;
        }

        int httpPort()
        {
            return httpPort;
        }

        String mqttUri()
        {
            return "tcp://" + host + ":" + mqttPort;
        }

        /** The address clients reach this node on (its bind address). */
        String host()
        {
            return host;
        }

        /**
         * Runs this node, from its next {@link #start()}, inside network namespace {@code namespace} (which the test
         * creates and removes), its listeners bound to {@code bindAddress} there.
         */
        void inNamespace(final String namespace, final String bindAddress)
        {
            this.namespace = namespace;
            this.host = bindAddress;
        }

        long pid()
        {
            return process.pid();
        }

        boolean isAlive()
        {
            return process != null && process.isAlive();
        }

        /** SIGKILL (destroyForcibly on Linux), waiting until the process is gone. */
        void kill() throws InterruptedException
        {
            if (process != null)
            {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
                logOffset = logText().length();
            }
        }

        /**
         * SIGTERM (destroy on Linux): the broker stops gracefully ({@code Broker.shutdown()}, a clustered node leaves);
         * waits up to {@code timeoutMs} for the process to exit, then SIGKILLs it. True when it exited by itself.
         */
        boolean terminate(final long timeoutMs) throws InterruptedException
        {
            if (process == null)
            {
                return false;
            }
            process.destroy();
            final boolean exited = process.waitFor(timeoutMs, TimeUnit.MILLISECONDS);
            if (!exited)
            {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
            logOffset = logText().length();
            return exited;
        }

        String logText()
        {
            try
            {
                return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            }
            catch (final IOException ex)
            {
                return "(log unreadable: " + ex + ")";
            }
        }

        /** Every sample of {@code /metrics}, name (with labels) to value; empty when the broker does not answer. */
        Map<String, Double> metrics()
        {
            final Map<String, Double> values = new java.util.HashMap<>();
            if (!isAlive() || httpPort == 0)
            {
                return values;
            }
            try
            {
                final HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                    URI.create("http://" + host + ":" + httpPort + "/metrics")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
                final Matcher m = GAUGE.matcher(response.body());
                while (m.find())
                {
                    values.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
                }
            }
            catch (final IOException ex)
            {
                // not answering yet (or any more)
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            return values;
        }

        /** A metric's value, or NaN when absent. */
        double metric(final String name)
        {
            return metrics().getOrDefault(name, Double.NaN);
        }
    }

    BrokerCluster(final Path dir, final int size, final List<String> extraSettings) throws IOException
    {
        this(dir, freeMembers(size), extraSettings);
    }

    /** A cluster of the given {@code members} ({@code id=host:basePort,...}, ids 0 to N-1), e.g. not on loopback. */
    BrokerCluster(final Path dir, final String members, final List<String> extraSettings) throws IOException
    {
        this.dir = dir;
        this.size = members.split(",").length;
        this.extra = List.copyOf(extraSettings);
        this.members = members;
        this.nodes = new Node[size];
        for (int i = 0; i < size; i++)
        {
            nodes[i] = new Node(i);
        }
        // should the test JVM itself be killed (a surefire timeout), the brokers go with it
        Runtime.getRuntime().addShutdownHook(new Thread(this::destroyNow, "broker-cluster-reaper"));
    }

    private void destroyNow()
    {
        for (final Node node : nodes)
        {
            if (node != null && node.process != null)
            {
                node.process.destroyForcibly();
            }
        }
    }

    Node node(final int id)
    {
        return nodes[id];
    }

    /** Adds settings for node {@code id} alone (taken at its next start), after the common ones. */
    BrokerCluster nodeSettings(final int id, final String... settings)
    {
        nodeSettings.merge(id, List.of(settings), (a, b) ->
        {
            final List<String> all = new ArrayList<>(a);
            all.addAll(b);
            return all;
        });
        return this;
    }

    /**
     * Gives every node {@code skylark.cluster.ownership.log} = {@link #ownershipLog(int)} (a restart appends a new
     * run to the same file), for {@link OwnershipHistory}.
     */
    BrokerCluster withOwnershipLogs()
    {
        for (int i = 0; i < size; i++)
        {
            nodeSettings(i, "--cluster.ownership.log", ownershipLog(i).toString());
        }
        return this;
    }

    /** Where node {@code id} writes its ownership log when {@link #withOwnershipLogs()} was asked for. */
    Path ownershipLog(final int id)
    {
        return dir.resolve("ownership-node" + id + ".log");
    }

    /** Every node's ownership log, checked: see {@link OwnershipHistory}. */
    OwnershipHistory.Result checkOwnership() throws IOException
    {
        final List<Path> files = new ArrayList<>();
        for (int i = 0; i < size; i++)
        {
            files.add(ownershipLog(i));
        }
        return OwnershipHistory.check(files);
    }

    /** The leader every live node names (-1 when they do not agree or none is known). */
    int leader()
    {
        int agreed = -1;
        for (final Node node : nodes)
        {
            if (!node.isAlive())
            {
                continue;
            }
            final double l = node.metric("skylark_cluster_leader");
            if (Double.isNaN(l) || l < 0 || (agreed >= 0 && agreed != (int)l))
            {
                return -1;
            }
            agreed = (int)l;
        }
        return agreed;
    }

    /** Starts a killed node again on its own directory and member ports; waits for its listeners. */
    void restart(final int id, final long timeoutMs) throws IOException
    {
        nodes[id].start();
        nodes[id].awaitStarted(timeoutMs);
    }

    /** Starts every node, waits for their listeners, a leader every node agrees on and all nodes live. */
    BrokerCluster start(final long timeoutMs) throws IOException
    {
        for (final Node node : nodes)
        {
            node.start();
        }
        for (final Node node : nodes)
        {
            node.awaitStarted(timeoutMs);
        }
        awaitFormed(timeoutMs, -1);
        return this;
    }

    /**
     * Waits until every live node names the same leader (not {@code notLeader}), that leader's role is 2 and every
     * live node's registry holds all live nodes; returns the leader's id.
     */
    int awaitFormed(final long timeoutMs, final int notLeader)
    {
        final int[] leader = { -1 };
        final long live = java.util.Arrays.stream(nodes).filter(Node::isAlive).count();
        final long started = System.nanoTime();
        final long[] lastPrint = { started };
        await(() ->
        {
            if (System.nanoTime() - lastPrint[0] > 5_000_000_000L)
            {
                lastPrint[0] = System.nanoTime();
                for (final Node node : nodes)
                {
                    final Map<String, Double> m = node.metrics();
                    System.out.println("waiting for the cluster: node " + node.id + " leader=" + m.get("skylark_cluster_leader") + " role=" +
                        m.get("skylark_cluster_role") + " live=" + m.get("skylark_cluster_live_nodes"));
                }
            }
            int agreed = -2;
            for (final Node node : nodes)
            {
                if (!node.isAlive())
                {
                    continue;
                }
                final Map<String, Double> m = node.metrics();
                final double l = m.getOrDefault("skylark_cluster_leader", Double.NaN);
                final double liveNodes = m.getOrDefault("skylark_cluster_live_nodes", Double.NaN);
                if (Double.isNaN(l) || l < 0 || (int)l == notLeader || liveNodes != live)
                {
                    return false;
                }
                if (agreed != -2 && agreed != (int)l)
                {
                    return false;
                }
                agreed = (int)l;
            }
            if (agreed < 0 || !nodes[agreed].isAlive() || nodes[agreed].metric("skylark_cluster_role") != 2)
            {
                return false;
            }
            leader[0] = agreed;
            return true;
        }, timeoutMs, "a leader (not " + notLeader + ") and " + live + " live nodes");
        System.out.println("cluster formed: leader " + leader[0] + ", " + live + " live nodes, after " +
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms");
        return leader[0];
    }

    /** Polls {@code condition} until true; fails with every node's log tail at the deadline. */
    void await(final BooleanSupplier condition, final long timeoutMs, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out after " + timeoutMs + " ms waiting for " + what + "\n" + logs());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // a poll interval, bounded by the deadline
            if (Thread.interrupted())
            {
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    /** The last lines of every node's log, for failure messages. */
    String logs()
    {
        final StringBuilder sb = new StringBuilder();
        for (final Node node : nodes)
        {
            final String text = node.logText();
            sb.append("---- node ").append(node.id).append(node.isAlive() ? "" : " (dead)").append(" ----\n")
                .append(text, Math.max(0, text.length() - 4000), text.length()).append('\n');
        }
        return sb.toString();
    }

    @Override
    public void close() throws InterruptedException
    {
        for (final Node node : nodes)
        {
            if (node != null && node.process != null)
            {
                node.process.descendants().forEach(ProcessHandle::destroyForcibly);
                node.process.destroyForcibly();
            }
        }
        for (final Node node : nodes)
        {
            if (node != null && node.process != null)
            {
                node.process.waitFor(10, TimeUnit.SECONDS);
            }
            if (node != null)
            {
                try
                {
                    // SIGKILL leaves the embedded driver's directory in /dev/shm (memory), one per node and test.
                    dev.skylark.broker.journal.BrokerProcess.deleteAeronDirectory(node.dataDir);
                }
                catch (final java.io.IOException ex)
                {
                    System.err.println("could not delete node " + node.id + "'s driver directory: " + ex);
                }
            }
        }
    }

    static String freeMembers(final int count)
    {
        final StringBuilder sb = new StringBuilder();
        final List<Integer> bases = new ArrayList<>();
        while (bases.size() < count)
        {
            // Below Linux's ephemeral range (32768 and up): a port free now cannot become some process's (e.g. another
            // node's Aeron publication's) ephemeral port before its member binds it.
            final int base = 20_000 + ThreadLocalRandom.current().nextInt(12_000);
            final boolean overlaps = bases.stream().anyMatch((b) -> Math.abs(b - base) < ClusterMembers.PORTS_PER_MEMBER);
            if (!overlaps && udpFree(base, ClusterMembers.PORTS_PER_MEMBER))
            {
                sb.append(bases.isEmpty() ? "" : ",").append(bases.size()).append("=127.0.0.1:").append(base);
                bases.add(base);
            }
        }
        return sb.toString();
    }

    private static boolean udpFree(final int base, final int count)
    {
        final List<DatagramSocket> sockets = new ArrayList<>();
        try
        {
            for (int p = base; p < base + count; p++)
            {
                final DatagramSocket socket = new DatagramSocket(null);
                sockets.add(socket);
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), p));
            }
            return true;
        }
        catch (final IOException ex)
        {
            return false;
        }
        finally
        {
            sockets.forEach(DatagramSocket::close);
        }
    }
}
