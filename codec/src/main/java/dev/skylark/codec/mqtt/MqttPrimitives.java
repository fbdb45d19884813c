package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The MQTT data representations (specification section 1.5) shared by every decoder and encoder: two and four
 * byte integers (big-endian), Variable Byte Integers, UTF-8 Encoded Strings and Binary Data, and the fixed header.
 * <p>
 * All readers take an exclusive {@code limit} and never read at or beyond it. Failures are reported as
 * the negative of a {@link ReasonCode}; nothing here throws on bad input or allocates (except the
 * {@code String} helpers, which are for use off the hot path).
 *
 * <pre>
 * Variable Byte Integer: 1..4 bytes, 7 bits each, least significant group first, bit 7 = "more bytes follow".
 *   Minimal encoding only: a final byte of 0x00 after a continuation byte is malformed.
 * UTF-8 Encoded String:  +--------+--------+-----------------+
 *                        | len MSB| len LSB| len bytes UTF-8 |
 *                        +--------+--------+-----------------+
 * Binary Data:           the same layout, any bytes.
 * </pre>
 */
public final class MqttPrimitives
{
    /** Largest value a Variable Byte Integer can carry (268,435,455). */
    public static final int VARINT_MAX_VALUE = 268_435_455;
    /** Most bytes a Variable Byte Integer can occupy. */
    public static final int VARINT_MAX_LENGTH = 4;
    /** Largest length of a UTF-8 string or binary field. */
    public static final int MAX_STRING_LENGTH = 65_535;
    /** Largest MQTT packet: 1 byte type, 4 bytes remaining length, 268,435,455 bytes body. */
    public static final int MAX_PACKET_LENGTH = 1 + VARINT_MAX_LENGTH + VARINT_MAX_VALUE;

    /** Returned by {@link #readVarInt(DirectBuffer, int, int)} when the limit ends before the last byte. */
    public static final long VARINT_INCOMPLETE = -1L;
    /** Returned by {@link #readVarInt(DirectBuffer, int, int)} for a 5th byte or a non-minimal encoding. */
    public static final long VARINT_MALFORMED = -2L;

    private MqttPrimitives()
    {
    }

    // ------------------------------------------------------------------------------------------------------------
    // Variable Byte Integer
    // ------------------------------------------------------------------------------------------------------------

    /**
     * Reads a Variable Byte Integer at {@code offset} without reading at or beyond {@code limit}.
     *
     * @return {@code (value << 8) | encodedLength} when valid (see {@link #varIntValue(long)} and
     * {@link #varIntLength(long)}), {@link #VARINT_INCOMPLETE} or {@link #VARINT_MALFORMED}.
     */
    public static long readVarInt(final DirectBuffer buffer, final int offset, final int limit)
    {
        int value = 0;
        int shift = 0;
        for (int i = 0; i < VARINT_MAX_LENGTH; i++)
        {
            final int index = offset + i;
            if (index >= limit)
            {
                return VARINT_INCOMPLETE;
            }

            final int b = buffer.getByte(index) & 0xFF;
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                {
                    return VARINT_MALFORMED;
                }

                return ((long)value << 8) | (i + 1);
            }
            shift += 7;
        }

