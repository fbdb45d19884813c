package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;
import org.agrona.collections.IntArrayList;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.ArrayList;

/**
 * SUBSCRIBE and UNSUBSCRIBE for one session at a time: the per-client and per-filter quotas, the topic tree, the
 * journal of a persistent session's subscriptions, the SUBACK/UNSUBACK, and the retained messages a new subscription
 * gets after its SUBACK. Called by {@link RouterCommandAdapter} as begin, one call per entry, end.
 */
final class Subscriptions implements RetainedVisitor<Long>
{
    private final TopicTree tree;
    private final MessageRouter router;
    private final Deliveries deliveries;
    private final MessageStore store;
    private final DeliveryPublisher out;
    private final JournalRecord journal;
    private final DurableIds ids;
    private final RoutingCounters counters;
    private final CachedNanoClock clock;
    private int subscriptionsPerClientMax;
    private int subscribersPerFilterMax;
    private int sharedGroupsPerFilterMax;
    private int sharedGroupsPerClientMax;

    private final UnsafeBuffer storedView = new UnsafeBuffer(0, 0);
    private final ArrayList<String> pendingRetained = new ArrayList<>();
    private final IntArrayList pendingRetainedQos = new IntArrayList();
    private final int[] oneSubscriptionId = new int[1];
    private byte[] reasons = new byte[64];
    private Session session;
    private AccessRecheck accessRecheck;
    private int packetId;
    private int count;
    private int subscriptionId;
    private int retainedQos;
    private int retainedSubscriptionIdCount;
    private long nowNs;
    /** The longest a SUBACK/UNSUBACK waits for its route change to commit (a lost command must not hold it forever). */
    private static final long HELD_WAIT_MS = 10_000;
    /** This node's routes in the cluster registry: null on a single node. */
    private LocalRoutes localRoutes;
    /** SUBACKs and UNSUBACKs waiting for their route changes to commit, in the order they are due. */
    private final java.util.ArrayDeque<Held> held = new java.util.ArrayDeque<>();

    /** A SUBACK or UNSUBACK held until the route change it follows has committed in the cluster registry. */
    private static final class Held
    {
        Session session;
        long connectionId;
        int packetType;
        int packetId;
        byte[] reasons;
        int subscriptionId;
        long awaitedCorrelation;
        long deadlineNs;
        String[] retainedFilters;
        int[] retainedQos;
    }

    Subscriptions(
        final TopicTree tree,
        final MessageRouter router,
        final Deliveries deliveries,
        final MessageStore store,
        final DeliveryPublisher out,
        final JournalRecord journal,
        final DurableIds ids,
        final RoutingCounters counters,
        final CachedNanoClock clock)
    {
        this.tree = tree;
        this.router = router;
        this.deliveries = deliveries;
        this.store = store;
        this.out = out;
        this.journal = journal;
        this.ids = ids;
        this.counters = counters;
        this.clock = clock;
    }

    void subscriptionsPerClientMax(final int max)
    {
        subscriptionsPerClientMax = max;
    }

    void subscribersPerFilterMax(final int max)
    {
        subscribersPerFilterMax = max;
    }

    void sharedGroupsMax(final int perFilter, final int perClient)
    {
        sharedGroupsPerFilterMax = perFilter;
        sharedGroupsPerClientMax = perClient;
    }

    /**
     * Joins a cluster: a filter new to this node is announced to the registry before it is subscribed, and the
     * SUBACK/UNSUBACK goes only once the route change is committed ({@link #releaseCommitted()}).
     */
    void localRoutes(final LocalRoutes localRoutes)
    {
        this.localRoutes = localRoutes;
    }

    void accessRecheck(final AccessRecheck accessRecheck)
    {
        this.accessRecheck = accessRecheck;
    }

    void beginSubscribe(final Session session, final int packetId, final int count, final int subscriptionId)
    {
        if (accessRecheck != null)
        {
            accessRecheck.poll(); // an access handed over before this SUBSCRIBE (a re-authentication) applies to it
        }
        begin(session, packetId, count);
        this.subscriptionId = subscriptionId;
    }

