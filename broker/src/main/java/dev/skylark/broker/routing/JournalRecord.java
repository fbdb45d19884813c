package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

import static org.agrona.BitUtil.SIZE_OF_SHORT;

/**
 * The records the routing agent writes to its {@link DurableLog}, and their encoder. Little endian, as Agrona
 * writes; every record starts with its type byte. Sessions are named by a durable id that outlives the in-memory
 * session id; messages by a message id.
 *
 * <pre>
 * SESSION          type:1 pad:3 version:4 durableId:8 expiry:8 clientId:2+n      persistent session (re)connected
 * SESSION_OFFLINE  type:1 pad:7 durableId:8 expiry:8 sinceEpochMs:8              it went offline at this time
 * SESSION_END      type:1 pad:7 durableId:8                                      ended (clean start, expiry)
 * SUBSCRIBE        type:1 options:1 pad:2 subscriptionId:4 durableId:8 filter:2+n
 * UNSUBSCRIBE      type:1 pad:7 durableId:8 filter:2+n
 * MESSAGE          type:1 flags:1 pad:2 targetCount:4 messageId:8
 *                  { durableId:8 qos:1 flags:1 subscriptionIdCount:2 subscriptionIds:4*n }*targetCount
 *                  message:{@link MessageLayout}
 * TARGETS          type:1 flags:1 pad:2 targetCount:4 messageId:8               more targets of the MESSAGE before
 *                  { durableId:8 qos:1 flags:1 subscriptionIdCount:2 subscriptionIds:4*n }*targetCount
 * DELIVERED        type:1 state:1 packetId:2 pad:4 durableId:8 messageId:8       a subscriber's PUBREC / completion
 * RECEIVED         type:1 state:1 packetId:2 pad:4 durableId:8                   inbound QoS 2: PUBREC owed (1)
 *                                                                                 or PUBREL received (0)
 * FORWARD          type:1 pad:3 node:4 forward:{@link ClusterForwarding} FORWARD peer message
 *                                                                                 a QoS 1/2 message for node, kept
 *                                                                                 until node confirms it
 * FORWARD_APPLIED  type:1 pad:3 origin:4 target:4 pad:4 forwardId:8              forwards from origin for target
 *                                                                                 applied here up to forwardId
 * FORWARD_CONFIRMED type:1 pad:3 origin:4 target:4 pad:4 forwardId:8             a receiver confirmed them durable
 * </pre>
 * The FORWARD records are the cluster's (issue 19): a QoS 1/2 message published here with destinations on other
 * nodes gets one FORWARD record per destination node (after its MESSAGE record, before the publisher's
 * acknowledgement), even when no local session takes it; a checkpoint rewrites those not yet confirmed, with the
 * FORWARD_APPLIED high-water marks of what this node received (and one with origin = target = this node: its last
 * forward id, so ids keep rising after a restart). The start-up replay restores the marks and skips the
 * FORWARD records (the node's heir re-sent them from the replica when this node was declared down); an heir collects
 * a dead node's FORWARD records less the FORWARD_CONFIRMED ones and re-sends them ({@link ClusterForwarding}).
 * MESSAGE flag {@link #MESSAGE_FLAG_RETAINED} stores the message as the topic's retained message on replay; a
 * target's flag {@link Delivery#ENTRY_FLAG_RETAIN} is the retain flag it is delivered with. A message with no target
 * that is not retained has nothing to replay and gets no MESSAGE record: in a cluster that is every message only
 * forwarded, whose FORWARD record is what makes it durable (and what the buddy's replica must carry).
 * <p>
 * A MESSAGE record never passes {@link DurableLog#maxRecordLength()}: when its targets would take it past, the
 * MESSAGE record carries the message and the targets that fit, with flag {@link #MESSAGE_FLAG_CONTINUED}, and
 * TARGETS records follow at once, contiguous, each with as many targets as fit; all but the last carry
 * {@link #MESSAGE_FLAG_CONTINUED}. The publisher's acknowledgement waits for the last of them, and the replay applies
 * the message only once it has read the last: a message cut short by a crash was never acknowledged, and no target
 * gets it from a partial list.
 */
