package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

/**
 * Validates PINGREQ ({@code C0 00}) and PINGRESP ({@code D0 00}): flags 0 and Remaining Length 0, else 0x81.
 */
public final class PingDecoder
{
    private int packetType;

    /**
     * @return 0 when valid, else {@code -MALFORMED_PACKET}.
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length, final int version)
    {
        packetType = PacketType.RESERVED;
        if (length != 2 || offset < 0 || offset + 2 > buffer.capacity())
        {
            return -ReasonCode.MALFORMED_PACKET;
        }
        final int b0 = buffer.getByte(offset) & 0xFF;
        if ((b0 != PacketType.PINGREQ << 4 && b0 != PacketType.PINGRESP << 4) || buffer.getByte(offset + 1) != 0)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }
        packetType = b0 >> 4;
        return 0;
    }

    /** {@link PacketType#PINGREQ} or {@link PacketType#PINGRESP}. */
    public int packetType()
    {
        return packetType;
    }
}
