package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.fixedHeaderLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.getUint16;

/**
 * Flyweight decoder of the four QoS acknowledgements: PUBACK, PUBREC, PUBREL and PUBCOMP (one layout).
 * <pre>
 *  type &lt;&lt; 4 | flags   flags 0b0010 for PUBREL, 0 for the others (else 0x81)
 *  Remaining Length     v3.1.1: exactly 2
 *  Packet Identifier    2 bytes, non-zero (else 0x81)
 *  v5: Reason Code      omitted when Remaining Length is 2 (then 0x00 Success); must suit the type (else 0x82)
 *  v5: Property Length + properties, omitted when Remaining Length &lt; 4
 * </pre>
 */
public final class PubAckDecoder
{
    public static final int PACKET_ID_OFFSET = 2;
    /** Fixed-header flags of PUBREL (also of SUBSCRIBE and UNSUBSCRIBE). */
    public static final int PUBREL_FLAGS = 0x02;

    private final PropertiesDecoder properties = new PropertiesDecoder();
    private DirectBuffer buffer;
    private int packetType;
    private int packetId;
    private int reasonCode;

    /**
     * Wraps one PUBACK, PUBREC, PUBREL or PUBCOMP.
     *
     * @return 0 when valid, else a negative reason code.
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length, final int version)
    {
        this.buffer = buffer;
        properties.wrapEmpty();
        reasonCode = ReasonCode.SUCCESS;
        packetId = 0;
        packetType = length > 0 && offset >= 0 && offset < buffer.capacity() ?
            PacketType.of(buffer.getByte(offset)) : PacketType.RESERVED;
        if (packetType < PacketType.PUBACK || packetType > PacketType.PUBCOMP)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        final int headerLength = fixedHeaderLength(
            buffer, offset, length, packetType, packetType == PacketType.PUBREL ? PUBREL_FLAGS : 0);
        if (headerLength < 0)
        {
            return headerLength;
        }

        final int limit = offset + length;
        int pos = offset + headerLength;
        if (pos + 2 > limit)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }
        packetId = getUint16(buffer, pos);
        pos += 2;
        if (packetId == 0)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        if (!MqttVersion.isV5(version))
        {
            return pos == limit ? 0 : -ReasonCode.MALFORMED_PACKET;
        }

        if (pos < limit)
        {
            reasonCode = buffer.getByte(pos++) & 0xFF;
            if (pos < limit)
            {
                final int consumed = properties.wrapWithLength(buffer, pos, limit, packetType);
                if (consumed < 0)
                {
                    return consumed;
                }
                pos += consumed;
                if (pos != limit)
                {
                    return -ReasonCode.MALFORMED_PACKET;
                }
            }
        }

        return ReasonCode.isValidFor(packetType, reasonCode) ? 0 : -ReasonCode.PROTOCOL_ERROR;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    /** {@link PacketType#PUBACK}, PUBREC, PUBREL or PUBCOMP. */
    public int packetType()
    {
        return packetType;
    }

    public int packetId()
    {
        return packetId;
    }

    /** Reason code (always 0x00 in v3.1.1). */
    public int reasonCode()
    {
        return reasonCode;
    }

    public PropertiesDecoder properties()
    {
        return properties;
    }

    public int propertiesOffset()
    {
        return properties.offset();
    }

    public int propertiesLength()
    {
        return properties.length();
    }

    /** Allocating convenience; null if absent. */
    public String reasonString()
    {
        return properties.string(Property.REASON_STRING);
    }
}
