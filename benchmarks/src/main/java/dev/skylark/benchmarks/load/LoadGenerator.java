/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import javax.net.ssl.SSLContext;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;

/**
 * End-to-end MQTT load generator.
 * <p>
 * Scenario {@code fan-in}: P publishers each publish on {@code devices/<i>/telemetry}; one subscriber (or K, or K in
 * a shared group) subscribes to {@code devices/+/telemetry} first. Every payload carries its send time and a
 * sequence number; subscribers record end-to-end latency into an HdrHistogram {@link SingleWriterRecorder}. Flat out
 * ({@code --rate 0}) measures throughput with back pressure (socket writability, QoS &gt; 0 in-flight window);
 * paced ({@code --rate N}) stamps the <em>intended</em> send time, so latency is coordinated-omission corrected.
 * <p>
 * Exit codes: 0 success, 1 usage, 2 broker unreachable, 3 CONNECT/SUBSCRIBE refused, 4 protocol error or connection
 * lost, 5 QoS &gt; 0 messages lost.
 */
public final class LoadGenerator
{
    private static final long POLL_NS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long REPORT_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);
    private static final long QOS0_DRAIN_QUIET_NS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long MAX_DRAIN_NS = TimeUnit.SECONDS.toNanos(30);

    private final LoadConfig config;
    private final PrintStream out;
    private final LoadControl control = new LoadControl();
    /**
     * Single writer: only the agent that owns the subscribers records (publishers never receive a PUBLISH), which
     * saves the atomic count updates of a concurrent recorder on every delivery (measured 25 vs 14 ns per value).
     */
    private final SingleWriterRecorder recorder = new SingleWriterRecorder(1, ClientAgent.HIGHEST_TRACKABLE_NS, 3);
    private final Histogram total = new Histogram(1, ClientAgent.HIGHEST_TRACKABLE_NS, 3);
    private Histogram interval;
    private HistogramLogWriter logWriter;
    private LoadResult.Usage usage = LoadResult.Usage.NONE;
    private SSLContext tlsContext;
    private int tlsRoom;

    /**
     * @param config concluded configuration.
     * @param out    where progress and the report go.
     */
    public LoadGenerator(final LoadConfig config, final PrintStream out)
    {
        this.config = config;
        this.out = out;
    }

    public static void main(final String[] args)
    {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Parse, run, report.
     *
     * @param args command line.
     * @param out  report stream.
     * @param err  error stream.
     * @return process exit code.
     */
    public static int run(final String[] args, final PrintStream out, final PrintStream err)
    {
        for (final String arg : args)
        {
            if ("--help".equals(arg) || "-h".equals(arg))
            {
                out.println(LoadConfig.USAGE);
                return 0;
            }
        }

        final LoadConfig config;
        try
        {
            config = LoadConfig.parse(args);
        }
        catch (final IllegalArgumentException ex)
        {
            err.println("error: " + ex.getMessage());
            err.println(LoadConfig.USAGE);
            return 1;
        }

        final LoadResult result;
        try
        {
            result = new LoadGenerator(config, out).execute();
        }
        catch (final IOException ex)
        {
            err.println("error: " + ex);
            return LoadControl.EXIT_PROTOCOL;
        }

        if (null != result.failure())
        {
            if (null != result.connections())
            {
                out.println(result.report());
                out.println(result.resultLine());
            }
            err.println("error: " + result.failure().message());
            return result.failure().exitCode();
        }

        out.println(result.report());
        out.println(result.resultLine());
        if (config.qos > 0 && result.lost() != 0)
        {
            err.println("error: " + result.lost() + " QoS " + config.qos + " message(s) lost");
            return LoadControl.EXIT_LOSS;
        }

        return 0;
    }

    /**
     * Connect, subscribe, publish for warm-up plus duration, drain, disconnect.
     *
     * @return the result; {@link LoadResult#failure()} is set when the run failed.
     * @throws IOException if a selector cannot be opened or the histogram log cannot be created.
     */
    public LoadResult execute() throws IOException
    {
        final String runId = Long.toString(ProcessHandle.current().pid(), 36) + "-" +
            Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36);
        if (config.tls())
        {
            tlsContext = ClientTls.context(config);
            // room for one whole record's plaintext on top of what a buffer keeps of a partial packet
            tlsRoom = ClientTls.applicationBufferSize(tlsContext);
            if (config.trustAll)
            {
                out.println("warning: --trust-all: the broker's certificate is NOT checked (benchmarking only)");
            }
        }
        if (LoadConfig.CONNECTIONS.equals(config.scenario))
        {
            return executeConnections(runId);
        }

        final ClientConnection[] subscribers = new ClientConnection[config.subscribers];
        final ClientConnection[] publishers = new ClientConnection[config.publishers];
        final int trackedPublishers = null == config.sharedGroup ? config.publishers : 0;
        // Many subscribers (fan-out) each get a smaller receive buffer; still room for several packets.
        final int subscriberRx = Math.max(config.subscribers > 16 ? 32 * 1024 : 256 * 1024,
            4 * (config.payloadLength + 512));
        final int publisherTx = Math.max(64 * 1024, 4 * (config.payloadLength + 512));
        for (int i = 0; i < subscribers.length; i++)
        {
            subscribers[i] = connection(ClientConnection.Role.SUBSCRIBER, i,
                "skylark-sub-" + runId + "-" + i, subscriberRx, config.subscribers > 16 ? 8 * 1024 : 64 * 1024,
                null, 0, trackedPublishers);
            subscribers[i].filter = config.subscriptionFilter(i);
        }
        for (int i = 0; i < publishers.length; i++)
        {
            final PublishTemplate template = ClientPacketEncoder.publishTemplate(
                config.protocolVersion, config.publishTopic(i), config.qos, config.payloadLength);
            publishers[i] = connection(ClientConnection.Role.PUBLISHER, i,
                "skylark-pub-" + runId + "-" + i, 16 * 1024, publisherTx, template,
                config.qos > 0 ? config.inflight : 0, 0);
        }

        final ClientAgent[] agents;
        if (1 == config.threads)
        {
            final ClientConnection[] all = new ClientConnection[subscribers.length + publishers.length];
            System.arraycopy(subscribers, 0, all, 0, subscribers.length);
            System.arraycopy(publishers, 0, all, subscribers.length, publishers.length);
            agents = new ClientAgent[]{ new ClientAgent("clients", config, control, recorder, all) };
        }
        else
        {
            agents = new ClientAgent[]{
                new ClientAgent("subscribers", config, control, recorder, subscribers),
                new ClientAgent("publishers", config, control, recorder, publishers) };
        }

        final AgentCounters[] counters = new AgentCounters[agents.length];
        final AgentRunner[] runners = new AgentRunner[agents.length];
        for (int i = 0; i < agents.length; i++)
        {
            counters[i] = agents[i].counters();
        }
        for (int i = 0; i < agents.length; i++)
        {
            agents[i].allCounters(counters);
            runners[i] = new AgentRunner(new ClientAgent.SelectorIdleStrategy(agents[i]),
                (throwable) -> control.fail(LoadControl.EXIT_PROTOCOL, "load agent error: " + throwable),
                null, agents[i]);
        }

        try
        {
            // Subscribers connect and subscribe before any publisher connects.
            final long connectDeadlineNs = System.nanoTime() + config.connectTimeoutNs;
            AgentRunner.startOnThread(runners[0]);
            if (!awaitReady(counters, 1 == agents.length ? subscribers.length + publishers.length :
                subscribers.length, connectDeadlineNs))
            {
                return failed(counters);
            }
            if (agents.length > 1)
            {
                AgentRunner.startOnThread(runners[1]);
                if (!awaitReady(counters, subscribers.length + publishers.length,
                    System.nanoTime() + config.connectTimeoutNs))
                {
                    return failed(counters);
                }
            }

            openLog();
            final long startNs = System.nanoTime();
            control.schedule(startNs, config.warmupNs, config.durationNs);
            for (final ClientAgent agent : agents)
            {
                agent.wakeup();
            }

            if (!runAndReport(counters, startNs))
            {
                return failed(counters);
            }

            drain(counters);
        }
        finally
        {
            for (int i = runners.length - 1; i >= 0; i--)
            {
                CloseHelper.quietClose(runners[i]); // publishers first, then subscribers
            }
            collectInterval();
            if (null != logWriter)
            {
                logWriter.close();
            }
        }

        if (null != control.failure())
        {
            return failed(counters);
        }

        return result(counters);
    }

    /**
     * Scenario {@code connections}: open idle connections (CONNECT, SUBSCRIBE {@code idle/<i>}) from several
     * loopback source addresses, hold them for the duration, and read the broker's resident set size before and
     * after.
     */
    private LoadResult executeConnections(final String runId) throws IOException
    {
        final ClientConnection[] connections = new ClientConnection[config.connections];
        final boolean loopback = java.net.InetAddress.getByName(config.host).isLoopbackAddress();
        final int addresses = loopback ? config.sourceAddresses : 1;
        for (int i = 0; i < connections.length; i++)
        {
            // Small buffers: CONNECT, SUBSCRIBE and their acks are all these connections carry.
            final ClientConnection c = connection(ClientConnection.Role.SUBSCRIBER, i,
                "skylark-idle-" + runId + "-" + i, 2048, 1024, null, 0, 0);
            c.filter = config.subscriptionFilter(i);
            if (addresses > 1)
            {
                c.localAddress = new java.net.InetSocketAddress("127.0.0." + (1 + i % addresses), 0);
            }
            connections[i] = c;
        }

        final ClientAgent agent = new ClientAgent("connections", config, control, recorder, connections);
        final AgentCounters[] counters = { agent.counters() };
        agent.allCounters(counters);
        final AgentRunner runner = new AgentRunner(new ClientAgent.SelectorIdleStrategy(agent),
            (throwable) -> control.fail(LoadControl.EXIT_PROTOCOL, "load agent error: " + throwable), null, agent);

        final long rssBeforeKb = rssKb();
        long rssAfterKb = -1;
        long rssHeldKb = -1;
        long connectNs = 0;
        long ready = 0;
        try
        {
            final long startNs = System.nanoTime();
            AgentRunner.startOnThread(runner);
            final boolean allReady = awaitReady(counters, connections.length, startNs + config.connectTimeoutNs);
            connectNs = System.nanoTime() - startNs;
            if (allReady)
            {
                if (!config.quiet)
                {
                    out.printf(Locale.ROOT, "%,d connections ready in %.1f s%n", connections.length, connectNs / 1e9);
                }
                LockSupport.parkNanos(Math.min(config.warmupNs, config.durationNs)); // let the broker settle
                rssAfterKb = rssKb();
                final long holdEndNs = System.nanoTime() + config.durationNs;
                while (null == control.failure() && System.nanoTime() - holdEndNs < 0)
                {
                    LockSupport.parkNanos(POLL_NS * 10);
                }
                rssHeldKb = rssKb();
            }
        }
        finally
        {
            ready = AgentCounters.sum(counters, AgentCounters.READY); // before closing, which counts them down
            CloseHelper.quietClose(runner);
        }

        return new LoadResult(config, 0, 0, 0, 0, 0, 0, 0, 0, 0, total, control.failure(),
            new LoadResult.Connections(connections.length, ready, addresses, connectNs, rssBeforeKb, rssAfterKb, rssHeldKb),
            LoadResult.Usage.NONE);
    }

    /**
     * A connection over the configured transport; with TLS its receive buffer gets room for one more record.
     */
    private ClientConnection connection(
        final ClientConnection.Role role,
        final int index,
        final String clientId,
        final int rxCapacity,
        final int txCapacity,
        final PublishTemplate template,
        final int window,
        final int trackedPublishers)
    {
        final ClientConnection c = new ClientConnection(role, index, clientId, rxCapacity + tlsRoom, txCapacity,
            template, window, trackedPublishers, config.webSocket());
        if (null != tlsContext)
        {
            c.tls = new ClientTls(tlsContext, config, Math.min(rxCapacity, 64 * 1024), Math.min(txCapacity, 64 * 1024));
        }

        return c;
    }

    /**
     * @return VmRSS of {@code --broker-pid} in kB, or -1 when not given or not readable.
     */
    private long rssKb()
    {
        final long kb = ProcessUsage.statusKb(config.brokerPid, "VmRSS");
        if (kb < 0 && config.brokerPid > 0)
        {
            out.println("warning: cannot read VmRSS of pid " + config.brokerPid);
        }

        return kb;
    }

    private boolean awaitReady(final AgentCounters[] counters, final long expected, final long deadlineNs)
    {
        while (AgentCounters.sum(counters, AgentCounters.READY) < expected)
        {
            if (null != control.failure())
            {
                return false;
            }
            if (System.nanoTime() - deadlineNs > 0)
            {
                control.fail(LoadControl.EXIT_UNREACHABLE, String.format(Locale.ROOT,
                    "timed out after %.1f s waiting for CONNACK/SUBACK from %s:%d (%d of %d connections ready)",
                    config.connectTimeoutNs / 1e9, config.host, config.port,
                    AgentCounters.sum(counters, AgentCounters.READY), expected));
                return false;
            }
            LockSupport.parkNanos(POLL_NS);
        }

        return true;
    }

    private boolean runAndReport(final AgentCounters[] counters, final long startNs)
    {
        final long endNs = control.measureEndNs();
        final long measureStartNs = control.measureStartNs();
        final long selfPid = ProcessHandle.current().pid();
        long nextReportNs = startNs + REPORT_INTERVAL_NS;
        long lastSent = 0;
        long lastReceived = 0;
        long windowStartNs = 0;
        long startEpochMs = 0;
        long loadgenCpuStartNs = -1;
        long brokerCpuStartNs = -1;
        boolean windowStarted = false;
        while (true)
        {
            final long nowNs = System.nanoTime();
            if (null != control.failure())
            {
                return false;
            }
            if (!windowStarted && nowNs - measureStartNs >= 0)
            {
                windowStarted = true;
                windowStartNs = nowNs;
                startEpochMs = System.currentTimeMillis();
                loadgenCpuStartNs = ProcessUsage.cpuNs(selfPid);
                brokerCpuStartNs = ProcessUsage.cpuNs(config.brokerPid);
            }
            if (nowNs - endNs >= 0)
            {
                final long loadgenCpuEndNs = ProcessUsage.cpuNs(selfPid);
                final long brokerCpuEndNs = ProcessUsage.cpuNs(config.brokerPid);
                usage = new LoadResult.Usage(System.nanoTime() - windowStartNs,
                    loadgenCpuStartNs < 0 || loadgenCpuEndNs < 0 ? -1 : loadgenCpuEndNs - loadgenCpuStartNs,
                    brokerCpuStartNs < 0 || brokerCpuEndNs < 0 ? -1 : brokerCpuEndNs - brokerCpuStartNs,
                    ProcessUsage.statusKb(config.brokerPid, "VmRSS"), startEpochMs, System.currentTimeMillis());
                return true;
            }
            if (nowNs - nextReportNs >= 0)
            {
                final long sent = AgentCounters.sum(counters, AgentCounters.SENT_TOTAL);
                final long received = AgentCounters.sum(counters, AgentCounters.RECEIVED_TOTAL);
                final Histogram h = collectInterval();
                if (!config.quiet)
                {
                    out.printf(Locale.ROOT, "[%5.1fs] %-8s sent %,10.0f/s  received %,10.0f/s  in-flight %,6d  p99 %,10.1f us%n",
                        (nowNs - startNs) / 1e9,
                        nextReportNs - REPORT_INTERVAL_NS - control.measureStartNs() < 0 ? "warm-up" :
                        nowNs - endNs > 0 ? "drain" : "measure",
                        (sent - lastSent) * 1e9 / REPORT_INTERVAL_NS, (received - lastReceived) * 1e9 / REPORT_INTERVAL_NS,
                        AgentCounters.sum(counters, AgentCounters.INFLIGHT),
                        h.getTotalCount() == 0 ? 0.0 : h.getValueAtPercentile(99) / 1000.0);
                }
                lastSent = sent;
                lastReceived = received;
                nextReportNs += REPORT_INTERVAL_NS;
            }
            final long wakeNs = Math.min(Math.min(nextReportNs, endNs), windowStarted ? endNs : measureStartNs);
            LockSupport.parkNanos(Math.max(POLL_NS, wakeNs - nowNs));
        }
    }

    private void drain(final AgentCounters[] counters)
    {
        // Brokers may queue a backlog for slow subscribers (QoS 1 too: PUBACK does not wait for delivery), so wait
        // as long as deliveries progress, up to a hard cap; stop after drainTimeoutNs without progress.
        final long deadlineNs = System.nanoTime() + Math.max(MAX_DRAIN_NS, 2 * config.durationNs);
        final int copies = config.copiesPerMessage();
        long lastReceived = -1;
        long lastProgressNs = System.nanoTime();
        while (null == control.failure())
        {
            final long nowNs = System.nanoTime();
            final long expected = AgentCounters.sum(counters, AgentCounters.SENT_IN_WINDOW) * copies;
            final long received = AgentCounters.sum(counters, AgentCounters.RECEIVED_IN_WINDOW);
            final long receivedTotal = AgentCounters.sum(counters, AgentCounters.RECEIVED_TOTAL);
            final long inflight = AgentCounters.sum(counters, AgentCounters.INFLIGHT);
            if (received >= expected && 0 == inflight)
            {
                return;
            }
            if (receivedTotal != lastReceived)
            {
                lastReceived = receivedTotal;
                lastProgressNs = nowNs;
            }
            else if (nowNs - lastProgressNs > (0 == config.qos ? QOS0_DRAIN_QUIET_NS : config.drainTimeoutNs) ||
                nowNs - deadlineNs > 0)
            {
                if (config.qos > 0)
                {
                    out.printf(Locale.ROOT, "drain stopped: %d of %d received, %d in flight%n",
                        received, expected, inflight);
                }
                return;
            }
            LockSupport.parkNanos(POLL_NS);
        }
    }

    private void openLog() throws FileNotFoundException
    {
        if (null != config.hlogPath)
        {
            logWriter = new HistogramLogWriter(config.hlogPath);
            logWriter.outputComment("skylark load generator: " + config.scenario + " qos=" + config.qos +
                " publishers=" + config.publishers + " rate=" + config.rate + "; values in ns");
            logWriter.outputLogFormatVersion();
            final long nowMs = System.currentTimeMillis();
            logWriter.setBaseTime(nowMs);
            logWriter.outputStartTime(nowMs);
            logWriter.outputLegend();
        }
    }

    private Histogram collectInterval()
    {
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
        if (null != logWriter && interval.getTotalCount() > 0)
        {
            logWriter.outputIntervalHistogram(interval);
        }

        return interval;
    }

    private LoadResult failed(final AgentCounters[] counters)
    {
        final LoadResult result = result(counters);

        return new LoadResult(config, result.sent(), result.expected(), result.received(), result.arrived(),
            result.gaps(), result.outOfOrder(), result.badAcks(), result.stale(), result.maxSendLagNs(), total,
            control.failure(), null, usage);
    }

    private LoadResult result(final AgentCounters[] counters)
    {
        final long sent = AgentCounters.sum(counters, AgentCounters.SENT_IN_WINDOW);
        long maxLag = 0;
        for (final AgentCounters c : counters)
        {
            maxLag = Math.max(maxLag, c.get(AgentCounters.MAX_SEND_LAG_NS));
        }

        return new LoadResult(
            config,
            sent,
            sent * config.copiesPerMessage(),
            AgentCounters.sum(counters, AgentCounters.RECEIVED_IN_WINDOW),
            AgentCounters.sum(counters, AgentCounters.ARRIVED_IN_WINDOW),
            AgentCounters.sum(counters, AgentCounters.GAPS),
            AgentCounters.sum(counters, AgentCounters.OUT_OF_ORDER),
            AgentCounters.sum(counters, AgentCounters.BAD_ACKS),
            AgentCounters.sum(counters, AgentCounters.STALE),
            maxLag,
            total,
            null,
            null,
            usage);
    }
}
