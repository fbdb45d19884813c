package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.readVarInt;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntValue;

/**
 * Cuts a byte stream into whole MQTT packets.
 * <pre>
 * +---------+-----------------------+---------------------------+
 * | type/flg| Remaining Length (VBI)| Remaining Length bytes    |
 * +---------+-----------------------+---------------------------+
 *   1 byte    1..4 bytes, minimal
 * </pre>
 * The static {@link #frameLength(DirectBuffer, int, int, int)} inspects a buffer; an instance is a streaming
 * framer for one connection: whole packets inside an input chunk are handed to the {@link MqttPacketHandler} in
 * place (zero copy); only a packet split across chunks is accumulated, in a buffer that grows as needed and never
 * beyond {@code maxPacketSize}. An oversized packet is refused as soon as its fixed header is seen.
 * <p>
 * Not thread safe; one instance per connection.
 */
public final class MqttFramer
{
    private static final int INITIAL_ACCUMULATOR_CAPACITY = 256;

    private final int maxPacketSize;
    private UnsafeBuffer accumulator;
    private int accumulated;

    /**
     * @param maxPacketSize largest whole packet (fixed header included) accepted, at least 2.
     */
    public MqttFramer(final int maxPacketSize)
    {
        if (maxPacketSize < 2)
        {
            throw new IllegalArgumentException("maxPacketSize < 2: " + maxPacketSize);
        }
        this.maxPacketSize = maxPacketSize;
    }

    /**
     * Length of the first packet at {@code offset} if all of it is within {@code available} bytes.
     *
     * @return the whole packet length (&gt; 0); 0 if more bytes are needed; {@code -MALFORMED_PACKET} for a bad
     * Remaining Length (5th byte or non-minimal); {@code -PACKET_TOO_LARGE} as soon as the header shows the packet
     * exceeds {@code maxPacketSize}.
     */
    public static int frameLength(
        final DirectBuffer buffer, final int offset, final int available, final int maxPacketSize)
    {
        final int total = packetLength(buffer, offset, available, maxPacketSize);
        return total > 0 && total > available ? 0 : total;
    }

    /**
     * Length of the first packet once its fixed header is complete, whether or not the body has arrived.
     *
     * @return packet length (&gt; 0), 0 if the fixed header is incomplete, or a negative reason code.
     */
    public static int packetLength(
        final DirectBuffer buffer, final int offset, final int available, final int maxPacketSize)
    {
        if (available < 2)
        {
            return 0;
        }

        final long vbi = readVarInt(buffer, offset + 1, offset + available);
        if (vbi == MqttPrimitives.VARINT_INCOMPLETE)
        {
            return 0;
        }
        if (vbi < 0)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        final long total = 1L + varIntLength(vbi) + varIntValue(vbi);
        return total > maxPacketSize ? -ReasonCode.PACKET_TOO_LARGE : (int)total;
    }

    public int maxPacketSize()
    {
        return maxPacketSize;
    }

    /** Bytes of an incomplete packet carried over between calls. */
    public int pendingBytes()
    {
        return accumulated;
    }

    /** Discards any partial packet, e.g. when the connection is reused. */
    public void reset()
    {
        accumulated = 0;
    }

    /**
     * Feeds bytes from the stream. Packets are delivered in order; when the handler returns false, delivery stops
     * and the count of bytes consumed so far (including that packet) is returned, so the caller resumes with the
     * rest later. An incomplete trailing packet is copied and consumed.
     *
     * @return bytes consumed (0..length) or a negative reason code; after an error the connection must be closed.
     */
    public int onBytes(
        final DirectBuffer src, final int offset, final int length, final MqttPacketHandler handler)
    {
        int pos = offset;
        final int end = offset + length;

        if (accumulated > 0)
        {
            while (true)
            {
                final int total = packetLength(accumulator, 0, accumulated, maxPacketSize);
                if (total < 0)
                {
                    return total;
                }

                if (total == 0)
                {
                    if (pos >= end)
                    {
                        return pos - offset;
                    }
                    accumulator.putByte(accumulated++, src.getByte(pos++));
                    continue;
                }

                ensureCapacity(total);
                final int copy = Math.min(total - accumulated, end - pos);
                accumulator.putBytes(accumulated, src, pos, copy);
                accumulated += copy;
                pos += copy;
                if (accumulated < total)
                {
                    return pos - offset;
                }

                accumulated = 0;
                if (!handler.onPacket(accumulator, 0, total))
                {
                    return pos - offset;
                }
                break;
            }
        }

        while (pos < end)
        {
            final int available = end - pos;
            final int total = packetLength(src, pos, available, maxPacketSize);
            if (total < 0)
            {
                return total;
            }

            if (total == 0 || total > available)
            {
                ensureCapacity(total == 0 ? 5 : total);
                accumulator.putBytes(0, src, pos, available);
                accumulated = available;
                return length;
            }

            pos += total;
            if (!handler.onPacket(src, pos - total, total))
            {
                return pos - offset;
            }
        }

        return length;
    }

    private void ensureCapacity(final int required)
    {
        final int capacity = accumulator == null ? 0 : accumulator.capacity();
        if (required > capacity)
        {
            final int newCapacity = (int)Math.max(
                required, Math.min(maxPacketSize, Math.max(INITIAL_ACCUMULATOR_CAPACITY, 2L * capacity)));
            final UnsafeBuffer newBuffer = new UnsafeBuffer(new byte[newCapacity]);
            if (accumulated > 0)
            {
                newBuffer.putBytes(0, accumulator, 0, accumulated);
            }
            accumulator = newBuffer;
        }
    }
}
