package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.fixedHeaderLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.getUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.readUtf8Length;

/**
 * Flyweight decoder of a PUBLISH packet, MQTT 3.1.1 and 5.0. Zero copy: the topic, properties and payload are
 * views into the wrapped buffer. Allocates nothing in {@link #wrap(DirectBuffer, int, int, int)} or the view getters.
 * <pre>
 *  byte 0    +---------+---------+---------+---------+
 *            | 0 0 1 1 |  DUP    | QoS (2) | RETAIN  |        QoS 3 → 0x81; DUP with QoS 0 → 0x81
 *            +---------+---------+---------+---------+
 *  1..4      Remaining Length (VBI)
 *            Topic Name: len (2) + UTF-8                 wildcards → 0x90; empty → 0x82 (v5 without alias) / 0x81 (v3)
 *            Packet Identifier (2), only if QoS &gt; 0   0 → 0x82
 *            v5: Property Length (VBI) + properties     see {@link PropertiesDecoder}
 *            Payload: the rest of the packet
 * </pre>
 * One instance per thread; reusable.
 */
public final class PublishDecoder
{
    /** Offset of the byte holding DUP, QoS and RETAIN. */
    public static final int FLAGS_OFFSET = 0;
    public static final int DUP_FLAG = 0x08;
    public static final int QOS_MASK = 0x06;
    public static final int QOS_SHIFT = 1;
    public static final int RETAIN_FLAG = 0x01;

    private final PropertiesDecoder properties = new PropertiesDecoder();

    private DirectBuffer buffer;
    private int offset;
    private int length;
    private int version;
    private int flags;
    private int topicOffset;
    private int topicLength;
    private int packetId;
    private int propertiesOffset;
    private int propertiesLength;
    private int payloadOffset;
    private int payloadLength;

    /**
     * Wraps and validates one whole PUBLISH packet.
     *
     * @param version the connection's {@link MqttVersion}.
     * @return 0 when valid, else a negative reason code.
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length, final int version)
    {
        this.buffer = buffer;
        this.offset = offset;
        this.length = length;
        this.version = version;
        properties.wrapEmpty();

        final int headerLength = fixedHeaderLength(buffer, offset, length);
        if (headerLength < 0)
        {
            return headerLength;
        }

        final int b0 = buffer.getByte(offset) & 0xFF;
        flags = b0 & 0x0F;
        final int qos = (flags & QOS_MASK) >> QOS_SHIFT;
        if ((b0 >> 4) != PacketType.PUBLISH || qos == 3 || (qos == 0 && (flags & DUP_FLAG) != 0))
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        final int limit = offset + length;
        int pos = offset + headerLength;

        final int topicLen = readUtf8Length(buffer, pos, limit);
        if (topicLen < 0)
        {
            return topicLen;
        }
        topicOffset = pos + 2;
        topicLength = topicLen;
        pos += 2 + topicLen;

        packetId = 0;
        if (qos > 0)
        {
            if (pos + 2 > limit)
            {
                return -ReasonCode.MALFORMED_PACKET;
            }
            packetId = getUint16(buffer, pos);
            if (packetId == 0)
            {
                return -ReasonCode.PROTOCOL_ERROR;
            }
            pos += 2;
        }

        if (MqttVersion.isV5(version))
        {
            final int consumed = properties.wrapWithLength(buffer, pos, limit, PacketType.PUBLISH);
            if (consumed < 0)
            {
                return consumed;
            }
            propertiesOffset = properties.offset();
            propertiesLength = properties.length();
            pos += consumed;

            final int responseTopicLength = properties.valueLength(Property.RESPONSE_TOPIC);
            if (responseTopicLength >= 0 && Topics.validateTopicName(
                buffer, properties.valueOffset(Property.RESPONSE_TOPIC), responseTopicLength) < 0)
            {
                return -ReasonCode.PROTOCOL_ERROR;
            }
        }
        else
        {
            propertiesOffset = pos;
            propertiesLength = 0;
        }

        payloadOffset = pos;
        payloadLength = limit - pos;

        if (topicLen == 0)
        {
            if (!MqttVersion.isV5(version))
            {
                return -ReasonCode.MALFORMED_PACKET;
            }
            if (!properties.has(Property.TOPIC_ALIAS))
            {
                return -ReasonCode.PROTOCOL_ERROR;
            }
            return 0;
        }

        return Topics.validateTopicName(buffer, topicOffset, topicLength);
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int offset()
    {
        return offset;
    }

    public int length()
    {
        return length;
    }

    public int version()
    {
        return version;
    }

    /** The low nibble of the first byte: DUP, QoS, RETAIN. */
    public int flags()
    {
        return flags;
    }

