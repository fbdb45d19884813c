package dev.skylark.broker;

import dev.skylark.broker.auth.AuthChain;
import dev.skylark.broker.auth.AccessControl;
import dev.skylark.broker.auth.AuthMethods;
import dev.skylark.broker.auth.AuthMode;
import dev.skylark.broker.auth.AuthService;
import dev.skylark.broker.auth.Authenticator;
import dev.skylark.broker.auth.JwtAuthMethod;
import dev.skylark.broker.auth.KeyRing;
import dev.skylark.broker.hook.HookCounters;
import dev.skylark.broker.hook.HookSettings;
import dev.skylark.broker.hook.PublishHookAgent;
import dev.skylark.broker.hook.PublishHookProxy;
import dev.skylark.broker.ipc.IpcDurableLog;
import dev.skylark.broker.journal.DataDirectoryLock;
import dev.skylark.broker.ipc.JournalMetrics;
import dev.skylark.broker.net.ConnectionLimiter;
import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.routing.AccessUpdates;
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
import dev.skylark.broker.session.SessionLimits;
import dev.skylark.broker.status.CounterHistogram;
import dev.skylark.broker.status.Counters;
import dev.skylark.broker.status.CountersFile;
import dev.skylark.broker.status.CountersSnapshot;
import dev.skylark.broker.status.HeartbeatAgent;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.agrona.concurrent.status.AtomicCounter;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Builds the broker's agents from a concluded {@link Broker.Context} and wires them together: the counters file,
 * the inbound ring (I/O to routing) and one outbound ring per I/O agent, the journal, the routing agent (replayed
 * before anything else runs), authentication, the publish hook and the I/O agents. It starts no thread:
 * {@link AgentThreads} does, after {@link Broker} has opened the listeners. Called once by {@link Broker}.
 */
final class BrokerAgents
{
    /** This broker's exclusive claim on its data directory (taken by {@link Broker} first), released last. */
    final DataDirectoryLock dataDirLock;
    final CountersFile countersFile;
    final RoutingCounters routingCounters;
    final DurableLog durableLog;
    final RoutingAgent router;
    /** Signalled when the routing agent has work (dedicated threading); its idle strategy. */
    final SignalledIdleStrategy routerIdle;
    final AuthService auth;
    /** The authorization rules file in force ({@link AccessControl#NONE} without one). */
    final AccessControl accessControl;
    final IoAgent[] ioAgents;
    final MqttProtocol[] protocols;
    /** Null when no publish hook is configured. */
    final PublishHookAgent hookAgent;
    final SignalledIdleStrategy hookIdle;
    final HeartbeatAgent heartbeat;
    /** Shared by the I/O agents; its limits change on a reload. */
    final ConnectionLimiter limiter;
    /** Wakes the routing agent (after a request from another thread). */
    final Runnable wakeRouter;
    /** This node's cluster member (registry, Raft, node-to-node links); null on a single node. */
    final dev.skylark.broker.cluster.ClusterNode clusterNode;

