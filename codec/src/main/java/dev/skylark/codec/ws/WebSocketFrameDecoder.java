package dev.skylark.codec.ws;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * Streaming, zero-copy RFC 6455 frame decoder for one connection.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-------+-+-------------+-------------------------------+
 *  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *  | |1|2|3|       |K|             |                               |
 *  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *  |     Extended payload length continued, if payload len == 127  |
 *  + - - - - - - - - - - - - - - - +-------------------------------+
 *  |                               |Masking-key, if MASK set to 1  |
 *  +-------------------------------+-------------------------------+
 *  | Masking-key (continued)       |          Payload Data         |
 *  +-------------------------------- - - - - - - - - - - - - - - - +
 *  :                     Payload Data continued ...                :
 *  +---------------------------------------------------------------+
 * </pre>
 * Header: 2 bytes, + 2 for a 16-bit length (126), + 8 for a 64-bit length (127), + 4 for a masking key.
 * <p>
 * {@link #onBytes} takes whatever the socket delivered, unmasks data payload in place (8 bytes per step, the
 * mask phase carried across calls) and hands it to {@link WebSocketFrameHandler#onData} as it arrives, so a
 * frame is never buffered whole: WebSocket is a byte-stream adapter in front of the MQTT framer. A frame
 * header is never buffered either: when it is incomplete {@code onBytes} returns the bytes consumed before it
 * and the caller calls again with the remainder plus more bytes. Control-frame payloads (≤ 125 bytes) that
 * arrive split are gathered in a small internal buffer; whole ones are delivered in place.
 * <p>
 * Checks (each failure returns the negative close status and the decoder stays failed until {@link #reset()}):
 * RSV bits set (no extension is ever negotiated), reserved opcodes, a frame with the wrong MASK bit for the
 * {@link Role}, non-minimal or 64-bit lengths with the top bit set, control frames fragmented or longer than
 * 125 bytes, continuation without a started message, a new data message inside an unfinished one, a close
 * body of 1 byte or with an invalid code ({@link #PROTOCOL_ERROR}), a close reason that is not UTF-8
 * ({@link #INVALID_PAYLOAD}), a frame payload above the configured maximum ({@link #MESSAGE_TOO_BIG}),
 * and a text frame under {@link TextFramePolicy#REJECT} ({@link #UNSUPPORTED_DATA}).
 * <p>
 * Not thread safe; one instance per connection. Allocates only at construction.
 */
public final class WebSocketFrameDecoder
{
    /** Which end of the connection this decoder serves: fixes the required MASK bit. */
    public enum Role
    {
        /** Decodes client frames, which must be masked (RFC 6455 section 5.1). */
        SERVER,
        /** Decodes server frames, which must not be masked (load generator, tests). */
        CLIENT
    }

    /** What to do with text frames: MQTT over WebSocket requires binary frames. */
    public enum TextFramePolicy
    {
        /** Fail with {@link #UNSUPPORTED_DATA} (close 1003) as soon as a text frame header is seen. */
        REJECT,
        /**
         * Deliver text payload through {@link WebSocketFrameHandler#onData} like binary; the caller checks
         * {@link #messageOpcode()}. Text is not validated as UTF-8.
         */
        DELIVER
    }

    /** Result: protocol violation, send close 1002. */
    public static final int PROTOCOL_ERROR = -WebSocketCloseCode.PROTOCOL_ERROR;
    /** Result: text frame refused ({@link TextFramePolicy#REJECT}), send close 1003. */
    public static final int UNSUPPORTED_DATA = -WebSocketCloseCode.UNSUPPORTED_DATA;
    /** Result: close reason not valid UTF-8, send close 1007. */
    public static final int INVALID_PAYLOAD = -WebSocketCloseCode.INVALID_FRAME_PAYLOAD_DATA;
    /** Result: frame payload longer than the configured maximum, send close 1009. */
    public static final int MESSAGE_TOO_BIG = -WebSocketCloseCode.MESSAGE_TOO_BIG;

    /** Largest control-frame payload (RFC 6455 section 5.5). */
    public static final int MAX_CONTROL_PAYLOAD_LENGTH = 125;
    /** Longest frame header: 2 + 8 (64-bit length) + 4 (masking key). */
    public static final int MAX_HEADER_LENGTH = 14;

    private static final int STATE_HEADER = 0;
    private static final int STATE_DATA_PAYLOAD = 1;
    private static final int STATE_CONTROL_PAYLOAD = 2;
    private static final int STATE_CLOSED = 3;
    private static final int STATE_FAILED = 4;

    private final int maxFramePayloadLength;
    private final boolean expectMasked;
    private final boolean rejectText;
    private final UnsafeBuffer controlBuffer = new UnsafeBuffer(new byte[MAX_CONTROL_PAYLOAD_LENGTH]);

    private int state = STATE_HEADER;
    private int errorCode;
    private boolean inMessage;
    private int messageOpcode = -1;
    private int frameOpcode;
    private boolean frameFin;
    private boolean frameMasked;
    private int maskKey;
    private int maskPhase;
    private int payloadRemaining;
    private int controlLength;
    private int controlFilled;

    /** A server-side decoder that rejects text frames. */
    public WebSocketFrameDecoder(final int maxFramePayloadLength)
    {
        this(Role.SERVER, maxFramePayloadLength, TextFramePolicy.REJECT);
    }

    /**
     * @param role                  {@link Role#SERVER} to decode (masked) client frames.
     * @param maxFramePayloadLength largest data-frame payload accepted, ≥ 125; larger → {@link #MESSAGE_TOO_BIG}.
     * @param textFramePolicy       reject or deliver text frames.
     */
    public WebSocketFrameDecoder(
        final Role role, final int maxFramePayloadLength, final TextFramePolicy textFramePolicy)
    {
        if (maxFramePayloadLength < MAX_CONTROL_PAYLOAD_LENGTH)
        {
            throw new IllegalArgumentException("maxFramePayloadLength < 125: " + maxFramePayloadLength);
        }
        this.maxFramePayloadLength = maxFramePayloadLength;
        this.expectMasked = role == Role.SERVER;
        this.rejectText = textFramePolicy == TextFramePolicy.REJECT;
    }

    /** Back to the initial state, e.g. to reuse the instance for a new connection. */
    public WebSocketFrameDecoder reset()
    {
        state = STATE_HEADER;
        errorCode = 0;
        inMessage = false;
        messageOpcode = -1;
        payloadRemaining = 0;
        controlLength = 0;
        controlFilled = 0;
        maskPhase = 0;
        return this;
    }

    /**
     * Decode as much of {@code buffer[offset, offset + length)} as possible, unmasking data payload in place.
     *
     * @return bytes consumed (≥ 0, less than {@code length} when a frame header is incomplete, the handler
     * paused, or a close frame ended the stream — the caller keeps the rest and calls again with more bytes),
     * or a negative close status ({@link #PROTOCOL_ERROR}, {@link #UNSUPPORTED_DATA}, {@link #INVALID_PAYLOAD},
     * {@link #MESSAGE_TOO_BIG}); after a failure every call returns the same code.
     */
    public int onBytes(
        final MutableDirectBuffer buffer, final int offset, final int length, final WebSocketFrameHandler handler)
    {
        int position = offset;
        final int end = offset + length;

        while (true)
        {
            switch (state)
            {
                case STATE_HEADER:
                {
                    final int result = decodeHeader(buffer, position, end - position);
                    if (result < 0)
                    {
                        return fail(result);
                    }
                    if (result == 0)
                    {
                        return position - offset;
                    }
                    position += result;
                    break;
                }

                case STATE_DATA_PAYLOAD:
                {
                    final int available = end - position;
                    if (available == 0)
                    {
                        return position - offset;
                    }
                    final int chunk = Math.min(available, payloadRemaining);
                    if (frameMasked)
                    {
                        maskPhase = WebSocketMasking.mask(buffer, position, chunk, maskKey, maskPhase);
                    }
                    payloadRemaining -= chunk;
                    if (payloadRemaining == 0)
                    {
                        state = STATE_HEADER;
                    }
                    final int chunkOffset = position;
                    position += chunk;
                    if (!handler.onData(buffer, chunkOffset, chunk))
                    {
                        return position - offset;
                    }
                    break;
                }

                case STATE_CONTROL_PAYLOAD:
                {
                    final int available = end - position;
                    if (controlFilled == 0 && available >= controlLength)
                    {
                        if (frameMasked)
                        {
                            WebSocketMasking.mask(buffer, position, controlLength, maskKey, 0);
                        }
                        final int payloadOffset = position;
                        position += controlLength;
                        final int result = onControlFrame(buffer, payloadOffset, controlLength, handler);
                        if (result < 0)
                        {
                            return fail(result);
                        }
                    }
                    else
                    {
                        if (available == 0)
                        {
                            return position - offset;
                        }
                        final int chunk = Math.min(available, controlLength - controlFilled);
                        controlBuffer.putBytes(controlFilled, buffer, position, chunk);
                        controlFilled += chunk;
                        position += chunk;
                        if (controlFilled < controlLength)
                        {
                            return position - offset;
                        }
                        if (frameMasked)
                        {
                            WebSocketMasking.mask(controlBuffer, 0, controlLength, maskKey, 0);
                        }
                        final int result = onControlFrame(controlBuffer, 0, controlLength, handler);
                        if (result < 0)
                        {
                            return fail(result);
                        }
                    }
                    break;
                }

                case STATE_CLOSED:
                    return position - offset;

                default:
                    return errorCode;
            }
        }
    }

    /** True once a valid close frame was decoded; {@link #onBytes} consumes nothing more. */
    public boolean isCloseReceived()
    {
        return state == STATE_CLOSED;
    }

    /** True after a violation; {@link #errorCode()} has the result. */
    public boolean isFailed()
    {
        return state == STATE_FAILED;
    }

    /** The negative close status of the failure, or 0. */
    public int errorCode()
    {
        return errorCode;
    }

    /**
     * Opcode ({@link WebSocketOpcode#BINARY} or {@link WebSocketOpcode#TEXT}) of the data message being
     * delivered or last delivered, -1 before the first data frame.
     */
    public int messageOpcode()
    {
        return messageOpcode;
    }

    /** True between the first frame of a fragmented message and its final frame. */
    public boolean isInFragmentedMessage()
    {
        return inMessage;
    }

    /** True when the decoder is between frames (not inside a header or payload). */
    public boolean isAtFrameBoundary()
    {
        return state == STATE_HEADER;
    }

    private int fail(final int code)
    {
        state = STATE_FAILED;
        errorCode = code;
        return code;
    }

    /**
     * @return header length when complete and valid (state updated), 0 when more bytes are needed,
     * or a negative error code. Checks are made on as many bytes as are present.
     */
    private int decodeHeader(final DirectBuffer buffer, final int offset, final int available)
    {
        if (available < 1)
        {
            return 0;
        }

        final int b0 = buffer.getByte(offset) & 0xFF;
        if ((b0 & 0x70) != 0)
        {
            return PROTOCOL_ERROR; // RSV1-3: no extension negotiated
        }

        final int opcode = b0 & 0x0F;
        final boolean fin = (b0 & 0x80) != 0;
        if (WebSocketOpcode.isControl(opcode))
        {
            if (opcode > WebSocketOpcode.PONG || !fin)
            {
                return PROTOCOL_ERROR; // reserved control opcode or fragmented control frame
            }
        }
        else if (opcode == WebSocketOpcode.CONTINUATION)
        {
            if (!inMessage)
            {
                return PROTOCOL_ERROR; // nothing to continue
            }
        }
        else if (opcode <= WebSocketOpcode.BINARY)
        {
            if (inMessage)
            {
                return PROTOCOL_ERROR; // new message inside an unfinished one
            }
            if (opcode == WebSocketOpcode.TEXT && rejectText)
            {
                return UNSUPPORTED_DATA;
            }
        }
        else
        {
            return PROTOCOL_ERROR; // reserved data opcode
        }

        if (available < 2)
        {
            return 0;
        }

        final int b1 = buffer.getByte(offset + 1) & 0xFF;
        final boolean masked = (b1 & 0x80) != 0;
        if (masked != expectMasked)
        {
            return PROTOCOL_ERROR;
        }

        final int length7 = b1 & 0x7F;
        final int maskLength = masked ? 4 : 0;
        final int headerLength;
        final long payloadLength;
        if (length7 < 126)
        {
            headerLength = 2 + maskLength;
            payloadLength = length7;
        }
        else if (WebSocketOpcode.isControl(opcode))
        {
            return PROTOCOL_ERROR; // control payload > 125
        }
        else if (length7 == 126)
        {
            if (available < 4)
            {
                return 0;
            }
            payloadLength = buffer.getShort(offset + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            if (payloadLength < 126)
            {
                return PROTOCOL_ERROR; // not minimal
            }
            headerLength = 4 + maskLength;
        }
        else
        {
            if (available < 10)
            {
                return 0;
            }
            payloadLength = buffer.getLong(offset + 2, ByteOrder.BIG_ENDIAN);
            if (payloadLength < 0)
            {
                return PROTOCOL_ERROR; // most significant bit must be 0
            }
            if (payloadLength <= 0xFFFF)
            {
                return PROTOCOL_ERROR; // not minimal
            }
            headerLength = 10 + maskLength;
        }

        if (payloadLength > maxFramePayloadLength)
        {
            return MESSAGE_TOO_BIG;
        }

        if (available < headerLength)
        {
            return 0;
        }

        frameOpcode = opcode;
        frameFin = fin;
        frameMasked = masked;
        maskKey = masked ? buffer.getInt(offset + headerLength - 4, ByteOrder.BIG_ENDIAN) : 0;
        maskPhase = 0;

        if (WebSocketOpcode.isControl(opcode))
        {
            controlLength = (int)payloadLength;
            controlFilled = 0;
            state = STATE_CONTROL_PAYLOAD;
        }
        else
        {
            if (opcode != WebSocketOpcode.CONTINUATION)
            {
                messageOpcode = opcode;
            }
            inMessage = !fin;
            payloadRemaining = (int)payloadLength;
            state = payloadLength == 0 ? STATE_HEADER : STATE_DATA_PAYLOAD;
        }

        return headerLength;
    }

    private int onControlFrame(
        final DirectBuffer buffer, final int offset, final int length, final WebSocketFrameHandler handler)
    {
        controlFilled = 0;
        state = STATE_HEADER;
        switch (frameOpcode)
        {
            case WebSocketOpcode.PING:
                handler.onPing(buffer, offset, length);
                return 0;

            case WebSocketOpcode.PONG:
                handler.onPong(buffer, offset, length);
                return 0;

            default:
            {
                if (length == 0)
                {
                    state = STATE_CLOSED;
                    handler.onClose(WebSocketCloseCode.NO_STATUS_RECEIVED, buffer, offset, 0);
                    return 0;
                }
                if (length == 1)
                {
                    return PROTOCOL_ERROR;
                }
                final int code = buffer.getShort(offset, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                if (!WebSocketCloseCode.isValidOnWire(code))
                {
                    return PROTOCOL_ERROR;
                }
                if (!Utf8.isValid(buffer, offset + 2, length - 2))
                {
                    return INVALID_PAYLOAD;
                }
                state = STATE_CLOSED;
                handler.onClose(code, buffer, offset + 2, length - 2);
                return 0;
            }
        }
    }
}
