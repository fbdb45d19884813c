package dev.skylark.broker.routing;

import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The routing agent: the single writer of the subscription tree, the session registry, the retained index and
 * every session's queues. Its duty cycle reads the I/O agents' commands off the inbound ring
 * ({@link RouterCommandAdapter}), releases publisher acknowledgements the journal has made durable, fires session
 * timers, and holds publishers back through the {@link PublishGate} while stored messages are over the high-water
 * mark. The work itself is done by its parts, wired here:
 * <ul>
 * <li>{@link SessionRegistry}: CONNECT, DISCONNECT, takeover and expiry, with {@link Wills} and
 * {@link SharedRedistributor};</li>
 * <li>{@link InboundQos} and {@link MessageRouter}: a PUBLISH is acknowledged and routed once;</li>
 * <li>{@link Deliveries} and each session's {@link DeliveryWindow}: the outbound QoS 1/2 state machine;</li>
 * <li>{@link Subscriptions}: SUBSCRIBE, UNSUBSCRIBE, quotas, retained messages for new subscriptions;</li>
 * <li>{@link CheckpointWriter} and {@link JournalReplayAdapter}: the journal's checkpoint and start-up replay.</li>
 * </ul>
 */
public final class RoutingAgent implements Agent
{
    private static final System.Logger LOG = System.getLogger(RoutingAgent.class.getName());
    private static final int COMMAND_LIMIT = 256;
    /** The slow tick: $SYS topics and the checkpoint-size check (both O(1)). */
    private static final long TICK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final RingBuffer inbound;
    private final DeliveryPublisher out;
    private final NanoClock clock;
    private final CachedNanoClock cachedClock = new CachedNanoClock();
    private final RoutingCounters counters;
    private final PublishGate gate;
    private final long storeHighWater;
    private final DurableLog log;
    private final MessageStore store = new MessageStore();
    private final DurableIds durableIds = new DurableIds();
    private final JournalRecord journalRecord;
    private final TopicTree tree;

    private final SessionTimers timers;
    private final Deliveries deliveries;
    private final MessageRouter router;
    private final SessionRegistry sessions;
    private final AccessRecheck accessRecheck;
    private final InboundQos inboundQos;
    private final Subscriptions subscriptions;
    private final RouterCommandAdapter commandAdapter;
    private final CheckpointWriter checkpointWriter;
    private final JournalReplayAdapter replayAdapter;
    private final Wills wills;
    private final SlowSubscribers slowSubscribers;
    private final RetainedAdmin retainedAdmin = new RetainedAdmin();

    private SysTopics sysTopics;
    /** The other nodes of a cluster; null on a single node. */
    private ClusterLink cluster;
    /** What the routing agent does with {@link #cluster}; null on a single node. */
    private ClusterAdapter clusterAdapter;
    /** What the routing agent does while its node is fenced; null on a single node. */
    private Fencing fencing;
    private long nextTickNs;
    /** A clean leave asked for by {@link #requestLeave} (its bound, ns), or -1; any thread writes it once. */
    private volatile long leaveRequestNs = -1;
    private boolean leaveStarted;

