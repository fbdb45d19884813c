package dev.skylark.broker.routing;

import dev.skylark.broker.net.IoAgent;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.status.AtomicCounter;


import static dev.skylark.broker.routing.Delivery.*;
import static org.agrona.BitUtil.SIZE_OF_INT;

/**
 * Encodes the routing agent's output into the one-to-one ring of each I/O agent. A message for many subscribers
 * on one I/O agent becomes one record: the message once, then an entry per subscriber.
 * <p>
 * A full ring is waited out, never dropped: the I/O agents drain their rings every duty cycle and never block, so
 * the wait is short; it is counted.
 */
public final class DeliveryPublisher
{
    /** Entries per record before a large fan-out is split into several records. */
    private static final int MAX_BATCH_BYTES = 64 * 1024;

    private final RingBuffer[] rings;
    private final Runnable[] wakers;
    private final IdleStrategy backPressureIdle;
    private final AtomicCounter ringFullWaits;
    private final ExpandableArrayBuffer[] entries;
    private final int[] entryCounts;
    private final int[] entryLengths;
    private DirectBuffer batchMessage;
    private int batchMessageOffset;
    private int batchMessageLength;

    public DeliveryPublisher(
        final RingBuffer[] rings,
        final Runnable[] wakers,
        final IdleStrategy backPressureIdle,
        final AtomicCounter ringFullWaits)
    {
        this.rings = rings;
        this.wakers = wakers;
        this.backPressureIdle = backPressureIdle;
        this.ringFullWaits = ringFullWaits;
        this.entries = new ExpandableArrayBuffer[rings.length];
        this.entryCounts = new int[rings.length];
        this.entryLengths = new int[rings.length];
        for (int i = 0; i < rings.length; i++)
        {
            entries[i] = new ExpandableArrayBuffer(4096);
        }
    }

