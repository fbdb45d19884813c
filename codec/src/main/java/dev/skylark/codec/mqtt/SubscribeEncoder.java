package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static dev.skylark.codec.mqtt.MqttPrimitives.packetLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.putBinary;
import static dev.skylark.codec.mqtt.MqttPrimitives.putFixedHeader;
import static dev.skylark.codec.mqtt.MqttPrimitives.putUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntSize;

/**
 * Encoder of SUBSCRIBE and, with {@link #unsubscribe()}, UNSUBSCRIBE (layouts in {@link SubscribeDecoder} and
 * {@link UnsubscribeDecoder}). Entries are references to the caller's buffers until
 * {@link #encode(MutableDirectBuffer, int)}; the entry table grows on demand (allocation only while it grows).
 */
public final class SubscribeEncoder
{
    private static final UnsafeBuffer EMPTY = new UnsafeBuffer(new byte[0]);

    private int packetType = PacketType.SUBSCRIBE;
    private int version = MqttVersion.V5;
    private int packetId;
    private DirectBuffer propertiesBuffer = EMPTY;
    private int propertiesOffset;
    private int propertiesLength;
    private int count;
    private DirectBuffer[] filterBuffers = new DirectBuffer[8];
    private int[] filterOffsets = new int[8];
    private int[] filterLengths = new int[8];
    private int[] filterOptions = new int[8];

    /** Subscription Options byte. */
    public static int options(
        final int qos, final boolean noLocal, final boolean retainAsPublished, final int retainHandling)
    {
        return qos | (noLocal ? SubscribeDecoder.OPTION_NO_LOCAL : 0) |
            (retainAsPublished ? SubscribeDecoder.OPTION_RETAIN_AS_PUBLISHED : 0) |
            (retainHandling << SubscribeDecoder.OPTION_RETAIN_HANDLING_SHIFT);
    }

    /** Starts a SUBSCRIBE: clears entries and properties. */
    public SubscribeEncoder subscribe(final int version, final int packetId)
    {
        return start(PacketType.SUBSCRIBE, version, packetId);
    }

    /** Starts an UNSUBSCRIBE: clears entries and properties. */
    public SubscribeEncoder unsubscribe(final int version, final int packetId)
    {
        return start(PacketType.UNSUBSCRIBE, version, packetId);
    }

    /** Switches the packet being built to UNSUBSCRIBE (options are then ignored). */
    public SubscribeEncoder unsubscribe()
    {
        packetType = PacketType.UNSUBSCRIBE;
        return this;
    }

    private SubscribeEncoder start(final int type, final int version, final int packetId)
    {
        this.packetType = type;
        this.version = version;
        this.packetId = packetId;
        this.propertiesBuffer = EMPTY;
        this.propertiesOffset = 0;
        this.propertiesLength = 0;
        Arrays.fill(filterBuffers, 0, count, null);
        this.count = 0;
        return this;
    }

    /** Property block (v5) without its Property Length. */
    public SubscribeEncoder properties(final DirectBuffer buffer, final int offset, final int length)
    {
        propertiesBuffer = buffer;
        propertiesOffset = offset;
        propertiesLength = length;
        return this;
    }

    public SubscribeEncoder filter(final DirectBuffer buffer, final int offset, final int length, final int options)
    {
        if (count == filterBuffers.length)
        {
            final int capacity = count * 2;
            filterBuffers = Arrays.copyOf(filterBuffers, capacity);
            filterOffsets = Arrays.copyOf(filterOffsets, capacity);
            filterLengths = Arrays.copyOf(filterLengths, capacity);
            filterOptions = Arrays.copyOf(filterOptions, capacity);
        }
        filterBuffers[count] = buffer;
        filterOffsets[count] = offset;
        filterLengths[count] = length;
        filterOptions[count] = options;
        count++;
        return this;
    }

    /** Allocating convenience. */
    public SubscribeEncoder filter(final String filter, final int options)
    {
        final UnsafeBuffer b = new UnsafeBuffer(filter.getBytes(StandardCharsets.UTF_8));
        return filter(b, 0, b.capacity(), options);
    }

    public int entryCount()
    {
        return count;
    }

    private int remainingLength()
    {
        int length = 2;
        if (MqttVersion.isV5(version))
        {
            length += varIntSize(propertiesLength) + propertiesLength;
        }
        final int perEntry = packetType == PacketType.SUBSCRIBE ? 3 : 2;
        for (int i = 0; i < count; i++)
        {
            length += perEntry + filterLengths[i];
        }
        return length;
    }

    public int encodedLength()
    {
        return packetLength(remainingLength());
    }

    /**
     * @return bytes written.
     */
    public int encode(final MutableDirectBuffer buffer, final int offset)
    {
        int pos = offset + putFixedHeader(buffer, offset, packetType, SubscribeDecoder.FLAGS, remainingLength());
        putUint16(buffer, pos, packetId);
        pos += 2;
        if (MqttVersion.isV5(version))
        {
            pos += PropertiesEncoder.putBlock(buffer, pos, propertiesBuffer, propertiesOffset, propertiesLength);
        }
        for (int i = 0; i < count; i++)
        {
            pos += putBinary(buffer, pos, filterBuffers[i], filterOffsets[i], filterLengths[i]);
            if (packetType == PacketType.SUBSCRIBE)
            {
                buffer.putByte(pos++, (byte)filterOptions[i]);
            }
        }
        return pos - offset;
    }
}