    public int qos()
    {
        return (flags & QOS_MASK) >> QOS_SHIFT;
    }

    public boolean dup()
    {
        return (flags & DUP_FLAG) != 0;
    }

    public boolean retain()
    {
        return (flags & RETAIN_FLAG) != 0;
    }

    public int topicOffset()
    {
        return topicOffset;
    }

    /** Topic length in bytes; 0 in v5 means the topic comes from the Topic Alias. */
    public int topicLength()
    {
        return topicLength;
    }

    /** Allocating convenience, off the hot path. */
    public String topic()
    {
        return MqttPrimitives.string(buffer, topicOffset, topicLength);
    }

    /** Packet identifier, 0 for QoS 0. */
    public int packetId()
    {
        return packetId;
    }

    /** Offset of the v5 property block, after the Property Length (for forwarding unchanged). */
    public int propertiesOffset()
    {
        return propertiesOffset;
    }

    /** Length of the v5 property block, excluding the Property Length; 0 in v3. */
    public int propertiesLength()
    {
        return propertiesLength;
    }

    /** The parsed property block (lookup and cursor); empty in v3. */
    public PropertiesDecoder properties()
    {
        return properties;
    }

    /** Message Expiry Interval in seconds, or {@link Property#ABSENT} (-1). */
    public long messageExpiryInterval()
    {
        return properties.value(Property.MESSAGE_EXPIRY_INTERVAL);
    }

    /** Topic Alias, or 0 when absent (0 is never a valid alias). */
    public int topicAlias()
    {
        return properties.has(Property.TOPIC_ALIAS) ? (int)properties.value(Property.TOPIC_ALIAS) : 0;
    }

    /** Payload Format Indicator 0 or 1, or -1 when absent. */
    public int payloadFormatIndicator()
    {
        return (int)properties.value(Property.PAYLOAD_FORMAT_INDICATOR);
    }

    /** True if the packet carries a Subscription Identifier (a client must not send one: 0x82). */
    public boolean hasSubscriptionIdentifier()
    {
        return properties.has(Property.SUBSCRIPTION_IDENTIFIER);
    }

    public int contentTypeOffset()
    {
        return properties.valueOffset(Property.CONTENT_TYPE);
    }

    /** Length of the Content Type, or -1 when absent. */
    public int contentTypeLength()
    {
        return properties.valueLength(Property.CONTENT_TYPE);
    }

    public int responseTopicOffset()
    {
        return properties.valueOffset(Property.RESPONSE_TOPIC);
    }

    /** Length of the Response Topic, or -1 when absent. */
    public int responseTopicLength()
    {
        return properties.valueLength(Property.RESPONSE_TOPIC);
    }

    public int correlationDataOffset()
    {
        return properties.valueOffset(Property.CORRELATION_DATA);
    }

    /** Length of the Correlation Data, or -1 when absent. */
    public int correlationDataLength()
    {
        return properties.valueLength(Property.CORRELATION_DATA);
    }

    public int payloadOffset()
    {
        return payloadOffset;
    }

    public int payloadLength()
    {
        return payloadLength;
    }

    /**
     * For Payload Format Indicator 1: checks the payload is well-formed UTF-8 (an optional check the specification
     * allows; it costs a pass over the payload).
     *
     * @return 0 if the indicator is absent or 0, or the payload is valid; else {@code -PAYLOAD_FORMAT_INVALID}.
     */
    public int validatePayloadFormat()
    {
        return payloadFormatIndicator() == 1 ?
            MqttPrimitives.validateUtf8Data(buffer, payloadOffset, payloadLength) : 0;
    }

    /** Allocating convenience, off the hot path. */
    public byte[] payload()
    {
        return MqttPrimitives.bytes(buffer, payloadOffset, payloadLength);
    }
}
