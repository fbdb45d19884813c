/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.util.Locale;

import org.HdrHistogram.Histogram;

/**
 * Outcome of one run. Counts cover messages whose stamped send time falls in the measured window; {@code arrived}
 * counts deliveries that arrived during the window and gives the receive rate.
 *
 * @param config    of the run.
 * @param sent      publishes sent in the window.
 * @param expected  deliveries expected: sent times copies per message.
 * @param received  deliveries of messages sent in the window, however late.
 * @param arrived   deliveries that arrived during the window.
 * @param gaps      missing sequence numbers (non-shared subscriptions only).
 * @param outOfOrder sequence numbers seen late or twice.
 * @param badAcks   failed or unexpected acks.
 * @param stale     deliveries sent before this run started (an earlier run's backlog in the broker).
 * @param maxSendLagNs largest lag behind the schedule when paced.
 * @param latency   end-to-end latency histogram in ns.
 * @param failure   first failure or null.
 * @param connections figures of the {@code connections} scenario, else null.
 * @param usage     CPU and memory used during the measured window.
 * @param ackLatency acknowledgement latency (send time to PUBACK at QoS 1, PUBCOMP at QoS 2) in ns; empty at QoS 0.
 */
public record LoadResult(
    LoadConfig config,
    long sent,
    long expected,
    long received,
    long arrived,
    long gaps,
    long outOfOrder,
    long badAcks,
    long stale,
    long maxSendLagNs,
    Histogram latency,
    LoadControl.Failure failure,
    LoadResult.Connections connections,
    LoadResult.Usage usage,
    Histogram ackLatency)
{
    /**
     * CPU and memory during the measured window, from {@code /proc} (-1 where unknown: not Linux, no
     * {@code --broker-pid}).
     *
     * @param windowNs     length of the window between the two readings.
     * @param loadgenCpuNs CPU time of the load generator's process in the window.
     * @param brokerCpuNs  CPU time of the broker's process ({@code --broker-pid}) in the window.
     * @param brokerRssKb  the broker's VmRSS at the end of the window.
     * @param startEpochMs wall-clock time of the window's start (to match it with e.g. a GC log).
     * @param endEpochMs   wall-clock time of its end.
     */
    public record Usage(
        long windowNs, long loadgenCpuNs, long brokerCpuNs, long brokerRssKb, long startEpochMs, long endEpochMs)
    {
        /** Nothing measured. */
        public static final Usage NONE = new Usage(0, -1, -1, -1, 0, 0);

        /**
         * @return the load generator's average CPU use in the window, in cores; -1 when unknown.
         */
        public double loadgenCores()
        {
            return cores(loadgenCpuNs);
        }

        /**
         * @return the broker's average CPU use in the window, in cores; -1 when unknown.
         */
        public double brokerCores()
        {
            return cores(brokerCpuNs);
        }

        /**
         * @param messages deliveries that arrived in the window.
         * @return broker CPU time per delivery in microseconds; -1 when unknown.
         */
        public double brokerCpuUsPerMessage(final long messages)
        {
            return brokerCpuNs < 0 || messages <= 0 ? -1 : brokerCpuNs / 1000.0 / messages;
        }

        private double cores(final long cpuNs)
        {
            return cpuNs < 0 || windowNs <= 0 ? -1 : (double)cpuNs / windowNs;
        }
    }

    /**
     * Figures of the {@code connections} scenario.
     *
     * @param requested   connections asked for.
     * @param ready       connections that completed CONNECT and SUBSCRIBE.
     * @param addresses   loopback source addresses used.
     * @param connectNs   time to open all of them.
     * @param rssBeforeKb broker VmRSS before connecting, -1 when unknown.
     * @param rssAfterKb  broker VmRSS once all were ready (after a settle pause), -1 when unknown.
     * @param rssHeldKb   broker VmRSS at the end of the hold, -1 when unknown.
     */
    public record Connections(
        int requested, long ready, int addresses, long connectNs, long rssBeforeKb, long rssAfterKb, long rssHeldKb)
    {
        /**
         * @return (RSS at the end of the hold - RSS before) / connections, in bytes; -1 when unknown.
         */
        public long bytesPerConnection()
        {
            final long after = rssHeldKb >= 0 ? rssHeldKb : rssAfterKb;
            return rssBeforeKb < 0 || after < 0 || ready <= 0 ? -1 : (after - rssBeforeKb) * 1024 / ready;
        }

        public double connectRate()
        {
            return connectNs <= 0 ? 0 : ready * 1e9 / connectNs;
        }
    }

    /**
     * @return expected minus received deliveries.
     */
    public long lost()
    {
        return expected - received;
    }

    public double durationS()
    {
        return config.durationNs / 1e9;
    }

    public double sentRate()
    {
        return sent / durationS();
    }

    public double receiveRate()
    {
        return arrived / durationS();
    }

    /**
     * @param percentile 0 to 100.
     * @return latency in microseconds.
     */
    public double latencyUs(final double percentile)
    {
        return latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(percentile) / 1000.0;
    }

    public double maxLatencyUs()
    {
        return latency.getTotalCount() == 0 ? 0 : latency.getMaxValue() / 1000.0;
    }

    /**
     * @param percentile 0 to 100, or above 100 for the maximum.
     * @return acknowledgement latency in microseconds, -1 when there is none (QoS 0, no histogram).
     */
    public double ackLatencyUs(final double percentile)
    {
        if (null == ackLatency || ackLatency.getTotalCount() == 0)
        {
            return -1;
        }
        return (percentile > 100 ? ackLatency.getMaxValue() : ackLatency.getValueAtPercentile(percentile)) / 1000.0;
    }

    /**
     * @return the single machine-readable summary line.
     */
    public String resultLine()
    {
        // only when set, so the lines of clean-session runs stay as they were
        return summaryLine() + (config.persistentSubscribers ? " persistent_subscribers=1" : "");
    }

    private String summaryLine()
    {
        if (null != connections)
        {
            return String.format(Locale.ROOT,
                "RESULT scenario=%s broker=%s transport=%s mqtt=%s qos=%d connections=%d ready=%d source_addresses=%d " +
                "connect_s=%.2f rate_conn_s=%.0f rss_before_kb=%d rss_after_kb=%d rss_held_kb=%d bytes_per_conn=%d",
                config.scenario, config.brokerName, config.transport, config.versionLabel(), config.qos,
                connections.requested(),
                connections.ready(), connections.addresses(), connections.connectNs() / 1e9,
                connections.connectRate(), connections.rssBeforeKb(), connections.rssAfterKb(),
                connections.rssHeldKb(), connections.bytesPerConnection());
        }

        return String.format(Locale.ROOT,
            "RESULT scenario=%s broker=%s transport=%s mqtt=%s qos=%d publishers=%d subscribers=%d shared=%s payload=%d " +
            "mode=%s target_rate=%d duration_s=%.1f sent=%d expected=%d received=%d lost=%d gaps=%d " +
            "sent_msgs_s=%.0f rate_msgs_s=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f " +
            "loadgen_cpu=%.2f broker_cpu=%.2f broker_cpu_us_per_msg=%.3f broker_rss_kb=%d " +
            "measure_start_ms=%d measure_end_ms=%d puback_p50_us=%.1f puback_p99_us=%.1f puback_p999_us=%.1f " +
            "puback_max_us=%.1f",
            config.scenario, config.brokerName, config.transport, config.versionLabel(), config.qos,
            config.publishers,
            config.subscribers, null == config.sharedGroup ? "-" : config.sharedGroup, config.payloadLength,
            0 == config.rate ? "flat-out" : "paced", config.rate, durationS(), sent, expected, received, lost(),
            gaps, sentRate(), receiveRate(), latencyUs(50), latencyUs(90), latencyUs(99), latencyUs(99.9),
            maxLatencyUs(), usage.loadgenCores(), usage.brokerCores(), usage.brokerCpuUsPerMessage(arrived),
            usage.brokerRssKb(), usage.startEpochMs(), usage.endEpochMs(), ackLatencyUs(50), ackLatencyUs(99),
            ackLatencyUs(99.9), ackLatencyUs(101));
    }

    private String transportLabel()
    {
        switch (config.transport)
        {
            case LoadConfig.WS: return " (WebSocket " + config.wsPath + ")";
            case LoadConfig.TLS: return " (TLS)";
            case LoadConfig.WSS: return " (WebSocket " + config.wsPath + " over TLS)";
            default: return "";
        }
    }

    /**
     * @return a human-readable report, several lines.
     */
    public String report()
    {
        if (null != connections)
        {
            return String.format(Locale.ROOT,
                "connections against %s at %s:%d  MQTT %s  %,d of %,d idle connections ready (CONNECT + SUBSCRIBE) " +
                "from %d source address(es) in %.1f s (%,.0f/s)%n  broker RSS before %,d kB, all ready %,d kB, " +
                "after %.1f s hold %,d kB: %,d bytes per connection",
                config.brokerName, config.host, config.port, config.versionLabel(), connections.ready(),
                connections.requested(), connections.addresses(), connections.connectNs() / 1e9,
                connections.connectRate(), connections.rssBeforeKb(), connections.rssAfterKb(), durationS(),
                connections.rssHeldKb(), connections.bytesPerConnection());
        }

        final StringBuilder sb = new StringBuilder(512);
        final String nl = System.lineSeparator();
        sb.append(String.format(Locale.ROOT,
            "%s against %s at %s:%d%s  MQTT %s  QoS %d  %d publisher(s) -> %d subscriber(s)%s  payload %d B  %s%n",
            config.scenario, config.brokerName, config.host, config.port,
            transportLabel(),
            ClientPacketEncoder.MQTT_5 == config.protocolVersion ? "5.0" : "3.1.1", config.qos, config.publishers,
            config.subscribers, null == config.sharedGroup ? "" : " (shared group " + config.sharedGroup + ")",
            config.payloadLength,
            0 == config.rate ? "flat out" + (config.qos > 0 ? ", in-flight window " + config.inflight : "") :
            "paced at " + config.rate + " msgs/s"));
        sb.append(String.format(Locale.ROOT, "  measured %.1f s after %.1f s warm-up%n", durationS(),
            config.warmupNs / 1e9));
        sb.append(String.format(Locale.ROOT, "  sent      %,12d msgs  %,12.0f msgs/s%n", sent, sentRate()));
        sb.append(String.format(Locale.ROOT, "  received  %,12d msgs  %,12.0f msgs/s (arrivals in window)%n",
            received, receiveRate()));
        sb.append(String.format(Locale.ROOT, "  lost      %,12d of %,d expected (%.3f%%)  gaps=%d out-of-order=%d bad-acks=%d%n",
            lost(), expected, expected == 0 ? 0.0 : 100.0 * lost() / expected, gaps, outOfOrder, badAcks));
        if (stale > 0)
        {
            sb.append(String.format(Locale.ROOT,
                "  warning: %,d deliveries were sent before this run (an earlier run's backlog in the broker)%n",
                stale));
        }
        sb.append(String.format(Locale.ROOT,
            "  latency   p50=%.1f  p90=%.1f  p99=%.1f  p99.9=%.1f  max=%.1f us  (%d samples%s)",
            latencyUs(50), latencyUs(90), latencyUs(99), latencyUs(99.9), maxLatencyUs(), latency.getTotalCount(),
            0 == config.rate ? ", from actual send time" : ", from intended send time: CO-corrected"));
        if (ackLatencyUs(50) >= 0)
        {
            sb.append(nl).append(String.format(Locale.ROOT,
                "  ack       p50=%.1f  p99=%.1f  p99.9=%.1f  max=%.1f us  (send to %s, %d samples)",
                ackLatencyUs(50), ackLatencyUs(99), ackLatencyUs(99.9), ackLatencyUs(101),
                2 == config.qos ? "PUBCOMP" : "PUBACK", ackLatency.getTotalCount()));
        }
        if (0 != config.rate)
        {
            sb.append(nl).append(String.format(Locale.ROOT, "  max lag behind schedule %.1f us", maxSendLagNs / 1000.0));
        }
        if (usage.loadgenCpuNs() >= 0)
        {
            sb.append(nl).append(String.format(Locale.ROOT, "  cpu       load generator %.2f cores", usage.loadgenCores()));
            if (usage.brokerCpuNs() >= 0)
            {
                sb.append(String.format(Locale.ROOT, ", broker %.2f cores = %.3f us per delivery, broker RSS %,d kB",
                    usage.brokerCores(), usage.brokerCpuUsPerMessage(arrived), usage.brokerRssKb()));
            }
        }

        return sb.toString();
    }
}
