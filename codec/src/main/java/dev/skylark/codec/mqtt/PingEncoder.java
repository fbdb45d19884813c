package dev.skylark.codec.mqtt;

import org.agrona.MutableDirectBuffer;

/**
 * Encodes PINGREQ ({@code C0 00}) and PINGRESP ({@code D0 00}).
 */
public final class PingEncoder
{
    public static final int LENGTH = 2;

    private PingEncoder()
    {
    }

    public static int encodePingReq(final MutableDirectBuffer buffer, final int offset)
    {
        return MqttPrimitives.putFixedHeader(buffer, offset, PacketType.PINGREQ, 0, 0);
    }

    public static int encodePingResp(final MutableDirectBuffer buffer, final int offset)
    {
        return MqttPrimitives.putFixedHeader(buffer, offset, PacketType.PINGRESP, 0, 0);
    }
}