    BrokerAgents(final Broker.Context context, final DataDirectoryLock dataDirLock)
    {
        this.dataDirLock = dataDirLock;
        final NanoClock clock = context.nanoClock;
        final ThreadingMode threading = context.threadingMode;
        final int ioThreads = context.ioThreads;
        final int clusterCounters = context.clusterNodeId < 0 || context.clusterLink != null ? 0 :
            8 + 4 * dev.skylark.broker.cluster.ClusterMembers.parse(context.clusterMembers).size() +
            8 + dev.skylark.broker.cluster.ClusterMembers.parse(context.clusterMembers).size(); // replication
        countersFile = CountersFile.create(Path.of(context.dataDir), 96 + 64 * ioThreads + clusterCounters,
            context.epochClock);
        final Counters counters = new Counters(countersFile.manager());
        routingCounters = new RoutingCounters(counters);

        final RingBuffer inbound = new ManyToOneRingBuffer(ring(context.inboundRingCapacity));
        final RingBuffer[] outbound = new RingBuffer[ioThreads];
        for (int i = 0; i < ioThreads; i++)
        {
            outbound[i] = new OneToOneRingBuffer(ring(context.outboundRingCapacity));
        }

        ioAgents = new IoAgent[ioThreads];
        protocols = new MqttProtocol[ioThreads];
        final IoAgent[] agents = ioAgents;
        final Runnable[] wakers = new Runnable[ioThreads];
        for (int i = 0; i < ioThreads; i++)
        {
            final int index = i;
            wakers[i] = () -> agents[index].wakeup();
        }
        final DeliveryPublisher publisher = new DeliveryPublisher(outbound, wakers, ringFullIdle(threading, clock),
            routingCounters.outboundRingFull);
        final PublishGate gate = new PublishGate();
        final RoutingAgent[] routerRef = new RoutingAgent[1];
        routerIdle = new SignalledIdleStrategy(() -> routerRef[0].hasWork());
        // Shared threading: the routing agent runs on I/O agent 0's thread, so waking it means waking that selector.
        // The cluster node starts (and its registry writes events) before the I/O agents exist: nothing to wake then,
        // the agent polls the event ring on its first duty cycle.
        final Runnable wakeRouter = threading == ThreadingMode.SHARED ? () ->
        {
            final IoAgent agent = agents[0];
            if (agent != null)
            {
                agent.wakeup();
            }
        } :
            threading == ThreadingMode.INVOKER ? () -> { } : routerIdle::signal;
        this.wakeRouter = wakeRouter;
        durableLog = context.durability == Durability.NONE ? DurableLog.NONE :
            new IpcDurableLog(Path.of(context.dataDir), context.durability == Durability.FSYNC,
                journalRecordSize(context.maxPacketSize), wakeRouter, clock);
        router = new RoutingAgent(inbound, publisher, clock, routingCounters, context.inflightMax,
            context.queueMaxMessages, context.receiveMaximum, context.sessionExpiryMax, gate, context.storeHighWater,
            SharedSubscriptionPolicy.named(context.sharedSubscriptionPolicy), durableLog, context.journalCheckpointBytes);
        routerRef[0] = router;
        router.retainedAdmin().wakeRouter(wakeRouter);
        router.subscriptionsPerClientMax(context.subscriptionsPerClientMax);
        router.subscribersPerFilterMax(context.subscribersPerFilterMax);
        router.sharedGroupsMax(context.sharedGroupsPerFilterMax, context.sharedGroupsPerClientMax);
        router.queueMaxBytes(context.queueMaxBytes);
        router.inflightMaxBytes(context.inflightMaxBytes);
        router.slowConsumerTimeoutNs(TimeUnit.MILLISECONDS.toNanos(context.slowConsumerTimeoutMs));
        router.retainedLimits(context.retainedMaxMessages, context.retainedMaxBytes, context.retainedClientMaxMessages,
            context.retainedClientMaxBytes);
        router.pubackNoMatchingSubscribers(context.pubackNoMatchingSubscribers);
        router.epochClock(context.epochClock);
        if (context.clusterLink != null)
        {
            router.cluster(context.clusterLink);
            clusterNode = null;
        }
        else if (context.clusterNodeId >= 0)
        {
            try
            {
                clusterNode = dev.skylark.broker.cluster.ClusterNode.launch(clusterSettings(context), wakeRouter,
                    (t) -> System.getLogger("dev.skylark.broker.cluster").log(System.Logger.Level.ERROR,
                        "cluster node " + context.clusterNodeId + ": " + t, t),
                    new dev.skylark.broker.cluster.ClusterMetrics(counters,
                        dev.skylark.broker.cluster.ClusterMembers.parse(context.clusterMembers), context.clusterNodeId));
            }
            catch (final RuntimeException ex)
            {
                durableLog.close();
                CloseHelper.quietClose(countersFile);
                throw new IllegalStateException("cluster node " + context.clusterNodeId + " did not start: " +
                    ex.getMessage(), ex);
            }
            router.cluster(clusterNode.link());
            replicate(context, clusterNode, counters);
        }
        else
        {
            clusterNode = null;
        }
        router.sysTopics(TimeUnit.SECONDS.toNanos(context.sysIntervalS),
            () -> CountersSnapshot.of(countersFile.reader()).total("skylark_messages_sent_total"),
            (name) -> CountersSnapshot.of(countersFile.reader()).total(name));
        // Start-up replay: sessions, subscriptions, owed messages and retained messages, before any listener opens.
        try
        {
            router.replay();
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(clusterNode);
            durableLog.close();
            CloseHelper.quietClose(countersFile);
            throw ex;
        }
        if (durableLog instanceof IpcDurableLog ipc)
        {
            ipc.metrics(journalMetrics(counters));
            ipc.start();
        }

        auth = context.authMode != AuthMode.NONE ? AuthService.open(context.authSettings(), context.authClock)
            .watch(context.authWatchIntervalMs) : null;
        final Authenticator authenticator = auth == null ? Authenticator.NONE : new AuthChain(context.authModes,
            context.authAnonymous, auth.tokenAuthenticator(), auth.passwords(), auth.counters());
        final AuthMethods authMethods = new AuthMethods();
        if (context.tokenAuth())
        {
            authMethods.registerForPasswordConnections(new JwtAuthMethod(auth.tokenAuthenticator()));
        }
        context.authMethods.forEach(authMethods::register);

        // The publish hook: its own agent, fed by a bounded ring from the I/O agents.
        final HookSettings hook = context.hookSettings();
        final RingBuffer hookQueue = hook == null ? null : new ManyToOneRingBuffer(ring(hook.queueBytes()));
        final PublishHookAgent[] hookRef = new PublishHookAgent[1];
        hookIdle = new SignalledIdleStrategy(() -> hookRef[0].hasWork());
        if (hook != null)
        {
            final KeyRing keyRing = auth != null ? auth.keyRing() :
                KeyRing.openOrCreate(context.authSettings().authDir()); // the key `skylark keys` prints
            hookRef[0] = new PublishHookAgent(hook, hookQueue, new RouterProxy(inbound, wakeRouter, gate), keyRing,
                new HookCounters(counters), context.epochClock, clock, context.maxPacketSize, hookIdle::signal);
        }
        hookAgent = hookRef[0];

        accessControl = context.aclFile == null || context.aclFile.isEmpty() ? AccessControl.NONE :
            AccessControl.open(Path.of(context.aclFile), context.aclFormat, context.aclDefaultAllow)
                .watch(context.authWatchIntervalMs);
        final AccessUpdates accessUpdates = new AccessUpdates();
        router.access(accessUpdates, accessControl::current);
        final SessionLimits limits = sessionLimits(context);
        for (int i = 0; i < ioThreads; i++)
        {
            final MqttProtocol protocol = protocols[i] = new MqttProtocol(limits,
                new RouterProxy(inbound, wakeRouter, gate), outbound[i], new ProtocolCounters(counters, String.valueOf(i)));
            protocol.authenticator(authenticator);
            protocol.authMethods(authMethods);
            protocol.accessControl(accessControl, context.reservedTopicPrefixes, accessUpdates);
            protocol.epochClock(context.epochClock);
            if ((context.clusterLink != null || context.clusterNodeId >= 0) && context.clusterServerReference != null &&
                !context.clusterServerReference.isEmpty())
            {
                protocol.leaveServerReference(context.clusterServerReference);
            }
            if (hook != null)
            {
                protocol.hook(new PublishHookProxy(hookQueue, hook.topics(), hookIdle::signal,
                    new HookCounters.Io(counters, String.valueOf(i))));
            }
            ioAgents[i] = new IoAgent(i, clock, protocol, protocol, context.maxPacketSize, context.outboundBufferMax);
            ioAgents[i].openConnectionsGauge(counters.gauge("skylark_connections",
                "open connections (MQTT, WebSocket and HTTP)", String.valueOf(i)));
            protocol.agent(ioAgents[i]);
            if (auth != null)
            {
                ioAgents[i].sweepOnChange(auth.revocations()::epoch); // a revoked token ends its connections now
            }
        }
        limiter = new ConnectionLimiter(context.maxConnections, context.maxConnectionsPerAddress);
        for (final IoAgent agent : ioAgents)
        {
            agent.peers(ioAgents);
            agent.limiter(limiter);
        }
        heartbeat = new HeartbeatAgent(countersFile, context.epochClock);
    }