    public void connack(
        final long connectionId,
        final boolean sessionPresent,
        final int reasonCode,
        final long sessionExpiry,
        final int receiveMaximum)
    {
        final RingBuffer ring = ringOf(connectionId);
        final int index = claim(ring, CONNACK, CONNACK_LENGTH);
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index, connectionId);
        buffer.putByte(index + CONNACK_SESSION_PRESENT_OFFSET, (byte)(sessionPresent ? 1 : 0));
        buffer.putByte(index + CONNACK_REASON_OFFSET, (byte)reasonCode);
        buffer.putInt(index + CONNACK_SESSION_EXPIRY_OFFSET, (int)sessionExpiry);
        buffer.putInt(index + CONNACK_RECEIVE_MAXIMUM_OFFSET, receiveMaximum);
        commit(ring, index, connectionId);
    }

    /** PUBACK, PUBREC, PUBREL or PUBCOMP with one reason code. */
    public void ack(final long connectionId, final int packetType, final int packetId, final int reasonCode)
    {
        final RingBuffer ring = ringOf(connectionId);
        final int index = claim(ring, ACK, ACK_REASONS_OFFSET + 1);
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index, connectionId);
        buffer.putByte(index + ACK_PACKET_TYPE_OFFSET, (byte)packetType);
        buffer.putShort(index + ACK_PACKET_ID_OFFSET, (short)packetId);
        buffer.putInt(index + ACK_COUNT_OFFSET, 1);
        buffer.putByte(index + ACK_REASONS_OFFSET, (byte)reasonCode);
        commit(ring, index, connectionId);
    }

    /** SUBACK or UNSUBACK with one reason code per filter. */
    public void ackList(
        final long connectionId, final int packetType, final int packetId, final byte[] reasonCodes, final int count)
    {
        final RingBuffer ring = ringOf(connectionId);
        final int index = claim(ring, ACK, ACK_REASONS_OFFSET + count);
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index, connectionId);
        buffer.putByte(index + ACK_PACKET_TYPE_OFFSET, (byte)packetType);
        buffer.putShort(index + ACK_PACKET_ID_OFFSET, (short)packetId);
        buffer.putInt(index + ACK_COUNT_OFFSET, count);
        buffer.putBytes(index + ACK_REASONS_OFFSET, reasonCodes, 0, count);
        commit(ring, index, connectionId);
    }

    /** Tells the owning I/O agent to send DISCONNECT with this reason (v5) and close the connection. */
    public void disconnect(final long connectionId, final int reasonCode)
    {
        final RingBuffer ring = ringOf(connectionId);
        final int index = claim(ring, DISCONNECT, DISCONNECT_LENGTH);
        ring.buffer().putLong(index, connectionId);
        ring.buffer().putByte(index + DISCONNECT_REASON_OFFSET, (byte)reasonCode);
        commit(ring, index, connectionId);
    }

    /** Starts collecting subscribers of one message; follow with {@link #addEntry} calls and {@link #endBatch()}. */
    public void beginBatch(final DirectBuffer message, final int offset, final int length)
    {
        batchMessage = message;
        batchMessageOffset = offset;
        batchMessageLength = length;
    }

    public void addEntry(
        final long connectionId,
        final int packetId,
        final int qos,
        final int flags,
        final int[] subscriptionIds,
        final int subscriptionIdOffset,
        final int subscriptionIdCount)
    {
        final int agent = IoAgent.agentIndexOf(connectionId);
        final int entryLength = ENTRY_SUBSCRIPTION_IDS_OFFSET + subscriptionIdCount * SIZE_OF_INT;
        if (entryCounts[agent] > 0 && (long)PUBLISH_MESSAGE_OFFSET + batchMessageLength + entryLengths[agent] +
            entryLength > rings[agent].maxMsgLength())
        {
            flushBatch(agent); // the record would pass what the ring takes: the rest goes in another one
        }
        final ExpandableArrayBuffer buffer = entries[agent];
        final int position = entryLengths[agent];
        buffer.putLong(position + ENTRY_CONNECTION_ID_OFFSET, connectionId);
        buffer.putShort(position + ENTRY_PACKET_ID_OFFSET, (short)packetId);
        buffer.putByte(position + ENTRY_QOS_OFFSET, (byte)qos);
        buffer.putByte(position + ENTRY_FLAGS_OFFSET, (byte)flags);
        buffer.putInt(position + ENTRY_SUBSCRIPTION_ID_COUNT_OFFSET, subscriptionIdCount);
        for (int i = 0; i < subscriptionIdCount; i++)
        {
            buffer.putInt(position + ENTRY_SUBSCRIPTION_IDS_OFFSET + i * SIZE_OF_INT,
                subscriptionIds[subscriptionIdOffset + i]);
        }
        entryLengths[agent] = position + entryLength;
        entryCounts[agent]++;
        if (entryLengths[agent] >= MAX_BATCH_BYTES)
        {
            flushBatch(agent);
        }
    }

    /** Writes one record per I/O agent that has subscribers of the current message. */
    public void endBatch()
    {
        for (int agent = 0; agent < rings.length; agent++)
        {
            if (entryCounts[agent] > 0)
            {
                flushBatch(agent);
            }
        }
        batchMessage = null;
    }

    private void flushBatch(final int agent)
    {
        final RingBuffer ring = rings[agent];
        final int length = PUBLISH_MESSAGE_OFFSET + batchMessageLength + entryLengths[agent];
        final int index = claim(ring, PUBLISH, length);
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putInt(index + PUBLISH_COUNT_OFFSET, entryCounts[agent]);
        buffer.putBytes(index + PUBLISH_MESSAGE_OFFSET, batchMessage, batchMessageOffset, batchMessageLength);
        buffer.putBytes(index + PUBLISH_MESSAGE_OFFSET + batchMessageLength, entries[agent], 0, entryLengths[agent]);
        ring.commit(index);
        wakers[agent].run();
        entryCounts[agent] = 0;
        entryLengths[agent] = 0;
    }

    private RingBuffer ringOf(final long connectionId)
    {
        return rings[IoAgent.agentIndexOf(connectionId)];
    }

    private int claim(final RingBuffer ring, final int msgTypeId, final int length)
    {
        int index = ring.tryClaim(msgTypeId, length);
        if (index > 0)
        {
            return index;
        }
        ringFullWaits.incrementRelease();
        backPressureIdle.reset();
        while ((index = ring.tryClaim(msgTypeId, length)) <= 0)
        {
            backPressureIdle.idle();
        }
        return index;
    }

    private void commit(final RingBuffer ring, final int index, final long connectionId)
    {
        ring.commit(index);
        wakers[IoAgent.agentIndexOf(connectionId)].run();
    }

    /** Bytes waiting in all the I/O agents' rings (a sample: the I/O agents drain them concurrently). */
    long queuedBytes()
    {
        long bytes = 0;
        for (final RingBuffer ring : rings)
        {
            bytes += ring.size();
        }
        return bytes;
    }
}