final class JournalRecord
{
    static final int SESSION = 1;
    static final int SESSION_OFFLINE = 2;
    static final int SESSION_END = 3;
    static final int SUBSCRIBE = 4;
    static final int UNSUBSCRIBE = 5;
    static final int MESSAGE = 6;
    static final int DELIVERED = 7;
    static final int RECEIVED = 8;
    static final int TARGETS = 9;
    static final int FORWARD = 10;
    static final int FORWARD_APPLIED = 11;
    static final int FORWARD_CONFIRMED = 12;

    static final int TYPE_OFFSET = 0;
    static final int DURABLE_ID_OFFSET = 8;

    static final int SESSION_VERSION_OFFSET = 4;
    static final int SESSION_EXPIRY_OFFSET = 16;
    static final int SESSION_CLIENT_ID_OFFSET = 24;
    static final int OFFLINE_EXPIRY_OFFSET = 16;
    static final int OFFLINE_SINCE_OFFSET = 24;
    static final int OFFLINE_LENGTH = 32;
    static final int END_LENGTH = 16;
    static final int SUBSCRIBE_OPTIONS_OFFSET = 1;
    static final int SUBSCRIBE_ID_OFFSET = 4;
    static final int SUBSCRIBE_FILTER_OFFSET = 16;
    static final int UNSUBSCRIBE_FILTER_OFFSET = 16;

    static final int MESSAGE_FLAGS_OFFSET = 1;
    static final int MESSAGE_TARGET_COUNT_OFFSET = 4;
    static final int MESSAGE_ID_OFFSET = 8;
    static final int MESSAGE_TARGETS_OFFSET = 16;
    static final int MESSAGE_FLAG_RETAINED = 1;
    /** More targets of this message follow in the next record (a TARGETS record). */
    static final int MESSAGE_FLAG_CONTINUED = 2;
    static final int TARGET_QOS_OFFSET = 8;
    static final int TARGET_FLAGS_OFFSET = 9;
    static final int TARGET_SUBSCRIPTION_ID_COUNT_OFFSET = 10;
    static final int TARGET_SUBSCRIPTION_IDS_OFFSET = 12;

    static final int FORWARD_NODE_OFFSET = 4;
    static final int FORWARD_MESSAGE_OFFSET = 8;
    static final int FORWARD_MARK_ORIGIN_OFFSET = 4;
    static final int FORWARD_MARK_TARGET_OFFSET = 8;
    static final int FORWARD_MARK_ID_OFFSET = 16;
    static final int FORWARD_MARK_LENGTH = 24;

    static final int DELIVERED_STATE_OFFSET = 1;
    static final int DELIVERED_PACKET_ID_OFFSET = 2;
    static final int DELIVERED_MESSAGE_ID_OFFSET = 16;
    static final int DELIVERED_LENGTH = 24;
    /** The subscriber sent PUBREC: owed a PUBREL under the packet id, no longer the message. */
    static final int DELIVERED_RELEASED = 1;
    /** The subscriber completed (PUBACK/PUBCOMP), or the message was dropped by policy. */
    static final int DELIVERED_COMPLETE = 2;
    /** A QoS 2 message went out under this packet id: after a restart it is resent under the same one. */
    static final int DELIVERED_SENT = 3;

    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(4096);
    /** MESSAGE records are built across the routing of one message, during which other records may be written. */
    private final ExpandableArrayBuffer messageBuffer = new ExpandableArrayBuffer(64 * 1024);
    /** Where a MESSAGE record too long for the log is cut into records that fit. */
    private final ExpandableArrayBuffer chunkBuffer = new ExpandableArrayBuffer(4096);
    private final DurableLog log;
    private final int maxRecordLength;
    /** False for {@link DurableLog#NONE}: nothing is encoded at all. */
    private final boolean enabled;
    private int targetCount;
    private int position;

