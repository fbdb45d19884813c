/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

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
 * <p>
 * This class is the command line and the run's wiring: {@link ClientConnectionFactory} builds the connections,
 * {@link ClientAgent}s drive them on one or two threads, {@link RunMonitor} follows the run from the main thread and
 * {@link LatencyLog} keeps the histograms.
 */
public final class LoadGenerator
{
    private static final long HOLD_POLL_NS = TimeUnit.MILLISECONDS.toNanos(10);

    private final LoadConfig config;
    private final PrintStream out;
    private final LoadControl control = new LoadControl();
    private final LatencyLog latency = new LatencyLog();
    private final RunMonitor monitor;

    /**
     * @param config concluded configuration.
     * @param out    where progress and the report go.
     */
    public LoadGenerator(final LoadConfig config, final PrintStream out)
    {
        this.config = config;
        this.out = out;
        this.monitor = new RunMonitor(config, out, control, latency);
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
        final ClientConnectionFactory factory = new ClientConnectionFactory(config);
        if (config.tls() && config.trustAll)
        {
            out.println("warning: --trust-all: the broker's certificate is NOT checked (benchmarking only)");
        }
        if (LoadConfig.CONNECTIONS.equals(config.scenario))
        {
            return executeConnections(factory);
        }

        final ClientConnection[] subscribers = factory.subscribers();
        final ClientConnection[] publishers = factory.publishers();
        final SingleWriterRecorder recorder = latency.recorder();
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

        agents[agents.length - 1].ackRecorder(latency.ackRecorder()); // the publishers' agent
        final AgentCounters[] counters = new AgentCounters[agents.length];
        final AgentRunner[] runners = new AgentRunner[agents.length];
        for (int i = 0; i < agents.length; i++)
        {
            counters[i] = agents[i].counters();
        }
        for (int i = 0; i < agents.length; i++)
        {
            agents[i].allCounters(counters);
            runners[i] = runner(agents[i]);
        }

        try
        {
            // Subscribers connect and subscribe before any publisher connects.
            final long connectDeadlineNs = System.nanoTime() + config.connectTimeoutNs;
            AgentRunner.startOnThread(runners[0]);
            if (!monitor.awaitReady(counters, 1 == agents.length ? subscribers.length + publishers.length :
                subscribers.length, connectDeadlineNs))
            {
                return monitor.failed(counters);
            }
            if (agents.length > 1)
            {
                AgentRunner.startOnThread(runners[1]);
                if (!monitor.awaitReady(counters, subscribers.length + publishers.length,
                    System.nanoTime() + config.connectTimeoutNs))
                {
                    return monitor.failed(counters);
                }
            }

            latency.open(config);
            final long startNs = System.nanoTime();
            control.schedule(startNs, config.warmupNs, config.durationNs);
            for (final ClientAgent agent : agents)
            {
                agent.wakeup();
            }

            if (!monitor.runAndReport(counters, startNs))
            {
                return monitor.failed(counters);
            }

            monitor.drain(counters);
        }
        finally
        {
            for (int i = runners.length - 1; i >= 0; i--)
            {
                CloseHelper.quietClose(runners[i]); // publishers first, then subscribers
            }
            latency.collectInterval();
            latency.close();
        }

        if (null != control.failure())
        {
            return monitor.failed(counters);
        }

        return monitor.result(counters);
    }

    /**
     * Scenario {@code connections}: open idle connections (CONNECT, SUBSCRIBE {@code idle/<i>}) from several
     * loopback source addresses, hold them for the duration, and read the broker's resident set size before and
     * after.
     */
    private LoadResult executeConnections(final ClientConnectionFactory factory) throws IOException
    {
        final boolean loopback = InetAddress.getByName(config.host).isLoopbackAddress();
        final int addresses = loopback ? config.sourceAddresses : 1;
        final ClientConnection[] connections = factory.idleConnections(addresses);

        final ClientAgent agent = new ClientAgent("connections", config, control, latency.recorder(), connections);
        final AgentCounters[] counters = { agent.counters() };
        agent.allCounters(counters);
        final AgentRunner runner = runner(agent);

        final long rssBeforeKb = rssKb();
        long rssAfterKb = -1;
        long rssHeldKb = -1;
        long connectNs = 0;
        long ready = 0;
        try
        {
            final long startNs = System.nanoTime();
            AgentRunner.startOnThread(runner);
            final boolean allReady = monitor.awaitReady(counters, connections.length, startNs + config.connectTimeoutNs);
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
                    LockSupport.parkNanos(HOLD_POLL_NS);
                }
                rssHeldKb = rssKb();
            }
        }
        finally
        {
            ready = AgentCounters.sum(counters, AgentCounters.READY); // before closing, which counts them down
            CloseHelper.quietClose(runner);
        }

        return new LoadResult(config, 0, 0, 0, 0, 0, 0, 0, 0, 0, latency.total(), control.failure(),
            new LoadResult.Connections(connections.length, ready, addresses, connectNs, rssBeforeKb, rssAfterKb, rssHeldKb),
            LoadResult.Usage.NONE, null);
    }

    /**
     * A runner for {@code agent} whose errors fail the run.
     */
    private AgentRunner runner(final ClientAgent agent)
    {
        return new AgentRunner(new ClientAgent.SelectorIdleStrategy(agent),
            (throwable) -> control.fail(LoadControl.EXIT_PROTOCOL, "load agent error: " + throwable), null, agent);
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
}
