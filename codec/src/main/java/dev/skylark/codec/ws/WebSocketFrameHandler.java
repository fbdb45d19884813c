package dev.skylark.codec.ws;

import org.agrona.DirectBuffer;

/**
 * Callbacks of {@link WebSocketFrameDecoder}. Views are valid only during the call.
 */
public interface WebSocketFrameHandler
{
    /**
     * Payload bytes of data frames (binary, continuation, and text when the decoder delivers text),
     * already unmasked in place. Frame boundaries are not preserved: this is a byte stream, a frame may
     * arrive in several calls and one call never spans two frames. Empty frames produce no call.
     *
     * @return true to keep decoding, false to pause: these bytes count as consumed and
     * {@link WebSocketFrameDecoder#onBytes} returns right after them.
     */
    boolean onData(DirectBuffer buffer, int offset, int length);

    /** A complete ping; the payload (≤ 125 bytes) is unmasked. Answer with a pong carrying it. */
    void onPing(DirectBuffer buffer, int offset, int length);

    /** A complete pong (≤ 125 bytes), unmasked. */
    void onPong(DirectBuffer buffer, int offset, int length);

    /**
     * A valid close frame. {@code code} is {@link WebSocketCloseCode#NO_STATUS_RECEIVED} for a close frame
     * without a body (then the reason is empty). The reason is valid UTF-8. The decoder stops after it.
     */
    void onClose(int code, DirectBuffer reason, int offset, int length);
}
