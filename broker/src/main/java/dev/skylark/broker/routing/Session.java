package dev.skylark.broker.routing;

import org.agrona.collections.IntHashSet;

/**
 * The routing agent's view of one MQTT session: which connection it is on, what it is owed (its
 * {@link DeliveryWindow}) and what it owes. Lives across connections while the session has not expired. Owned by the
 * routing agent thread only.
 */
final class Session
{
    static final long NO_CONNECTION = 0;
    static final long NEVER = 0xFFFF_FFFFL;

    final int sessionId;
    final String clientId;

    long connectionId = NO_CONNECTION;
    int version;
    /** Seconds; {@link #NEVER} for no expiry. */
    long expiryInterval;
    /** Nanosecond deadline at which an offline session ends ({@code Long.MAX_VALUE} for never). */
    long expiryDeadlineNs;
    boolean offline;

    /** The client's Maximum Packet Size, or Integer.MAX_VALUE. */
    int maxPacketSize = Integer.MAX_VALUE;

    /** QoS 1/2 messages in flight to the client and queued behind them. */
    final DeliveryWindow window = new DeliveryWindow(this);
    /**
     * Inbound QoS 2 packet ids received (PUBREC sent) whose PUBREL has not arrived; null until the session's first
     * QoS 2 PUBLISH (most sessions never send one), then kept. Read it through {@link #awaitsPubrel}.
     */
    IntHashSet awaitingPubrel;

    /** The will as a {@link MessageStore} handle (0 when none), with its delay in seconds. */
    long willHandle;
    long willDelay;
    long willDeadlineNs;
    boolean willPending;

    /** {@link SessionTimers} ids of the pending session-expiry and will-delay timers, or {@link SessionTimers#NO_TIMER}. */
    long expiryTimerId = SessionTimers.NO_TIMER;
    long willTimerId = SessionTimers.NO_TIMER;
    /** {@link SessionTimers} id of the slow-consumer check ({@link SlowSubscribers}), or NO_TIMER. */
    long slowTimerId = SessionTimers.NO_TIMER;
    /**
     * The connection on which the session has had a full window with a message waiting behind it, unacknowledged
     * since {@link #stalledSinceNs}; {@link #NO_CONNECTION} when it is not stalled.
     */
    long stalledConnectionId = NO_CONNECTION;
    long stalledSinceNs;

    /** Journal identity of a persistent session (expiry > 0); 0 when the session is not journaled. */
    long durableId;
    /** The cluster epoch under which this node owns the client id (0 on a single node, or not claimed yet). */
    long clusterEpoch;
    /** The cluster epoch under which the registry holds this session's will (0: it holds none), see {@link Wills}. */
    long willRegistryEpoch;
    /**
     * The dead cluster node this session was taken over from by this node (its heir), else
     * {@link ClusterLink#NO_NODE}: forwards still meant for that node reach it ({@link ClusterForwarding#deliversTo}).
     */
    int takenOverFrom = ClusterLink.NO_NODE;
    /** Wall-clock time the session went offline, for its expiry across a restart. */
    long offlineSinceEpochMs;
    /** A persistent session's subscriptions, filter to options (low 8 bits) and subscription id (high 32 bits). */
    private java.util.HashMap<String, Long> durableSubscriptions; // null until the first: see durableSubscriptions()
    /** What the session may receive (its last connection's token and the rules); null when nothing restricts it. */
    SessionAccess access;
    /** During replay only: pending messages by message id. */
    org.agrona.collections.Long2ObjectHashMap<PendingMessage> replayIndex;

    Session(final int sessionId, final String clientId)
    {
        this.sessionId = sessionId;
        this.clientId = clientId;
    }

    boolean isOnline()
    {
        return connectionId != NO_CONNECTION;
    }

    /** True when a PUBREL is owed for the inbound QoS 2 {@code packetId}. */
    boolean awaitsPubrel(final int packetId)
    {
        return null != awaitingPubrel && awaitingPubrel.contains(packetId);
    }

    /** PUBREC sent for the inbound QoS 2 {@code packetId}: its PUBREL is owed. */
    void awaitPubrel(final int packetId)
    {
        if (null == awaitingPubrel)
        {
            awaitingPubrel = new IntHashSet();
        }
        awaitingPubrel.add(packetId);
    }

    /** The PUBREL of {@code packetId} came (or is no longer owed); true when it was owed. */
    boolean pubrelArrived(final int packetId)
    {
        return null != awaitingPubrel && awaitingPubrel.remove(packetId);
    }

    /** A persistent session's subscriptions (read-only use; empty while it has none). */
    java.util.Map<String, Long> durableSubscriptions()
    {
        return null == durableSubscriptions ? java.util.Collections.emptyMap() : durableSubscriptions;
    }

    /** Records a persistent session's subscription ({@link #packSubscription}); created on the first. */
    void putDurableSubscription(final String filter, final long packed)
    {
        if (null == durableSubscriptions)
        {
            durableSubscriptions = new java.util.HashMap<>();
        }
        durableSubscriptions.put(filter, packed);
    }

    /** Forgets a persistent session's subscription; the packed value it had, or null. */
    Long removeDurableSubscription(final String filter)
    {
        return null == durableSubscriptions ? null : durableSubscriptions.remove(filter);
    }

    void clearDurableSubscriptions()
    {
        if (null != durableSubscriptions)
        {
            durableSubscriptions.clear();
        }
    }

    /** Packs subscription options and id as {@link #durableSubscriptions} holds them. */
    static long packSubscription(final int options, final int subscriptionId)
    {
        return ((long)subscriptionId << 32) | (options & 0xFF);
    }

    static int packedOptions(final long packed)
    {
        return (int)(packed & 0xFF);
    }

    static int packedSubscriptionId(final long packed)
    {
        return (int)(packed >>> 32);
    }

    @Override
    public String toString()
    {
        return "Session{" + clientId + ", id=" + sessionId + ", connection=" + connectionId + "}";
    }
}
