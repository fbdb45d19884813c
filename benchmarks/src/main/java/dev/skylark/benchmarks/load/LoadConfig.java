/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.util.concurrent.TimeUnit;

/**
 * Options of a load-generator run, set from {@code --key value} arguments by {@link LoadCommandLine}, validated once
 * by {@link #conclude()} before any connection is opened, and what follows from them for the scenario (topics,
 * filters, copies per message, the paced interval).
 */
public final class LoadConfig
{
    /** The command line's usage text, see {@link LoadCommandLine#USAGE}. */
    public static final String USAGE = LoadCommandLine.USAGE;

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
    /** More broker processes (a cluster's other nodes): CPU is summed over these and {@link #brokerPid}. */
    public long[] extraBrokerPids = new long[0];
    /** Ports publisher i connects to: {@code publisherPorts[i % length]}; empty = {@link #port}. */
    public int[] publisherPorts = new int[0];
    /** Ports subscriber i connects to: {@code subscriberPorts[i % length]}; empty = {@link #port}. */
    public int[] subscriberPorts = new int[0];
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
     * Subscribers connect as persistent sessions (3.1.1: Clean Session 0; 5.0: Clean Start 1 and a Session Expiry
     * Interval of {@link #PERSISTENT_SESSION_EXPIRY_S}), so a broker that journals QoS 1/2 messages only for sessions
     * that outlive their connection does so. Publishers stay clean. A 5.0 subscriber ends its session with its
     * DISCONNECT (expiry 0); a 3.1.1 one cannot, so its session stays on the broker after the run.
     */
    public boolean persistentSubscribers;
    /** Session Expiry Interval of a persistent subscriber in MQTT 5 (seconds). */
    public static final int PERSISTENT_SESSION_EXPIRY_S = 3600;

    /**
     * Parse {@code --key value} arguments, see {@link LoadCommandLine#parse(String[])}.
     *
     * @param args from the command line.
     * @return the parsed, concluded configuration.
     * @throws IllegalArgumentException with a message fit for the user.
     */
    public static LoadConfig parse(final String[] args)
    {
        return LoadCommandLine.parse(args);
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
        for (final int p : publisherPorts)
        {
            require(p > 0 && p < 65536, "--publisher-ports: port out of range: " + p);
        }
        for (final int p : subscriberPorts)
        {
            require(p > 0 && p < 65536, "--subscriber-ports: port out of range: " + p);
        }
        require(extraBrokerPids.length == 0 || brokerPid > 0, "--broker-pids needs at least one pid");
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
     * @param role  publisher or subscriber.
     * @param index the connection's index within its role.
     * @return the broker port this connection connects to: round robin over the role's port list, else {@link #port}.
     */
    public int portOf(final ClientConnection.Role role, final int index)
    {
        final int[] ports = ClientConnection.Role.PUBLISHER == role ? publisherPorts : subscriberPorts;
        return 0 == ports.length ? port : ports[index % ports.length];
    }

    /**
     * @return user + system CPU time of every broker process ({@link #brokerPid} and {@link #extraBrokerPids}) in
     *     ns, or -1 when one of them cannot be read.
     */
    long brokerCpuNs()
    {
        long sum = ProcessUsage.cpuNs(brokerPid);
        for (int i = 0; i < extraBrokerPids.length && sum >= 0; i++)
        {
            final long ns = ProcessUsage.cpuNs(extraBrokerPids[i]);
            sum = ns < 0 ? -1 : sum + ns;
        }

        return sum;
    }

    /**
     * @param field a {@code /proc/<pid>/status} field in kB.
     * @return its sum over every broker process, or -1 when one of them cannot be read.
     */
    long brokerStatusKb(final String field)
    {
        long sum = ProcessUsage.statusKb(brokerPid, field);
        for (int i = 0; i < extraBrokerPids.length && sum >= 0; i++)
        {
            final long kb = ProcessUsage.statusKb(extraBrokerPids[i], field);
            sum = kb < 0 ? -1 : sum + kb;
        }

        return sum;
    }

    /**
     * @param role publisher or subscriber.
     * @return the Session Expiry Interval its CONNECT asks for: {@link #PERSISTENT_SESSION_EXPIRY_S} for a subscriber
     *     with {@link #persistentSubscribers}, else 0 (a clean session).
     */
    public int sessionExpiryS(final ClientConnection.Role role)
    {
        return persistentSubscribers && ClientConnection.Role.SUBSCRIBER == role ? PERSISTENT_SESSION_EXPIRY_S : 0;
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

    private static void require(final boolean condition, final String message)
    {
        if (!condition)
        {
            throw new IllegalArgumentException(message);
        }
    }
}
