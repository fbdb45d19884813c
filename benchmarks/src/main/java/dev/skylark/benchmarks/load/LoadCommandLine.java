/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

/**
 * The load generator's command line: the usage text and the hand parser of {@code --key value} arguments into a
 * {@link LoadConfig}, which it concludes. Called by {@link LoadConfig#parse(String[])} (and so by
 * {@link LoadGenerator#run}); {@code perf-scripts/} depend on these option names.
 */
final class LoadCommandLine
{
    static final String USAGE = String.join(System.lineSeparator(),
        "usage: java -cp benchmarks.jar dev.skylark.benchmarks.load.LoadGenerator [--key value]...",
        "  --scenario fan-in        P publishers on devices/<i>/telemetry -> subscriber(s) on devices/+/telemetry",
        "             fan-out       P publishers (default 1) on fanout/telemetry -> S subscribers (default 100) on it",
        "             p2p           P pairs (default 4): publisher i on p2p/<i> -> its own subscriber on p2p/<i>",
        "             connections   open --connections idle connections (CONNECT + SUBSCRIBE idle/<i>), hold them",
        "                           for --duration, report the broker's RSS per connection (needs --broker-pid)",
        "  --host 127.0.0.1         broker host",
        "  --port 1883              broker port of the transport: MQTT (tcp, 1883), HTTP/WebSocket (ws, 8080),",
        "                           MQTT/TLS (tls, 8883) or HTTPS/secure WebSocket (wss, 8884)",
        "  --transport tcp          tcp: plain MQTT (default); ws: MQTT over WebSocket (binary frames, subprotocol",
        "                           mqtt); tls: MQTT over TLS (mqtts); wss: MQTT over WebSocket over TLS",
        "  --ws-path /mqtt          request path of the WebSocket upgrade",
        "  --cafile cert.pem        tls/wss: trust the PEM certificate(s) in this file (the broker's certificate must",
        "                           name --host); default: the JDK's trust store",
        "  --trust-all              tls/wss: accept ANY certificate, no host name check. Benchmarking a local broker",
        "                           with a self-signed certificate only: this gives no security at all",
        "  --broker name            label for the RESULT line (default: broker)",
        "  --publishers 4           publisher connections (fan-in 4, fan-out 1, p2p 4 = pairs)",
        "  --subscribers 1          subscriber connections (fan-in 1, fan-out 100, p2p = publishers;",
        "                           with --shared-group they share the stream)",
        "  --connections 1000       connections scenario: idle connections to open",
        "  --source-addresses 4     connections scenario: spread connections over 127.0.0.1..127.0.0.N (loopback",
        "                           only) so one address's ephemeral ports do not limit them; 1 = no bind",
        "  --broker-pid pid         read the broker's VmRSS from /proc/<pid>/status before and after connecting",
        "  --broker-pids p1,p2,..   several broker processes (a cluster's nodes): broker_cpu, broker_cpu_us_per_msg",
        "                           and broker_rss_kb are their sums (replaces --broker-pid)",
        "  --publisher-ports a,b,.. publisher i connects to port list[i mod n] (e.g. one node of a cluster each);",
        "                           default --port",
        "  --subscriber-ports a,..  the same for subscriber i",
        "  --max-outstanding 100000 flat out: publishers pause while deliveries outstanding (sent x copies -",
        "                           received, whole run) reach this, so the broker's queues stay bounded; 0 = off",
        "  --shared-group name      subscribe on $share/<name>/devices/+/telemetry",
        "  --qos 0|1|2              QoS of publishes and subscriptions (default 0)",
        "  --payload 64             payload bytes (>= 16: send time, publisher id, sequence)",
        "  --duration 10s           measured time (ns|us|ms|s|m suffix, default s)",
        "  --warmup 2s              time before measuring",
        "  --rate 0                 total msgs/s across publishers; 0 = flat out",
        "  --inflight 16            per-publisher QoS>0 window (capped by the broker's Receive Maximum)",
        "  --mqtt-version 3|5       3 = MQTT 3.1.1, 5 = MQTT 5.0",
        "  --username u --password p",
        "  --threads 2              1 = one selector thread for all, 2 = subscribers and publishers apart",
        "  --hlog path              write the latency histogram log (HdrHistogram .hlog)",
        "  --connect-timeout 5s     deadline for CONNACK/SUBACK of every connection (connections: 120s)",
        "  --drain-timeout 5s       after the run, give up when no delivery arrived for this long (QoS>0)",
        "  --persistent-subscribers subscribers connect as persistent sessions, so the broker keeps (and journals",
        "                           QoS 1/2 messages for) them: 3.1.1 Clean Session 0 with a client id unique to",
        "                           this run; 5.0 Clean Start 1 + Session Expiry Interval 3600 s, ended by the",
        "                           DISCONNECT (expiry 0) at the end. 3.1.1 sessions stay on the broker after the run",
        "                           and queue a later run's messages: restart the broker. Publishers stay clean",
        "  --quiet                  no per-second progress lines");

