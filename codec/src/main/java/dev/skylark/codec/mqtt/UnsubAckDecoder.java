package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

/**
 * Flyweight decoder of an UNSUBACK: the {@link SubAckDecoder} layout restricted to packet type UNSUBACK.
 * <pre>
 *  0xB0, Remaining Length
 *  Packet Identifier (2)            non-zero (else 0x81)
 *  v3.1.1: nothing more (Remaining Length exactly 2)
 *  v5: Property Length + properties, then one reason code per filter (0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91)
 * </pre>
 */
public final class UnsubAckDecoder
{
    private final SubAckDecoder decoder = new SubAckDecoder();

    /**
     * @return 0 when valid, else a negative reason code.
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length, final int version)
    {
        if (length < 1 || offset < 0 || offset >= buffer.capacity() ||
            PacketType.of(buffer.getByte(offset)) != PacketType.UNSUBACK)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }
        return decoder.wrap(buffer, offset, length, version);
    }

    public int packetId()
    {
        return decoder.packetId();
    }

    public PropertiesDecoder properties()
    {
        return decoder.properties();
    }

    /** Number of reason codes; 0 in v3.1.1. */
    public int reasonCodeCount()
    {
        return decoder.reasonCodeCount();
    }

    public int reasonCode(final int index)
    {
        return decoder.reasonCode(index);
    }
}