    public RoutingAgent(
        final RingBuffer inbound,
        final DeliveryPublisher out,
        final NanoClock clock,
        final RoutingCounters counters,
        final int inflightMax,
        final int queueMaxMessages,
        final int receiveMaximum,
        final long sessionExpiryMax,
        final PublishGate gate,
        final long storeHighWater,
        final SharedSubscriptionPolicy sharedPolicy,
        final DurableLog log,
        final long checkpointBytes)
    {
        this.inbound = inbound;
        this.out = out;
        this.clock = clock;
        this.counters = counters;
        this.gate = gate;
        this.storeHighWater = storeHighWater;
        this.log = log;
        this.journalRecord = new JournalRecord(log);
        this.tree = new TopicTree(sharedPolicy);
        cachedClock.update(clock.nanoTime());

        final EpochClock epochClock = SystemEpochClock.INSTANCE;
        final JournalRecord journal = journalRecord;
        final DurableIds ids = durableIds;
        final Int2ObjectHashMap<Session> sessionsById = new Int2ObjectHashMap<>();
        timers = new SessionTimers(cachedClock.nanoTime());
        slowSubscribers = new SlowSubscribers(timers, out, counters, cachedClock);
        timers.slowSubscribers(slowSubscribers);
        deliveries = new Deliveries(out, store, journal, counters, cachedClock, queueMaxMessages, slowSubscribers);
        router = new MessageRouter(tree, store, sessionsById, deliveries, out, journal, ids, counters, cachedClock);
        wills = new Wills(store, router, timers, counters);
        final SharedRedistributor redistributor =
            new SharedRedistributor(sessionsById, deliveries, store, journal, ids, counters);
        sessions = new SessionRegistry(sessionsById, out, tree, deliveries, wills, redistributor, timers, journal, ids,
            counters, cachedClock, epochClock, inflightMax, receiveMaximum, sessionExpiryMax);
        slowSubscribers.sessions(sessions);
        inboundQos = new InboundQos(router, out, log, journal, counters);
        subscriptions = new Subscriptions(tree, router, deliveries, store, out, journal, ids, counters, cachedClock);
        commandAdapter = new RouterCommandAdapter(sessions, inboundQos, deliveries, subscriptions);
        accessRecheck = new AccessRecheck(tree, journal, deliveries, store, counters);
        accessRecheck.sessions(sessions);
        sessions.accessRecheck(accessRecheck);
        subscriptions.accessRecheck(accessRecheck);
        checkpointWriter =
            new CheckpointWriter(log, journal, sessions, router.retained(), store, ids, clock, checkpointBytes,
                counters.journal);
        replayAdapter = new JournalReplayAdapter(log, sessions, tree, router, deliveries, store, ids, counters, clock,
            epochClock, inflightMax);
    }

    @Override
    public String roleName()
    {
        return "skylark-router";
    }

    @Override
    public int doWork()
    {
        final long nowNs = clock.nanoTime();
        cachedClock.update(nowNs);
        int work = fencing != null ? fencing.poll() : 0;
        work += inbound.read(commandAdapter, COMMAND_LIMIT);
        work += inboundQos.releaseDurableAcks();
        work += timers.poll(nowNs);
        work += retainedAdmin.poll(router, store, sessions, tree);
        work += accessRecheck.poll();
        if (clusterAdapter != null)
        {
            if (!leaveStarted && leaveRequestNs >= 0)
            {
                leaveStarted = true;
                clusterAdapter.leave(leaveRequestNs);
                work++;
            }
            work += clusterAdapter.doWork();
        }
        updateGate();
        counters.storedBytes.setRelease(store.bytesInUse());
        counters.retainedBytes.setRelease(router.retainedQuota().bytes());
        if (nowNs - nextTickNs >= 0)
        {
            nextTickNs = nowNs + TICK_INTERVAL_NS;
            onSlowTick(nowNs);
        }
        work += log.doWork();
        return work;
    }

    private void onSlowTick(final long nowNs)
    {
        counters.inboundRingBytes.setRelease(inbound.size());
        counters.outboundRingBytes.setRelease(out.queuedBytes());
        accessRecheck.onSlowTick();
        if (sysTopics != null && sysTopics.isDue(nowNs))
        {
            sysTopics.publish(nowNs, sessions.connectedCount(), sessions.sessionCount(), tree.subscriptionCount(),
                router.retained().size(), counters.publishesIn.get(), store.count(), router);
        }
        if (checkpointWriter.isDue() || log.checkpointRequested())
        {
            writeCheckpoint();
        }
    }

    /**
     * The last resort: closes the gate to publishes that would grow the store while stored messages exceed the
     * high-water mark (or the journal pushes back), and opens it again below half of it. Publishers of QoS 1/2 and
     * retained messages wait (TCP pushes back) instead of acknowledged messages being dropped; QoS 0 and retained
     * clears keep flowing. The per-client quotas keep the store below the mark, so this should never close.
     */
    private void updateGate()
    {
        final long inUse = store.bytesInUse();
        if (!gate.isClosed())
        {
            if (inUse > storeHighWater || log.isBackPressured() || clusterBackPressured())
            {
                gate.close();
                counters.publishGateClosed.incrementRelease();
                counters.publishGateHeld.setRelease(1);
                LOG.log(Level.WARNING, "stored messages reached " + inUse + " bytes (retained " +
                    router.retainedQuota().bytes() + ")" + (log.isBackPressured() ? " or the journal pushes back" : "") +
                    (clusterBackPressured() ? " or forwards to other cluster nodes back up" : "") +
                    ": holding back QoS 1/2 and retained publishes until below " + storeHighWater / 2 +
                    " (skylark.store.high.water); QoS 0 and retained clears still flow");
            }
        }
        else if (inUse < storeHighWater / 2 && !log.isBackPressured() && !clusterBackPressured())
        {
            gate.open();
            counters.publishGateHeld.setRelease(0);
            LOG.log(Level.INFO, "stored messages down to " + inUse + " bytes: publishers resume");
        }
    }

