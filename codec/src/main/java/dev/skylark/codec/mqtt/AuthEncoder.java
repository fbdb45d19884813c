package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Encoder of an AUTH packet (MQTT 5.0; layout in {@link AuthDecoder}); stateless, allocation free.
 */
public final class AuthEncoder
{
    private AuthEncoder()
    {
    }

    public static int encodedLength(final int reasonCode, final int propertiesLength)
    {
        return ReasonAndProperties.encodedLength(MqttVersion.V5, reasonCode, propertiesLength);
    }

    /**
     * @return bytes written.
     */
    public static int encode(
        final MutableDirectBuffer buffer,
        final int offset,
        final int reasonCode,
        final DirectBuffer properties,
        final int propertiesOffset,
        final int propertiesLength)
    {
        return ReasonAndProperties.encode(
            buffer, offset, MqttVersion.V5, PacketType.AUTH, reasonCode, properties, propertiesOffset,
            propertiesLength);
    }
}
