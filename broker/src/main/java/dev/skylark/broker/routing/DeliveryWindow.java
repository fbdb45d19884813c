package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.collections.Int2ObjectHashMap;

import java.util.ArrayDeque;
import java.util.Collections;

/**
 * One session's outbound QoS 1/2 state machine: the messages in flight under packet ids (QUEUED → AWAIT_PUBACK, or
 * AWAIT_PUBREC → AWAIT_PUBCOMP), the queue behind a full window, draining it as acknowledgements free room, resending
 * on reconnect, and the drop accounting of the offline queue limits. It knows neither rings, store nor journal: every
 * side effect goes through the {@link Outbound} it is given ({@link Deliveries} in the broker, a recorder in tests).
 * Owned by the routing agent thread only.
 */
final class DeliveryWindow
{
    /** The session's queue held {@code queueMaxMessages} already. */
    static final int DROPPED_QUEUE_FULL = 1;
    /** The session's queue would have gone past {@code queueMaxBytes}. */
    static final int DROPPED_QUEUE_BYTES = 2;
    /** Its Message Expiry Interval ran out before its delivery started [MQTT-3.3.2-5]. */
    static final int DROPPED_EXPIRED = 3;
    /** Dropped because the session may no longer receive its topic (rules reloaded, narrower token). */
    static final int DROPPED_NOT_AUTHORIZED = 4;

    /** Decides whether a queued message stays ({@link #dropQueued}). */
    interface QueuedCheck
    {
        boolean keep(PendingMessage pending, SessionAccess access);
    }

    /** The side effects of the window's transitions. */
    interface Outbound
    {
        /** Sends a message that is in flight to the session's connection, with DUP when {@code dup}. */
        void send(Session session, PendingMessage pending, boolean dup);

        /** Sends PUBREL for {@code packetId} to the session's connection. */
        void pubrel(Session session, int packetId, int reasonCode);

        /** Records a delivery state ({@link JournalRecord}{@code .DELIVERED_*}) of a persistent session. */
        void delivered(Session session, PendingMessage pending, int journalState);

        /** The message body is no longer needed (PUBREC came): releases its store reference. */
        void releaseMessage(PendingMessage pending);

        /** The message is finished with: releases its store reference and returns it to the pool. */
        void recycle(PendingMessage pending);

        /** Counts a message dropped for {@code reason} ({@link #DROPPED_QUEUE_FULL}, ...) before it is recycled. */
        void dropped(Session session, PendingMessage pending, int reason);
    }

    private final Session session;
    /** How many QoS 1/2 messages may be in flight to the client at once. */
    int sendWindow;
    /**
     * Stored bytes in flight past which no further message starts ({@code skylark.inflight.max.bytes}): the window is
     * bounded by memory as well as by count, so a large count costs a slow subscriber no more than this. One message
     * always may go, whatever its size.
     */
    int sendWindowBytes = Integer.MAX_VALUE;
    /** Stored bytes of the messages in flight whose body is still held (QoS 1, and QoS 2 before PUBREC). */
    int inFlightBytes;
    private int nextPacketId = 1;
    /**
     * Messages in flight by packet id; null until the session's first QoS 1/2 delivery (most idle sessions never
     * get one), then kept for the session's life so an active session allocates nothing per message.
     */
    private Int2ObjectHashMap<PendingMessage> inFlight;
    /** In-flight messages in the order they were first sent, for redelivery in order; created with {@link #inFlight}. */
    private ArrayDeque<PendingMessage> inFlightOrder;
    /** Queued messages (its deque is created on first use). */
    final PendingQueue queue = new PendingQueue();

    DeliveryWindow(final Session session)
    {
        this.session = session;
    }

    /** True when the window has room for one more message in flight: below its count and its bytes. */
    boolean canSend()
    {
        final int inFlightCount = inFlightCount();
        return inFlightCount < sendWindow && (inFlightBytes < sendWindowBytes || inFlightCount == 0);
    }

    /** Messages in flight. */
    int inFlightCount()
    {
        return null == inFlight ? 0 : inFlight.size();
    }

    /** The message in flight under {@code packetId}, or null. */
    PendingMessage inFlight(final int packetId)
    {
        return null == inFlight ? null : inFlight.get(packetId);
    }

    /** The messages in flight in the order they were first sent (an empty view while there were none). */
    Iterable<PendingMessage> inFlightOrder()
    {
        return null == inFlightOrder ? Collections.emptyList() : inFlightOrder;
    }

