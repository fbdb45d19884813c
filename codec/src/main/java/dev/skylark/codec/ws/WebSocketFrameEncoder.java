package dev.skylark.codec.ws;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Writes RFC 6455 frames; see {@link WebSocketFrameDecoder} for the wire diagram.
 * <p>
 * Server frames are unmasked. The hot path is {@link #headerLength(int)} + {@link #encodeHeader}: reserve
 * {@code headerLength(n)} bytes in front of where the MQTT packet of {@code n} bytes is written, then fill the
 * header in, so the payload is never copied. The {@code encodeMasked*} methods write client frames (tests and
 * the load generator). Like the other flyweight encoders these do not check capacity: the caller sizes the
 * buffer (payload + {@link #MAX_SERVER_HEADER_LENGTH}, or + {@link WebSocketFrameDecoder#MAX_HEADER_LENGTH}
 * for masked frames). Methods with a control payload return {@link #CONTROL_PAYLOAD_TOO_LONG} instead of
 * writing a payload above 125 bytes.
 */
public final class WebSocketFrameEncoder
{
    /** Longest unmasked header: 2 + 8-byte length. */
    public static final int MAX_SERVER_HEADER_LENGTH = 10;
    /** Result: a control frame payload (or close reason + 2) longer than 125 bytes. */
    public static final int CONTROL_PAYLOAD_TOO_LONG = -1;

    private static final int FIN_BIT = 0x80;
    private static final int MASK_BIT = 0x80;

    private WebSocketFrameEncoder()
    {
    }

    /** Header length of an unmasked frame: 2 (≤ 125), 4 (≤ 65535) or 10 bytes. */
    public static int headerLength(final int payloadLength)
    {
        return payloadLength <= 125 ? 2 : payloadLength <= 0xFFFF ? 4 : 10;
    }

    /** Header length of a masked (client) frame: {@link #headerLength(int)} + 4. */
    public static int maskedHeaderLength(final int payloadLength)
    {
        return headerLength(payloadLength) + 4;
    }

    /**
     * Write an unmasked frame header, minimal length encoding.
     *
     * @return the header length, {@link #headerLength(int)}.
     */
    public static int encodeHeader(
        final MutableDirectBuffer buffer, final int offset, final int opcode, final boolean fin, final int payloadLength)
    {
        return putHeader(buffer, offset, (fin ? FIN_BIT : 0) | (opcode & 0x0F), 0, payloadLength);
    }

    /** The common case: header of a final binary frame. */
    public static int encodeBinaryHeader(final MutableDirectBuffer buffer, final int offset, final int payloadLength)
    {
        return putHeader(buffer, offset, FIN_BIT | WebSocketOpcode.BINARY, 0, payloadLength);
    }

    /** A complete unmasked frame (header + copy of the payload); returns the frame length. */
    public static int encodeFrame(
        final MutableDirectBuffer buffer,
        final int offset,
        final int opcode,
        final boolean fin,
        final DirectBuffer payload,
        final int payloadOffset,
        final int payloadLength)
    {
        final int headerLength = encodeHeader(buffer, offset, opcode, fin, payloadLength);
        buffer.putBytes(offset + headerLength, payload, payloadOffset, payloadLength);
        return headerLength + payloadLength;
    }

    /** An unmasked ping; returns the frame length or {@link #CONTROL_PAYLOAD_TOO_LONG}. */
    public static int encodePing(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer payload, final int payloadOffset,
        final int payloadLength)
    {
        return encodeControl(buffer, offset, WebSocketOpcode.PING, payload, payloadOffset, payloadLength);
    }

    /** An unmasked pong (echo a ping's payload); returns the frame length or {@link #CONTROL_PAYLOAD_TOO_LONG}. */
    public static int encodePong(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer payload, final int payloadOffset,
        final int payloadLength)
    {
        return encodeControl(buffer, offset, WebSocketOpcode.PONG, payload, payloadOffset, payloadLength);
    }

    /** An unmasked close frame with a status code and no reason: 4 bytes. */
    public static int encodeClose(final MutableDirectBuffer buffer, final int offset, final int code)
    {
        buffer.putByte(offset, (byte)(FIN_BIT | WebSocketOpcode.CLOSE));
        buffer.putByte(offset + 1, (byte)2);
        buffer.putShort(offset + 2, (short)code, ByteOrder.BIG_ENDIAN);
        return 4;
    }

    /**
     * An unmasked close frame with a status code and a UTF-8 reason of at most 123 bytes.
     *
     * @return the frame length or {@link #CONTROL_PAYLOAD_TOO_LONG}.
     */
    public static int encodeClose(
        final MutableDirectBuffer buffer,
        final int offset,
        final int code,
        final DirectBuffer reason,
        final int reasonOffset,
        final int reasonLength)
    {
        if (reasonLength > WebSocketFrameDecoder.MAX_CONTROL_PAYLOAD_LENGTH - 2)
        {
            return CONTROL_PAYLOAD_TOO_LONG;
        }
        buffer.putByte(offset, (byte)(FIN_BIT | WebSocketOpcode.CLOSE));
        buffer.putByte(offset + 1, (byte)(2 + reasonLength));
        buffer.putShort(offset + 2, (short)code, ByteOrder.BIG_ENDIAN);
        buffer.putBytes(offset + 4, reason, reasonOffset, reasonLength);
        return 4 + reasonLength;
    }

    /**
     * A masked (client) frame: header with the masking key, then the payload copied and masked.
     *
     * @param maskKey the 4 key bytes as a big-endian int, as they appear on the wire.
     * @return the frame length.
     */
    public static int encodeMaskedFrame(
        final MutableDirectBuffer buffer,
        final int offset,
        final int opcode,
        final boolean fin,
        final int maskKey,
        final DirectBuffer payload,
        final int payloadOffset,
        final int payloadLength)
    {
        final int headerLength = encodeMaskedHeader(buffer, offset, opcode, fin, maskKey, payloadLength);
        buffer.putBytes(offset + headerLength, payload, payloadOffset, payloadLength);
        WebSocketMasking.mask(buffer, offset + headerLength, payloadLength, maskKey, 0);
        return headerLength + payloadLength;
    }

    /**
     * A masked (client) frame header; the caller masks the payload that follows with
     * {@link WebSocketMasking#mask} and phase 0.
     *
     * @return the header length, {@link #maskedHeaderLength(int)}.
     */
    public static int encodeMaskedHeader(
        final MutableDirectBuffer buffer,
        final int offset,
        final int opcode,
        final boolean fin,
        final int maskKey,
        final int payloadLength)
    {
        final int length = putHeader(buffer, offset, (fin ? FIN_BIT : 0) | (opcode & 0x0F), MASK_BIT, payloadLength);
        buffer.putInt(offset + length, maskKey, ByteOrder.BIG_ENDIAN);
        return length + 4;
    }

    /** A masked close frame with a status code and no reason: 8 bytes. */
    public static int encodeMaskedClose(
        final MutableDirectBuffer buffer, final int offset, final int code, final int maskKey)
    {
        final int headerLength = encodeMaskedHeader(buffer, offset, WebSocketOpcode.CLOSE, true, maskKey, 2);
        buffer.putShort(offset + headerLength, (short)code, ByteOrder.BIG_ENDIAN);
        WebSocketMasking.mask(buffer, offset + headerLength, 2, maskKey, 0);
        return headerLength + 2;
    }

    private static int encodeControl(
        final MutableDirectBuffer buffer,
        final int offset,
        final int opcode,
        final DirectBuffer payload,
        final int payloadOffset,
        final int payloadLength)
    {
        if (payloadLength > WebSocketFrameDecoder.MAX_CONTROL_PAYLOAD_LENGTH)
        {
            return CONTROL_PAYLOAD_TOO_LONG;
        }
        return encodeFrame(buffer, offset, opcode, true, payload, payloadOffset, payloadLength);
    }

    private static int putHeader(
        final MutableDirectBuffer buffer, final int offset, final int b0, final int maskBit, final int payloadLength)
    {
        buffer.putByte(offset, (byte)b0);
        if (payloadLength <= 125)
        {
            buffer.putByte(offset + 1, (byte)(maskBit | payloadLength));
            return 2;
        }
        else if (payloadLength <= 0xFFFF)
        {
            buffer.putByte(offset + 1, (byte)(maskBit | 126));
            buffer.putShort(offset + 2, (short)payloadLength, ByteOrder.BIG_ENDIAN);
            return 4;
        }
        else
        {
            buffer.putByte(offset + 1, (byte)(maskBit | 127));
            buffer.putLong(offset + 2, payloadLength, ByteOrder.BIG_ENDIAN);
            return 10;
        }
    }
}