    /**
     * Parse {@code --key value} arguments.
     *
     * @param args from the command line.
     * @return the parsed, concluded configuration.
     * @throws IllegalArgumentException with a message fit for the user.
     */
    static LoadConfig parse(final String[] args)
    {
        final LoadConfig config = new LoadConfig();
        for (int i = 0; i < args.length; i++)
        {
            final String key = args[i];
            if ("--quiet".equals(key))
            {
                config.quiet = true;
                continue;
            }
            if ("--trust-all".equals(key))
            {
                config.trustAll = true;
                continue;
            }
            if ("--persistent-subscribers".equals(key))
            {
                config.persistentSubscribers = true;
                continue;
            }
            if (!key.startsWith("--") || i + 1 >= args.length)
            {
                throw new IllegalArgumentException("expected --key value, got: " + key);
            }

            final String value = args[++i];
            switch (key)
            {
                case "--scenario": config.scenario = value; break;
                case "--host": config.host = value; break;
                case "--port": config.port = parseInt(key, value); break;
                case "--transport": config.transport = value; break;
                case "--ws-path": config.wsPath = value; break;
                case "--cafile": config.caFile = value; break;
                case "--broker": config.brokerName = value; break;
                case "--publishers": config.publishers = parseInt(key, value); break;
                case "--subscribers": config.subscribers = parseInt(key, value); break;
                case "--connections": config.connections = parseInt(key, value); break;
                case "--source-addresses": config.sourceAddresses = parseInt(key, value); break;
                case "--broker-pid": config.brokerPid = parseLong(key, value); break;
                case "--broker-pids":
                {
                    final long[] pids = parseLongs(key, value);
                    config.brokerPid = pids[0];
                    config.extraBrokerPids = java.util.Arrays.copyOfRange(pids, 1, pids.length);
                    break;
                }
                case "--publisher-ports": config.publisherPorts = parseInts(key, value); break;
                case "--subscriber-ports": config.subscriberPorts = parseInts(key, value); break;
                case "--max-outstanding": config.maxOutstanding = parseLong(key, value); break;
                case "--shared-group": config.sharedGroup = value; break;
                case "--qos": config.qos = parseInt(key, value); break;
                case "--payload": config.payloadLength = parseInt(key, value); break;
                case "--duration": config.durationNs = parseDurationNs(key, value); break;
                case "--warmup": config.warmupNs = parseDurationNs(key, value); break;
                case "--rate": config.rate = parseLong(key, value); break;
                case "--inflight": config.inflight = parseInt(key, value); break;
                case "--mqtt-version": config.protocolVersion = parseVersion(value); break;
                case "--username": config.username = value; break;
                case "--password": config.password = value; break;
                case "--threads": config.threads = parseInt(key, value); break;
                case "--hlog": config.hlogPath = value; break;
                case "--connect-timeout": config.connectTimeoutNs = parseDurationNs(key, value); break;
                case "--drain-timeout": config.drainTimeoutNs = parseDurationNs(key, value); break;
                default: throw new IllegalArgumentException("unknown option: " + key);
            }
        }

        return config.conclude();
    }

    static long parseDurationNs(final String key, final String value)
    {
        final String v = value.trim().toLowerCase();
        final long multiplier;
        final String digits;
        if (v.endsWith("ns"))
        {
            multiplier = 1;
            digits = v.substring(0, v.length() - 2);
        }
        else if (v.endsWith("us"))
        {
            multiplier = 1_000;
            digits = v.substring(0, v.length() - 2);
        }
        else if (v.endsWith("ms"))
        {
            multiplier = 1_000_000;
            digits = v.substring(0, v.length() - 2);
        }
        else if (v.endsWith("s"))
        {
            multiplier = 1_000_000_000;
            digits = v.substring(0, v.length() - 1);
        }
        else if (v.endsWith("m"))
        {
            multiplier = 60_000_000_000L;
            digits = v.substring(0, v.length() - 1);
        }
        else
        {
            multiplier = 1_000_000_000;
            digits = v;
        }

        try
        {
            return Math.round(Double.parseDouble(digits) * multiplier);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(key + " is not a duration: " + value);
        }
    }

    private static int parseVersion(final String value)
    {
        switch (value)
        {
            case "3": case "3.1.1": case "4": return ClientPacketEncoder.MQTT_3_1_1;
            case "5": case "5.0": return ClientPacketEncoder.MQTT_5;
            default: throw new IllegalArgumentException("--mqtt-version must be 3 or 5: " + value);
        }
    }

    private static int parseInt(final String key, final String value)
    {
        try
        {
            return Integer.parseInt(value.trim());
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(key + " is not an integer: " + value);
        }
    }

    private static int[] parseInts(final String key, final String value)
    {
        final long[] longs = parseLongs(key, value);
        final int[] ints = new int[longs.length];
        for (int i = 0; i < longs.length; i++)
        {
            if (longs[i] > Integer.MAX_VALUE)
            {
                throw new IllegalArgumentException(key + " is not a list of integers: " + value);
            }
            ints[i] = (int)longs[i];
        }

        return ints;
    }

    private static long[] parseLongs(final String key, final String value)
    {
        final String[] parts = value.split(",", -1);
        final long[] longs = new long[parts.length];
        for (int i = 0; i < parts.length; i++)
        {
            longs[i] = parseLong(key, parts[i]);
        }

        return longs;
    }

    private static long parseLong(final String key, final String value)
    {
        try
        {
            return Long.parseLong(value.trim().replace("_", ""));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(key + " is not an integer: " + value);
        }
    }

    private LoadCommandLine()
    {
    }
}