    /** Creates the in-flight map and order on the session's first QoS 1/2 delivery. */
    private void ensureInFlight()
    {
        if (null == inFlight)
        {
            inFlight = new Int2ObjectHashMap<>();
            inFlightOrder = new ArrayDeque<>(2); // small: grows with the window actually used
        }
    }

    /** True when a new message may go out at once: online, room in the window and nothing queued ahead of it. */
    boolean canSendNow()
    {
        return session.isOnline() && canSend() && queue.isEmpty();
    }

    /** Messages in flight and queued. */
    int backlog()
    {
        return inFlightCount() + queue.size();
    }

    /** The next packet id not in flight (1..65535). */
    int nextPacketId()
    {
        int id = nextPacketId;
        while (null != inFlight && inFlight.containsKey(id))
        {
            id = id == 65_535 ? 1 : id + 1;
        }
        nextPacketId = id == 65_535 ? 1 : id + 1;
        return id;
    }

    /** Puts a message in flight under a new packet id; the caller sends it. */
    void startInFlight(final PendingMessage pending, final Outbound outbound)
    {
        pending.packetId = nextPacketId();
        pending.state = pending.qos == 1 ? PendingMessage.AWAIT_PUBACK : PendingMessage.AWAIT_PUBREC;
        ensureInFlight();
        inFlight.put(pending.packetId, pending);
        inFlightOrder.addLast(pending);
        inFlightBytes += pending.length;
        if (pending.qos == 2)
        {
            // The subscriber may keep this packet id: a resend after a restart must use it again (exactly once).
            outbound.delivered(session, pending, JournalRecord.DELIVERED_SENT);
        }
    }

    /** Sends a message at once when {@link #canSendNow()}, else queues it. */
    void offer(final PendingMessage pending, final int queueMaxMessages, final long queueMaxBytes, final Outbound outbound)
    {
        if (canSendNow())
        {
            startInFlight(pending, outbound);
            outbound.send(session, pending, false);
        }
        else
        {
            enqueue(pending, queueMaxMessages, queueMaxBytes, outbound);
        }
    }

    /**
     * Queues behind a full window, or while offline. The per-session limits (messages, and bytes when
     * {@code queueMaxBytes > 0}) apply whether the session is connected or not: past them a message is dropped for
     * this session only and counted by the limit it hit, so a subscriber that never acknowledges costs a bounded
     * amount and holds no publisher back.
     */
    void enqueue(final PendingMessage pending, final int queueMaxMessages, final long queueMaxBytes, final Outbound outbound)
    {
        if (queue.size() >= queueMaxMessages)
        {
            drop(pending, DROPPED_QUEUE_FULL, outbound);
            return;
        }
        if (queueMaxBytes > 0 && queue.bytes() + pending.length > queueMaxBytes)
        {
            drop(pending, DROPPED_QUEUE_BYTES, outbound);
            return;
        }
        queue.addLast(pending);
    }

    /** Sends queued messages while the session is online and its window has room; expired ones are deleted. */
    void drain(final long nowNs, final Outbound outbound)
    {
        while (session.isOnline() && canSend() && !queue.isEmpty())
        {
            final PendingMessage pending = queue.pollFirst();
            if (pending.isExpired(nowNs))
            {
                drop(pending, DROPPED_EXPIRED, outbound);
                continue;
            }
            startInFlight(pending, outbound);
            outbound.send(session, pending, false);
        }
    }

    /**
     * Drops the queued messages (not those in flight: they were sent) that {@code check} does not keep, keeping the
     * order of the rest; returns how many went.
     */
    int dropQueued(final QueuedCheck check, final SessionAccess access, final Outbound outbound)
    {
        int dropped = 0;
        for (int i = 0, n = queue.size(); i < n; i++)
        {
            final PendingMessage pending = queue.pollFirst();
            if (check.keep(pending, access))
            {
                queue.addLast(pending);
            }
            else
            {
                drop(pending, DROPPED_NOT_AUTHORIZED, outbound);
                dropped++;
            }
        }
        return dropped;
    }

    /** On reconnect: every unacknowledged message again, in order, with DUP; PUBREL for those past PUBREC. */
    void resend(final Outbound outbound)
    {
        if (null == inFlightOrder)
        {
            return;
        }
        for (final PendingMessage pending : inFlightOrder)
        {
            if (pending.state == PendingMessage.AWAIT_PUBCOMP)
            {
                outbound.pubrel(session, pending.packetId, ReasonCode.SUCCESS);
            }
            else
            {
                outbound.send(session, pending, true);
            }
        }
    }

