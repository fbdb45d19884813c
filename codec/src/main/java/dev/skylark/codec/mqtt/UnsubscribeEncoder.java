package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Encoder of an UNSUBSCRIBE (layout in {@link UnsubscribeDecoder}); a typed front to {@link SubscribeEncoder}.
 */
public final class UnsubscribeEncoder
{
    private final SubscribeEncoder encoder = new SubscribeEncoder();

    /** Starts a new UNSUBSCRIBE, clearing filters and properties. */
    public UnsubscribeEncoder start(final int version, final int packetId)
    {
        encoder.unsubscribe(version, packetId);
        return this;
    }

    public UnsubscribeEncoder properties(final DirectBuffer buffer, final int offset, final int length)
    {
        encoder.properties(buffer, offset, length);
        return this;
    }

    public UnsubscribeEncoder filter(final DirectBuffer buffer, final int offset, final int length)
    {
        encoder.filter(buffer, offset, length, 0);
        return this;
    }

    /** Allocating convenience. */
    public UnsubscribeEncoder filter(final String filter)
    {
        encoder.filter(filter, 0);
        return this;
    }

    public int encodedLength()
    {
        return encoder.encodedLength();
    }

    /**
     * @return bytes written.
     */
    public int encode(final MutableDirectBuffer buffer, final int offset)
    {
        return encoder.encode(buffer, offset);
    }
}
