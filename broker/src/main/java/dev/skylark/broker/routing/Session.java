package dev.skylark.broker.routing;

import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.IntHashSet;

import java.util.ArrayDeque;

/**
 * The routing agent's view of one MQTT session: which connection it is on, what it is owed and what it owes.
 * Lives across connections while the session has not expired. Owned by the routing agent thread only.
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
    /** Nanosecond deadline at which an offline session ends, when {@link #offlineSinceNs} is set. */
    long expiryDeadlineNs;
    boolean offline;

    /** How many QoS 1/2 messages may be in flight to the client at once. */
    int sendWindow;
    /** The client's Maximum Packet Size, or Integer.MAX_VALUE. */
    int maxPacketSize = Integer.MAX_VALUE;

    private int nextPacketId = 1;
    final Int2ObjectHashMap<PendingMessage> inFlight = new Int2ObjectHashMap<>();
    /** In-flight messages in the order they were first sent, for redelivery in order. */
    final ArrayDeque<PendingMessage> inFlightOrder = new ArrayDeque<>(2); // small: most sessions are idle
    final PendingQueue queue = new PendingQueue();
    /** Inbound QoS 2 packet ids received (PUBREC sent) whose PUBREL has not arrived. */
    final IntHashSet awaitingPubrel = new IntHashSet();

    /** The will as a {@link MessageStore} handle (0 when none), with its delay in seconds. */
    long willHandle;
    long willDelay;
    long willDeadlineNs;
    boolean willPending;

    /** Journal identity of a persistent session (expiry > 0); 0 when the session is not journaled. */
    long durableId;
    /** Wall-clock time the session went offline, for its expiry across a restart. */
    long offlineSinceEpochMs;
    /** A persistent session's subscriptions, filter to options (low 8 bits) and subscription id (high 32 bits). */
    final java.util.HashMap<String, Long> durableSubscriptions = new java.util.HashMap<>();
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

    boolean canSend()
    {
        return inFlight.size() < sendWindow;
    }

    /** The next packet id not in flight (1..65535). */
    int nextPacketId()
    {
        int id = nextPacketId;
        while (inFlight.containsKey(id))
        {
            id = id == 65_535 ? 1 : id + 1;
        }
        nextPacketId = id == 65_535 ? 1 : id + 1;
        return id;
    }

    @Override
    public String toString()
    {
        return "Session{" + clientId + ", id=" + sessionId + ", connection=" + connectionId + "}";
    }
}