    /** Entry {@code i}: {@code result} is the I/O side's verdict (SUCCESS, or the reason it refused the filter). */
    void onSubscribeEntry(final int i, final int options, final int result, final String filter)
    {
        if (result != ReasonCode.SUCCESS)
        {
            reasons[i] = (byte)result;
            return;
        }
        if (session.access != null)
        {
            // The routing agent's view is the last word: rules reloaded, or a token narrowed, after the I/O thread
            // judged this entry (the session's access follows the rules in force; nothing allocated otherwise).
            session.access = session.access.current();
            if (!session.access.maySubscribe(filter))
            {
                counters.accessSubscriptionsRemoved.incrementRelease();
                reasons[i] = (byte)(session.version == MqttVersion.V5 ?
                    ReasonCode.NOT_AUTHORIZED : ReasonCode.V3_SUBACK_FAILURE);
                return;
            }
        }
        final AtomicCounter overQuota = quotaExceeded(filter);
        if (overQuota != null)
        {
            overQuota.incrementRelease();
            reasons[i] = (byte)(session.version == MqttVersion.V5 ?
                ReasonCode.QUOTA_EXCEEDED : ReasonCode.V3_SUBACK_FAILURE);
            return;
        }
        if (localRoutes != null && !localRoutes.announce(filter))
        {
            // The cluster registry cannot take the route now (no leader, back pressure): refused, as the link says.
            reasons[i] = (byte)ReasonCode.UNSPECIFIED_ERROR; // 0x80: the same value in v5 and 3.1.1
            return;
        }
        final boolean existed = tree.subscribe(filter, session.sessionId, options, subscriptionId);
        if (session.durableId != 0)
        {
            session.putDurableSubscription(filter, Session.packSubscription(options, subscriptionId));
            journal.subscribe(session.durableId, filter, options, subscriptionId);
        }
        final int grantedQos = SubscriptionOptions.maxQos(options);
        reasons[i] = (byte)grantedQos;
        final int retainHandling = SubscriptionOptions.retainHandling(options);
        if (!TopicFilter.isShared(filter) &&
            (retainHandling == SubscriptionOptions.RETAIN_HANDLING_SEND ||
            (retainHandling == SubscriptionOptions.RETAIN_HANDLING_SEND_IF_NEW && !existed)))
        {
            pendingRetained.add(filter);
            pendingRetainedQos.add(grantedQos);
        }
    }

    void endSubscribe()
    {
        counters.subscriptions.setRelease(tree.subscriptionCount());
        if (mustHold())
        {
            final Held ack = hold(PacketType.SUBACK);
            ack.subscriptionId = subscriptionId;
            ack.retainedFilters = pendingRetained.toArray(new String[0]);
            ack.retainedQos = pendingRetainedQos.toIntArray();
            pendingRetained.clear();
            pendingRetainedQos.clear();
            session = null;
            return;
        }
        out.ackList(session.connectionId, PacketType.SUBACK, packetId, reasons, count);
        // Retained messages go after the SUBACK, as clients expect.
        for (int i = 0; i < pendingRetained.size(); i++)
        {
            sendRetained(pendingRetained.get(i), pendingRetainedQos.get(i));
        }
        pendingRetained.clear();
        pendingRetainedQos.clear();
        session = null;
    }

    void beginUnsubscribe(final Session session, final int packetId, final int count)
    {
        begin(session, packetId, count);
    }

    void onUnsubscribeEntry(final int i, final String filter)
    {
        if (filter.isEmpty())
        {
            reasons[i] = (byte)ReasonCode.TOPIC_FILTER_INVALID; // [MQTT-4.7.3-1], [MQTT-4.7.1-1/2]: as SUBSCRIBE does
            return;
        }
        reasons[i] = (byte)(tree.unsubscribe(filter, session.sessionId) ?
            ReasonCode.SUCCESS : ReasonCode.NO_SUBSCRIPTION_EXISTED);
        if (session.durableId != 0 && session.removeDurableSubscription(filter) != null)
        {
            journal.unsubscribe(session.durableId, filter);
        }
    }

    void endUnsubscribe()
    {
        counters.subscriptions.setRelease(tree.subscriptionCount());
        if (mustHold())
        {
            hold(PacketType.UNSUBACK);
            session = null;
            return;
        }
        out.ackList(session.connectionId, PacketType.UNSUBACK, packetId, reasons, count);
        session = null;
    }

    /**
     * Sends the held SUBACKs and UNSUBACKs whose route changes have committed, in order (with the retained messages
     * a SUBACK brings); those of a connection that has gone are dropped.
     *
     * @return how many were due.
     */
    int releaseCommitted()
    {
        int released = 0;
        Held ack;
        final long nowNs = clock.nanoTime();
        while ((ack = held.peekFirst()) != null &&
            (localRoutes.isSettled(ack.awaitedCorrelation) || nowNs - ack.deadlineNs >= 0))
        {
            if (!localRoutes.isCommitted(ack.awaitedCorrelation))
            {
                // A route change lost in the registry (a leader change) would hold every acknowledgement behind it.
                localRoutes.onRouteCommitted(ack.awaitedCorrelation);
                java.lang.System.getLogger(Subscriptions.class.getName()).log(java.lang.System.Logger.Level.WARNING,
                    "cluster: a route change was not committed within " + HELD_WAIT_MS + " ms; acknowledging anyway");
            }
            held.pollFirst();
            released++;
            final Session owner = ack.session;
            if (!owner.isOnline() || owner.connectionId != ack.connectionId)
            {
                continue;
            }
            out.ackList(ack.connectionId, ack.packetType, ack.packetId, ack.reasons, ack.reasons.length);
            if (ack.retainedFilters != null && ack.retainedFilters.length > 0)
            {
                session = owner;
                subscriptionId = ack.subscriptionId;
                for (int i = 0; i < ack.retainedFilters.length; i++)
                {
                    sendRetained(ack.retainedFilters[i], ack.retainedQos[i]);
                }
                session = null;
            }
        }
        return released;
    }