    JournalRecord(final DurableLog log)
    {
        this.log = log;
        this.enabled = log != DurableLog.NONE;
        this.maxRecordLength = log.maxRecordLength();
    }

    long session(final Session session)
    {
        if (!enabled)
        {
            return 0;
        }
        buffer.putByte(TYPE_OFFSET, (byte)SESSION);
        buffer.putInt(SESSION_VERSION_OFFSET, session.version);
        buffer.putLong(DURABLE_ID_OFFSET, session.durableId);
        buffer.putLong(SESSION_EXPIRY_OFFSET, session.expiryInterval);
        final int length = buffer.putStringWithoutLengthUtf8(SESSION_CLIENT_ID_OFFSET + SIZE_OF_SHORT, session.clientId);
        buffer.putShort(SESSION_CLIENT_ID_OFFSET, (short)length);
        return log.append(buffer, 0, SESSION_CLIENT_ID_OFFSET + SIZE_OF_SHORT + length);
    }

    long sessionOffline(final Session session)
    {
        if (!enabled)
        {
            return 0;
        }
        buffer.putByte(TYPE_OFFSET, (byte)SESSION_OFFLINE);
        buffer.putLong(DURABLE_ID_OFFSET, session.durableId);
        buffer.putLong(OFFLINE_EXPIRY_OFFSET, session.expiryInterval);
        buffer.putLong(OFFLINE_SINCE_OFFSET, session.offlineSinceEpochMs);
        return log.append(buffer, 0, OFFLINE_LENGTH);
    }

    long sessionEnd(final long durableId)
    {
        if (!enabled)
        {
            return 0;
        }
        buffer.putByte(TYPE_OFFSET, (byte)SESSION_END);
        buffer.putLong(DURABLE_ID_OFFSET, durableId);
        return log.append(buffer, 0, END_LENGTH);
    }

    long subscribe(final long durableId, final String filter, final int options, final int subscriptionId)
    {
        if (!enabled)
        {
            return 0;
        }
        buffer.putByte(TYPE_OFFSET, (byte)SUBSCRIBE);
        buffer.putByte(SUBSCRIBE_OPTIONS_OFFSET, (byte)options);
        buffer.putInt(SUBSCRIBE_ID_OFFSET, subscriptionId);
        buffer.putLong(DURABLE_ID_OFFSET, durableId);
        final int length = buffer.putStringWithoutLengthUtf8(SUBSCRIBE_FILTER_OFFSET + SIZE_OF_SHORT, filter);
        buffer.putShort(SUBSCRIBE_FILTER_OFFSET, (short)length);
        return log.append(buffer, 0, SUBSCRIBE_FILTER_OFFSET + SIZE_OF_SHORT + length);
    }

    long unsubscribe(final long durableId, final String filter)
    {
        if (!enabled)
        {
            return 0;
        }
        buffer.putByte(TYPE_OFFSET, (byte)UNSUBSCRIBE);
        buffer.putLong(DURABLE_ID_OFFSET, durableId);
        final int length = buffer.putStringWithoutLengthUtf8(UNSUBSCRIBE_FILTER_OFFSET + SIZE_OF_SHORT, filter);
        buffer.putShort(UNSUBSCRIBE_FILTER_OFFSET, (short)length);
        return log.append(buffer, 0, UNSUBSCRIBE_FILTER_OFFSET + SIZE_OF_SHORT + length);
    }

    long delivered(final long durableId, final long messageId, final int state, final int packetId)
    {
        if (!enabled)
        {
            return 0;
        }
        buffer.putByte(TYPE_OFFSET, (byte)DELIVERED);
        buffer.putByte(DELIVERED_STATE_OFFSET, (byte)state);
        buffer.putShort(DELIVERED_PACKET_ID_OFFSET, (short)packetId);
        buffer.putLong(DURABLE_ID_OFFSET, durableId);
        buffer.putLong(DELIVERED_MESSAGE_ID_OFFSET, messageId);
        return log.append(buffer, 0, DELIVERED_LENGTH);
    }

