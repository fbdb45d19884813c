package dev.skylark.broker;

import dev.skylark.broker.auth.AdminApi;
import dev.skylark.broker.auth.AuthService;
import dev.skylark.broker.auth.AuthSettings;
import dev.skylark.broker.auth.AuthMethod;
import dev.skylark.broker.auth.AuthMethods;
import dev.skylark.broker.auth.Authenticator;
import dev.skylark.broker.auth.FirstStart;
import dev.skylark.broker.auth.JwtAuthMethod;
import dev.skylark.broker.auth.KeyRing;
import dev.skylark.broker.hook.HookCounters;
import dev.skylark.broker.hook.HookPolicy;
import dev.skylark.broker.hook.HookSettings;
import dev.skylark.broker.hook.PublishHookAgent;
import dev.skylark.broker.hook.PublishHookProxy;
import dev.skylark.broker.http.HttpResponse;
import dev.skylark.broker.http.HttpRouter;
import dev.skylark.broker.status.CountersSnapshot;
import dev.skylark.broker.status.PrometheusRenderer;
import dev.skylark.broker.net.ConnectionLimiter;
import dev.skylark.broker.ipc.IpcDurableLog;
import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.net.ListenerSpec;
import dev.skylark.broker.net.SelfSignedCertificate;
import dev.skylark.broker.net.TlsContexts;
import dev.skylark.broker.net.WebSocketSettings;
import dev.skylark.broker.net.SelectorIdleStrategy;
import dev.skylark.broker.routing.DeliveryPublisher;
import dev.skylark.broker.routing.DurableLog;
import dev.skylark.broker.routing.PublishGate;
import dev.skylark.broker.routing.RouterProxy;
import dev.skylark.broker.routing.RoutingAgent;
import dev.skylark.broker.routing.RoutingCounters;
import dev.skylark.broker.routing.SharedSubscriptionPolicy;
import dev.skylark.broker.routing.SignalledIdleStrategy;
import dev.skylark.broker.session.MqttProtocol;
import dev.skylark.broker.session.ProtocolCounters;
import dev.skylark.broker.status.Counters;
import dev.skylark.broker.status.CountersFile;
import dev.skylark.broker.status.HeartbeatAgent;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.SystemEpochClock;
import dev.skylark.broker.session.SessionLimits;
import org.agrona.CloseHelper;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A running Skylark broker: {@link #launch(Context)} starts the routing agent, the I/O agents and the listeners;
 * {@link #close()} says goodbye to clients (v5 DISCONNECT 0x8B) and stops every thread.
 */
public final class Broker implements AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(Broker.class.getName());

    private final Context context;
    /** Null in shared threading, where the routing agent runs on I/O agent 0's thread. */
    private final AgentRunner routerRunner;
    private final AgentRunner[] ioRunners;
    /** Null when no publish hook is configured. */
    private final AgentRunner hookRunner;
    private final IoAgent[] ioAgents;
    private final RoutingAgent router;
    private final CountersFile countersFile;
    private final RoutingCounters routingCounters;
    private final java.util.concurrent.atomic.AtomicLong agentErrors = new java.util.concurrent.atomic.AtomicLong();
    private final DurableLog durableLog;
    private final int mqttPort;
    private final AuthService auth;
    private volatile boolean ready;
    private final int httpPort;
    private final int mqttsPort;
    private final int httpsPort;
    private final List<String> listenerLog = new ArrayList<>();
    private volatile boolean closed;

    private Broker(final Context context)
    {
        this.context = context;
        final NanoClock clock = SystemNanoClock.INSTANCE;
        final int ioThreads = context.ioThreads;
        countersFile = CountersFile.create(Path.of(context.dataDir), 96 + 16 * ioThreads);
        final Counters counters = new Counters(countersFile.manager());
        routingCounters = new RoutingCounters(counters);

        final RingBuffer inbound = new ManyToOneRingBuffer(ring(context.inboundRingCapacity));
        final RingBuffer[] outbound = new RingBuffer[ioThreads];
        for (int i = 0; i < ioThreads; i++)
        {
            outbound[i] = new OneToOneRingBuffer(ring(context.outboundRingCapacity));
        }

        ioAgents = new IoAgent[ioThreads];
        final Runnable[] wakers = new Runnable[ioThreads];
        for (int i = 0; i < ioThreads; i++)
        {
            final int index = i;
            wakers[i] = () -> ioAgents[index].wakeup();
        }
        final MqttProtocol[] protocols = new MqttProtocol[ioThreads];
        // Waiting for room in a full delivery ring: in shared threading the routing agent runs on I/O thread 0, so
        // it drains that thread's ring itself while it waits (else it would wait for itself).
        final IdleStrategy ringFullIdle = context.sharedThreading ?
            new DrainWhileWaiting(() -> protocols[0].doWork(clock.nanoTime())) : new BackoffIdleStrategy();
        final DeliveryPublisher publisher = new DeliveryPublisher(outbound, wakers, ringFullIdle,
            routingCounters.outboundRingFull);
        final PublishGate gate = new PublishGate();
        final RoutingAgent[] routerRef = new RoutingAgent[1];
        final SignalledIdleStrategy signalled = new SignalledIdleStrategy(() -> routerRef[0].hasWork());
        // Shared threading: the routing agent runs on I/O agent 0's thread, so waking it means waking that selector.
        final Runnable wakeRouter = context.sharedThreading ? () -> ioAgents[0].wakeup() : signalled::signal;
        durableLog = "none".equals(context.durability) ? DurableLog.NONE :
            new IpcDurableLog(Path.of(context.dataDir), "fsync".equals(context.durability),
                context.maxPacketSize + 64 * 1024, wakeRouter);
        router = new RoutingAgent(inbound, publisher, clock, routingCounters, context.inflightMax,
            context.queueMaxMessages, context.receiveMaximum, context.sessionExpiryMax, gate, context.storeHighWater,
            SharedSubscriptionPolicy.named(context.sharedSubscriptionPolicy), durableLog, context.journalCheckpointBytes);
        routerRef[0] = router;
        router.subscriptionsPerClientMax(context.subscriptionsPerClientMax);
        router.subscribersPerFilterMax(context.subscribersPerFilterMax);
        router.queueMaxBytes(context.queueMaxBytes);
        router.sysTopics(TimeUnit.SECONDS.toNanos(context.sysIntervalS),
            () -> CountersSnapshot.of(countersFile.reader()).total("skylark_messages_sent_total"));
        // Start-up replay: sessions, subscriptions, owed messages and retained messages, before any listener opens.
        try
        {
            router.replay();
        }
        catch (final RuntimeException ex)
        {
            durableLog.close();
            CloseHelper.quietClose(countersFile);
            throw ex;
        }
        if (durableLog instanceof IpcDurableLog ipc)
        {
            ipc.start();
        }
        final IdleStrategy routerIdle = context.spin ? new BusySpinIdleStrategy() : signalled;

        auth = context.tokenAuth() ? AuthService.open(context.authSettings(), context.authClock)
            .watch(context.authWatchIntervalMs) : null;
        final Authenticator authenticator = auth != null ? auth.authenticator() : Authenticator.NONE;
        final AuthMethods authMethods = new AuthMethods();
        if (auth != null)
        {
            authMethods.registerForPasswordConnections(new JwtAuthMethod(auth.tokenAuthenticator()));
        }
        context.authMethods.forEach(authMethods::register);

        final SessionLimits limits = new SessionLimits(context.maxPacketSize, context.receiveMaximum,
            context.topicAliasMaximum, TimeUnit.MILLISECONDS.toNanos(context.connectTimeoutMs),
            context.outboundBufferMax, context.keepAliveMax, context.responseInformationPrefix, context.maximumQos,
            context.retainAvailable, context.wildcardSubscriptionsAvailable, context.sharedSubscriptionsAvailable,
            context.subscriptionIdentifiersAvailable, context.payloadFormatCheck, context.topicMaxLength,
            context.topicMaxDepth, context.clientIdMaxLength, context.ratePacketsPerSecond, context.rateBurst,
            context.rateSlowsReader, TimeUnit.MILLISECONDS.toNanos(context.slowConsumerTimeoutMs));
        // The publish hook: its own agent and thread, fed by a bounded ring from the I/O agents.
        final HookSettings hook = context.hookSettings();
        final RingBuffer hookQueue = hook == null ? null : new ManyToOneRingBuffer(ring(hook.queueBytes()));
        final PublishHookAgent[] hookRef = new PublishHookAgent[1];
        final SignalledIdleStrategy hookIdle = new SignalledIdleStrategy(() -> hookRef[0].hasWork());
        if (hook != null)
        {
            final KeyRing keyRing = auth != null ? auth.keyRing() :
                KeyRing.openOrCreate(context.authSettings().authDir()); // the key `skylark keys` prints
            hookRef[0] = new PublishHookAgent(hook, hookQueue, new RouterProxy(inbound, wakeRouter, gate), keyRing,
                new HookCounters(counters), SystemEpochClock.INSTANCE, clock, context.maxPacketSize, hookIdle::signal);
            hookRunner = new AgentRunner(context.spin ? new BusySpinIdleStrategy() : hookIdle, this::onError, null,
                hookRef[0]);
        }
        else
        {
            hookRunner = null;
        }

        ioRunners = new AgentRunner[ioThreads];
        for (int i = 0; i < ioThreads; i++)
        {
            final MqttProtocol protocol = protocols[i] = new MqttProtocol(limits, new RouterProxy(inbound, wakeRouter, gate),
                outbound[i], new ProtocolCounters(counters, String.valueOf(i)));
            protocol.authenticator(authenticator);
            protocol.authMethods(authMethods);
            if (hook != null)
            {
                protocol.hook(new PublishHookProxy(hookQueue, hook.topics(), hookIdle::signal,
                    new HookCounters.Io(counters, String.valueOf(i))));
            }
            ioAgents[i] = new IoAgent(i, clock, protocol, protocol, context.maxPacketSize, context.outboundBufferMax);
            if (auth != null)
            {
                ioAgents[i].sweepOnChange(auth.revocations()::epoch); // a revocation: each agent looks once
            }
            ioAgents[i].openConnectionsGauge(counters.gauge("skylark_connections",
                "open connections (MQTT, WebSocket and HTTP)", String.valueOf(i)));
            protocol.agent(ioAgents[i]);
        }
        final ConnectionLimiter limiter = new ConnectionLimiter(context.maxConnections, context.maxConnectionsPerAddress);
        for (final IoAgent agent : ioAgents)
        {
            agent.peers(ioAgents);
            agent.limiter(limiter);
        }

        mountHttpRoutes(context);

        final List<ServerSocketChannel> bound = new ArrayList<>();
        try
        {
            mqttPort = listen(bound, ListenerSpec.mqtt(), context.mqttPort, Configuration.MQTT_PORT_PROP_NAME);
            final WebSocketSettings webSocket = new WebSocketSettings(context.wsPath, context.wsSubprotocolStrict,
                context.wsAllowedOrigins, context.httpTrustedProxies, TimeUnit.MILLISECONDS.toNanos(context.connectTimeoutMs),
                8192, context.httpRouter);
            httpPort = context.httpPort < 0 ? -1 : listen(bound, new ListenerSpec("http", null, webSocket),
                context.httpPort, Configuration.HTTP_PORT_PROP_NAME);
            final ListenerSpec.TlsSettings tls = tlsSettings(context);
            mqttsPort = tls == null || context.mqttsPort < 0 ? -1 : listen(bound, new ListenerSpec("mqtts", tls, null),
                context.mqttsPort, Configuration.MQTTS_PORT_PROP_NAME);
            httpsPort = tls == null || context.httpsPort < 0 ? -1 : listen(bound,
                new ListenerSpec("https", tls, webSocket), context.httpsPort, Configuration.HTTPS_PORT_PROP_NAME);
        }
        catch (final RuntimeException ex)
        {
            bound.forEach(CloseHelper::quietClose);
            if (hookRef[0] != null)
            {
                hookRef[0].onClose(); // never started: only its HTTP client to let go
            }
            CloseHelper.quietClose(auth);
            CloseHelper.quietClose(countersFile);
            durableLog.close();
            throw ex;
        }

        final HeartbeatAgent heartbeat = new HeartbeatAgent(countersFile, SystemEpochClock.INSTANCE);
        for (int i = 0; i < ioThreads; i++)
        {
            final IdleStrategy idle = context.spin ? new BusySpinIdleStrategy() : new SelectorIdleStrategy(ioAgents[i]);
            final Agent agent = context.sharedThreading && i == 0 ?
                new CompositeAgent(ioAgents[0], router, heartbeat) : ioAgents[i];
            ioRunners[i] = new AgentRunner(idle, this::onError, null, agent);
        }
        if (context.sharedThreading)
        {
            ioAgents[0].sharedWork(router::hasWork);
            routerRunner = null;
        }
        else
        {
            routerRunner = new AgentRunner(routerIdle, this::onError, null, new CompositeAgent(router, heartbeat));
        }
    }

    private int listen(
        final List<ServerSocketChannel> bound, final ListenerSpec spec, final int port, final String propName)
    {
        try
        {
            final ServerSocketChannel listener = ServerSocketChannel.open();
            bound.add(listener);
            listener.bind(new InetSocketAddress(context.bindAddress, port), 1024);
            final int boundPort = ((InetSocketAddress)listener.getLocalAddress()).getPort();
            ioAgents[0].addListener(listener, spec);
            listenerLog.add(spec.name() + " listener on " + context.bindAddress + ":" + boundPort +
                (port == 0 ? " (free port chosen)" : ""));
            return boundPort;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot listen on " + context.bindAddress + ":" + port + " (" + propName +
                "): " + ex.getMessage() + (port < 1024 && port > 0 ? " (ports below 1024 need privileges: see the " +
                "README, 'WebSockets, TLS and the browser')" : ""), ex);
        }
    }

    private static ListenerSpec.TlsSettings tlsSettings(final Context context)
    {
        Path cert = context.tlsCert == null ? null : Path.of(context.tlsCert);
        Path key = context.tlsKey == null ? null : Path.of(context.tlsKey);
        final Path keystore = context.tlsKeystore == null ? null : Path.of(context.tlsKeystore);
        if (cert == null && keystore == null)
        {
            if (!context.tlsSelfSigned)
            {
                return null;
            }
            final SelfSignedCertificate.Files files = SelfSignedCertificate.ensure(
                Path.of(context.dataDir).resolve("tls"), List.of("localhost", "127.0.0.1"));
            cert = files.certificate();
            key = files.privateKey();
            LOG.log(Level.WARNING, "TLS uses a self-signed certificate (" + cert + "): for local use only");
        }
        try
        {
            final SSLContext ssl = TlsContexts.serverContext(cert, key, keystore,
                context.tlsKeystorePassword.toCharArray(), context.tlsCa == null ? null : Path.of(context.tlsCa));
            return new ListenerSpec.TlsSettings(ssl, ListenerSpec.ClientAuth.valueOf(context.tlsClientAuth.toUpperCase()));
        }
        catch (final IOException | GeneralSecurityException ex)
        {
            throw new IllegalArgumentException("cannot load the TLS certificate: " + ex.getMessage(), ex);
        }
    }

    private static UnsafeBuffer ring(final int capacity)
    {
        return new UnsafeBuffer(ByteBuffer.allocateDirect(capacity + RingBufferDescriptor.TRAILER_LENGTH));
    }

    /** Starts a broker with this configuration (concluded first). */
    public static Broker launch(final Context context)
    {
        context.conclude();
        final Broker broker = new Broker(context);
        if (broker.routerRunner != null)
        {
            AgentRunner.startOnThread(broker.routerRunner);
        }
        if (broker.hookRunner != null)
        {
            AgentRunner.startOnThread(broker.hookRunner);
        }
        for (final AgentRunner runner : broker.ioRunners)
        {
            AgentRunner.startOnThread(runner);
        }
        for (final String line : broker.listenerLog)
        {
            LOG.log(Level.INFO, line);
        }
        LOG.log(Level.INFO, "Skylark started: " + context.ioThreads + " I/O thread(s), routing agent " +
            (context.sharedThreading ? "on I/O thread 0" : "on its own thread") + ", idle strategy " +
            (context.spin ? "spin" : "park") + ", auth mode " + context.authMode +
            ", durability " + context.durability);
        if ("none".equals(context.authMode))
        {
            LOG.log(Level.WARNING, "*** authentication is OFF (" + Configuration.AUTH_MODE_PROP_NAME +
                "=none): ANY client may connect, publish and subscribe; use only for local development ***");
        }
        else if (broker.auth.keyRing().created())
        {
            FirstStart.printWelcome(broker.auth, context.bindAddress, broker.mqttPort, System.out);
        }
        broker.ready = true;
        return broker;
    }

    /**
     * The operational paths of the HTTP listener: {@code /metrics} (Prometheus text, from the counters file),
     * {@code /readyz} (listeners up), and the admin API under {@code /admin/v1/} (token mode only; loopback peers
     * only unless {@code skylark.admin.remote} is set).
     */
    private void mountHttpRoutes(final Context context)
    {
        context.httpRouter()
            .route("/metrics", (request) -> HttpResponse.ok(PrometheusRenderer.CONTENT_TYPE,
                PrometheusRenderer.render(CountersSnapshot.of(countersFile.reader()))))
            .route("/readyz", (request) -> ready ?
                HttpResponse.text(200, "OK", "ready\n") : HttpResponse.text(503, "Service Unavailable", "starting\n"));
        if (auth != null)
        {
            final AdminApi admin = new AdminApi(auth);
            context.httpRouter().route("/admin/v1/", (request) ->
            {
                if (!request.loopback() && !context.adminRemote)
                {
                    return HttpResponse.text(403, "Forbidden", "the admin API answers on loopback only (" +
                        Configuration.ADMIN_REMOTE_PROP_NAME + ")\n");
                }
                final AdminApi.Response response = admin.handle(request.method(), request.path() +
                    (request.query() != null ? "?" + request.query() : ""), request.header("Authorization"),
                    request.body());
                return HttpResponse.of(response.status(), response.contentType(), response.body());
            });
        }
    }

    /** The bound MQTT/TCP port (useful when configured as 0). */
    public int mqttPort()
    {
        return mqttPort;
    }

    /** The bound HTTP + WebSocket port, or -1 when off. */
    public int httpPort()
    {
        return httpPort;
    }

    /** The bound MQTT/TLS port, or -1 when off (no certificate configured). */
    public int mqttsPort()
    {
        return mqttsPort;
    }

    /** The bound HTTPS + WSS port, or -1 when off (no certificate configured). */
    public int httpsPort()
    {
        return httpsPort;
    }

    public Context context()
    {
        return context;
    }

    /** Token authentication (keys, revocations, issuer), or null when {@code skylark.auth.mode=none}. */
    public AuthService auth()
    {
        return auth;
    }

    /** The admin API to mount under {@code /admin/v1/} on the HTTP listener, or null when auth mode is none. */
    public AdminApi adminApi()
    {
        return auth != null ? new AdminApi(auth) : null;
    }

    public RoutingCounters routingCounters()
    {
        return routingCounters;
    }

    /** The counters file that {@code skylark stat} reads. */
    public CountersFile countersFile()
    {
        return countersFile;
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
        for (final IoAgent agent : ioAgents)
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
        // I/O agents first: they say goodbye to clients and flush; then the routing agent.
        for (final AgentRunner runner : ioRunners)
        {
            CloseHelper.quietClose(runner);
        }
        // Then the hook: nothing more comes in; what it has not decided is not acknowledged, so not lost for QoS 1/2
        // publishers that resend.
        CloseHelper.quietClose(hookRunner);
        if (routerRunner != null)
        {
            CloseHelper.quietClose(routerRunner);
        }
        CloseHelper.quietClose(countersFile);
        CloseHelper.quietClose(auth);
        // The journal last: its agent drains what the routing agent appended and syncs it.
        CloseHelper.quietClose(durableLog);
        LOG.log(Level.INFO, "Skylark stopped");
    }

    /** Idles by doing another agent's draining work, for a thread that waits on a queue it consumes itself. */
    private static final class DrainWhileWaiting implements IdleStrategy
    {
        private final Runnable drain;

        DrainWhileWaiting(final Runnable drain)
        {
            this.drain = drain;
        }

        @Override
        public void idle(final int workCount)
        {
            if (workCount <= 0)
            {
                idle();
            }
        }

        @Override
        public void idle()
        {
            drain.run();
            Thread.onSpinWait();
        }

        @Override
        public void reset()
        {
        }
    }

    /**
     * Configuration of a broker, Aeron style: fluent setters whose defaults come from {@code skylark.*} system
     * properties (see {@link Configuration}), and one {@link #conclude()} that checks everything before any thread
     * starts.
     */
    public static final class Context
    {
        private int mqttPort;
        private int httpPort;
        private String bindAddress;
        private String dataDir;
        private int ioThreads;
        private String authMode;
        private boolean spin;
        private boolean sharedThreading;
        private boolean adminRemote;
        private long sysIntervalS;
        private int subscriptionsPerClientMax;
        private int subscribersPerFilterMax;
        private long queueMaxBytes;
        private int maxConnections;
        private int maxConnectionsPerAddress;
        private int maxPacketSize;
        private int connectTimeoutMs;
        private int inflightMax;
        private int receiveMaximum;
        private int queueMaxMessages;
        private int topicAliasMaximum;
        private long sessionExpiryMax;
        private int outboundBufferMax;
        private long storeHighWater;
        private int keepAliveMax;
        private String sharedSubscriptionPolicy;
        private String responseInformationPrefix;
        private int maximumQos;
        private boolean retainAvailable;
        private boolean wildcardSubscriptionsAvailable;
        private boolean sharedSubscriptionsAvailable;
        private boolean subscriptionIdentifiersAvailable;
        private boolean payloadFormatCheck;
        private int topicMaxLength;
        private int topicMaxDepth;
        private int clientIdMaxLength;
        private int ratePacketsPerSecond;
        private int rateBurst;
        private boolean rateSlowsReader;
        private long slowConsumerTimeoutMs;
        private int inboundRingCapacity;
        private int outboundRingCapacity;
        private long authClockSkewS;
        private long authMaxLifetimeS;
        private boolean authExpiryDisconnect;
        private int authTokenMaxBytes;
        private String authJwksFile;
        private String authHs256SecretFile;
        private int authWatchIntervalMs;
        private EpochClock authClock = SystemEpochClock.INSTANCE;
        private String wsPath;
        private boolean wsSubprotocolStrict;
        private Set<String> wsAllowedOrigins;
        private Set<String> httpTrustedProxies;
        private int mqttsPort;
        private int httpsPort;
        private String tlsCert;
        private String tlsKey;
        private String tlsKeystore;
        private String tlsKeystorePassword;
        private String tlsClientAuth;
        private String tlsCa;
        private boolean tlsSelfSigned;
        private HttpRouter httpRouter = HttpRouter.withDefaults();
        private final List<AuthMethod> authMethods = new ArrayList<>();
        private String durability;
        private long journalCheckpointBytes;
        private String hookPublishUrl;
        private List<String> hookPublishTopics;
        private long hookPublishTimeoutMs;
        private String hookPublishPolicy;
        private int hookPublishBatchMaxMessages;
        private int hookPublishBatchMaxBytes;
        private int hookPublishQueueBytes;
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
            mqttPort = Configuration.getInt(properties, Configuration.MQTT_PORT_PROP_NAME);
            httpPort = Configuration.getInt(properties, Configuration.HTTP_PORT_PROP_NAME);
            bindAddress = Configuration.get(properties, Configuration.BIND_ADDRESS_PROP_NAME);
            dataDir = Configuration.get(properties, Configuration.DATA_DIR_PROP_NAME);
            ioThreads = Configuration.getInt(properties, Configuration.IO_THREADS_PROP_NAME);
            authMode = Configuration.get(properties, Configuration.AUTH_MODE_PROP_NAME);
            spin = "spin".equals(Configuration.get(properties, Configuration.IDLE_STRATEGY_PROP_NAME));
            final String threading = Configuration.get(properties, Configuration.THREADING_PROP_NAME);
            sharedThreading = "shared".equals(threading) ||
                ("auto".equals(threading) && Runtime.getRuntime().availableProcessors() <= 2);
            adminRemote = Configuration.getBoolean(properties, Configuration.ADMIN_REMOTE_PROP_NAME);
            sysIntervalS = Configuration.getLong(properties, Configuration.SYS_INTERVAL_S_PROP_NAME);
            subscriptionsPerClientMax = Configuration.getInt(properties, Configuration.SUBSCRIPTIONS_PER_CLIENT_MAX_PROP_NAME);
            subscribersPerFilterMax = Configuration.getInt(properties, Configuration.SUBSCRIBERS_PER_FILTER_MAX_PROP_NAME);
            queueMaxBytes = Configuration.getLong(properties, Configuration.QUEUE_MAX_BYTES_PROP_NAME);
            maxConnections = Configuration.getInt(properties, Configuration.MAX_CONNECTIONS_PROP_NAME);
            maxConnectionsPerAddress = Configuration.getInt(properties, Configuration.MAX_CONNECTIONS_PER_ADDRESS_PROP_NAME);
            maxPacketSize = Configuration.getInt(properties, Configuration.MAX_PACKET_SIZE_PROP_NAME);
            connectTimeoutMs = Configuration.getInt(properties, Configuration.CONNECT_TIMEOUT_MS_PROP_NAME);
            inflightMax = Configuration.getInt(properties, Configuration.INFLIGHT_MAX_PROP_NAME);
            receiveMaximum = Configuration.getInt(properties, Configuration.RECEIVE_MAXIMUM_PROP_NAME);
            queueMaxMessages = Configuration.getInt(properties, Configuration.QUEUE_MAX_MESSAGES_PROP_NAME);
            topicAliasMaximum = Configuration.getInt(properties, Configuration.TOPIC_ALIAS_MAXIMUM_PROP_NAME);
            sessionExpiryMax = Configuration.getLong(properties, Configuration.SESSION_EXPIRY_MAX_PROP_NAME);
            outboundBufferMax = Configuration.getInt(properties, Configuration.OUTBOUND_BUFFER_MAX_PROP_NAME);
            storeHighWater = Configuration.getLong(properties, Configuration.STORE_HIGH_WATER_PROP_NAME);
            keepAliveMax = Configuration.getInt(properties, Configuration.KEEP_ALIVE_MAX_PROP_NAME);
            sharedSubscriptionPolicy = Configuration.get(properties, Configuration.SHARED_SUBSCRIPTION_POLICY_PROP_NAME);
            responseInformationPrefix =
                Configuration.getRaw(properties, Configuration.RESPONSE_INFORMATION_PREFIX_PROP_NAME);
            maximumQos = Configuration.getInt(properties, Configuration.MAXIMUM_QOS_PROP_NAME);
            retainAvailable = Configuration.getBoolean(properties, Configuration.RETAIN_AVAILABLE_PROP_NAME);
            wildcardSubscriptionsAvailable =
                Configuration.getBoolean(properties, Configuration.WILDCARD_SUBSCRIPTIONS_PROP_NAME);
            sharedSubscriptionsAvailable =
                Configuration.getBoolean(properties, Configuration.SHARED_SUBSCRIPTIONS_PROP_NAME);
            subscriptionIdentifiersAvailable =
                Configuration.getBoolean(properties, Configuration.SUBSCRIPTION_IDENTIFIERS_PROP_NAME);
            payloadFormatCheck = Configuration.getBoolean(properties, Configuration.PAYLOAD_FORMAT_CHECK_PROP_NAME);
            topicMaxLength = Configuration.getInt(properties, Configuration.TOPIC_MAX_LENGTH_PROP_NAME);
            topicMaxDepth = Configuration.getInt(properties, Configuration.TOPIC_MAX_DEPTH_PROP_NAME);
            clientIdMaxLength = Configuration.getInt(properties, Configuration.CLIENT_ID_MAX_LENGTH_PROP_NAME);
            ratePacketsPerSecond = Configuration.getInt(properties, Configuration.RATE_LIMIT_PACKETS_PROP_NAME);
            rateBurst = Configuration.getInt(properties, Configuration.RATE_LIMIT_BURST_PROP_NAME);
            slowConsumerTimeoutMs = Configuration.getLong(properties, Configuration.SLOW_CONSUMER_TIMEOUT_MS_PROP_NAME);
            rateSlowsReader = "slow".equals(Configuration.get(properties, Configuration.RATE_LIMIT_MODE_PROP_NAME));
            inboundRingCapacity = Configuration.getInt(properties, Configuration.INBOUND_RING_CAPACITY_PROP_NAME);
            outboundRingCapacity = Configuration.getInt(properties, Configuration.OUTBOUND_RING_CAPACITY_PROP_NAME);
            authClockSkewS = Configuration.getLong(properties, Configuration.AUTH_CLOCK_SKEW_S_PROP_NAME);
            authMaxLifetimeS = Configuration.getLong(properties, Configuration.AUTH_TOKEN_MAX_LIFETIME_S_PROP_NAME);
            authExpiryDisconnect = "true".equals(Configuration.get(properties, Configuration.AUTH_EXPIRY_DISCONNECT_PROP_NAME));
            authTokenMaxBytes = Configuration.getInt(properties, Configuration.AUTH_TOKEN_MAX_BYTES_PROP_NAME);
            authJwksFile = Configuration.get(properties, Configuration.AUTH_JWKS_FILE_PROP_NAME);
            authHs256SecretFile = Configuration.get(properties, Configuration.AUTH_HS256_SECRET_FILE_PROP_NAME);
            authWatchIntervalMs = Configuration.getInt(properties, Configuration.AUTH_WATCH_INTERVAL_MS_PROP_NAME);
            wsPath = Configuration.get(properties, Configuration.WS_PATH_PROP_NAME);
            wsSubprotocolStrict = Configuration.getBoolean(properties, Configuration.WS_SUBPROTOCOL_STRICT_PROP_NAME);
            wsAllowedOrigins = list(Configuration.get(properties, Configuration.WS_ALLOWED_ORIGINS_PROP_NAME));
            httpTrustedProxies = list(Configuration.get(properties, Configuration.HTTP_TRUSTED_PROXIES_PROP_NAME));
            mqttsPort = Configuration.getInt(properties, Configuration.MQTTS_PORT_PROP_NAME);
            httpsPort = Configuration.getInt(properties, Configuration.HTTPS_PORT_PROP_NAME);
            tlsCert = emptyToNull(Configuration.get(properties, Configuration.TLS_CERT_PROP_NAME));
            tlsKey = emptyToNull(Configuration.get(properties, Configuration.TLS_KEY_PROP_NAME));
            tlsKeystore = emptyToNull(Configuration.get(properties, Configuration.TLS_KEYSTORE_PROP_NAME));
            tlsKeystorePassword = Configuration.get(properties, Configuration.TLS_KEYSTORE_PASSWORD_PROP_NAME);
            tlsClientAuth = Configuration.get(properties, Configuration.TLS_CLIENT_AUTH_PROP_NAME);
            tlsCa = emptyToNull(Configuration.get(properties, Configuration.TLS_CA_PROP_NAME));
            tlsSelfSigned = Configuration.getBoolean(properties, Configuration.TLS_SELF_SIGNED_PROP_NAME);
            durability = Configuration.get(properties, Configuration.DURABILITY_PROP_NAME);
            journalCheckpointBytes = Configuration.getLong(properties, Configuration.JOURNAL_CHECKPOINT_BYTES_PROP_NAME);
            hookPublishUrl = Configuration.get(properties, Configuration.HOOK_PUBLISH_URL_PROP_NAME);
            hookPublishTopics = HookSettings.parseTopics(
                Configuration.get(properties, Configuration.HOOK_PUBLISH_TOPICS_PROP_NAME));
            hookPublishTimeoutMs = Configuration.getLong(properties, Configuration.HOOK_PUBLISH_TIMEOUT_MS_PROP_NAME);
            hookPublishPolicy = Configuration.get(properties, Configuration.HOOK_PUBLISH_POLICY_PROP_NAME);
            hookPublishBatchMaxMessages =
                Configuration.getInt(properties, Configuration.HOOK_PUBLISH_BATCH_MAX_MESSAGES_PROP_NAME);
            hookPublishBatchMaxBytes = Configuration.getInt(properties, Configuration.HOOK_PUBLISH_BATCH_MAX_BYTES_PROP_NAME);
            hookPublishQueueBytes = Configuration.getInt(properties, Configuration.HOOK_PUBLISH_QUEUE_BYTES_PROP_NAME);
        }

        private static Set<String> list(final String value)
        {
            final Set<String> items = new LinkedHashSet<>();
            for (final String item : value.split(","))
            {
                if (!item.isBlank())
                {
                    items.add(item.trim());
                }
            }
            return Set.copyOf(items);
        }

        private static String emptyToNull(final String value)
        {
            return value == null || value.isEmpty() ? null : value;
        }

        /** Checks values and limits against each other; called by {@link Broker#launch(Context)}. */
        public Context conclude()
        {
            if (concluded)
            {
                return this;
            }
            final List<String> problems = new ArrayList<>();
            // A packet becomes one ring record (plus headers): it must fit in a ring with room to spare.
            final int maxRecord = Math.min(inboundRingCapacity, outboundRingCapacity) / 8;
            if (maxPacketSize + 256 > maxRecord)
            {
                problems.add(Configuration.MAX_PACKET_SIZE_PROP_NAME + "=" + maxPacketSize + " needs ring capacities of " +
                    "at least 8 x (max packet size + 256); raise " + Configuration.INBOUND_RING_CAPACITY_PROP_NAME +
                    " and " + Configuration.OUTBOUND_RING_CAPACITY_PROP_NAME);
            }
            if (!"os".equals(durability) && !"fsync".equals(durability) && !"none".equals(durability))
            {
                problems.add(Configuration.DURABILITY_PROP_NAME + " must be os, fsync or none");
            }
            if (ioThreads > (1 << IoAgent.AGENT_INDEX_BITS))
            {
                problems.add(Configuration.IO_THREADS_PROP_NAME + " is at most " + (1 << IoAgent.AGENT_INDEX_BITS));
            }
            if (!"token".equals(authMode) && !"none".equals(authMode))
            {
                problems.add(Configuration.AUTH_MODE_PROP_NAME + " must be token or none");
            }
            final Set<String> methodNames = new LinkedHashSet<>();
            if (tokenAuth())
            {
                methodNames.add(JwtAuthMethod.NAME);
            }
            for (final AuthMethod method : authMethods)
            {
                if (!methodNames.add(method.name()))
                {
                    problems.add("authentication method '" + method.name() + "' is registered twice");
                }
            }
            if (tokenAuth() && !authJwksFile.isEmpty() && !java.nio.file.Files.isReadable(Path.of(authJwksFile)))
            {
                problems.add(Configuration.AUTH_JWKS_FILE_PROP_NAME + "=" + authJwksFile + " is not a readable file");
            }
            if (tokenAuth() && !authHs256SecretFile.isEmpty() && !java.nio.file.Files.isReadable(Path.of(authHs256SecretFile)))
            {
                problems.add(Configuration.AUTH_HS256_SECRET_FILE_PROP_NAME + "=" + authHs256SecretFile + " is not a readable file");
            }
            if ((tlsCert == null) != (tlsKey == null))
            {
                problems.add(Configuration.TLS_CERT_PROP_NAME + " and " + Configuration.TLS_KEY_PROP_NAME +
                    " go together");
            }
            if (tlsCert != null && tlsKeystore != null)
            {
                problems.add("set either " + Configuration.TLS_CERT_PROP_NAME + " + " + Configuration.TLS_KEY_PROP_NAME +
                    " or " + Configuration.TLS_KEYSTORE_PROP_NAME + ", not both");
            }
            if (!"none".equals(tlsClientAuth) && tlsCa == null)
            {
                problems.add(Configuration.TLS_CLIENT_AUTH_PROP_NAME + "=" + tlsClientAuth + " needs " +
                    Configuration.TLS_CA_PROP_NAME);
            }
            if (!hookPublishUrl.isEmpty())
            {
                concludeHook(problems);
            }
            if (!problems.isEmpty())
            {
                throw new IllegalArgumentException("invalid configuration: " + String.join("; ", problems));
            }
            concluded = true;
            return this;
        }

        private void concludeHook(final List<String> problems)
        {
            final String badUrl = HookSettings.checkUrl(hookPublishUrl);
            if (badUrl != null)
            {
                problems.add(Configuration.HOOK_PUBLISH_URL_PROP_NAME + "=" + hookPublishUrl + " " + badUrl);
            }
            final String badTopics = HookSettings.checkTopics(hookPublishTopics);
            if (badTopics != null)
            {
                problems.add(Configuration.HOOK_PUBLISH_TOPICS_PROP_NAME + " " + badTopics);
            }
            if (!"fail-closed".equals(hookPublishPolicy) && !"fail-open".equals(hookPublishPolicy))
            {
                problems.add(Configuration.HOOK_PUBLISH_POLICY_PROP_NAME + " must be fail-closed or fail-open");
            }
            if (hookPublishTimeoutMs < 1 || hookPublishBatchMaxMessages < 1 || hookPublishBatchMaxBytes < 1024)
            {
                problems.add("the publish hook needs a timeout of at least 1 ms, batches of at least 1 message and " +
                    "1024 bytes");
            }
            // One message, with its publisher's client id and token id, must fit in one record of the queue.
            final long record = maxPacketSize + Math.max(clientIdMaxLength, 256) + (tokenAuth() ? 2L * authTokenMaxBytes : 0) + 64;
            if (Integer.bitCount(hookPublishQueueBytes) != 1 || hookPublishQueueBytes / 8 < record)
            {
                problems.add(Configuration.HOOK_PUBLISH_QUEUE_BYTES_PROP_NAME + "=" + hookPublishQueueBytes +
                    " must be a power of two of at least 8 x (max packet size + client id + token id + 64) = " +
                    8 * record);
            }
        }

        /** The publish hook's settings, or null when no hook is configured. */
        public HookSettings hookSettings()
        {
            if (hookPublishUrl.isEmpty())
            {
                return null;
            }
            return new HookSettings(java.net.URI.create(hookPublishUrl), hookPublishTopics, hookPublishTimeoutMs,
                HookPolicy.named(hookPublishPolicy), hookPublishBatchMaxMessages, hookPublishBatchMaxBytes,
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

        /** {@code fail-closed} or {@code fail-open}: what a failed hook request means for its messages. */
        public Context hookPublishPolicy(final String policy)
        {
            this.hookPublishPolicy = policy;
            return this;
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

        /** Stored bytes of QoS 1/2 messages queued for one offline session (0 = unlimited). */
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

        /** True: the admin API also answers peers that are not on this machine (its bearer token still applies). */
        public Context adminRemote(final boolean remote)
        {
            this.adminRemote = remote;
            return this;
        }

        /** True: the routing agent runs on I/O thread 0's thread (fewer hand-offs on small machines). */
        public Context sharedThreading(final boolean shared)
        {
            this.sharedThreading = shared;
            return this;
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

        /** Client-certificate policy ("none", "optional", "required") and the CA bundle they must chain to. */
        public Context tlsClientAuth(final String clientAuth, final String caBundlePem)
        {
            this.tlsClientAuth = clientAuth;
            this.tlsCa = caBundlePem;
            return this;
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

        /** {@code token} or {@code none} ({@link Configuration#AUTH_MODE_PROP_NAME}). */
        public Context authMode(final String mode)
        {
            this.authMode = mode;
            return this;
        }

        public String authMode()
        {
            return authMode;
        }

        boolean tokenAuth()
        {
            return "token".equals(authMode);
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

        /** The token settings this context describes. */
        public AuthSettings authSettings()
        {
            return new AuthSettings(Path.of(dataDir), authClockSkewS, authMaxLifetimeS, authExpiryDisconnect,
                authTokenMaxBytes, authJwksFile.isEmpty() ? null : Path.of(authJwksFile),
                authHs256SecretFile.isEmpty() ? null : Path.of(authHs256SecretFile));
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

        public Context storeHighWater(final long bytes)
        {
            this.storeHighWater = bytes;
            return this;
        }

        /** {@code os}, {@code fsync} or {@code none}; see {@link Configuration#DURABILITY_PROP_NAME}. */
        public Context durability(final String mode)
        {
            this.durability = mode;
            return this;
        }

        public String durability()
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
