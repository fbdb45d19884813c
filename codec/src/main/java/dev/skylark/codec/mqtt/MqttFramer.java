package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

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
 * The static {@link #frameLength(DirectBuffer, int, int, int)} inspects a buffer; an instance is the streaming
 * framer of one connection: whole packets inside an input chunk are handed to the {@link MqttPacketHandler} in
 * place (zero copy). What is not taken is carried over: the tail of a packet split across chunks, or, under back
 * pressure, the refused packet and everything after it. The carry-over buffer comes from a {@link CarryOverBuffers}
 * (a pool in the broker) only while it holds bytes, and it can be read into directly ({@link #carryOverForRead},
 * {@link #onCarryOverRead}) so a large packet is not copied again. An oversized packet is refused as soon as its
 * fixed header is seen.
 * <p>
 * Not thread safe; one instance per connection.
 */
public final class MqttFramer
{
    /** Where the carry-over buffer comes from and goes back to. */
    public interface CarryOverBuffers
    {
        /** A buffer of at least {@code minCapacity} bytes (its content is overwritten). */
        ByteBuffer acquire(int minCapacity);

        /** Takes back a buffer from {@link #acquire(int)} that holds nothing any more. */
        void release(ByteBuffer buffer);
    }

    /** Heap buffers of a power-of-two size, left to the garbage collector. */
    public static final CarryOverBuffers HEAP = new CarryOverBuffers()
    {
        @Override
        public ByteBuffer acquire(final int minCapacity)
        {
            return ByteBuffer.allocate(Math.max(INITIAL_CARRY_OVER_CAPACITY, 1 << -Integer.numberOfLeadingZeros(
                Math.max(1, minCapacity - 1))));
        }

        @Override
        public void release(final ByteBuffer buffer)
        {
        }
    };

    private static final int INITIAL_CARRY_OVER_CAPACITY = 256;

    private final int maxPacketSize;
    private final CarryOverBuffers buffers;
    private final UnsafeBuffer carryOver = new UnsafeBuffer(0, 0);
    private ByteBuffer carryOverByteBuffer;
    private int carried;
    private boolean closed;

    /**
     * @param maxPacketSize largest whole packet (fixed header included) accepted, at least 2.
     */
    public MqttFramer(final int maxPacketSize)
    {
        this(maxPacketSize, HEAP);
    }

    /**
     * @param maxPacketSize largest whole packet (fixed header included) accepted, at least 2.
     * @param buffers       where the carry-over buffer comes from.
     */
    public MqttFramer(final int maxPacketSize, final CarryOverBuffers buffers)
    {
        if (maxPacketSize < 2)
        {
            throw new IllegalArgumentException("maxPacketSize < 2: " + maxPacketSize);
        }
        this.maxPacketSize = maxPacketSize;
        this.buffers = buffers;
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

    /** Bytes carried over between calls: an incomplete packet, or packets held back by back pressure. */
    public int pendingBytes()
    {
        return carried;
    }

    /** Discards what is carried over and gives its buffer back; the framer can be fed again. */
    public void reset()
    {
        carried = 0;
        releaseCarryOver();
    }

    /** Discards what is carried over, gives its buffer back, and ignores all later input (the connection closed). */
    public void close()
    {
        closed = true;
        reset();
    }

    /**
     * Feeds bytes from the stream. Packets are delivered in order while {@link MqttPacketHandler#acceptsPackets()}
     * holds and the handler takes them; the rest (an incomplete packet, or a refused one and what follows) is
     * carried over and offered again by the next call or by {@link #drain}.
     *
     * @return {@code length}, or a negative reason code; after an error the connection must be closed.
     */
    public int onBytes(
        final DirectBuffer src, final int offset, final int length, final MqttPacketHandler handler)
    {
        if (closed)
        {
            return length;
        }
        if (carried > 0)
        {
            appendCarryOver(src, offset, length);
            final int result = drain(handler);
            return result < 0 ? result : length;
        }
        final int consumed = deliver(src, offset, length, handler);
        if (consumed < 0)
        {
            return consumed;
        }
        if (consumed < length && !closed)
        {
            appendCarryOver(src, offset + consumed, length - consumed);
        }
        return length;
    }

    /**
     * Offers the carried-over packets again, e.g. once back pressure lifts or after a read into the carry-over.
     *
     * @return bytes delivered, or a negative reason code.
     */
    public int drain(final MqttPacketHandler handler)
    {
        if (carried == 0 || closed)
        {
            return 0;
        }
        final int consumed = deliver(carryOver, 0, carried, handler);
        if (consumed > 0 && !closed)
        {
            final int remaining = carried - consumed;
            if (remaining > 0)
            {
                carryOver.putBytes(0, carryOver, consumed, remaining);
            }
            carried = remaining;
            if (remaining == 0)
            {
                releaseCarryOver();
            }
        }
        return consumed;
    }

    /**
     * The carry-over buffer with room for at least {@code minRoom} more bytes, positioned after the carried ones,
     * to read the socket into directly; then call {@link #onCarryOverRead(int)} and {@link #drain}.
     */
    public ByteBuffer carryOverForRead(final int minRoom)
    {
        ensureCapacity(carried + minRoom);
        return carryOverByteBuffer.limit(carryOverByteBuffer.capacity()).position(carried);
    }

    /** {@code read} bytes were put into the buffer from {@link #carryOverForRead(int)}. */
    public void onCarryOverRead(final int read)
    {
        carried += read;
    }

    /** Frames and hands over whole packets; returns bytes taken, or a negative reason code. */
    private int deliver(
        final DirectBuffer buffer, final int offset, final int length, final MqttPacketHandler handler)
    {
        int position = offset;
        final int end = offset + length;
        while (position < end && handler.acceptsPackets())
        {
            final int frameLength = frameLength(buffer, position, end - position, maxPacketSize);
            if (frameLength == 0)
            {
                break;
            }
            if (frameLength < 0)
            {
                return frameLength;
            }
            if (!handler.onPacket(buffer, position, frameLength))
            {
                break;
            }
            position += frameLength;
        }
        return position - offset;
    }

    private void appendCarryOver(final DirectBuffer src, final int offset, final int length)
    {
        ensureCapacity(carried + length);
        carryOver.putBytes(carried, src, offset, length);
        carried += length;
    }

    private void ensureCapacity(final int required)
    {
        final ByteBuffer old = carryOverByteBuffer;
        if (old == null || old.capacity() < required)
        {
            final ByteBuffer grown = buffers.acquire(required);
            if (carried > 0)
            {
                grown.put(0, old, 0, carried);
            }
            if (old != null)
            {
                buffers.release(old);
            }
            carryOverByteBuffer = grown;
            carryOver.wrap(grown);
        }
    }

    private void releaseCarryOver()
    {
        if (carryOverByteBuffer != null)
        {
            final ByteBuffer old = carryOverByteBuffer;
            carryOverByteBuffer = null;
            carryOver.wrap(0, 0);
            buffers.release(old);
        }
    }
}