    /** A PUBACK, PUBREC or PUBCOMP from the subscriber; a completed message frees room and the queue drains. */
    boolean onAck(
        final int packetType, final int reasonCode, final int packetId, final long nowNs, final Outbound outbound)
    {
        final PendingMessage pending = inFlight(packetId);
        if (pending == null)
        {
            // Unknown id: not a violation — after a reconnection (or a resend) an acknowledgement may come for what
            // is already complete. PUBREC is answered PUBREL 0x92 Packet Identifier not found.
            if (packetType == PacketType.PUBREC)
            {
                outbound.pubrel(session, packetId, ReasonCode.PACKET_IDENTIFIER_NOT_FOUND);
            }
            return true;
        }
        final int state = pending.state;
        if (packetType == PacketType.PUBREC && state == PendingMessage.AWAIT_PUBREC &&
            reasonCode < ReasonCode.UNSPECIFIED_ERROR)
        {
            pending.state = PendingMessage.AWAIT_PUBCOMP;
            outbound.delivered(session, pending, JournalRecord.DELIVERED_RELEASED);
            inFlightBytes -= pending.length; // the body goes: only the PUBREL/PUBCOMP exchange is left
            pending.length = 0;
            outbound.releaseMessage(pending);
            outbound.pubrel(session, packetId, ReasonCode.SUCCESS);
            return true;
        }
        if (packetType == PacketType.PUBREC && state == PendingMessage.AWAIT_PUBCOMP)
        {
            // The same PUBREC again: the sender answers every PUBREC with a PUBREL [MQTT-4.3.3-4].
            outbound.pubrel(session, packetId, ReasonCode.SUCCESS);
            return true;
        }
        final boolean completes =
            (packetType == PacketType.PUBACK && state == PendingMessage.AWAIT_PUBACK) ||
            (packetType == PacketType.PUBCOMP && state == PendingMessage.AWAIT_PUBCOMP) ||
            (packetType == PacketType.PUBREC && state == PendingMessage.AWAIT_PUBREC);
        if (!completes)
        {
            // An acknowledgement of the wrong type for this delivery: PUBREC or PUBCOMP for QoS 1, PUBACK for QoS 2,
            // PUBCOMP before PUBREC. A protocol violation [MQTT-4.3.2-2], [MQTT-4.3.3-*]: the caller closes.
            return false;
        }
        inFlight.remove(packetId);
        inFlightBytes -= pending.length;
        outbound.delivered(session, pending, JournalRecord.DELIVERED_COMPLETE);
        if (inFlightOrder.peekFirst() == pending)
        {
            inFlightOrder.pollFirst();
        }
        else
        {
            inFlightOrder.remove(pending);
        }
        outbound.recycle(pending);
        drain(nowNs, outbound);
        return true;
    }

    /** Takes a queued or in-flight message out of the window (it goes to another session); the caller owns it. */
    void remove(final PendingMessage pending)
    {
        if (pending.state == PendingMessage.QUEUED)
        {
            queue.remove(pending);
        }
        else if (null != inFlight)
        {
            inFlight.remove(pending.packetId);
            inFlightOrder.remove(pending);
            inFlightBytes -= pending.length;
        }
    }

    /**
     * After a replay: puts a message back in flight under the packet id it was sent with; one whose id is taken is
     * queued to go again under a new id, or dropped when only its PUBREL was owed.
     */
    void restoreInFlight(final PendingMessage pending, final Outbound outbound)
    {
        ensureInFlight();
        if (inFlight.containsKey(pending.packetId))
        {
            if (pending.handle != MessageStore.NULL_HANDLE)
            {
                pending.state = PendingMessage.QUEUED;
                queue.addLast(pending);
            }
            else
            {
                outbound.recycle(pending);
            }
            return;
        }
        inFlight.put(pending.packetId, pending);
        inFlightOrder.addLast(pending);
        inFlightBytes += pending.length;
    }

    /** The session ends: every message it was owed is recycled. */
    void clear(final Outbound outbound)
    {
        if (null != inFlight)
        {
            for (final PendingMessage pending : inFlightOrder)
            {
                outbound.recycle(pending);
            }
            inFlight.clear();
            inFlightOrder.clear();
        }
        for (final PendingMessage pending : queue)
        {
            outbound.recycle(pending);
        }
        inFlightBytes = 0;
        queue.clear();
    }

    private void drop(final PendingMessage pending, final int reason, final Outbound outbound)
    {
        outbound.dropped(session, pending, reason);
        outbound.delivered(session, pending, JournalRecord.DELIVERED_COMPLETE);
        outbound.recycle(pending);
    }
}