    /** Forwards to other cluster nodes back up past their bound (never on a single node). */
    private boolean clusterBackPressured()
    {
        return clusterAdapter != null && clusterAdapter.isBackPressured();
    }

    /**
     * A connected QoS 1/2 subscriber whose window stays full, with messages waiting, this long without an
     * acknowledgement is disconnected with 0x97 (0 = never). Set before start.
     */
    public void slowConsumerTimeoutNs(final long timeoutNs)
    {
        slowSubscribers.timeoutNs(timeoutNs);
    }

    /**
     * Joins this node's routing to a cluster through {@code link} (null: a single node). Set before {@link #replay()}.
     */
    public void cluster(final ClusterLink link)
    {
        this.cluster = link;
        if (link == null)
        {
            return;
        }
        final LocalRoutes localRoutes = new LocalRoutes(link);
        final ClusterForwarding forwarding = new ClusterForwarding(link, counters, cachedClock);
        forwarding.router(router);
        forwarding.durable(log, journalRecord);
        checkpointWriter.forwarding(forwarding);
        replayAdapter.forwardRecords(forwarding);
        final PendingClaims claims = new PendingClaims(link, out);
        final SessionTransfer transfer = new SessionTransfer(link, sessions, tree, deliveries, store,
            journalRecord, durableIds, cachedClock, claims);
        clusterAdapter =
            new ClusterAdapter(link, claims, localRoutes, forwarding, sessions, subscriptions, router, transfer,
                cachedClock, counters);
        clusterAdapter.heir(replayAdapter, checkpointWriter, log, cachedClock);
        tree.filterListener(localRoutes);
        router.forwarding(forwarding);
        subscriptions.localRoutes(localRoutes);
        commandAdapter.pendingClaims(claims);
        sessions.endListener(clusterAdapter);
        wills.cluster(link);
        clusterAdapter.wills(wills);
        fencing = new Fencing(link, sessions, claims, inboundQos, out);
    }

    /**
     * A clustered node's clean leave (any thread; the caller then wakes this agent): its clients are disconnected
     * (v5: 0x9C Use another server, or 0x8B), and its persistent sessions are handed to its heir, waiting at most
     * {@code timeoutNs} for that; {@link #hasLeft()} says when it is over. Nothing on a single node.
     */
    public void requestLeave(final long timeoutNs)
    {
        leaveRequestNs = Math.max(0, timeoutNs);
    }

    /** Whether the leave {@link #requestLeave asked for} is over (at once on a single node). Any thread. */
    public boolean hasLeft()
    {
        return clusterAdapter == null || clusterAdapter.hasLeft();
    }

    /** Whether this agent routes for a cluster node. */
    public boolean isClustered()
    {
        return clusterAdapter != null;
    }

    /** The admin API's requests to list or delete retained messages, answered on this agent's duty cycle. */
    public RetainedAdmin retainedAdmin()
    {
        return retainedAdmin;
    }

    /**
     * Retained message quotas (0 = unlimited each): in all and per client id, by count and stored bytes; a retained
     * PUBLISH past one is refused to its sender (v5 0x97). Set before start.
     */
    public void retainedLimits(
        final int maxMessages, final long maxBytes, final int clientMaxMessages, final long clientMaxBytes)
    {
        router.retainedQuota().limits(maxMessages, maxBytes, clientMaxMessages, clientMaxBytes);
    }

    /** True when the inbound ring holds commands; used by the idle strategy before parking. */
    public boolean hasWork()
    {
        return inbound.size() > 0 || inboundQos.hasDurableAcks() || retainedAdmin.hasRequests() ||
            (cluster != null && (cluster.hasWork() || clusterAdapter.hasConfirmsReady() ||
                (leaveRequestNs >= 0 && !leaveStarted)));
    }

