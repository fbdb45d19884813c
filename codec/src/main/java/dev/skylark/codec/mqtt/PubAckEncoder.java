package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.packetLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.putFixedHeader;
import static dev.skylark.codec.mqtt.MqttPrimitives.putUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntSize;

/**
 * Encoder of PUBACK, PUBREC, PUBREL and PUBCOMP (layout in {@link PubAckDecoder}); stateless, allocation free.
 * In v5 the shortest form is used: no reason code when it is 0x00 without properties, no property length
 * when there are no properties.
 */
public final class PubAckEncoder
{
    private PubAckEncoder()
    {
    }

    private static int remainingLength(final int version, final int reasonCode, final int propertiesLength)
    {
        if (!MqttVersion.isV5(version) || (reasonCode == ReasonCode.SUCCESS && propertiesLength == 0))
        {
            return 2;
        }
        return propertiesLength == 0 ? 3 : 3 + varIntSize(propertiesLength) + propertiesLength;
    }

    public static int encodedLength(final int version, final int reasonCode, final int propertiesLength)
    {
        return packetLength(remainingLength(version, reasonCode, propertiesLength));
    }

    /**
     * @param packetType {@link PacketType#PUBACK}, PUBREC, PUBREL or PUBCOMP.
     * @return bytes written.
     */
    public static int encode(
        final MutableDirectBuffer buffer,
        final int offset,
        final int version,
        final int packetType,
        final int packetId,
        final int reasonCode,
        final DirectBuffer properties,
        final int propertiesOffset,
        final int propertiesLength)
    {
        final int remainingLength = remainingLength(version, reasonCode, propertiesLength);
        int pos = offset + putFixedHeader(
            buffer, offset, packetType, packetType == PacketType.PUBREL ? PubAckDecoder.PUBREL_FLAGS : 0,
            remainingLength);
        putUint16(buffer, pos, packetId);
        pos += 2;
        if (remainingLength > 2)
        {
            buffer.putByte(pos++, (byte)reasonCode);
            if (remainingLength > 3)
            {
                pos += PropertiesEncoder.putBlock(buffer, pos, properties, propertiesOffset, propertiesLength);
            }
        }
        return pos - offset;
    }

    /** Acknowledgement without properties. */
    public static int encode(
        final MutableDirectBuffer buffer,
        final int offset,
        final int version,
        final int packetType,
        final int packetId,
        final int reasonCode)
    {
        return encode(buffer, offset, version, packetType, packetId, reasonCode, null, 0, 0);
    }
}
