package dev.skylark.codec.ws;

import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * XOR masking of RFC 6455 payloads (section 5.3), in place, 8 bytes per step.
 * <p>
 * The masking key is given as the {@code int} that the 4 key bytes form when read big-endian off
 * the wire, i.e. key byte 0 is the most significant byte. The <em>phase</em> is the index, modulo 4,
 * of the first byte to mask within the frame payload, so a payload split across reads is masked
 * chunk by chunk: pass the phase returned by the previous call. Masking is its own inverse.
 */
public final class WebSocketMasking
{
    private WebSocketMasking()
    {
    }

    /**
     * XOR {@code length} bytes at {@code offset} with the masking key, starting at key byte {@code phase}.
     *
     * @param buffer  holding the payload; modified in place.
     * @param offset  of the first byte to mask; any alignment.
     * @param length  number of bytes to mask, may be 0.
     * @param maskKey the 4 key bytes as a big-endian int.
     * @param phase   index (0-3) of the key byte that applies to the first byte.
     * @return the phase for the byte after the last one masked.
     */
    public static int mask(
        final MutableDirectBuffer buffer, final int offset, final int length, final int maskKey, final int phase)
    {
        // Key bytes in memory order (little-endian int), rotated so that byte 0 applies to buffer[offset].
        final int key = Integer.rotateRight(Integer.reverseBytes(maskKey), phase << 3);
        final long key8 = (key & 0xFFFF_FFFFL) | ((long)key << 32);

        int i = offset;
        final int end = offset + length;
        final int end8 = end - 7;
        while (i < end8)
        {
            buffer.putLong(i, buffer.getLong(i, ByteOrder.LITTLE_ENDIAN) ^ key8, ByteOrder.LITTLE_ENDIAN);
            i += 8;
        }

        if (end - i >= 4)
        {
            buffer.putInt(i, buffer.getInt(i, ByteOrder.LITTLE_ENDIAN) ^ key, ByteOrder.LITTLE_ENDIAN);
            i += 4;
        }

        int shift = 0;
        while (i < end)
        {
            buffer.putByte(i, (byte)(buffer.getByte(i) ^ (key >>> shift)));
            shift += 8;
            i++;
        }

        return (phase + length) & 3;
    }

    /** Byte-at-a-time reference version of {@link #mask}, for tests and cross-checks. */
    public static int maskSimple(
        final MutableDirectBuffer buffer, final int offset, final int length, final int maskKey, final int phase)
    {
        for (int i = 0; i < length; i++)
        {
            final int keyByte = (maskKey >>> ((3 - ((phase + i) & 3)) << 3)) & 0xFF;
            buffer.putByte(offset + i, (byte)(buffer.getByte(offset + i) ^ keyByte));
        }
        return (phase + length) & 3;
    }
}