    /** Largest journal record: one packet and its routing headers (sizes the Aeron IPC term). */
    static int journalRecordSize(final int maxPacketSize)
    {
        return maxPacketSize + 64 * 1024;
    }

    /**
     * Waiting for room in a full delivery ring. When the routing agent shares a thread with the I/O agents (shared
     * threading: I/O thread 0; invoker: every agent) it drains those rings itself while it waits, else it would
     * wait for itself.
     */
    private IdleStrategy ringFullIdle(final ThreadingMode threading, final NanoClock clock)
    {
        final MqttProtocol[] drained = protocols;
        switch (threading)
        {
            case SHARED:
                return new DrainWhileWaiting(() -> drained[0].doWork(clock.nanoTime()));
            case INVOKER:
                return new DrainWhileWaiting(() ->
                {
                    final long nowNs = clock.nanoTime();
                    for (final MqttProtocol protocol : drained)
                    {
                        protocol.doWork(nowNs);
                    }
                });
            default:
                return new BackoffIdleStrategy();
        }
    }

    private static SessionLimits sessionLimits(final Broker.Context context)
    {
        return new SessionLimits(context.maxPacketSize, context.receiveMaximum,
            context.topicAliasMaximum, TimeUnit.MILLISECONDS.toNanos(context.connectTimeoutMs),
            context.outboundBufferMax, context.keepAliveMax, context.responseInformationPrefix, context.maximumQos,
            context.retainAvailable, context.wildcardSubscriptionsAvailable, context.sharedSubscriptionsAvailable,
            context.subscriptionIdentifiersAvailable, context.payloadFormatCheck, context.topicMaxLength,
            context.topicMaxDepth, context.clientIdMaxLength, context.ratePacketsPerSecond, context.rateBurst,
            context.rateSlowsReader, TimeUnit.MILLISECONDS.toNanos(context.slowConsumerTimeoutMs),
            context.willMaxBytes);
    }

