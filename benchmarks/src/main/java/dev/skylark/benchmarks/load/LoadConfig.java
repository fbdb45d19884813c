/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.util.concurrent.TimeUnit;

/**
 * Options of a load-generator run, hand-parsed from {@code --key value} arguments, validated once by
 * {@link #conclude()} before any connection is opened.
 */
public final class LoadConfig
{
    public static final String USAGE = String.join(System.lineSeparator(),
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
        "  --quiet                  no per-second progress lines");

    public String scenario = "fan-in";
    public String host = "127.0.0.1";
    public int port = 1883;
    public String transport = "tcp";
    public String wsPath = "/mqtt";
    public String caFile;
    public boolean trustAll;
    public static final String TCP = "tcp";
    public static final String WS = "ws";
    public static final String TLS = "tls";
    public static final String WSS = "wss";
    public String brokerName = "broker";
    public static final String FAN_IN = "fan-in";
    public static final String FAN_OUT = "fan-out";
    public static final String P2P = "p2p";
    public static final String CONNECTIONS = "connections";

    public int publishers = -1;
    public int subscribers = -1;
    public int connections = 1000;
    public int sourceAddresses = 4;
    public long brokerPid = -1;
    public long maxOutstanding = 100_000;
    public String sharedGroup;
    public int qos = 0;
    public int payloadLength = 64;
    public long durationNs = TimeUnit.SECONDS.toNanos(10);
    public long warmupNs = TimeUnit.SECONDS.toNanos(2);
    public long rate = 0;
    public int inflight = 16;
    public int protocolVersion = ClientPacketEncoder.MQTT_3_1_1;
    public String username;
    public String password;
    public int threads = 2;
    public String hlogPath;
    public long connectTimeoutNs = -1;
    public long drainTimeoutNs = TimeUnit.SECONDS.toNanos(5);
    public int keepAliveS = 60;
    public boolean quiet;

    /**
     * Parse {@code --key value} arguments.
     *
     * @param args from the command line.
     * @return the parsed, concluded configuration.
     * @throws IllegalArgumentException with a message fit for the user.
     */
    public static LoadConfig parse(final String[] args)
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

    /**
     * Validate every value and cross-limit.
     *
     * @return this.
     */
    public LoadConfig conclude()
    {
        switch (scenario)
        {
            case FAN_IN:
                publishers = publishers < 0 ? 4 : publishers;
                subscribers = subscribers < 0 ? 1 : subscribers;
                break;
            case FAN_OUT:
                publishers = publishers < 0 ? 1 : publishers;
                subscribers = subscribers < 0 ? 100 : subscribers;
                break;
            case P2P:
                publishers = publishers < 0 ? 4 : publishers;
                require(subscribers < 0 || subscribers == publishers, "p2p: --subscribers must equal --publishers");
                require(null == sharedGroup, "p2p: no --shared-group");
                subscribers = publishers;
                break;
            case CONNECTIONS:
                publishers = 0;
                subscribers = connections;
                require(connections >= 1, "--connections must be >= 1");
                require(null == sharedGroup, "connections: no --shared-group");
                break;
            default:
                throw new IllegalArgumentException(
                    "unknown --scenario (supported: fan-in, fan-out, p2p, connections): " + scenario);
        }
        if (connectTimeoutNs < 0)
        {
            connectTimeoutNs = TimeUnit.SECONDS.toNanos(CONNECTIONS.equals(scenario) ? 120 : 5);
        }
        require(TCP.equals(transport) || WS.equals(transport) || TLS.equals(transport) || WSS.equals(transport),
            "--transport must be tcp, ws, tls or wss: " + transport);
        require(tls() || (null == caFile && !trustAll), "--cafile and --trust-all need --transport tls or wss");
        require(null == caFile || !trustAll, "--cafile and --trust-all exclude each other");
        require(null == caFile || java.nio.file.Files.isReadable(java.nio.file.Path.of(caFile)),
            "--cafile not readable: " + caFile);
        require(null != wsPath && wsPath.startsWith("/") && wsPath.chars().noneMatch((ch) -> ch <= ' ' || ch > '~'),
            "--ws-path must start with / and hold no spaces: " + wsPath);
        require(sourceAddresses >= 1 && sourceAddresses <= 254, "--source-addresses must be between 1 and 254");
        require(maxOutstanding >= 0, "--max-outstanding must be >= 0");
        require(port > 0 && port < 65536, "--port out of range: " + port);
        require(publishers >= 1 || CONNECTIONS.equals(scenario), "--publishers must be >= 1");
        require(subscribers >= 1, "--subscribers must be >= 1");
        require(qos >= 0 && qos <= 2, "--qos must be 0, 1 or 2");
        require(payloadLength >= PayloadDescriptor.HEADER_LENGTH && payloadLength <= 1 << 20,
            "--payload must be between " + PayloadDescriptor.HEADER_LENGTH + " and 1048576 bytes");
        require(durationNs > 0, "--duration must be > 0");
        require(warmupNs >= 0, "--warmup must be >= 0");
        require(rate >= 0, "--rate must be >= 0");
        require(rate == 0 || rate <= publishers * 1_000_000_000L, "--rate too high");
        require(inflight >= 1 && inflight <= 65535, "--inflight must be between 1 and 65535");
        require(threads == 1 || threads == 2, "--threads must be 1 or 2");
        require(null == sharedGroup || (!sharedGroup.isEmpty() && sharedGroup.matches("[^/+#]+")),
            "--shared-group must be a non-empty name without / + #");
        require(null == password || null != username || ClientPacketEncoder.MQTT_5 == protocolVersion,
            "--password without --username needs --mqtt-version 5");
        require(connectTimeoutNs > 0 && drainTimeoutNs >= 0, "timeouts must be positive");

        return this;
    }

