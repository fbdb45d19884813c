/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.nio.ByteBuffer;

/**
 * A PUBLISH packet encoded once per publisher; each message copies it and patches the packet id and the payload
 * header, see {@link ClientPacketEncoder#publishTemplate(int, String, int, int)}.
 */
public final class PublishTemplate
{
    private final ByteBuffer packet;
    private final int length;
    private final int packetIdOffset;
    private final int payloadOffset;

    PublishTemplate(final ByteBuffer packet, final int length, final int packetIdOffset, final int payloadOffset)
    {
        this.packet = packet;
        this.length = length;
        this.packetIdOffset = packetIdOffset;
        this.payloadOffset = payloadOffset;
    }

    /**
     * @return length of the whole packet in bytes.
     */
    public int length()
    {
        return length;
    }

    /**
     * Append one PUBLISH to a buffer at its position, which is advanced.
     *
     * @param dst         to append to.
     * @param packetId    packet id, ignored for QoS 0.
     * @param timestampNs send time stamped into the payload.
     * @param publisherId publisher index stamped into the payload.
     * @param sequence    per-publisher sequence stamped into the payload.
     * @return bytes written or {@link ClientPacketEncoder#INSUFFICIENT_CAPACITY}.
     */
    public int writeTo(
        final ByteBuffer dst, final int packetId, final long timestampNs, final int publisherId, final int sequence)
    {
        final int index = dst.position();
        if (dst.limit() - index < length)
        {
            return ClientPacketEncoder.INSUFFICIENT_CAPACITY;
        }

        dst.put(index, packet, 0, length);
        if (packetIdOffset >= 0)
        {
            dst.putShort(index + packetIdOffset, (short)packetId);
        }
        final int payload = index + payloadOffset;
        dst.putLong(payload + PayloadDescriptor.TIMESTAMP_OFFSET, timestampNs);
        dst.putInt(payload + PayloadDescriptor.PUBLISHER_OFFSET, publisherId);
        dst.putInt(payload + PayloadDescriptor.SEQUENCE_OFFSET, sequence);
        dst.position(index + length);

        return length;
    }
}