    private static dev.skylark.broker.cluster.ClusterNode.Settings clusterSettings(final Broker.Context c)
    {
        return new dev.skylark.broker.cluster.ClusterNode.Settings(c.clusterNodeId,
            dev.skylark.broker.cluster.ClusterMembers.parse(c.clusterMembers), new java.io.File(c.clusterDirectory()),
            c.clusterElectionTimeoutMs, c.clusterLeaderHeartbeatTimeoutMs, c.clusterSessionTimeoutMs,
            c.clusterSnapshotLogBytes, c.clusterSnapshotIntervalMs, c.clusterRetainedMaxBytes, c.clusterPeerTermLength,
            c.maxPacketSize + 64, c.clusterOwnershipLog);
    }

    /**
     * Journal replication to the cluster node's buddy, with {@code skylark.cluster.ack} deciding what an
     * acknowledgement waits for. Nothing with durability none (nothing is journaled) or in a one-member cluster (no
     * buddy can exist): acknowledgements then count the local journal, as the log line says.
     */
    private void replicate(
        final Broker.Context context, final dev.skylark.broker.cluster.ClusterNode node, final Counters counters)
    {
        final System.Logger log = System.getLogger("dev.skylark.broker.cluster");
        final boolean replicaAck = !"local".equals(context.clusterAck);
        if (!(durableLog instanceof IpcDurableLog ipc))
        {
            log.log(System.Logger.Level.WARNING, "cluster: " + Configuration.DURABILITY_PROP_NAME + "=none journals " +
                "nothing, so nothing is replicated and " + Configuration.CLUSTER_ACK_PROP_NAME + " is ignored: " +
                "acknowledgements go out once a message is routed and a node's death loses what it held");
            return;
        }
        final long members = node.membersMask();
        if (Long.bitCount(members) < 2)
        {
            log.log(System.Logger.Level.INFO, "cluster: one member, so no buddy to replicate the journal to; " +
                "acknowledgements wait for the local journal only");
            return;
        }
        final int self = node.nodeId();
        final dev.skylark.broker.ipc.ReplicationAgent.Metrics metrics = replicationMetrics(counters, members, self);
        final dev.skylark.broker.ipc.ReplicaReceiver receiver = ipc.replicate(node.aeronDirectoryName(),
            new dev.skylark.broker.ipc.ReplicationAgent.Settings(self, members, node::peerEndpoint, node::buddyId,
                node::liveBuddyOf, Path.of(context.dataDir).resolve("replicas"),
                context.durability == Durability.FSYNC),
            metrics, replicaAck);
        node.link().replicas(new dev.skylark.broker.cluster.Replicas()
        {
            public boolean replay(final int nodeId, final DurableLog.Replayer replayer)
            {
                return receiver.replay(nodeId, replayer::onRecord);
            }

            public void drop(final int nodeId)
            {
                receiver.requestDrop(nodeId);
            }
        });
    }

