package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Encoder of an UNSUBACK (layout in {@link UnsubAckDecoder}); v3.1.1 ignores properties and reason codes.
 */
public final class UnsubAckEncoder
{
    private UnsubAckEncoder()
    {
    }

    public static int encodedLength(final int version, final int propertiesLength, final int reasonCodeCount)
    {
        return SubAckEncoder.encodedLength(version, PacketType.UNSUBACK, propertiesLength, reasonCodeCount);
    }

    /**
     * @return bytes written.
     */
    public static int encode(
        final MutableDirectBuffer buffer,
        final int offset,
        final int version,
        final int packetId,
        final DirectBuffer properties,
        final int propertiesOffset,
        final int propertiesLength,
        final DirectBuffer reasonCodes,
        final int reasonCodesOffset,
        final int reasonCodeCount)
    {
        return SubAckEncoder.encode(buffer, offset, version, PacketType.UNSUBACK, packetId,
            properties, propertiesOffset, propertiesLength, reasonCodes, reasonCodesOffset, reasonCodeCount);
    }
}
