/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.HdrHistogram.Histogram;

/**
 * The main thread's part of a publish/subscribe run, reading the agents' {@link AgentCounters}: waits until the
 * connections are READY, prints progress once a second, samples CPU and the broker's RSS over the measured window,
 * drains the deliveries still under way, and sums the counters into a {@link LoadResult}. Called by
 * {@link LoadGenerator}; it never touches a connection.
 */
final class RunMonitor
{
    private static final long POLL_NS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long REPORT_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);
    private static final long QOS0_DRAIN_QUIET_NS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long MAX_DRAIN_NS = TimeUnit.SECONDS.toNanos(30);

    private final LoadConfig config;
    private final PrintStream out;
    private final LoadControl control;
    private final LatencyLog latency;
    private LoadResult.Usage usage = LoadResult.Usage.NONE;

    RunMonitor(final LoadConfig config, final PrintStream out, final LoadControl control, final LatencyLog latency)
    {
        this.config = config;
        this.out = out;
        this.control = control;
        this.latency = latency;
    }

    /**
     * Wait until {@code expected} connections are READY.
     *
     * @return false on a failure or when the deadline passed (then recorded as the failure).
     */
    boolean awaitReady(final AgentCounters[] counters, final long expected, final long deadlineNs)
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

    /**
     * Until the end of the measured window: a progress line a second, CPU and RSS sampled at the window's edges.
     *
     * @return false on a failure.
     */
    boolean runAndReport(final AgentCounters[] counters, final long startNs)
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
                brokerCpuStartNs = config.brokerCpuNs();
            }
            if (nowNs - endNs >= 0)
            {
                final long loadgenCpuEndNs = ProcessUsage.cpuNs(selfPid);
                final long brokerCpuEndNs = config.brokerCpuNs();
                usage = new LoadResult.Usage(System.nanoTime() - windowStartNs,
                    loadgenCpuStartNs < 0 || loadgenCpuEndNs < 0 ? -1 : loadgenCpuEndNs - loadgenCpuStartNs,
                    brokerCpuStartNs < 0 || brokerCpuEndNs < 0 ? -1 : brokerCpuEndNs - brokerCpuStartNs,
                    config.brokerStatusKb("VmRSS"), startEpochMs, System.currentTimeMillis());
                return true;
            }
            if (nowNs - nextReportNs >= 0)
            {
                final long sent = AgentCounters.sum(counters, AgentCounters.SENT_TOTAL);
                final long received = AgentCounters.sum(counters, AgentCounters.RECEIVED_TOTAL);
                final Histogram h = latency.collectInterval();
                if (!config.quiet)
                {
                    out.printf(Locale.ROOT,
                        "[%5.1fs] %-8s sent %,10.0f/s  received %,10.0f/s  in-flight %,6d  p99 %,10.1f us%n",
                        (nowNs - startNs) / 1e9,
                        nextReportNs - REPORT_INTERVAL_NS - control.measureStartNs() < 0 ? "warm-up" :
                        nowNs - endNs > 0 ? "drain" : "measure",
                        (sent - lastSent) * 1e9 / REPORT_INTERVAL_NS,
                        (received - lastReceived) * 1e9 / REPORT_INTERVAL_NS,
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

    /**
     * After the window: wait while deliveries still progress, until every expected one arrived and nothing is in
     * flight, or a quiet period or the hard cap passed.
     */
    void drain(final AgentCounters[] counters)
    {
        // Brokers may queue a backlog for slow subscribers (QoS 1 too: PUBACK does not wait for delivery), so wait
        // as long as deliveries progress, up to a hard cap; stop after drainTimeoutNs without progress.
        final long deadlineNs = System.nanoTime() + Math.max(MAX_DRAIN_NS, 2 * config.durationNs);
        final int copies = config.copiesPerMessage();
        long lastReceived = -1;
        long lastProgressNs = System.nanoTime();
        long doneAt = -1;
        while (null == control.failure())
        {
            final long nowNs = System.nanoTime();
            // Read in the opposite order to the agents' writes: in flight first, then sent, then received last. Read
            // the other way, a stale "sent" with a newer "nothing in flight" ended the drain before the subscriber had
            // the last window of messages, and they were counted as lost. Done only when it holds on two polls in a
            // row, so an agent that had not yet seen the window end cannot add to "sent" after the decision.
            final long inflight = AgentCounters.sum(counters, AgentCounters.INFLIGHT);
            final long expected = AgentCounters.sum(counters, AgentCounters.SENT_IN_WINDOW) * copies;
            final long received = AgentCounters.sum(counters, AgentCounters.RECEIVED_IN_WINDOW);
            final long receivedTotal = AgentCounters.sum(counters, AgentCounters.RECEIVED_TOTAL);
            if (received >= expected && 0 == inflight)
            {
                if (expected == doneAt)
                {
                    return;
                }
                doneAt = expected;
            }
            else
            {
                doneAt = -1;
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

    /**
     * @return the result of a run that failed: the counters so far and the failure, no connection figures.
     */
    LoadResult failed(final AgentCounters[] counters)
    {
        final LoadResult result = result(counters);

        return new LoadResult(config, result.sent(), result.expected(), result.received(), result.arrived(),
            result.gaps(), result.outOfOrder(), result.badAcks(), result.stale(), result.maxSendLagNs(),
            latency.total(), control.failure(), null, usage, latency.ackTotal());
    }

    /**
     * @return the result summed over the agents' counters.
     */
    LoadResult result(final AgentCounters[] counters)
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
            latency.total(),
            null,
            null,
            usage,
            latency.ackTotal());
    }
}
