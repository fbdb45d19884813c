package dev.skylark.broker;

import dev.skylark.broker.ipc.IpcDurableLog;
import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.net.SelectorIdleStrategy;
import dev.skylark.broker.routing.DeliveryPublisher;
import dev.skylark.broker.routing.DurableLog;
import dev.skylark.broker.routing.PublishGate;
import dev.skylark.broker.routing.RouterProxy;
import dev.skylark.broker.routing.RoutingAgent;
import dev.skylark.broker.routing.RoutingCounters;
import dev.skylark.broker.routing.SignalledIdleStrategy;
import dev.skylark.broker.session.MqttProtocol;
import dev.skylark.broker.session.ProtocolCounters;
import dev.skylark.broker.session.SessionLimits;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
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
import java.util.ArrayList;
import java.util.List;
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
    private final AgentRunner routerRunner;
    private final AgentRunner[] ioRunners;
    private final IoAgent[] ioAgents;
    private final RoutingAgent router;
    private final DurableLog durableLog;
    private final RoutingCounters routingCounters = new RoutingCounters();
    private final ProtocolCounters protocolCounters = new ProtocolCounters();
    private final int mqttPort;
    private volatile boolean closed;

    private Broker(final Context context)
    {
        this.context = context;
        final NanoClock clock = SystemNanoClock.INSTANCE;
        final int ioThreads = context.ioThreads;

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
        final DeliveryPublisher publisher = new DeliveryPublisher(outbound, wakers,
            new BackoffIdleStrategy(), routingCounters.outboundRingFull);
        final PublishGate gate = new PublishGate();
        final RoutingAgent[] routerRef = new RoutingAgent[1];
        final SignalledIdleStrategy signalled = new SignalledIdleStrategy(() -> routerRef[0].hasWork());
        durableLog = "none".equals(context.durability) ? DurableLog.NONE :
            new IpcDurableLog(Path.of(context.dataDir), "fsync".equals(context.durability),
                context.maxPacketSize + 64 * 1024, signalled::signal);
        router = new RoutingAgent(inbound, publisher, clock, routingCounters, context.inflightMax,
            context.queueMaxMessages, context.receiveMaximum, context.sessionExpiryMax, gate, context.storeHighWater,
            durableLog, context.journalCheckpointBytes);
        routerRef[0] = router;
        // Start-up replay: sessions, subscriptions, owed messages and retained messages, before any listener opens.
        try
        {
            router.replay();
        }
        catch (final RuntimeException ex)
        {
            durableLog.close();
            throw ex;
        }
        if (durableLog instanceof IpcDurableLog ipc)
        {
            ipc.start();
        }
        final IdleStrategy routerIdle;
        routerIdle = context.spin ? new BusySpinIdleStrategy() : signalled;

        final SessionLimits limits = new SessionLimits(context.maxPacketSize, context.receiveMaximum,
            context.topicAliasMaximum, TimeUnit.MILLISECONDS.toNanos(context.connectTimeoutMs),
            context.outboundBufferMax);
        ioRunners = new AgentRunner[ioThreads];
        for (int i = 0; i < ioThreads; i++)
        {
            final MqttProtocol protocol = new MqttProtocol(limits, new RouterProxy(inbound, signalled, gate),
                outbound[i], protocolCounters);
            ioAgents[i] = new IoAgent(i, clock, protocol, protocol, context.maxPacketSize, context.outboundBufferMax);
            protocol.agent(ioAgents[i]);
        }
        for (final IoAgent agent : ioAgents)
        {
            agent.peers(ioAgents);
        }

        try
        {
            final ServerSocketChannel listener = ServerSocketChannel.open();
            listener.bind(new InetSocketAddress(context.bindAddress, context.mqttPort), 1024);
            mqttPort = ((InetSocketAddress)listener.getLocalAddress()).getPort();
            ioAgents[0].addListener(listener);
        }
        catch (final IOException ex)
        {
            durableLog.close();
            throw new UncheckedIOException("cannot listen on " + context.bindAddress + ":" + context.mqttPort +
                " (" + Configuration.MQTT_PORT_PROP_NAME + "): " + ex.getMessage(), ex);
        }

        routerRunner = new AgentRunner(routerIdle, this::onError, null, router);
        for (int i = 0; i < ioThreads; i++)
        {
            final IdleStrategy idle = context.spin ? new BusySpinIdleStrategy() : new SelectorIdleStrategy(ioAgents[i]);
            ioRunners[i] = new AgentRunner(idle, this::onError, null, ioAgents[i]);
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
        AgentRunner.startOnThread(broker.routerRunner);
        for (final AgentRunner runner : broker.ioRunners)
        {
            AgentRunner.startOnThread(runner);
        }
        LOG.log(Level.INFO, "MQTT listener on " + context.bindAddress + ":" + broker.mqttPort +
            (context.mqttPort == 0 ? " (free port chosen)" : ""));
        LOG.log(Level.INFO, "Skylark started: " + context.ioThreads + " I/O thread(s), idle strategy " +
            (context.spin ? "spin" : "park") + ", auth mode " + context.authMode + ", durability " + context.durability);
        if ("none".equals(context.authMode))
        {
            LOG.log(Level.WARNING, "authentication is OFF (" + Configuration.AUTH_MODE_PROP_NAME +
                "=none): any client may connect; use only for local development");
        }
        return broker;
    }

    /** The bound MQTT/TCP port (useful when configured as 0). */
    public int mqttPort()
    {
        return mqttPort;
    }

    public Context context()
    {
        return context;
    }

    public RoutingCounters routingCounters()
    {
        return routingCounters;
    }

    public ProtocolCounters protocolCounters()
    {
        return protocolCounters;
    }

    private void onError(final Throwable error)
    {
        LOG.log(Level.ERROR, "agent error", error);
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
        CloseHelper.quietClose(routerRunner);
        // The journal last: its agent drains what the routing agent appended and syncs it.
        CloseHelper.quietClose(durableLog);
        LOG.log(Level.INFO, "Skylark stopped");
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
        private int maxPacketSize;
        private int connectTimeoutMs;
        private int inflightMax;
        private int receiveMaximum;
        private int queueMaxMessages;
        private int topicAliasMaximum;
        private long sessionExpiryMax;
        private int outboundBufferMax;
        private long storeHighWater;
        private int inboundRingCapacity;
        private int outboundRingCapacity;
        private String durability;
        private long journalCheckpointBytes;
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
            maxPacketSize = Configuration.getInt(properties, Configuration.MAX_PACKET_SIZE_PROP_NAME);
            connectTimeoutMs = Configuration.getInt(properties, Configuration.CONNECT_TIMEOUT_MS_PROP_NAME);
            inflightMax = Configuration.getInt(properties, Configuration.INFLIGHT_MAX_PROP_NAME);
            receiveMaximum = Configuration.getInt(properties, Configuration.RECEIVE_MAXIMUM_PROP_NAME);
            queueMaxMessages = Configuration.getInt(properties, Configuration.QUEUE_MAX_MESSAGES_PROP_NAME);
            topicAliasMaximum = Configuration.getInt(properties, Configuration.TOPIC_ALIAS_MAXIMUM_PROP_NAME);
            sessionExpiryMax = Configuration.getLong(properties, Configuration.SESSION_EXPIRY_MAX_PROP_NAME);
            outboundBufferMax = Configuration.getInt(properties, Configuration.OUTBOUND_BUFFER_MAX_PROP_NAME);
            storeHighWater = Configuration.getLong(properties, Configuration.STORE_HIGH_WATER_PROP_NAME);
            inboundRingCapacity = Configuration.getInt(properties, Configuration.INBOUND_RING_CAPACITY_PROP_NAME);
            outboundRingCapacity = Configuration.getInt(properties, Configuration.OUTBOUND_RING_CAPACITY_PROP_NAME);
            durability = Configuration.get(properties, Configuration.DURABILITY_PROP_NAME);
            journalCheckpointBytes = Configuration.getLong(properties, Configuration.JOURNAL_CHECKPOINT_BYTES_PROP_NAME);
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
            if (!problems.isEmpty())
            {
                throw new IllegalArgumentException("invalid configuration: " + String.join("; ", problems));
            }
            concluded = true;
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