    /**
     * @return true for MQTT over WebSocket.
     */
    public boolean webSocket()
    {
        return WS.equals(transport) || WSS.equals(transport);
    }

    /**
     * @return true for MQTT over TLS, plain or inside a WebSocket.
     */
    public boolean tls()
    {
        return TLS.equals(transport) || WSS.equals(transport);
    }

    /**
     * @return the filter subscribers subscribe to.
     */
    public String subscriptionFilter()
    {
        return subscriptionFilter(0);
    }

    /**
     * @param subscriber index of the subscriber.
     * @return the filter that subscriber subscribes to.
     */
    public String subscriptionFilter(final int subscriber)
    {
        final String filter;
        switch (scenario)
        {
            case FAN_OUT: filter = "fanout/telemetry"; break;
            case P2P: filter = "p2p/" + subscriber; break;
            case CONNECTIONS: filter = "idle/" + subscriber; break;
            default: filter = "devices/+/telemetry"; break;
        }

        return null == sharedGroup ? filter : "$share/" + sharedGroup + "/" + filter;
    }

    /**
     * @param publisher index of the publisher.
     * @return the topic it publishes on.
     */
    public String publishTopic(final int publisher)
    {
        switch (scenario)
        {
            case FAN_OUT: return "fanout/telemetry";
            case P2P: return "p2p/" + publisher;
            default: return "devices/" + publisher + "/telemetry";
        }
    }

    /**
     * @return how many copies of each publish the subscribers receive in total.
     */
    public int copiesPerMessage()
    {
        if (P2P.equals(scenario))
        {
            return 1;
        }

        return null == sharedGroup ? subscribers : 1;
    }

    /**
     * @return interval between two sends of one publisher when paced, 0 when flat out.
     */
    public long publisherIntervalNs()
    {
        return 0 == rate ? 0 : Math.max(1, Math.round(publishers * 1e9 / rate));
    }

    /**
     * @return "3" or "5" as given on the command line.
     */
    public String versionLabel()
    {
        return ClientPacketEncoder.MQTT_5 == protocolVersion ? "5" : "3";
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

    private static void require(final boolean condition, final String message)
    {
        if (!condition)
        {
            throw new IllegalArgumentException(message);
        }
    }
}