    /**
     * Authorization re-checks: the I/O threads hand each connection's {@link SessionAccess} over through
     * {@code updates}; when {@code rulesVersion} changes (a reload) every session's subscriptions and queued messages
     * are re-checked. Set before start.
     */
    public void access(final AccessUpdates updates, final java.util.function.Supplier<Object> rulesVersion)
    {
        accessRecheck.wire(updates, rulesVersion);
    }

    /** Subscriptions one session may hold (0 = unlimited); more get SUBACK 0x97 (3.1.1: 0x80). Set before start. */
    /** Whether a v5 PUBACK/PUBREC for a message nobody subscribed to says 0x10 No matching subscribers (else 0x00). */
    public void pubackNoMatchingSubscribers(final boolean say0x10)
    {
        inboundQos.noMatchingSubscribers(say0x10);
    }

    public void subscriptionsPerClientMax(final int max)
    {
        subscriptions.subscriptionsPerClientMax(max);
    }

    /**
     * Subscribers one topic filter may have, members of shared groups on that filter included (0 = unlimited); more
     * get SUBACK 0x97 (3.1.1: 0x80). Set before start.
     */
    public void subscribersPerFilterMax(final int max)
    {
        subscriptions.subscribersPerFilterMax(max);
    }

    /**
     * Shared groups one topic filter may have and shared groups one session may join (0 = unlimited); a SUBSCRIBE
     * over either gets SUBACK 0x97 (3.1.1: 0x80). Set before start.
     */
    public void sharedGroupsMax(final int perFilter, final int perClient)
    {
        subscriptions.sharedGroupsMax(perFilter, perClient);
    }

    /**
     * Stored bytes of QoS 1/2 messages queued for one offline session (0 = unlimited); a message that would take the
     * queue past it is dropped and counted. Set before start.
     */
    public void queueMaxBytes(final long bytes)
    {
        deliveries.queueMaxBytes(bytes);
    }

    /**
     * Stored bytes of QoS 1/2 messages in flight to one session past which no further one starts (they queue), so a
     * large in-flight count is bounded by memory; one message always may go. Set before start.
     */
    public void inflightMaxBytes(final int bytes)
    {
        deliveries.inflightMaxBytes(bytes);
    }

    /**
     * Publishes the broker's figures on {@code $SYS/broker/...} every {@code intervalNs} (0 = off); set before the
     * agent starts.
     */
    public void sysTopics(final long intervalNs, final LongSupplier messagesSent)
    {
        sysTopics = new SysTopics(intervalNs, clock.nanoTime(), messagesSent);
    }

    /** As above; {@code counterTotal} reads a counter's total by metric name (bytes, packets, connections). */
    public void sysTopics(final long intervalNs, final LongSupplier messagesSent,
        final java.util.function.ToLongFunction<String> counterTotal)
    {
        sysTopics = new SysTopics(intervalNs, clock.nanoTime(), messagesSent, counterTotal);
    }

    /**
     * The wall clock that stamps when a persistent session went offline, for its expiry across a restart (default
     * the system's). Set before {@link #replay()}.
     */
    public void epochClock(final EpochClock epochClock)
    {
        sessions.epochClock(epochClock);
        replayAdapter.epochClock(epochClock);
    }

    /**
     * Writes the whole durable state (persistent sessions, their subscriptions and what they are owed, retained
     * messages) as a checkpoint: once it is durable the journal drops everything before it.
     */
    public void writeCheckpoint()
    {
        checkpointWriter.writeCheckpoint();
    }

    /** Replays the journal into this agent, before its thread starts; then writes a fresh checkpoint. */
    public void replay()
    {
        final long nowNs = clock.nanoTime();
        cachedClock.update(nowNs);
        replayAdapter.replay(nowNs);
        if (clusterAdapter != null)
        {
            clusterAdapter.onReplayed();
        }
        checkpointWriter.onReplayed();
        writeCheckpoint();
    }

    @Override
    public void onClose()
    {
        for (final Session session : sessions.sessions())
        {
            wills.releaseAtClose(session);
        }
    }

    /** For tests and status: publisher acknowledgements waiting for the journal. */
    public int pendingAckCount()
    {
        return inboundQos.pendingAckCount();
    }

    /** For tests and status: number of sessions, online or not. */
    public int sessionCount()
    {
        return sessions.sessionCount();
    }
}