        return VARINT_MALFORMED;
    }

    /** The value of a successful {@link #readVarInt(DirectBuffer, int, int)} result. */
    public static int varIntValue(final long result)
    {
        return (int)(result >>> 8);
    }

    /** The encoded length of a successful {@link #readVarInt(DirectBuffer, int, int)} result. */
    public static int varIntLength(final long result)
    {
        return (int)(result & 0xFF);
    }

    /** Number of bytes the minimal Variable Byte Integer encoding of {@code value} takes. */
    public static int varIntSize(final int value)
    {
        if (value < 128)
        {
            return 1;
        }
        if (value < 16_384)
        {
            return 2;
        }
        if (value < 2_097_152)
        {
            return 3;
        }
        return 4;
    }

    /**
     * Writes {@code value} (0..{@link #VARINT_MAX_VALUE}) as a minimal Variable Byte Integer.
     *
     * @return number of bytes written.
     */
    public static int putVarInt(final MutableDirectBuffer buffer, final int offset, final int value)
    {
        int remaining = value;
        int i = 0;
        do
        {
            int b = remaining & 0x7F;
            remaining >>>= 7;
            if (remaining > 0)
            {
                b |= 0x80;
            }
            buffer.putByte(offset + i++, (byte)b);
        }
        while (remaining > 0);

        return i;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Fixed header
    // ------------------------------------------------------------------------------------------------------------

    /**
     * Checks the fixed header of one whole packet occupying [offset, offset + length): the remaining length must be
     * a minimal varint and must equal {@code length} minus the header. The packet type and flags are not checked.
     *
     * @return the fixed header length (2..5), or {@code -MALFORMED_PACKET}.
     */
    public static int fixedHeaderLength(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < 2 || offset < 0 || offset + length > buffer.capacity() || offset + length < 0)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        final int limit = offset + length;
        final long rl = readVarInt(buffer, offset + 1, limit);
        if (rl < 0)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        final int headerLength = 1 + varIntLength(rl);
        if (varIntValue(rl) != length - headerLength)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        return headerLength;
    }

    /**
     * Checks the type and the fixed-header flags (low nibble) as well as the remaining length.
     *
     * @return the fixed header length, or {@code -MALFORMED_PACKET}.
     */
    public static int fixedHeaderLength(
        final DirectBuffer buffer, final int offset, final int length, final int type, final int flags)
    {
        final int headerLength = fixedHeaderLength(buffer, offset, length);
        if (headerLength < 0)
        {
            return headerLength;
        }

        final int b0 = buffer.getByte(offset) & 0xFF;
        if ((b0 >> 4) != type || (b0 & 0x0F) != flags)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        return headerLength;
    }

    /**
     * Writes a fixed header.
     *
     * @return number of bytes written (2..5).
     */
    public static int putFixedHeader(
        final MutableDirectBuffer buffer, final int offset, final int type, final int flags, final int remainingLength)
    {
        buffer.putByte(offset, (byte)((type << 4) | (flags & 0x0F)));
        return 1 + putVarInt(buffer, offset + 1, remainingLength);
    }

    /** Length of a whole packet whose body (everything after the fixed header) is {@code remainingLength}. */
    public static int packetLength(final int remainingLength)
    {
        return 1 + varIntSize(remainingLength) + remainingLength;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Integers
    // ------------------------------------------------------------------------------------------------------------

    public static int getUint16(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    public static long getUint32(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
    }

    public static void putUint16(final MutableDirectBuffer buffer, final int offset, final int value)
    {
        buffer.putShort(offset, (short)value, ByteOrder.BIG_ENDIAN);
    }

    public static void putUint32(final MutableDirectBuffer buffer, final int offset, final long value)
    {
        buffer.putInt(offset, (int)value, ByteOrder.BIG_ENDIAN);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Strings and binary data
    // ------------------------------------------------------------------------------------------------------------

    /**
     * Reads the 2-byte length prefix of a Binary Data field at {@code offset} and checks the data fits before
     * {@code limit}. The data starts at {@code offset + 2}.
     *
     * @return the data length, or {@code -MALFORMED_PACKET}.
     */
    public static int readBinaryLength(final DirectBuffer buffer, final int offset, final int limit)
    {
        if (offset + 2 > limit)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        final int length = getUint16(buffer, offset);
        if (offset + 2 + length > limit)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        return length;
    }

    /**
     * Reads the length prefix of a UTF-8 Encoded String at {@code offset}, checks it fits before {@code limit}
     * and that its bytes are well-formed per {@link #validateUtf8(DirectBuffer, int, int)}.
     * The characters start at {@code offset + 2}.
     *
     * @return the string's byte length, or {@code -MALFORMED_PACKET}.
     */
    public static int readUtf8Length(final DirectBuffer buffer, final int offset, final int limit)
    {
        final int length = readBinaryLength(buffer, offset, limit);
        if (length <= 0)
        {
            return length;
        }

        return validateUtf8(buffer, offset + 2, length) == 0 ? length : -ReasonCode.MALFORMED_PACKET;
    }

    /**
     * Validates UTF-8 as strictly as Mosquitto does: well-formed (no overlong forms, no code points beyond
     * U+10FFFF, no truncated sequences), no surrogates U+D800..U+DFFF and no U+0000 (required by the
     * specification), and also no control characters U+0001..U+001F, U+007F..U+009F and no non-characters
     * (U+FDD0..U+FDEF, U+xxFFFE, U+xxFFFF), which the specification allows a receiver to refuse.
     *
     * @return 0 when valid, else {@code -MALFORMED_PACKET}.
     */
    public static int validateUtf8(final DirectBuffer buffer, final int offset, final int length)
    {
        return utf8(buffer, offset, length, true);
    }

    /**
     * Validates UTF-8 Encoded Character Data such as a PUBLISH payload with Payload Format Indicator 1: only
     * well-formedness (no overlong forms, no surrogates, nothing beyond U+10FFFF, no truncated sequence); control
     * characters, U+0000 and non-characters are allowed since the string rules do not apply to payloads.
     *
     * @return 0 when valid, else {@code -PAYLOAD_FORMAT_INVALID}.
     */
    public static int validateUtf8Data(final DirectBuffer buffer, final int offset, final int length)
    {
        return utf8(buffer, offset, length, false) == 0 ? 0 : -ReasonCode.PAYLOAD_FORMAT_INVALID;
    }

    private static int utf8(final DirectBuffer buffer, final int offset, final int length, final boolean mqttString)
    {
        final int end = offset + length;
        int i = offset;
        while (i < end)
        {
            final int c = buffer.getByte(i) & 0xFF;
            if (c < 0x80)
            {
                if (mqttString && (c < 0x20 || c == 0x7F))
                {
                    return -ReasonCode.MALFORMED_PACKET;
                }
                i++;
                continue;
            }

            final int extra;
            int cp;
            if (c >= 0xC2 && c <= 0xDF)
            {
                extra = 1;
                cp = c & 0x1F;
            }
            else if (c >= 0xE0 && c <= 0xEF)
            {
                extra = 2;
                cp = c & 0x0F;
            }
            else if (c >= 0xF0 && c <= 0xF4)
            {
                extra = 3;
                cp = c & 0x07;
            }
            else
            {
                return -ReasonCode.MALFORMED_PACKET;
            }

            if (end - i - 1 < extra)
            {
                return -ReasonCode.MALFORMED_PACKET;
            }

            for (int k = 1; k <= extra; k++)
            {
                final int cc = buffer.getByte(i + k) & 0xFF;
                if ((cc & 0xC0) != 0x80)
                {
                    return -ReasonCode.MALFORMED_PACKET;
                }
                cp = (cp << 6) | (cc & 0x3F);
            }

            if ((extra == 2 && cp < 0x800) ||
                (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                (cp >= 0xD800 && cp <= 0xDFFF) ||
                (mqttString && (cp <= 0x9F || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)))
            {
                return -ReasonCode.MALFORMED_PACKET;
            }

            i += extra + 1;
        }

        return 0;
    }

    /**
     * Writes a 2-byte length prefix and {@code length} bytes copied from {@code src}.
     *
     * @return number of bytes written ({@code 2 + length}).
     */
    public static int putBinary(
        final MutableDirectBuffer buffer,
        final int offset,
        final DirectBuffer src,
        final int srcOffset,
        final int length)
    {
        putUint16(buffer, offset, length);
        if (length > 0)
        {
            buffer.putBytes(offset + 2, src, srcOffset, length);
        }
        return 2 + length;
    }

    /** Decodes UTF-8 bytes into a String; allocates, for use off the hot path. */
    public static String string(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length <= 0)
        {
            return "";
        }

        final byte[] bytes = new byte[length];
        buffer.getBytes(offset, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Copies bytes into a new array; allocates, for use off the hot path. */
    public static byte[] bytes(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] bytes = new byte[Math.max(0, length)];
        if (length > 0)
        {
            buffer.getBytes(offset, bytes);
        }
        return bytes;
    }
}