    long received(final long durableId, final int packetId, final boolean awaitingPubrel)
    {
        if (!enabled)
        {
            return 0;
        }
        buffer.putByte(TYPE_OFFSET, (byte)RECEIVED);
        buffer.putByte(DELIVERED_STATE_OFFSET, (byte)(awaitingPubrel ? 1 : 0));
        buffer.putShort(DELIVERED_PACKET_ID_OFFSET, (short)packetId);
        buffer.putLong(DURABLE_ID_OFFSET, durableId);
        return log.append(buffer, 0, END_LENGTH);
    }

    /**
     * A FORWARD record: {@code forward} (the peer message) for {@code node}.
     *
     * @return its sequence, 0 when nothing is journaled, -1 when it does not fit a record (not journaled).
     */
    long forward(final int node, final DirectBuffer forward, final int offset, final int length)
    {
        if (!enabled)
        {
            return 0;
        }
        if ((long)FORWARD_MESSAGE_OFFSET + length > maxRecordLength)
        {
            return -1;
        }
        buffer.putInt(TYPE_OFFSET, FORWARD);
        buffer.putInt(FORWARD_NODE_OFFSET, node);
        buffer.putBytes(FORWARD_MESSAGE_OFFSET, forward, offset, length);
        return log.append(buffer, 0, FORWARD_MESSAGE_OFFSET + length);
    }

    /** A FORWARD_APPLIED ({@code confirmed} false) or FORWARD_CONFIRMED record. */
    long forwardMark(final boolean confirmed, final int origin, final int target, final long forwardId)
    {
        if (!enabled)
        {
            return 0;
        }
        buffer.putLong(0, 0L);
        buffer.putByte(TYPE_OFFSET, (byte)(confirmed ? FORWARD_CONFIRMED : FORWARD_APPLIED));
        buffer.putInt(FORWARD_MARK_ORIGIN_OFFSET, origin);
        buffer.putInt(FORWARD_MARK_TARGET_OFFSET, target);
        buffer.putInt(FORWARD_MARK_TARGET_OFFSET + 4, 0);
        buffer.putLong(FORWARD_MARK_ID_OFFSET, forwardId);
        return log.append(buffer, 0, FORWARD_MARK_LENGTH);
    }

    /** Starts a MESSAGE record; add targets, then {@link #endMessage}. */
    void beginMessage(final long messageId, final int flags)
    {
        if (!enabled)
        {
            return;
        }
        messageBuffer.putByte(TYPE_OFFSET, (byte)MESSAGE);
        messageBuffer.putByte(MESSAGE_FLAGS_OFFSET, (byte)flags);
        messageBuffer.putLong(MESSAGE_ID_OFFSET, messageId);
        targetCount = 0;
        position = MESSAGE_TARGETS_OFFSET;
    }

    void addTarget(
        final long durableId,
        final int qos,
        final int flags,
        final int[] subscriptionIds,
        final int subscriptionIdOffset,
        final int subscriptionIdCount)
    {
        if (!enabled)
        {
            return;
        }
        messageBuffer.putLong(position, durableId);
        messageBuffer.putByte(position + TARGET_QOS_OFFSET, (byte)qos);
        messageBuffer.putByte(position + TARGET_FLAGS_OFFSET, (byte)flags);
        messageBuffer.putShort(position + TARGET_SUBSCRIPTION_ID_COUNT_OFFSET, (short)subscriptionIdCount);
        position += TARGET_SUBSCRIPTION_IDS_OFFSET;
        for (int i = 0; i < subscriptionIdCount; i++)
        {
            messageBuffer.putInt(position, subscriptionIds[subscriptionIdOffset + i]);
            position += 4;
        }
        targetCount++;
    }