    private static dev.skylark.broker.ipc.ReplicationAgent.Metrics replicationMetrics(
        final Counters counters, final long members, final int self)
    {
        final AtomicCounter[] held = new AtomicCounter[64];
        for (int n = 0; n < 64; n++)
        {
            if ((members & (1L << n)) != 0 && n != self)
            {
                held[n] = counters.gauge("skylark_replica_held_bytes{origin=\"" + n + "\"}",
                    "bytes of node " + n + "'s journal replica held here (its current generation)", null);
            }
        }
        return new dev.skylark.broker.ipc.ReplicationAgent.Metrics(
            counters.gauge("skylark_replica_buddy", "the node holding this node's journal replica (-1: none)", null),
            counters.gauge("skylark_replica_lag_records",
                "records durable in the local journal the buddy has not acknowledged", null),
            counters.gauge("skylark_replica_lag_bytes", "replication stream bytes sent and not acknowledged", null),
            counters.counter("skylark_replica_stream_restarts_total",
                "replication streams started from a fresh checkpoint (new buddy, buddy unreachable or asking)", null),
            held,
            counters.counter("skylark_replica_refused_total",
                "replication messages refused (not from another member, malformed)", null));
    }

    private static UnsafeBuffer ring(final int capacity)
    {
        return new UnsafeBuffer(ByteBuffer.allocateDirect(capacity + RingBufferDescriptor.TRAILER_LENGTH));
    }

    /** Lets go of what was built when the broker does not start (no agent has run). */
    void closeUnstarted()
    {
        if (hookAgent != null)
        {
            hookAgent.onClose(); // never started: only its HTTP client to let go
        }
        CloseHelper.quietClose(auth);
        CloseHelper.quietClose(accessControl);
        if (durableLog instanceof IpcDurableLog ipc)
        {
            ipc.stopReplication(); // it rides on the cluster node's Aeron client
        }
        CloseHelper.quietClose(clusterNode);
        durableLog.close(); // its agent runs already and writes its metrics into the counters file: stop it first
        CloseHelper.quietClose(countersFile);
        dataDirLock.close();
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

    /** The journal's health in the counters file: batch append latency, bytes, generation, records not yet durable. */
    private static JournalMetrics journalMetrics(final Counters counters)
    {
        final CounterHistogram append = new CounterHistogram(counters, "skylark_journal_append_seconds",
            "journal batch append and sync time");
        final AtomicCounter bytes = counters.gauge("skylark_journal_bytes", "journal bytes appended since start", null);
        final AtomicCounter generation = counters.gauge("skylark_journal_generation",
            "journal generation (a new one per checkpoint)", null);
        final AtomicCounter lag = counters.gauge("skylark_journal_durable_lag_records",
            "records offered to the journal and not yet durable", null);
        final AtomicCounter records = counters.counter("skylark_journal_records_appended_total",
            "records appended to the journal", null);
        final AtomicCounter syncs = counters.counter("skylark_journal_syncs_total",
            "journal syncs to disk (fsync mode; each covers every record appended before it)", null);
        return (appendNs, bytesAppended, gen, lagRecords, recordsAppended, syncCount) ->
        {
            append.recordMicros(appendNs / 1000);
            bytes.setRelease(bytesAppended);
            generation.setRelease(gen);
            lag.setRelease(lagRecords);
            records.setRelease(recordsAppended);
            syncs.setRelease(syncCount);
        };
    }
}