    /** Acknowledgements waiting for the cluster registry (tests and status). */
    int heldCount()
    {
        return held.size();
    }

    /** In a cluster, an acknowledgement waits while a route change before it is uncommitted, or others wait. */
    private boolean mustHold()
    {
        return localRoutes != null && (!held.isEmpty() || !localRoutes.isSettled(localRoutes.lastIssued()));
    }

    private Held hold(final int packetType)
    {
        final Held ack = new Held();
        ack.session = session;
        ack.connectionId = session.connectionId;
        ack.packetType = packetType;
        ack.packetId = packetId;
        ack.reasons = java.util.Arrays.copyOf(reasons, count);
        ack.awaitedCorrelation = localRoutes.lastIssued();
        ack.deadlineNs = clock.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(HELD_WAIT_MS);
        held.addLast(ack);
        return ack;
    }

    private void begin(final Session session, final int packetId, final int count)
    {
        this.session = session;
        this.packetId = packetId;
        this.count = count;
        if (reasons.length < count)
        {
            reasons = new byte[count];
        }
    }

    /**
     * The limit a new subscription would break, as the counter of its refusals; null when it is within all (a
     * SUBSCRIBE that replaces the session's own subscription to the same filter adds nothing and always is).
     */
    private AtomicCounter quotaExceeded(final String filter)
    {
        if ((subscriptionsPerClientMax == 0 && subscribersPerFilterMax == 0 &&
            sharedGroupsPerFilterMax == 0 && sharedGroupsPerClientMax == 0) ||
            tree.hasSubscription(filter, session.sessionId))
        {
            return null;
        }
        if (subscriptionsPerClientMax > 0 && tree.subscriptionCount(session.sessionId) >= subscriptionsPerClientMax)
        {
            return counters.subscriptionsRefusedPerClient;
        }
        if (subscribersPerFilterMax > 0 && tree.subscriberCount(filter) >= subscribersPerFilterMax)
        {
            return counters.subscriptionsRefusedPerFilter;
        }
        if (TopicFilter.isShared(filter))
        {
            if (sharedGroupsPerClientMax > 0 &&
                tree.sharedSubscriptionCount(session.sessionId) >= sharedGroupsPerClientMax)
            {
                return counters.subscriptionsRefusedGroupsPerClient;
            }
            if (sharedGroupsPerFilterMax > 0 && !tree.hasSharedGroup(filter) &&
                tree.sharedGroupCount(filter) >= sharedGroupsPerFilterMax)
            {
                return counters.subscriptionsRefusedGroupsPerFilter; // joining a group that exists adds no group
            }
        }
        return null;
    }

    private void sendRetained(final String filter, final int grantedQos)
    {
        nowNs = clock.nanoTime();
        retainedQos = grantedQos;
        oneSubscriptionId[0] = subscriptionId;
        retainedSubscriptionIdCount = subscriptionId != 0 && session.version == MqttVersion.V5 ? 1 : 0;
        router.retained().forEachMatch(filter, this);
    }

    /** One retained message matching a new subscription: sent at once (QoS 0), or into the session's window. */
    public void onRetained(final DirectBuffer topic, final int topicOffset, final int topicLength, final Long message)
    {
        final long handle = message;
        final long expiryDeadlineNs = router.retainedExpiryNs(handle);
        if (MessageExpiry.isExpired(expiryDeadlineNs, nowNs))
        {
            return; // an expired retained message is not delivered (it goes when the topic is next set)
        }
        store.wrap(handle, storedView);
        MessageExpiry.patchRemaining(storedView, 0, expiryDeadlineNs, nowNs);
        final int qos = Math.min(MessageLayout.qos(storedView, 0), retainedQos);
        if (qos == 0)
        {
            out.beginBatch(storedView, 0, storedView.capacity());
            out.addEntry(session.connectionId, 0, 0, Delivery.ENTRY_FLAG_RETAIN, oneSubscriptionId, 0,
                retainedSubscriptionIdCount);
            out.endBatch();
            return;
        }
        store.retain(handle);
        final PendingMessage pending = deliveries.newPending(
            expiryDeadlineNs, handle, qos, true, oneSubscriptionId, 0, retainedSubscriptionIdCount);
        if (session.durableId != 0)
        {
            pending.messageId = ids.newMessageId();
            journal.beginMessage(pending.messageId, 0);
            journal.addTarget(session.durableId, qos, Delivery.ENTRY_FLAG_RETAIN, oneSubscriptionId, 0,
                retainedSubscriptionIdCount);
            journal.endMessage(storedView, 0, storedView.capacity());
        }
        deliveries.offer(session, pending);
    }
}
