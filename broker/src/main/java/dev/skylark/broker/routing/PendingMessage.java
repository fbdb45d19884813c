package dev.skylark.broker.routing;

/**
 * A QoS 1/2 message owed to one session: queued, or in flight under a packet id. Pooled by the routing agent so
 * steady-state QoS 1 traffic allocates nothing.
 */
final class PendingMessage
{
    static final int QUEUED = 0;
    static final int AWAIT_PUBACK = 1;
    static final int AWAIT_PUBREC = 2;
    static final int AWAIT_PUBCOMP = 3;
    /** During replay: acknowledged since it was journaled; dropped when the replay ends. */
    static final int REPLAY_DONE = -1;
    static final int[] NO_SUBSCRIPTION_IDS = new int[0];

    /** {@link MessageStore} handle; released once no longer needed (PUBACK, PUBREC). */
    long handle;
    int qos;
    boolean retain;
    int packetId;
    int state;
    int[] subscriptionIds = NO_SUBSCRIPTION_IDS;
    int subscriptionIdCount;
    /** The journal's id of the message (0 when not journaled). */
    long messageId;
    /** Restored from the journal: it may have been sent before the restart, so it goes out with DUP. */
    boolean redelivery;
    /** The shared subscription group it was sent through, or null: another member takes it if this one goes. */
    SharedGroup sharedGroup;
    /** When the message's Message Expiry Interval runs out (routing agent clock), or 0 for never. */
    long expiryDeadlineNs;
    /** Stored length of the message when it was taken on, for the session's queued-bytes account. */
    int length;

    /** True once the message's Message Expiry Interval has run out at {@code nowNs} (never when it has none). */
    boolean isExpired(final long nowNs)
    {
        return expiryDeadlineNs != 0 && nowNs - expiryDeadlineNs >= 0;
    }

    void reset()
    {
        expiryDeadlineNs = 0;
        length = 0;
        sharedGroup = null;
        handle = 0;
        qos = 0;
        retain = false;
        packetId = 0;
        state = QUEUED;
        subscriptionIdCount = 0;
        messageId = 0;
        redelivery = false;
    }
}
