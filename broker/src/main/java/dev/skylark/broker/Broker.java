package dev.skylark.broker;

import dev.skylark.broker.auth.AccessControl;
import dev.skylark.broker.auth.AccessRules;
import dev.skylark.broker.auth.AdminApi;
import dev.skylark.broker.auth.AuthMethod;
import dev.skylark.broker.auth.AuthMode;
import dev.skylark.broker.auth.AuthService;
import dev.skylark.broker.auth.AuthSettings;
import dev.skylark.broker.auth.FirstStart;
import dev.skylark.broker.auth.JwtAuthMethod;
import dev.skylark.broker.hook.HookPolicy;
import dev.skylark.broker.hook.HookSettings;
import dev.skylark.broker.http.BrokerRoutes;
import dev.skylark.broker.http.HttpRouter;
import dev.skylark.broker.journal.DataDirectoryLock;
import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.net.ListenerSpec;
import dev.skylark.broker.net.TlsIdentity;
import dev.skylark.broker.routing.RoutingCounters;
import dev.skylark.broker.status.BuildInfo;
import dev.skylark.broker.status.CountersFile;
import dev.skylark.broker.status.LogSetup;
import org.agrona.CloseHelper;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.SystemNanoClock;


import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A running Skylark broker: {@link #launch(Context)} builds the agents ({@link BrokerAgents}), opens the listeners
 * ({@link Listeners}) and puts the agents on threads ({@link AgentThreads}); {@link #close()} says goodbye to
 * clients (v5 DISCONNECT 0x8B) and stops every thread. In {@link ThreadingMode#INVOKER} no thread starts and the
 * caller drives the broker with {@link #doWork()}.
 */
public final class Broker implements AutoCloseable
{
    static
    {
        // Before anything can load Chronicle (the journal) or log: its announcer and analytics stay off.
        LogSetup.quietChronicle();
    }

    private static final System.Logger LOG = System.getLogger(Broker.class.getName());

    private final Context context;
    private final BrokerAgents agents;
    private final Listeners listeners;
    private final AgentThreads threads;
    private final ReloadRegistry reloads;
    private final AtomicLong agentErrors = new AtomicLong();
    private volatile boolean ready;
    private volatile boolean closed;

    private Broker(final Context context)
    {
        this.context = context;
        // Before anything in the data directory is touched: counters, the Aeron directory, journal replay/checkpoint.
        final DataDirectoryLock lock = DataDirectoryLock.acquire(Path.of(context.dataDir));
        try
        {
            agents = new BrokerAgents(context, lock);
        }
        catch (final RuntimeException ex)
        {
            lock.close();
            throw ex;
        }
        // With a management port, the operational paths live there and leave the public HTTP listener.
        final HttpRouter management = context.managementPort >= 0 ?
            BrokerRoutes.managementRouter(context.httpRouter()) : null;
        final dev.skylark.broker.routing.RetainedAdmin retainedAdmin = agents.router.retainedAdmin();
        BrokerRoutes.mount(management != null ? management : context.httpRouter(), agents.countersFile, () -> ready,
            agents.auth, context.adminRemote, new dev.skylark.broker.auth.AdminApi.RetainedAccess()
            {
                public long submit(
                    final String filter, final int qos, final long minBytes, final int limit, final boolean delete)
                {
                    return retainedAdmin.submit(filter, qos, minBytes, limit, delete);
                }

                public String answer(final long id)
                {
                    return retainedAdmin.answer(id);
                }

                public long submitSessions(final int kind, final String clientFilter, final int limit)
                {
                    return retainedAdmin.submitSessions(kind, clientFilter, limit);
                }
            }, agents.clusterNode == null ? null : agents.clusterNode::nodesJson);
        try
        {
            listeners = new Listeners(context, agents.ioAgents[0], management);
        }
        catch (final RuntimeException ex)
        {
            agents.closeUnstarted();
            throw ex;
        }
        threads = new AgentThreads(context.threadingMode, context.idleMode, agents, this::onError);
        reloads = new ReloadRegistry(context.givenSettings);
        BrokerReloads.register(reloads, context, agents, listeners);
    }

    /**
     * Where parts register what a SIGHUP reloads ({@link ReloadRegistry#register}): one call per part, e.g.
     * {@code broker.reloads().register("acl file", Set.of(ACL_FILE_PROP_NAME), (settings) -> acl.reload())}.
     */
    public ReloadRegistry reloads()
    {
        return reloads;
    }

    /**
     * SIGHUP: applies what can change live from these settings (the same sources as at start, read again) and logs
     * what changed and what needs a restart. Invalid settings change nothing (logged).
     *
     * @return what the reload did, or null when the settings were invalid.
     */
    public ReloadRegistry.Result reload(final Properties settings)
    {
        final List<String> problems = Configuration.validate(settings);
        if (!problems.isEmpty())
        {
            LOG.log(Level.WARNING, "reload refused, nothing changed: invalid configuration: " +
                String.join("; ", problems));
            return null;
        }
        return reloads.reload(settings);
    }

    /**
     * SIGTERM: {@code /readyz} answers 503 at once and the MQTT listeners stop accepting; then the broker waits up to
     * {@code skylark.shutdown.drain.ms} for clients to leave, and {@link #close() closes}: the clients still there get
     * DISCONNECT 0x8B, the journal is flushed. Blocks the caller until then.
     */
    public void shutdown()
    {
        if (closed)
        {
            return;
        }
        ready = false;
        listeners.stopAcceptingMqtt();
        final long drainMs = context.shutdownDrainMs;
        LOG.log(Level.INFO, "Skylark stopping: not ready, not accepting MQTT connections" + (drainMs > 0 ?
            ", waiting up to " + drainMs + " ms for " + connectionCount() + " connection(s) to leave" : ""));
        if (drainMs > 0)
        {
            final long deadlineNs = System.nanoTime() + drainMs * 1_000_000L;
            while (connectionCount() > 0 && System.nanoTime() - deadlineNs < 0)
            {
                java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
            }
        }
        leaveCluster();
        close();
    }

    /**
     * A clustered node's leave, before the agents stop: the routing agent disconnects the clients (v5: 0x9C Use
     * another server) and hands the persistent sessions this node owns to its heir, for at most
     * {@code skylark.cluster.leave.timeout.ms}; then {@link #close()} closes the registry session.
     */
    private void leaveCluster()
    {
        final long timeoutMs = context.clusterLeaveTimeoutMs;
        if (!agents.router.isClustered() || timeoutMs <= 0)
        {
            return;
        }
        agents.router.requestLeave(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(timeoutMs));
        agents.wakeRouter.run();
        // The routing agent keeps its own bound; this one (with a margin) only guards against an agent that stopped.
        final long deadlineNs = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(timeoutMs + 1000);
        while (!agents.router.hasLeft() && System.nanoTime() - deadlineNs < 0)
        {
            if (context.threadingMode == ThreadingMode.INVOKER)
            {
                threads.invoke();
            }
            else
            {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
            }
        }
    }

    /** Starts a broker with this configuration (concluded first). */
    public static Broker launch(final Context context)
    {
        context.conclude();
        LogSetup.apply(context.logLevel, context.logFormat);
        final Broker broker = new Broker(context);
        broker.threads.start();
        for (final String line : broker.listeners.log)
        {
            LOG.log(Level.INFO, line);
        }
        LOG.log(Level.INFO, "Skylark " + BuildInfo.VERSION + " started (Java " + BuildInfo.javaVersion() + ", pid " +
            ProcessHandle.current().pid() + "): " + context.ioThreads + " I/O thread(s), routing agent " +
            routerPlacement(context.threadingMode) + ", idle strategy " +
            context.idleMode.name().toLowerCase(Locale.ROOT) + ", auth mode " + AuthMode.propertyValue(context.authModes) +
            (context.authAnonymous && context.authMode != AuthMode.NONE ? " (anonymous allowed)" : "") +
            ", durability " + context.durability.propertyValue());
        if (context.authMode == AuthMode.NONE)
        {
            LOG.log(Level.WARNING, "*** authentication is OFF (" + Configuration.AUTH_MODE_PROP_NAME +
                "=none): ANY client may connect, publish and subscribe; use only for local development ***");
        }
        else if (context.tokenAuth() && broker.agents.auth.keyRing().created())
        {
            FirstStart.announce(broker.agents.auth, context.bindAddress, broker.listeners.mqttPort, System.out,
                FirstStart.Output.detect());
        }
        broker.ready = true;
        return broker;
    }

    private static String routerPlacement(final ThreadingMode mode)
    {
        switch (mode)
        {
            case SHARED:
                return "on I/O thread 0";
            case INVOKER:
                return "invoked by the caller (no threads)";
            default:
                return "on its own thread";
        }
    }

    /**
     * {@link ThreadingMode#INVOKER} only: runs one duty cycle of every agent on the caller's thread — the I/O agents
     * (accepting, reading, writing, keep-alive), the routing agent, the publish hook and the heartbeat — each reading
     * the context's {@link Context#nanoClock(NanoClock) clock} once.
     *
     * @return the work done; 0 when every agent was idle.
     * @throws IllegalStateException in the other threading modes.
     */
    public int doWork()
    {
        return threads.invoke();
    }

    /** The bound MQTT/TCP port (useful when configured as 0). */
    public int mqttPort()
    {
        return listeners.mqttPort;
    }

    /** The bound HTTP + WebSocket port, or -1 when off. */
    public int httpPort()
    {
        return listeners.httpPort;
    }

    /** The bound management port ({@code /metrics}, {@code /healthz}, {@code /readyz}, admin API), or -1 when off. */
    public int managementPort()
    {
        return listeners.managementPort;
    }

    /** The bound MQTT/TLS port, or -1 when off (no certificate configured). */
    public int mqttsPort()
    {
        return listeners.mqttsPort;
    }

    /** The bound HTTPS + WSS port, or -1 when off (no certificate configured). */
    public int httpsPort()
    {
        return listeners.httpsPort;
    }

    public Context context()
    {
        return context;
    }

    /**
     * Authentication (keys, revocations, issuer, and the password file of the password mode), or null when
     * {@code skylark.auth.mode=none}.
     */
    public AuthService auth()
    {
        return agents.auth;
    }

    /**
     * Re-reads the auth files now (the SIGHUP handler calls this): revocations, signing keys and the password file.
     * A password file that no longer parses keeps the previous users.
     *
     * @return null when everything reloaded (or auth mode is none), else why not (also logged).
     */
    public String reloadAuth()
    {
        return agents.auth == null ? null : agents.auth.reload();
    }

    /** The admin API to mount under {@code /admin/v1/} on the HTTP listener, or null when auth mode is none. */
    public AdminApi adminApi()
    {
        return agents.auth != null ? new AdminApi(agents.auth) : null;
    }

    /**
     * The authorization rules in force ({@code skylark.acl.file}); {@link AccessControl#reload()} is the reload entry
     * point for SIGHUP. {@link AccessControl#NONE} when no rules file is configured.
     */
    public AccessControl accessControl()
    {
        return agents.accessControl;
    }

    /** Re-reads the authorization rules file (SIGHUP); a bad file keeps the rules in force. True when reloaded. */
    public boolean reloadAccessRules()
    {
        return agents.accessControl.reload();
    }

    public RoutingCounters routingCounters()
    {
        return agents.routingCounters;
    }

    /** The cluster's nodes as {@code GET /admin/v1/nodes} answers, or null on a single node. */
    public String clusterNodesJson()
    {
        return agents.clusterNode == null ? null : agents.clusterNode.nodesJson();
    }

    /** The counters file that {@code skylark stat} reads. */
    public CountersFile countersFile()
    {
        return agents.countersFile;
    }

    private void onError(final Throwable error)
    {
        agentErrors.incrementAndGet();
        LOG.log(Level.ERROR, "agent error", error);
    }

    /** Unexpected exceptions caught in an agent's duty cycle: each one is a bug, logged with its stack trace. */
    public long agentErrors()
    {
        return agentErrors.get();
    }

    /** Open client connections over all I/O agents (approximate while they change). */
    public int connectionCount()
    {
        int count = 0;
        for (final IoAgent agent : agents.ioAgents)
        {
            count += agent.connectionCount();
        }
        return count;
    }

    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        // I/O agents first: they say goodbye to clients and flush; then the hook, then the routing agent.
        threads.close();
        CloseHelper.quietClose(agents.auth);
        CloseHelper.quietClose(agents.accessControl);
        // Journal replication rides on the cluster node's Aeron client: it stops first.
        if (agents.durableLog instanceof dev.skylark.broker.ipc.IpcDurableLog ipc)
        {
            ipc.stopReplication();
        }
        // The cluster node after the routing agent (its only reader) stopped: the others see this node's session close.
        CloseHelper.quietClose(agents.clusterNode);
        // The journal last: its agent drains what the routing agent appended and syncs it.
        CloseHelper.quietClose(agents.durableLog);
        // Only now the counters file: the journal agent writes its metrics into it until it stops.
        CloseHelper.quietClose(agents.countersFile);
        agents.dataDirLock.close(); // last: the directory is free for the next broker
        LOG.log(Level.INFO, "Skylark stopped");
    }

    /**
     * Configuration of a broker, Aeron style: fluent setters whose defaults come from {@code skylark.*} system
     * properties (see {@link Configuration}), and one {@link #conclude()} that checks everything before any thread
     * starts. Modes are enums; the property strings that name them stay as they were.
     */
    public static final class Context
    {
        int mqttPort;
        int httpPort;
        String bindAddress;
        String dataDir;
        int ioThreads;
        AuthMode authMode;
        /** The modes in the order they are tried; {@link #authMode} is the first. */
        List<AuthMode> authModes;
        boolean authAnonymous;
        String authPasswordFile;
        String authAudience;
        String authIssuer;
        TlsIdentity tlsIdentity;
        IdleMode idleMode;
        ThreadingMode threadingMode;
        NanoClock nanoClock = SystemNanoClock.INSTANCE;
        EpochClock epochClock = SystemEpochClock.INSTANCE;
        dev.skylark.broker.routing.ClusterLink clusterLink;
        /** This node's cluster id; -1: no cluster. */
        int clusterNodeId = -1;
        String clusterMembers;
        String clusterDir;
        long clusterElectionTimeoutMs;
        long clusterLeaderHeartbeatTimeoutMs;
        long clusterSessionTimeoutMs;
        long clusterSnapshotLogBytes;
        long clusterSnapshotIntervalMs;
        long clusterRetainedMaxBytes;
        int clusterPeerTermLength;
        String clusterServerReference;
        String clusterOwnershipLog = "";
        String clusterAck;
        long clusterLeaveTimeoutMs;
        boolean adminRemote;
        long sysIntervalS;
        String logLevel;
        String logFormat;
        int managementPort;
        String managementBindAddress;
        int subscriptionsPerClientMax;
        int subscribersPerFilterMax;
        int sharedGroupsPerFilterMax;
        int sharedGroupsPerClientMax;
        long queueMaxBytes;
        int maxConnections;
        int maxConnectionsPerAddress;
        int maxPacketSize;
        int connectTimeoutMs;
        int inflightMax;
        int inflightMaxBytes;
        int receiveMaximum;
        int queueMaxMessages;
        int topicAliasMaximum;
        long sessionExpiryMax;
        int outboundBufferMax;
        long storeHighWater;
        int keepAliveMax;
        String sharedSubscriptionPolicy;
        String responseInformationPrefix;
        int maximumQos;
        boolean retainAvailable;
        boolean wildcardSubscriptionsAvailable;
        boolean sharedSubscriptionsAvailable;
        boolean subscriptionIdentifiersAvailable;
        boolean payloadFormatCheck;
        boolean pubackNoMatchingSubscribers;
        int topicMaxLength;
        int topicMaxDepth;
        int clientIdMaxLength;
        int ratePacketsPerSecond;
        int rateBurst;
        boolean rateSlowsReader;
        long slowConsumerTimeoutMs;
        int retainedMaxMessages;
        long retainedMaxBytes;
        int retainedClientMaxMessages;
        long retainedClientMaxBytes;
        int willMaxBytes;
        int inboundRingCapacity;
        int outboundRingCapacity;
        long authClockSkewS;
        long authMaxLifetimeS;
        boolean authExpiryDisconnect;
        int authTokenMaxBytes;
        String authJwksFile;
        String authHs256SecretFile;
        int authWatchIntervalMs;
        /** Null until concluded: then the epoch clock unless one was set. */
        EpochClock authClock;
        String wsPath;
        boolean wsSubprotocolStrict;
        Set<String> wsAllowedOrigins;
        Set<String> httpTrustedProxies;
        int mqttsPort;
        int httpsPort;
        String tlsCert;
        String tlsKey;
        String tlsKeystore;
        String tlsKeystorePassword;
        ListenerSpec.ClientAuth tlsClientAuth;
        String tlsCa;
        boolean tlsSelfSigned;
        HttpRouter httpRouter = HttpRouter.withDefaults();
        final List<AuthMethod> authMethods = new ArrayList<>();
        Durability durability;
        long journalCheckpointBytes;
        String hookPublishUrl;
        List<String> hookPublishTopics;
        long hookPublishTimeoutMs;
        HookPolicy hookPublishPolicy;
        int hookPublishBatchMaxMessages;
        int hookPublishBatchMaxBytes;
        int hookPublishQueueBytes;
        long shutdownDrainMs;
        /** The {@code skylark.*} properties the context was made from, for what a reload compares against. */
        final Properties givenSettings = new Properties();
        String aclFile;
        AccessRules.Format aclFormat;
        boolean aclDefaultAllow;
        List<String> reservedTopicPrefixes;
        private boolean concluded;

        /** Defaults from the system properties. */
        public Context()
        {
            this(System.getProperties());
        }

        /**
         * Defaults from the given properties (system properties, a file and CLI flags merged by the caller).
         *
         * @throws IllegalArgumentException naming every unknown {@code skylark.*} name and bad value.
         */
        public Context(final Properties properties)
        {
            final List<String> problems = Configuration.validate(properties);
            if (!problems.isEmpty())
            {
                throw new IllegalArgumentException("invalid configuration: " + String.join("; ", problems));
            }
            ContextDefaults.load(this, properties);
            for (final String name : properties.stringPropertyNames())
            {
                if (name.startsWith(Configuration.PREFIX))
                {
                    givenSettings.setProperty(name, properties.getProperty(name));
                }
            }
        }

        /**
         * Checks every value, however it was set (properties or fluent setters), and the limits against each other
         * (see {@link ContextChecks}); called by {@link Broker#launch(Context)} before any thread starts.
         *
         * @throws IllegalArgumentException naming every problem found.
         */
        public Context conclude()
        {
            if (concluded)
            {
                return this;
            }
            final List<String> problems = ContextChecks.problems(this);
            if (!problems.isEmpty())
            {
                throw new IllegalArgumentException("invalid configuration: " + String.join("; ", problems));
            }
            if (authClock == null)
            {
                authClock = epochClock;
            }
            concluded = true;
            return this;
        }

        /** The publish hook's settings, or null when no hook is configured. */
        public HookSettings hookSettings()
        {
            if (hookPublishUrl.isEmpty())
            {
                return null;
            }
            return new HookSettings(java.net.URI.create(hookPublishUrl), hookPublishTopics, hookPublishTimeoutMs,
                hookPublishPolicy, hookPublishBatchMaxMessages, hookPublishBatchMaxBytes,
                hookPublishQueueBytes);
        }

        /** Every message on a topic matching one of {@code topics} is POSTed to {@code url} first (null: no hook). */
        public Context hookPublish(final String url, final String... topics)
        {
            this.hookPublishUrl = url == null ? "" : url;
            if (topics.length > 0)
            {
                this.hookPublishTopics = List.of(topics);
            }
            return this;
        }

        public Context hookPublishTimeoutMs(final long ms)
        {
            this.hookPublishTimeoutMs = ms;
            return this;
        }

        /** What a failed hook request means for its messages. */
        public Context hookPublishPolicy(final HookPolicy policy)
        {
            this.hookPublishPolicy = policy;
            return this;
        }

        /** {@code fail-closed} or {@code fail-open}: see {@link #hookPublishPolicy(HookPolicy)}. */
        public Context hookPublishPolicy(final String policy)
        {
            return hookPublishPolicy(HookPolicy.named(policy));
        }

        /** Most messages and message bytes in one hook request. */
        public Context hookPublishBatch(final int maxMessages, final int maxBytes)
        {
            this.hookPublishBatchMaxMessages = maxMessages;
            this.hookPublishBatchMaxBytes = maxBytes;
            return this;
        }

        /** Bytes that may wait for the hook (a power of two). */
        public Context hookPublishQueueBytes(final int bytes)
        {
            this.hookPublishQueueBytes = bytes;
            return this;
        }

        /** On a graceful stop, how long to wait for clients to leave before DISCONNECT 0x8B, ms (0 = no wait). */
        public Context shutdownDrainMs(final long drainMs)
        {
            this.shutdownDrainMs = drainMs;
            return this;
        }

        /** Open connections allowed overall and from one source address (0 = unlimited). */
        public Context maxConnections(final int overall, final int perAddress)
        {
            this.maxConnections = overall;
            this.maxConnectionsPerAddress = perAddress;
            return this;
        }

        /** Subscriptions one client may hold (0 = unlimited). */
        public Context subscriptionsPerClientMax(final int max)
        {
            this.subscriptionsPerClientMax = max;
            return this;
        }

        /** Subscribers one topic filter may have, shared-group members on it included (0 = unlimited). */
        public Context subscribersPerFilterMax(final int max)
        {
            this.subscribersPerFilterMax = max;
            return this;
        }

        /** Shared groups one topic filter may have (0 = unlimited); another gets SUBACK 0x97 (3.1.1: 0x80). */
        public Context sharedGroupsPerFilterMax(final int max)
        {
            this.sharedGroupsPerFilterMax = max;
            return this;
        }

        /** Shared groups one client may join (0 = unlimited); another gets SUBACK 0x97 (3.1.1: 0x80). */
        public Context sharedGroupsPerClientMax(final int max)
        {
            this.sharedGroupsPerClientMax = max;
            return this;
        }

        /** Stored bytes of QoS 1/2 messages queued for one session, online or offline (0 = unlimited). */
        public Context queueMaxBytes(final long bytes)
        {
            this.queueMaxBytes = bytes;
            return this;
        }

        /** Seconds between {@code $SYS/broker/...} updates (0 = off). */
        public Context sysIntervalS(final long seconds)
        {
            this.sysIntervalS = seconds;
            return this;
        }

        /** Lowest level logged ({@code trace} … {@code error}); applied when the broker launches. */
        public Context logLevel(final String level)
        {
            this.logLevel = level;
            return this;
        }

        /** {@code text} or {@code json} log lines; applied when the broker launches. */
        public Context logFormat(final String format)
        {
            this.logFormat = format;
            return this;
        }

        /**
         * Port of the management listener ({@code /metrics}, {@code /healthz}, {@code /readyz}, admin API), 0 = any
         * free port, -1 = none (they stay on the HTTP listener).
         */
        public Context managementPort(final int port)
        {
            this.managementPort = port;
            return this;
        }

        /** Address the management listener binds to (loopback by default). */
        public Context managementBindAddress(final String address)
        {
            this.managementBindAddress = address;
            return this;
        }

        public String managementBindAddress()
        {
            return managementBindAddress;
        }

        /** True: the admin API also answers peers that are not on this machine (its bearer token still applies). */
        public Context adminRemote(final boolean remote)
        {
            this.adminRemote = remote;
            return this;
        }

        /** How the agents are put on threads; {@link ThreadingMode#INVOKER} starts none (see {@link Broker#doWork()}). */
        public Context threadingMode(final ThreadingMode mode)
        {
            this.threadingMode = mode;
            return this;
        }

        public ThreadingMode threadingMode()
        {
            return threadingMode;
        }

        /** True: {@link ThreadingMode#SHARED}, the routing agent on I/O thread 0's thread; false: dedicated. */
        public Context sharedThreading(final boolean shared)
        {
            return threadingMode(shared ? ThreadingMode.SHARED : ThreadingMode.DEDICATED);
        }

        /** What idle agent threads do: park (default) or spin. */
        public Context idleMode(final IdleMode mode)
        {
            this.idleMode = mode;
            return this;
        }

        /**
         * The monotonic clock every agent reads once per duty cycle (default {@link SystemNanoClock}); tests pass a
         * {@link org.agrona.concurrent.CachedNanoClock} and move time by hand.
         */
        public Context nanoClock(final NanoClock clock)
        {
            this.nanoClock = clock;
            return this;
        }

        public NanoClock nanoClock()
        {
            return nanoClock;
        }

        /** The wall clock (default {@link SystemEpochClock}): heartbeat, hook timestamps, and tokens unless {@link #authClock} is set. */
        public Context epochClock(final EpochClock clock)
        {
            this.epochClock = clock;
            return this;
        }

        public EpochClock epochClock()
        {
            return epochClock;
        }

        /**
         * The link to the other nodes of a cluster (an embedding or test seam): when set, the routing agent uses it
         * instead of one built from the {@code skylark.cluster.*} settings. Default null: a single node.
         */
        public Context clusterLink(final dev.skylark.broker.routing.ClusterLink link)
        {
            this.clusterLink = link;
            return this;
        }

        public dev.skylark.broker.routing.ClusterLink clusterLink()
        {
            return clusterLink;
        }

        /** This node's id in a cluster (see {@link Configuration#CLUSTER_NODE_ID_PROP_NAME}); -1 = no cluster. */
        public Context clusterNodeId(final int nodeId)
        {
            this.clusterNodeId = nodeId;
            return this;
        }

        public int clusterNodeId()
        {
            return clusterNodeId;
        }

        /** See {@link Configuration#CLUSTER_MEMBERS_PROP_NAME}. */
        public Context clusterMembers(final String members)
        {
            this.clusterMembers = members;
            return this;
        }

        /** See {@link Configuration#CLUSTER_DIR_PROP_NAME}; empty = {@code <data.dir>/cluster}. */
        public Context clusterDir(final String dir)
        {
            this.clusterDir = dir;
            return this;
        }

        /** Election, leader heartbeat and node session timeouts, ms (see the {@code skylark.cluster.*} settings). */
        public Context clusterTimeouts(final long electionMs, final long leaderHeartbeatMs, final long sessionMs)
        {
            this.clusterElectionTimeoutMs = electionMs;
            this.clusterLeaderHeartbeatTimeoutMs = leaderHeartbeatMs;
            this.clusterSessionTimeoutMs = sessionMs;
            return this;
        }

        /** Snapshot policy: log bytes, and longest interval (0 = only by size). */
        public Context clusterSnapshotPolicy(final long logBytes, final long intervalMs)
        {
            this.clusterSnapshotLogBytes = logBytes;
            this.clusterSnapshotIntervalMs = intervalMs;
            return this;
        }

        public Context clusterRetainedMaxBytes(final long bytes)
        {
            this.clusterRetainedMaxBytes = bytes;
            return this;
        }

        public Context clusterPeerTermLength(final int bytes)
        {
            this.clusterPeerTermLength = bytes;
            return this;
        }

        /**
         * Server Reference sent with DISCONNECT 0x9C Use another server to v5 clients when this clustered node shuts
         * down (see {@link Configuration#CLUSTER_SERVER_REFERENCE_PROP_NAME}); empty = 0x8B Server shutting down.
         */
        public Context clusterServerReference(final String reference)
        {
            this.clusterServerReference = reference;
            return this;
        }

        public String clusterServerReference()
        {
            return clusterServerReference;
        }

        /**
         * Diagnostic for tests: the file this node's registry appends the ownership changes it applies to (see
         * {@link Configuration#CLUSTER_OWNERSHIP_LOG_PROP_NAME}); empty = off.
         */
        public Context clusterOwnershipLog(final String file)
        {
            this.clusterOwnershipLog = file == null ? "" : file;
            return this;
        }

        public String clusterOwnershipLog()
        {
            return clusterOwnershipLog;
        }

        /**
         * What a clustered node's PUBACK/PUBREC waits for: {@code "replica"} or {@code "local"} (see
         * {@link Configuration#CLUSTER_ACK_PROP_NAME}).
         */
        public Context clusterAck(final String mode)
        {
            this.clusterAck = mode;
            return this;
        }

        public String clusterAck()
        {
            return clusterAck;
        }

        /**
         * On a clean leave ({@link Broker#shutdown()}), how long this clustered node waits at most for its heir to take
         * its persistent sessions over, ms (see {@link Configuration#CLUSTER_LEAVE_TIMEOUT_MS_PROP_NAME}); 0 = none.
         */
        public Context clusterLeaveTimeoutMs(final long timeoutMs)
        {
            this.clusterLeaveTimeoutMs = timeoutMs;
            return this;
        }

        /** The cluster directory this context resolves to. */
        public String clusterDirectory()
        {
            return clusterDir == null || clusterDir.isEmpty() ?
                java.nio.file.Path.of(dataDir, "cluster").toString() : clusterDir;
        }

        public Context inboundRingCapacity(final int bytes)
        {
            this.inboundRingCapacity = bytes;
            return this;
        }

        public Context outboundRingCapacity(final int bytes)
        {
            this.outboundRingCapacity = bytes;
            return this;
        }

        public Context mqttPort(final int port)
        {
            this.mqttPort = port;
            return this;
        }

        public int mqttPort()
        {
            return mqttPort;
        }

        public Context httpPort(final int port)
        {
            this.httpPort = port;
            return this;
        }

        public int httpPort()
        {
            return httpPort;
        }

        public Context mqttsPort(final int port)
        {
            this.mqttsPort = port;
            return this;
        }

        public Context httpsPort(final int port)
        {
            this.httpsPort = port;
            return this;
        }

        public Context wsPath(final String path)
        {
            this.wsPath = path;
            return this;
        }

        public Context wsSubprotocolStrict(final boolean strict)
        {
            this.wsSubprotocolStrict = strict;
            return this;
        }

        public Context wsAllowedOrigins(final String... origins)
        {
            this.wsAllowedOrigins = Set.copyOf(Arrays.asList(origins));
            return this;
        }

        public Context httpTrustedProxies(final String... addresses)
        {
            this.httpTrustedProxies = Set.copyOf(Arrays.asList(addresses));
            return this;
        }

        /** PEM certificate chain and PKCS#8 key files of the TLS listeners. */
        public Context tlsCertificate(final String certificatePem, final String privateKeyPem)
        {
            this.tlsCert = certificatePem;
            this.tlsKey = privateKeyPem;
            return this;
        }

        /** PKCS#12 keystore of the TLS listeners. */
        public Context tlsKeystore(final String keystore, final String password)
        {
            this.tlsKeystore = keystore;
            this.tlsKeystorePassword = password;
            return this;
        }

        /** Client-certificate policy and the CA bundle they must chain to. */
        public Context tlsClientAuth(final ListenerSpec.ClientAuth clientAuth, final String caBundlePem)
        {
            this.tlsClientAuth = clientAuth;
            this.tlsCa = caBundlePem;
            return this;
        }

        /** Client-certificate policy ("none", "optional", "required") and the CA bundle they must chain to. */
        public Context tlsClientAuth(final String clientAuth, final String caBundlePem)
        {
            return tlsClientAuth(ContextDefaults.clientAuth(clientAuth), caBundlePem);
        }

        public Context tlsSelfSigned(final boolean selfSigned)
        {
            this.tlsSelfSigned = selfSigned;
            return this;
        }

        /** The HTTP routes (healthz, demo page by default); plug more handlers in with {@link HttpRouter#route}. */
        public HttpRouter httpRouter()
        {
            return httpRouter;
        }

        public Context httpRouter(final HttpRouter router)
        {
            this.httpRouter = router;
            return this;
        }

        public Context bindAddress(final String address)
        {
            this.bindAddress = address;
            return this;
        }

        public Context dataDir(final String dir)
        {
            this.dataDir = dir;
            return this;
        }

        public String dataDir()
        {
            return dataDir;
        }

        /** How clients authenticate ({@link Configuration#AUTH_MODE_PROP_NAME}). */
        public Context authMode(final AuthMode mode)
        {
            this.authMode = mode;
            this.authModes = mode == null ? List.of() : List.of(mode);
            return this;
        }

        /**
         * {@code token}, {@code password}, {@code certificate}, several of them comma-separated in the order they are
         * tried ({@code token,password}), or {@code none} ({@link Configuration#AUTH_MODE_PROP_NAME}).
         */
        public Context authMode(final String mode)
        {
            return authModes(AuthMode.list(mode));
        }

        /** The modes in the order they are tried ({@link Configuration#AUTH_MODE_PROP_NAME}). */
        public Context authModes(final List<AuthMode> modes)
        {
            this.authModes = List.copyOf(modes);
            this.authMode = modes.isEmpty() ? null : modes.get(0);
            return this;
        }

        /** The modes in the order they are tried. */
        public List<AuthMode> authModes()
        {
            return authModes;
        }

        /** Admit clients no mode accepts, anonymously ({@link Configuration#AUTH_ANONYMOUS_PROP_NAME}). */
        public Context authAnonymous(final boolean anonymous)
        {
            this.authAnonymous = anonymous;
            return this;
        }

        /** The password file of the password mode ({@link Configuration#AUTH_PASSWORD_FILE_PROP_NAME}). */
        public Context authPasswordFile(final String file)
        {
            this.authPasswordFile = file == null ? "" : file;
            return this;
        }

        /** The password file in force: the configured one, else {@code <data.dir>/auth/passwd}. */
        public Path passwordFile()
        {
            return authPasswordFile == null || authPasswordFile.isEmpty() ?
                Path.of(dataDir).resolve("auth").resolve("passwd") : Path.of(authPasswordFile);
        }

        /** The {@code aud} and {@code iss} tokens must carry (null or empty: not checked). */
        public Context authAudienceAndIssuer(final String audience, final String issuer)
        {
            this.authAudience = audience == null ? "" : audience;
            this.authIssuer = issuer == null ? "" : issuer;
            return this;
        }

        /** Which client certificate name becomes the user name ({@link Configuration#TLS_IDENTITY_PROP_NAME}). */
        public Context tlsIdentity(final TlsIdentity identity)
        {
            this.tlsIdentity = identity;
            return this;
        }

        /** {@code cn}, {@code san-dns}, {@code san-uri} or {@code none}. */
        public Context tlsIdentity(final String identity)
        {
            return tlsIdentity(TlsIdentity.named(identity));
        }

        public AuthMode authMode()
        {
            return authMode;
        }

        boolean tokenAuth()
        {
            return authModes != null && authModes.contains(AuthMode.TOKEN);
        }

        /**
         * Adds an MQTT 5 enhanced authentication method (CONNECT Authentication Method = its name). Token mode
         * has {@code skylark-jwt} ({@link JwtAuthMethod}) already; a CONNECT naming a method not added gets
         * CONNACK 0x8C.
         */
        public Context authMethod(final AuthMethod method)
        {
            this.authMethods.add(method);
            return this;
        }

        /** Wall clock for token {@code exp}/{@code nbf}/{@code iat} checks; tests pass a controllable one. */
        public Context authClock(final EpochClock clock)
        {
            this.authClock = clock;
            return this;
        }

        public Context authClockSkewS(final long seconds)
        {
            this.authClockSkewS = seconds;
            return this;
        }

        public Context authMaxLifetimeS(final long seconds)
        {
            this.authMaxLifetimeS = seconds;
            return this;
        }

        public Context authExpiryDisconnect(final boolean disconnect)
        {
            this.authExpiryDisconnect = disconnect;
            return this;
        }

        public Context authJwksFile(final String file)
        {
            this.authJwksFile = file == null ? "" : file;
            return this;
        }

        public Context authHs256SecretFile(final String file)
        {
            this.authHs256SecretFile = file == null ? "" : file;
            return this;
        }

        public Context authWatchIntervalMs(final int ms)
        {
            this.authWatchIntervalMs = ms;
            return this;
        }

        /** The authorization rules file ({@code skylark.acl.file}); null or empty for none. */
        public Context aclFile(final String file)
        {
            this.aclFile = file == null ? "" : file;
            return this;
        }

        public Context aclFormat(final AccessRules.Format format)
        {
            this.aclFormat = format;
            return this;
        }

        /** What the rules file decides when no rule matches ({@code skylark.acl.default}). */
        public Context aclDefaultAllow(final boolean allow)
        {
            this.aclDefaultAllow = allow;
            return this;
        }

        /** Topic prefixes the broker owns ({@code skylark.reserved.topic.prefixes}); empty for none. */
        public Context reservedTopicPrefixes(final String... prefixes)
        {
            this.reservedTopicPrefixes = List.of(prefixes);
            return this;
        }

        /** The token settings this context describes. */
        public AuthSettings authSettings()
        {
            return new AuthSettings(Path.of(dataDir), authClockSkewS, authMaxLifetimeS, authExpiryDisconnect,
                authTokenMaxBytes, authJwksFile.isEmpty() ? null : Path.of(authJwksFile),
                authHs256SecretFile.isEmpty() ? null : Path.of(authHs256SecretFile), authAudience, authIssuer,
                authModes != null && authModes.contains(AuthMode.PASSWORD) ? passwordFile() : null);
        }

        public Context ioThreads(final int threads)
        {
            this.ioThreads = threads;
            return this;
        }

        public Context maxPacketSize(final int bytes)
        {
            this.maxPacketSize = bytes;
            return this;
        }

        public Context connectTimeoutMs(final int ms)
        {
            this.connectTimeoutMs = ms;
            return this;
        }

        public Context inflightMax(final int messages)
        {
            this.inflightMax = messages;
            return this;
        }

        /** Stored bytes of QoS 1/2 messages in flight to one client past which further ones queue. */
        public Context inflightMaxBytes(final int bytes)
        {
            this.inflightMaxBytes = bytes;
            return this;
        }

        public Context receiveMaximum(final int messages)
        {
            this.receiveMaximum = messages;
            return this;
        }

        public Context queueMaxMessages(final int messages)
        {
            this.queueMaxMessages = messages;
            return this;
        }

        public Context topicAliasMaximum(final int aliases)
        {
            this.topicAliasMaximum = aliases;
            return this;
        }

        /** {@code round-robin}, {@code sticky} (by publisher) or {@code least-in-flight}. */
        public Context sharedSubscriptionPolicy(final String policy)
        {
            this.sharedSubscriptionPolicy = policy;
            return this;
        }

        public Context keepAliveMax(final int seconds)
        {
            this.keepAliveMax = seconds;
            return this;
        }

        public Context responseInformationPrefix(final String prefix)
        {
            this.responseInformationPrefix = prefix;
            return this;
        }

        public Context maximumQos(final int qos)
        {
            this.maximumQos = qos;
            return this;
        }

        public Context retainAvailable(final boolean available)
        {
            this.retainAvailable = available;
            return this;
        }

        public Context wildcardSubscriptionsAvailable(final boolean available)
        {
            this.wildcardSubscriptionsAvailable = available;
            return this;
        }

        public Context sharedSubscriptionsAvailable(final boolean available)
        {
            this.sharedSubscriptionsAvailable = available;
            return this;
        }

        public Context subscriptionIdentifiersAvailable(final boolean available)
        {
            this.subscriptionIdentifiersAvailable = available;
            return this;
        }

        public Context outboundBufferMax(final int bytes)
        {
            this.outboundBufferMax = bytes;
            return this;
        }

        /** How long a subscriber may stay more than the outbound limit behind before it is disconnected (0x97). */
        public Context slowConsumerTimeoutMs(final long ms)
        {
            this.slowConsumerTimeoutMs = ms;
            return this;
        }

        /** Retained messages in all; see {@link Configuration#RETAINED_MAX_MESSAGES_PROP_NAME} (0 = unlimited). */
        public Context retainedMaxMessages(final int messages)
        {
            this.retainedMaxMessages = messages;
            return this;
        }

        /** Stored bytes of all retained messages; see {@link Configuration#RETAINED_MAX_BYTES_PROP_NAME}. */
        public Context retainedMaxBytes(final long bytes)
        {
            this.retainedMaxBytes = bytes;
            return this;
        }

        /** Retained messages one client may set; see {@link Configuration#RETAINED_CLIENT_MAX_MESSAGES_PROP_NAME}. */
        public Context retainedClientMaxMessages(final int messages)
        {
            this.retainedClientMaxMessages = messages;
            return this;
        }

        /** Retained bytes one client may set; see {@link Configuration#RETAINED_CLIENT_MAX_BYTES_PROP_NAME}. */
        public Context retainedClientMaxBytes(final long bytes)
        {
            this.retainedClientMaxBytes = bytes;
            return this;
        }

        /** Largest will a CONNECT may carry; see {@link Configuration#WILL_MAX_BYTES_PROP_NAME} (0 = unlimited). */
        public Context willMaxBytes(final int bytes)
        {
            this.willMaxBytes = bytes;
            return this;
        }

        public Context topicMaxLength(final int bytes)
        {
            this.topicMaxLength = bytes;
            return this;
        }

        public Context topicMaxDepth(final int levels)
        {
            this.topicMaxDepth = levels;
            return this;
        }

        public Context clientIdMaxLength(final int bytes)
        {
            this.clientIdMaxLength = bytes;
            return this;
        }

        /** Packets per second per client (0 = unlimited), the burst allowed, and whether excess slows the reader. */
        public Context rateLimit(final int packetsPerSecond, final int burst, final boolean slowReader)
        {
            this.ratePacketsPerSecond = packetsPerSecond;
            this.rateBurst = burst;
            this.rateSlowsReader = slowReader;
            return this;
        }

        public Context payloadFormatCheck(final boolean check)
        {
            this.payloadFormatCheck = check;
            return this;
        }

        /** See {@link Configuration#PUBACK_NO_MATCHING_SUBSCRIBERS_PROP_NAME}. */
        public Context pubackNoMatchingSubscribers(final boolean say0x10)
        {
            this.pubackNoMatchingSubscribers = say0x10;
            return this;
        }

        public Context storeHighWater(final long bytes)
        {
            this.storeHighWater = bytes;
            return this;
        }

        /** What a PUBACK promises; see {@link Configuration#DURABILITY_PROP_NAME}. */
        public Context durability(final Durability mode)
        {
            this.durability = mode;
            return this;
        }

        /** {@code os}, {@code fsync} or {@code none}; see {@link Configuration#DURABILITY_PROP_NAME}. */
        public Context durability(final String mode)
        {
            return durability(Durability.named(mode));
        }

        public Durability durability()
        {
            return durability;
        }

        public Context journalCheckpointBytes(final long bytes)
        {
            this.journalCheckpointBytes = bytes;
            return this;
        }

        public Context sessionExpiryMax(final long seconds)
        {
            this.sessionExpiryMax = seconds;
            return this;
        }
    }
}
