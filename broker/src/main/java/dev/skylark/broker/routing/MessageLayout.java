package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.PublishView;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static org.agrona.BitUtil.SIZE_OF_INT;

/**
 * The layout of one application message as it travels between threads and sits in the {@link MessageStore}:
 * the tail of the inbound PUBLISH command, copied unchanged into deliveries, queues and the retained index.
 *
 * <pre>
 * qos:1 flags:1 packetId:2 topicLength:2 topic:n propertiesLength:4 properties:n payloadLength:4 payload:n
 * </pre>
 * {@code flags} bit 0 is RETAIN as published. {@code properties} is a v5 property block (without its length
 * varint) forwarded to subscribers unchanged; the packet id is the publisher's and means nothing downstream.
 */
public final class MessageLayout
{
    public static final int QOS_OFFSET = 0;
    public static final int FLAGS_OFFSET = 1;
    public static final int PACKET_ID_OFFSET = 2;
    public static final int TOPIC_LENGTH_OFFSET = 4;
    public static final int TOPIC_OFFSET = 6;
    public static final int FLAG_RETAIN = 1;

    private MessageLayout()
    {
    }

    public static int qos(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + QOS_OFFSET);
    }

    public static boolean retain(final DirectBuffer buffer, final int offset)
    {
        return (buffer.getByte(offset + FLAGS_OFFSET) & FLAG_RETAIN) != 0;
    }

    /** The publisher's packet id (QoS 1/2), as it was published. */
    public static int packetId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + PACKET_ID_OFFSET) & 0xFFFF;
    }

    public static int topicLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + TOPIC_LENGTH_OFFSET) & 0xFFFF;
    }

    public static int topicOffset(final int offset)
    {
        return offset + TOPIC_OFFSET;
    }

    public static int propertiesLengthOffset(final DirectBuffer buffer, final int offset)
    {
        return offset + TOPIC_OFFSET + topicLength(buffer, offset);
    }

    public static int propertiesLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(propertiesLengthOffset(buffer, offset));
    }

    public static int propertiesOffset(final DirectBuffer buffer, final int offset)
    {
        return propertiesLengthOffset(buffer, offset) + SIZE_OF_INT;
    }

    public static int payloadLengthOffset(final DirectBuffer buffer, final int offset)
    {
        return propertiesOffset(buffer, offset) + propertiesLength(buffer, offset);
    }

    public static int payloadLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(payloadLengthOffset(buffer, offset));
    }

    public static int payloadOffset(final DirectBuffer buffer, final int offset)
    {
        return payloadLengthOffset(buffer, offset) + SIZE_OF_INT;
    }

    /**
     * Where the 4-byte (big-endian) Message Expiry Interval value of the message sits, or -1 when it has none.
     */
    public static int expiryValueOffset(final DirectBuffer buffer, final int offset)
    {
        final int length = propertiesLength(buffer, offset);
        return length == 0 ? -1 : dev.skylark.codec.mqtt.PropertyFilter.valueOffset(
            buffer, propertiesOffset(buffer, offset), length, dev.skylark.codec.mqtt.Property.MESSAGE_EXPIRY_INTERVAL);
    }

    /** Total bytes of the message starting at {@code offset}. */
    public static int length(final DirectBuffer buffer, final int offset)
    {
        return payloadOffset(buffer, offset) + payloadLength(buffer, offset) - offset;
    }

    /** Bytes a message of these parts takes. */
    public static int length(final int topicLength, final int propertiesLength, final int payloadLength)
    {
        return TOPIC_OFFSET + topicLength + SIZE_OF_INT + propertiesLength + SIZE_OF_INT + payloadLength;
    }

    /** Bytes the message in {@code publish} takes. */
    public static int length(final PublishView publish)
    {
        return length(publish.topicLength(), publish.propertiesLength(), publish.payloadLength());
    }

    /**
     * Writes the message in {@code publish} at {@code offset} (room for {@link #length(PublishView)} bytes claimed by
     * the caller): its QoS, RETAIN, packet id, topic, properties and payload. DUP is not kept.
     */
    public static void write(final MutableDirectBuffer buffer, final int offset, final PublishView publish)
    {
        final int topicLength = publish.topicLength();
        final int propertiesLength = publish.propertiesLength();
        final int payloadLength = publish.payloadLength();
        buffer.putByte(offset + QOS_OFFSET, (byte)publish.qos());
        buffer.putByte(offset + FLAGS_OFFSET, (byte)(publish.retain() ? FLAG_RETAIN : 0));
        buffer.putShort(offset + PACKET_ID_OFFSET, (short)publish.packetId());
        buffer.putShort(offset + TOPIC_LENGTH_OFFSET, (short)topicLength);
        int position = offset + TOPIC_OFFSET;
        buffer.putBytes(position, publish.topicBuffer(), publish.topicOffset(), topicLength);
        position += topicLength;
        buffer.putInt(position, propertiesLength);
        if (propertiesLength > 0)
        {
            buffer.putBytes(position + SIZE_OF_INT, publish.propertiesBuffer(), publish.propertiesOffset(),
                propertiesLength);
        }
        position += SIZE_OF_INT + propertiesLength;
        buffer.putInt(position, payloadLength);
        buffer.putBytes(position + SIZE_OF_INT, publish.payloadBuffer(), publish.payloadOffset(), payloadLength);
    }

    /**
     * Writes a QoS 0 retained message with no properties and an empty payload (a retained clear) for the topic at
     * {@code topicOffset} of {@code topic}; returns its length.
     */
    public static int writeEmptyRetained(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer topic, final int topicOffset,
        final int topicLength)
    {
        buffer.putByte(offset + QOS_OFFSET, (byte)0);
        buffer.putByte(offset + FLAGS_OFFSET, (byte)FLAG_RETAIN);
        buffer.putShort(offset + PACKET_ID_OFFSET, (short)0);
        buffer.putShort(offset + TOPIC_LENGTH_OFFSET, (short)topicLength);
        int position = offset + TOPIC_OFFSET;
        buffer.putBytes(position, topic, topicOffset, topicLength);
        position += topicLength;
        buffer.putInt(position, 0);
        buffer.putInt(position + SIZE_OF_INT, 0);
        return length(topicLength, 0, 0);
    }

    /**
     * Points {@code publish} at the message written at {@code offset}: QoS, RETAIN, the publisher's packet id, and
     * topic, properties and payload as slices of {@code buffer} (DUP false).
     *
     * @return {@code publish}.
     */
    public static PublishView wrap(final DirectBuffer buffer, final int offset, final PublishView publish)
    {
        return publish
            .flags(qos(buffer, offset), false, retain(buffer, offset))
            .packetId(packetId(buffer, offset))
            .topic(buffer, topicOffset(offset), topicLength(buffer, offset))
            .properties(buffer, propertiesOffset(buffer, offset), propertiesLength(buffer, offset))
            .payload(buffer, payloadOffset(buffer, offset), payloadLength(buffer, offset));
    }
}
