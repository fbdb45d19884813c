package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.packetLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.putFixedHeader;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntSize;

/**
 * The shared body of DISCONNECT and AUTH: an optional reason code then optional properties.
 */
final class ReasonAndProperties
{
    private ReasonAndProperties()
    {
    }

    /**
     * @return the reason code (&gt;= 0) when valid, else a negative reason code.
     */
    static int decode(
        final DirectBuffer buffer,
        final int start,
        final int limit,
        final int version,
        final int packetType,
        final PropertiesDecoder properties)
    {
        if (!MqttVersion.isV5(version))
        {
            return start == limit ? 0 : -ReasonCode.MALFORMED_PACKET;
        }

        int pos = start;
        int reasonCode = ReasonCode.SUCCESS;
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
            }
        }

        if (pos != limit)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        return ReasonCode.isValidFor(packetType, reasonCode) ? reasonCode : -ReasonCode.PROTOCOL_ERROR;
    }

    static int remainingLength(final int version, final int reasonCode, final int propertiesLength)
    {
        if (!MqttVersion.isV5(version) || (reasonCode == ReasonCode.SUCCESS && propertiesLength == 0))
        {
            return 0;
        }
        return propertiesLength == 0 ? 1 : 1 + varIntSize(propertiesLength) + propertiesLength;
    }

    static int encodedLength(final int version, final int reasonCode, final int propertiesLength)
    {
        return packetLength(remainingLength(version, reasonCode, propertiesLength));
    }

    static int encode(
        final MutableDirectBuffer buffer,
        final int offset,
        final int version,
        final int packetType,
        final int reasonCode,
        final DirectBuffer properties,
        final int propertiesOffset,
        final int propertiesLength)
    {
        final int remainingLength = remainingLength(version, reasonCode, propertiesLength);
        int pos = offset + putFixedHeader(buffer, offset, packetType, 0, remainingLength);
        if (remainingLength > 0)
        {
            buffer.putByte(pos++, (byte)reasonCode);
            if (remainingLength > 1)
            {
                pos += PropertiesEncoder.putBlock(buffer, pos, properties, propertiesOffset, propertiesLength);
            }
        }
        return pos - offset;
    }
}
