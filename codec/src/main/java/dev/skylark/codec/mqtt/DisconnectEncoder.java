package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Encoder of a DISCONNECT packet (layout in {@link DisconnectDecoder}); stateless, allocation free. v3.1.1 writes
 * the two bytes {@code E0 00}; v5 uses the shortest form for the reason code and properties given.
 */
public final class DisconnectEncoder
{
    private DisconnectEncoder()
    {
    }

    public static int encodedLength(final int version, final int reasonCode, final int propertiesLength)
    {
        return ReasonAndProperties.encodedLength(version, reasonCode, propertiesLength);
    }

    /**
     * @return bytes written.
     */
    public static int encode(
        final MutableDirectBuffer buffer,
        final int offset,
        final int version,
        final int reasonCode,
        final DirectBuffer properties,
        final int propertiesOffset,
        final int propertiesLength)
    {
        return ReasonAndProperties.encode(
            buffer, offset, version, PacketType.DISCONNECT, reasonCode, properties, propertiesOffset, propertiesLength);
    }

    public static int encode(
        final MutableDirectBuffer buffer, final int offset, final int version, final int reasonCode)
    {
        return encode(buffer, offset, version, reasonCode, null, 0, 0);
    }
}