    /** Appends the MESSAGE record begun; returns its (last) sequence, or 0 when nothing needed writing. */
    long endMessage(final DirectBuffer message, final int offset, final int length)
    {
        final boolean retained = (messageBuffer.getByte(MESSAGE_FLAGS_OFFSET) & MESSAGE_FLAG_RETAINED) != 0;
        if (!enabled || (targetCount == 0 && !retained))
        {
            return 0;
        }
        if ((long)position + length <= maxRecordLength)
        {
            messageBuffer.putInt(MESSAGE_TARGET_COUNT_OFFSET, targetCount);
            messageBuffer.putBytes(position, message, offset, length);
            return log.append(messageBuffer, 0, position + length);
        }
        return appendInChunks(message, offset, length);
    }

    /**
     * The MESSAGE record with the message and the targets that fit beside it, then TARGETS records with the rest,
     * each as long as the log takes. Returns the last record's sequence: the message is durable once it is.
     */
    private long appendInChunks(final DirectBuffer message, final int offset, final int length)
    {
        final int flags = messageBuffer.getByte(MESSAGE_FLAGS_OFFSET);
        int target = MESSAGE_TARGETS_OFFSET;
        int remaining = targetCount;
        int end = targetsEnd(target, remaining, maxRecordLength - length);
        int count = countTargets(target, end);
        chunkBuffer.putBytes(0, messageBuffer, 0, MESSAGE_TARGETS_OFFSET);
        chunkBuffer.putByte(MESSAGE_FLAGS_OFFSET, (byte)(flags | (count < remaining ? MESSAGE_FLAG_CONTINUED : 0)));
        chunkBuffer.putInt(MESSAGE_TARGET_COUNT_OFFSET, count);
        chunkBuffer.putBytes(MESSAGE_TARGETS_OFFSET, messageBuffer, target, end - target);
        final int messageAt = MESSAGE_TARGETS_OFFSET + end - target;
        chunkBuffer.putBytes(messageAt, message, offset, length);
        long sequence = log.append(chunkBuffer, 0, messageAt + length);
        remaining -= count;
        target = end;
        final long messageId = messageBuffer.getLong(MESSAGE_ID_OFFSET);
        while (remaining > 0)
        {
            end = targetsEnd(target, remaining, maxRecordLength);
            count = countTargets(target, end);
            if (count == 0)
            {
                // Cannot happen once the configuration checks passed: one target always fits a record.
                throw new IllegalStateException("journal: one target does not fit a record of " + maxRecordLength);
            }
            remaining -= count;
            chunkBuffer.putByte(TYPE_OFFSET, (byte)TARGETS);
            chunkBuffer.putByte(MESSAGE_FLAGS_OFFSET, (byte)(remaining > 0 ? MESSAGE_FLAG_CONTINUED : 0));
            chunkBuffer.putInt(MESSAGE_TARGET_COUNT_OFFSET, count);
            chunkBuffer.putLong(MESSAGE_ID_OFFSET, messageId);
            chunkBuffer.putBytes(MESSAGE_TARGETS_OFFSET, messageBuffer, target, end - target);
            sequence = log.append(chunkBuffer, 0, MESSAGE_TARGETS_OFFSET + end - target);
            target = end;
        }
        return sequence;
    }

    /** Where the targets from {@code from} (at most {@code count}) end so that a header and they fit {@code room}. */
    private int targetsEnd(final int from, final int count, final int room)
    {
        final long limit = (long)room - MESSAGE_TARGETS_OFFSET;
        int end = from;
        for (int i = 0; i < count; i++)
        {
            final int next = end + targetLength(end);
            if (next - from > limit)
            {
                break;
            }
            end = next;
        }
        return end;
    }

    private int countTargets(final int from, final int end)
    {
        int count = 0;
        for (int at = from; at < end; at += targetLength(at))
        {
            count++;
        }
        return count;
    }

    private int targetLength(final int at)
    {
        return TARGET_SUBSCRIPTION_IDS_OFFSET +
            (messageBuffer.getShort(at + TARGET_SUBSCRIPTION_ID_COUNT_OFFSET) & 0xFFFF) * 4;
    }
}
