package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

/**
 * The fields of one PUBLISH, as views into the buffers that hold them: QoS, DUP, RETAIN, packet identifier, and the
 * topic, property block (without its Property Length) and payload as (buffer, offset, length) slices. A reusable
 * flyweight: one instance per thread, re-wrapped for each message, so passing a PUBLISH between the decoder, the
 * publish policy, the rings and the encoder allocates nothing and copies nothing until the bytes are written.
 * <pre>
 *  view.wrap(decoder)                       fields of a decoded PUBLISH (topic alias still in the properties)
 *      .topic(aliasBuffer, 0, length)       any slice may be pointed elsewhere (resolved alias, filtered properties)
 *  PublishEncoder.encode(out, at, version, view)
 * </pre>
 * Used by {@link PublishEncoder}, and in the broker by the router proxy, the publish hook's queue and the message
 * layout. The slices are valid only as long as the buffers they point into; a view is never kept past the call.
 */
public final class PublishView
{
    private int qos;
    private boolean dup;
    private boolean retain;
    private int packetId;
    private DirectBuffer topicBuffer;
    private int topicOffset;
    private int topicLength;
    private DirectBuffer propertiesBuffer;
    private int propertiesOffset;
    private int propertiesLength;
    private DirectBuffer payloadBuffer;
    private int payloadOffset;
    private int payloadLength;

    /**
     * Points at the fields of a PUBLISH just decoded by {@code decoder}, all slices in the decoder's buffer.
     *
     * @return this.
     */
    public PublishView wrap(final PublishDecoder decoder)
    {
        final DirectBuffer buffer = decoder.buffer();
        return flags(decoder.qos(), decoder.dup(), decoder.retain())
            .packetId(decoder.packetId())
            .topic(buffer, decoder.topicOffset(), decoder.topicLength())
            .properties(buffer, decoder.propertiesOffset(), decoder.propertiesLength())
            .payload(buffer, decoder.payloadOffset(), decoder.payloadLength());
    }

    /** Forgets every slice and flag: QoS 0, no packet identifier, empty topic, properties and payload. */
    public PublishView reset()
    {
        qos = 0;
        dup = false;
        retain = false;
        packetId = 0;
        topicBuffer = null;
        topicOffset = 0;
        topicLength = 0;
        propertiesBuffer = null;
        propertiesOffset = 0;
        propertiesLength = 0;
        payloadBuffer = null;
        payloadOffset = 0;
        payloadLength = 0;
        return this;
    }

    /** QoS, DUP and RETAIN at once. */
    public PublishView flags(final int qos, final boolean dup, final boolean retain)
    {
        this.qos = qos;
        this.dup = dup;
        this.retain = retain;
        return this;
    }

    /** QoS, DUP and RETAIN from the low nibble of the fixed header's first byte, as {@link #headerFlags()} gives it. */
    public PublishView headerFlags(final int flags)
    {
        return flags((flags & PublishDecoder.QOS_MASK) >> PublishDecoder.QOS_SHIFT,
            (flags & PublishDecoder.DUP_FLAG) != 0, (flags & PublishDecoder.RETAIN_FLAG) != 0);
    }

    public PublishView qos(final int qos)
    {
        this.qos = qos;
        return this;
    }

    public PublishView dup(final boolean dup)
    {
        this.dup = dup;
        return this;
    }

    public PublishView retain(final boolean retain)
    {
        this.retain = retain;
        return this;
    }

    /** The packet identifier (meaningful only at QoS &gt; 0). */
    public PublishView packetId(final int packetId)
    {
        this.packetId = packetId;
        return this;
    }

    public PublishView topic(final DirectBuffer buffer, final int offset, final int length)
    {
        topicBuffer = buffer;
        topicOffset = offset;
        topicLength = length;
        return this;
    }

    /** The property block without its Property Length; {@code buffer} may be null when {@code length} is 0. */
    public PublishView properties(final DirectBuffer buffer, final int offset, final int length)
    {
        propertiesBuffer = buffer;
        propertiesOffset = offset;
        propertiesLength = length;
        return this;
    }

    public PublishView payload(final DirectBuffer buffer, final int offset, final int length)
    {
        payloadBuffer = buffer;
        payloadOffset = offset;
        payloadLength = length;
        return this;
    }

    public int qos()
    {
        return qos;
    }

    public boolean dup()
    {
        return dup;
    }

    public boolean retain()
    {
        return retain;
    }

    /** The low nibble of the fixed header's first byte: see {@link PublishEncoder#flags(int, boolean, boolean)}. */
    public int headerFlags()
    {
        return PublishEncoder.flags(qos, dup, retain);
    }

    public int packetId()
    {
        return packetId;
    }

    public DirectBuffer topicBuffer()
    {
        return topicBuffer;
    }

    public int topicOffset()
    {
        return topicOffset;
    }

    public int topicLength()
    {
        return topicLength;
    }

    public DirectBuffer propertiesBuffer()
    {
        return propertiesBuffer;
    }

    public int propertiesOffset()
    {
        return propertiesOffset;
    }

    public int propertiesLength()
    {
        return propertiesLength;
    }

    public DirectBuffer payloadBuffer()
    {
        return payloadBuffer;
    }

    public int payloadOffset()
    {
        return payloadOffset;
    }

    public int payloadLength()
    {
        return payloadLength;
    }

    @Override
    public String toString()
    {
        return "PublishView{qos=" + qos + ", dup=" + dup + ", retain=" + retain + ", packetId=" + packetId +
            ", topicLength=" + topicLength + ", propertiesLength=" + propertiesLength +
            ", payloadLength=" + payloadLength + '}';
    }
}
