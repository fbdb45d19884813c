package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.packetLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.putFixedHeader;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntSize;

/**
 * Encoder of a CONNACK packet (layout in {@link ConnAckDecoder}); stateless and allocation free.
 */
public final class ConnAckEncoder
{
    private ConnAckEncoder()
    {
    }

    public static int encodedLength(final int version, final int propertiesLength)
    {
        return packetLength(remainingLength(version, propertiesLength));
    }

    private static int remainingLength(final int version, final int propertiesLength)
    {
        return MqttVersion.isV5(version) ? 2 + varIntSize(propertiesLength) + propertiesLength : 2;
    }

    /**
     * @param reasonCode a v5 reason code, or in v3.1.1 the return code
     *                   (see {@link ReasonCode#toV3ConnackReturnCode(int)}).
     * @param properties property block without its length (v5 only), may be null when empty.
     * @return bytes written.
     */
    public static int encode(
        final MutableDirectBuffer buffer,
        final int offset,
        final int version,
        final boolean sessionPresent,
        final int reasonCode,
        final DirectBuffer properties,
        final int propertiesOffset,
        final int propertiesLength)
    {
        int pos = offset + putFixedHeader(
            buffer, offset, PacketType.CONNACK, 0, remainingLength(version, propertiesLength));
        buffer.putByte(pos++, (byte)(sessionPresent ? ConnAckDecoder.SESSION_PRESENT_FLAG : 0));
        buffer.putByte(pos++, (byte)reasonCode);
        if (MqttVersion.isV5(version))
        {
            pos += PropertiesEncoder.putBlock(buffer, pos, properties, propertiesOffset, propertiesLength);
        }
        return pos - offset;
    }

    /** CONNACK without properties. */
    public static int encode(
        final MutableDirectBuffer buffer,
        final int offset,
        final int version,
        final boolean sessionPresent,
        final int reasonCode)
    {
        return encode(buffer, offset, version, sessionPresent, reasonCode, null, 0, 0);
    }
}
