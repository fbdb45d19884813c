package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.packetLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.putFixedHeader;
import static dev.skylark.codec.mqtt.MqttPrimitives.putUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntSize;

/**
 * Encoder of SUBACK and UNSUBACK (layout in {@link SubAckDecoder}); stateless, allocation free. The reason codes
 * are copied from a buffer slice, one byte per filter; a v3.1.1 UNSUBACK ignores codes and properties.
 */
public final class SubAckEncoder
{
    private SubAckEncoder()
    {
    }

    private static int remainingLength(
        final int version, final int packetType, final int propertiesLength, final int reasonCodeCount)
    {
        if (!MqttVersion.isV5(version))
        {
            return packetType == PacketType.UNSUBACK ? 2 : 2 + reasonCodeCount;
        }
        return 2 + varIntSize(propertiesLength) + propertiesLength + reasonCodeCount;
    }

    public static int encodedLength(
        final int version, final int packetType, final int propertiesLength, final int reasonCodeCount)
    {
        return packetLength(remainingLength(version, packetType, propertiesLength, reasonCodeCount));
    }

    /**
     * @param packetType {@link PacketType#SUBACK} or {@link PacketType#UNSUBACK}.
     * @return bytes written.
     */
    public static int encode(
        final MutableDirectBuffer buffer,
        final int offset,
        final int version,
        final int packetType,
        final int packetId,
        final DirectBuffer properties,
        final int propertiesOffset,
        final int propertiesLength,
        final DirectBuffer reasonCodes,
        final int reasonCodesOffset,
        final int reasonCodeCount)
    {
        final int remainingLength = remainingLength(version, packetType, propertiesLength, reasonCodeCount);
        int pos = offset + putFixedHeader(buffer, offset, packetType, 0, remainingLength);
        putUint16(buffer, pos, packetId);
        pos += 2;
        if (MqttVersion.isV5(version))
        {
            pos += PropertiesEncoder.putBlock(buffer, pos, properties, propertiesOffset, propertiesLength);
        }
        else if (packetType == PacketType.UNSUBACK)
        {
            return pos - offset;
        }
        if (reasonCodeCount > 0)
        {
            buffer.putBytes(pos, reasonCodes, reasonCodesOffset, reasonCodeCount);
            pos += reasonCodeCount;
        }
        return pos - offset;
    }
}
