package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.fixedHeaderLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.getUint16;

/**
 * Flyweight decoder of SUBACK and UNSUBACK (one layout).
 * <pre>
 *  0x90 / 0xB0, Remaining Length
 *  Packet Identifier (2)            non-zero (else 0x81)
 *  v5: Property Length + properties
 *  Reason Codes, one per filter     at least one (else 0x82); SUBACK v3.1.1: 0, 1, 2, 0x80 (else 0x81);
 *                                   v5: codes listed for the packet type (else 0x82)
 *  UNSUBACK v3.1.1 has no payload:  Remaining Length exactly 2
 * </pre>
 */
public final class SubAckDecoder
{
    public static final int PACKET_ID_OFFSET = 2;

    private final PropertiesDecoder properties = new PropertiesDecoder();
    private DirectBuffer buffer;
    private int packetType;
    private int packetId;
    private int reasonCodesOffset;
    private int reasonCodeCount;

    /**
     * Wraps a SUBACK or UNSUBACK.
     *
     * @return 0 when valid, else a negative reason code.
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length, final int version)
    {
        this.buffer = buffer;
        properties.wrapEmpty();
        packetId = 0;
        reasonCodesOffset = reasonCodeCount = 0;
        packetType = length > 0 && offset >= 0 && offset < buffer.capacity() ?
            PacketType.of(buffer.getByte(offset)) : PacketType.RESERVED;
        if (packetType != PacketType.SUBACK && packetType != PacketType.UNSUBACK)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        final int headerLength = fixedHeaderLength(buffer, offset, length, packetType, 0);
        if (headerLength < 0)
        {
            return headerLength;
        }

        final int end = offset + length;
        int pos = offset + headerLength;
        if (pos + 2 > end)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }
        packetId = getUint16(buffer, pos);
        pos += 2;
        if (packetId == 0)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        final boolean v5 = MqttVersion.isV5(version);
        if (!v5 && packetType == PacketType.UNSUBACK)
        {
            reasonCodesOffset = pos;
            return pos == end ? 0 : -ReasonCode.MALFORMED_PACKET;
        }

        if (v5)
        {
            final int consumed = properties.wrapWithLength(buffer, pos, end, packetType);
            if (consumed < 0)
            {
                return consumed;
            }
            pos += consumed;
        }

        if (pos == end)
        {
            return -ReasonCode.PROTOCOL_ERROR;
        }

        reasonCodesOffset = pos;
        reasonCodeCount = end - pos;
        for (int i = pos; i < end; i++)
        {
            final int code = buffer.getByte(i) & 0xFF;
            if (v5)
            {
                if (!ReasonCode.isValidFor(packetType, code))
                {
                    return -ReasonCode.PROTOCOL_ERROR;
                }
            }
            else if (code > ReasonCode.GRANTED_QOS_2 && code != ReasonCode.V3_SUBACK_FAILURE)
            {
                return -ReasonCode.MALFORMED_PACKET;
            }
        }

        return 0;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    /** {@link PacketType#SUBACK} or {@link PacketType#UNSUBACK}. */
    public int packetType()
    {
        return packetType;
    }

    public int packetId()
    {
        return packetId;
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

    /** Number of reason codes (0 for a v3.1.1 UNSUBACK). */
    public int reasonCodeCount()
    {
        return reasonCodeCount;
    }

    public int reasonCodesOffset()
    {
        return reasonCodesOffset;
    }

    public int reasonCode(final int index)
    {
        return buffer.getByte(reasonCodesOffset + index) & 0xFF;
    }
}
