package dev.skylark.broker.net;

import dev.skylark.codec.LogText;
import dev.skylark.codec.ws.HttpUpgradeRequestDecoder;
import dev.skylark.codec.ws.HttpUpgradeResponseEncoder;
import dev.skylark.codec.ws.WebSocketCloseCode;
import dev.skylark.codec.ws.WebSocketFrameDecoder;
import dev.skylark.codec.ws.WebSocketFrameEncoder;
import dev.skylark.codec.ws.WebSocketFrameHandler;
import dev.skylark.codec.ws.WebSocketSubprotocol;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;

/**
 * The HTTP side of one connection of an HTTP listener: gathers the request head, then either answers a plain
 * request (through the {@link HttpService}) and closes, refuses a bad handshake with an HTTP status and a body that
 * says why, or switches to WebSocket and from then on deframes client frames <em>in place</em> into the MQTT byte
 * stream that the connection frames exactly as it frames raw TCP.
 * <p>
 * Deframing: the frame decoder unmasks each payload chunk in the buffer it arrived in, and {@link #onData} slides it
 * left over the frame headers before it, so the MQTT bytes of a read end up contiguous at the start of the read,
 * with no copy to another buffer. Frame boundaries mean nothing to MQTT: a frame may carry several packets or part
 * of one. Only an incomplete frame header (at most 13 bytes) is carried to the next read, in front of it.
 */
final class WebSocketStage implements WebSocketFrameHandler
{
    /** Room the connection leaves in front of new bytes so a carried frame header can be put before them. */
    static final int HEADROOM = 16;

    private static final System.Logger LOG = System.getLogger(WebSocketStage.class.getName());
    private static final int STATE_HEAD = 0;
    private static final int STATE_FRAMES = 1;
    private static final int STATE_DONE = 2;

    private final Connection connection;
    private final WebSocketSettings settings;
    private final boolean secure;
    private final WebSocketFrameDecoder frameDecoder =
        new WebSocketFrameDecoder(WebSocketFrameDecoder.Role.SERVER, Integer.MAX_VALUE - 1,
            WebSocketFrameDecoder.TextFramePolicy.REJECT);
    private final byte[] carry = new byte[WebSocketFrameDecoder.MAX_HEADER_LENGTH];
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[WebSocketFrameDecoder.MAX_CONTROL_PAYLOAD_LENGTH + 4]);
    private int carryLength;
    private int state = STATE_HEAD;
    private boolean closeSent;
    private int closingCode = WebSocketCloseCode.NORMAL_CLOSURE;

    private HttpUpgradeRequestDecoder requestDecoder;
    private UnsafeBuffer head;
    private int headLength;

    private MutableDirectBuffer deframeBuffer;
    private int writePosition;

    WebSocketStage(final Connection connection, final WebSocketSettings settings, final boolean secure)
    {
        this.connection = connection;
        this.settings = settings;
        this.secure = secure;
        this.requestDecoder = new HttpUpgradeRequestDecoder(settings.maxRequestLength());
        this.head = new UnsafeBuffer(new byte[settings.maxRequestLength()]);
    }

    boolean isUpgraded()
    {
        return state == STATE_FRAMES;
    }

    /**
     * Bytes from the socket (after TLS). {@code buffer} must have {@link #HEADROOM} writable bytes before
     * {@code offset}.
     */
    void onBytes(final UnsafeBuffer buffer, final int offset, final int length, final long nowNs)
    {
        if (state == STATE_HEAD)
        {
            onHeadBytes(buffer, offset, length, nowNs);
        }
        else if (state == STATE_FRAMES)
        {
            int start = offset;
            if (carryLength > 0)
            {
                start -= carryLength;
                buffer.putBytes(start, carry, 0, carryLength);
            }
            final int total = length + (offset - start);
            carryLength = 0;
            deframe(buffer, start, total, nowNs);
        }
        // STATE_DONE: a response is on its way and the connection closes after it; input is ignored.
    }

    private void deframe(final UnsafeBuffer buffer, final int offset, final int length, final long nowNs)
    {
        deframeBuffer = buffer;
        writePosition = offset;
        final int consumed = frameDecoder.onBytes(buffer, offset, length, this);
        deframeBuffer = null;
        if (consumed < 0)
        {
            final int code = WebSocketCloseCode.fromResult(consumed);
            sendClose(code);
            state = STATE_DONE;
            connection.closeAfterFlush("WebSocket protocol error: " + WebSocketCloseCode.describe(code));
            return;
        }
        if (!frameDecoder.isCloseReceived() && consumed < length)
        {
            carryLength = length - consumed;
            buffer.getBytes(offset + consumed, carry, 0, carryLength);
        }
        final int mqttLength = writePosition - offset;
        if (mqttLength > 0)
        {
            connection.onStreamBytes(buffer, offset, mqttLength, nowNs);
        }
    }

    @Override
    public boolean onData(final DirectBuffer buffer, final int offset, final int length)
    {
        if (offset != writePosition)
        {
            deframeBuffer.putBytes(writePosition, buffer, offset, length);
        }
        writePosition += length;
        return true;
    }

    @Override
    public void onPing(final DirectBuffer buffer, final int offset, final int length)
    {
        final int frameLength = WebSocketFrameEncoder.encodePong(scratch, 0, buffer, offset, length);
        connection.writeControl(scratch, 0, frameLength);
    }

    @Override
    public void onPong(final DirectBuffer buffer, final int offset, final int length)
    {
        // unsolicited pongs are allowed and ignored; MQTT keep-alive governs idleness
    }

    @Override
    public void onClose(final int code, final DirectBuffer reason, final int offset, final int length)
    {
        sendClose(code == WebSocketCloseCode.NO_STATUS_RECEIVED ? WebSocketCloseCode.NORMAL_CLOSURE : code);
        state = STATE_DONE;
        connection.closeAfterFlush("WebSocket closed by the client (" + code + ")");
    }

    /** The connection is about to close after a flush: an open WebSocket gets a normal close first. */
    void onClosing()
    {
        if (state == STATE_FRAMES)
        {
            sendClose(closingCode);
        }
    }

    /** The broker is stopping: the close frame that follows the goodbye says 1001 Going Away. */
    void onShutdown()
    {
        closingCode = WebSocketCloseCode.GOING_AWAY;
    }

    /** A close frame, e.g. when the broker shuts down (1001); only the first is sent. */
    void sendClose(final int code)
    {
        if (closeSent)
        {
            return;
        }
        closeSent = true;
        final int frameLength = WebSocketFrameEncoder.encodeClose(scratch, 0, code);
        connection.writeControl(scratch, 0, frameLength);
    }

    // ------------------------------------------------------------------------------------------- HTTP head

    private void onHeadBytes(final UnsafeBuffer buffer, final int offset, final int length, final long nowNs)
    {
        final int room = head.capacity() - headLength;
        final int taken = Math.min(room, length);
        head.putBytes(headLength, buffer, offset, taken);
        headLength += taken;
        final int result = requestDecoder.decode(head, 0, headLength);
        if (result == HttpUpgradeRequestDecoder.NEED_MORE)
        {
            return;
        }
        if (result < 0)
        {
            final int status = HttpUpgradeResponseEncoder.statusFor(result);
            respondRaw(rejection(result), "HTTP " + status);
            return;
        }
        if (!requestDecoder.isWebSocketUpgrade())
        {
            final long bodyLength = Math.max(0, requestDecoder.contentLength());
            if (requestDecoder.headLength() + bodyLength > head.capacity())
            {
                respondError(413, "Content Too Large", "request larger than " + head.capacity() + " bytes\n");
                return;
            }
            if (headLength < requestDecoder.headLength() + bodyLength)
            {
                return; // the rest of the body is still on its way
            }
            servePlain((int)bodyLength);
            return;
        }
        if (!requestDecoder.pathEquals(settings.path()))
        {
            respondError(404, "Not Found", "no WebSocket endpoint at " + requestDecoder.path() + " (MQTT is at " +
                settings.path() + ")\n");
            return;
        }
        final String origin = requestDecoder.origin();
        if (!settings.allowedOrigins().isEmpty() && (origin == null || !settings.allowedOrigins().contains(origin)))
        {
            respondError(403, "Forbidden", "origin not allowed: " + origin + "\n");
            return;
        }
        final int subprotocol = requestDecoder.subprotocol();
        if (subprotocol == WebSocketSubprotocol.OTHERS_ONLY)
        {
            final UnsafeBuffer out = new UnsafeBuffer(new byte[256]);
            respondRaw(bytes(out, HttpUpgradeResponseEncoder.encodeSubprotocolRejection(out, 0)),
                "subprotocol not mqtt: " + requestDecoder.protocols());
            return;
        }
        if (subprotocol == WebSocketSubprotocol.NOT_OFFERED && settings.strictSubprotocol())
        {
            respondError(400, "Bad Request", "subprotocol mqtt required (Sec-WebSocket-Protocol: mqtt)\n");
            return;
        }
        applyForwardedFor();

        final UnsafeBuffer response = new UnsafeBuffer(new byte[HttpUpgradeResponseEncoder.switchingProtocolsLength(subprotocol)]);
        final int responseLength = HttpUpgradeResponseEncoder.encodeSwitchingProtocols(response, 0, requestDecoder, subprotocol);
        connection.writeRaw(response, 0, responseLength);
        state = STATE_FRAMES;
        final int used = requestDecoder.headLength();
        final int extra = headLength - used;
        final UnsafeBuffer rest = head;
        requestDecoder = null;
        head = null;
        connection.onUpgraded(nowNs);
        LOG.log(Level.DEBUG, () -> "WebSocket upgrade from " + connection.remoteAddress());
        if (extra > 0 || taken < length)
        {
            // Frames sent right behind the request: deframe them from the head buffer, then what did not fit.
            final int tail = length - taken;
            final UnsafeBuffer joined = new UnsafeBuffer(new byte[HEADROOM + extra + tail]);
            joined.putBytes(HEADROOM, rest, used, extra);
            joined.putBytes(HEADROOM + extra, buffer, offset + taken, tail);
            deframe(joined, HEADROOM, extra + tail, nowNs);
        }
    }

    private void applyForwardedFor()
    {
        final String forwarded = requestDecoder.forwardedFor();
        if (forwarded == null || settings.trustedProxies().isEmpty())
        {
            return;
        }
        final String peer = connection.peerHost();
        if (settings.trustedProxies().contains(peer))
        {
            final int comma = forwarded.indexOf(',');
            final String client = (comma < 0 ? forwarded : forwarded.substring(0, comma)).trim();
            if (!client.isEmpty())
            {
                connection.remoteAddress(client + " (via " + connection.remoteAddress() + ")");
            }
        }
    }

    private void servePlain(final int bodyLength)
    {
        applyForwardedFor();
        final String headText = head.getStringWithoutLengthAscii(0, requestDecoder.headLength());
        final String query = requestDecoder.queryOffset() < 0 ? null :
            head.getStringWithoutLengthAscii(requestDecoder.queryOffset(), requestDecoder.queryLength());
        final String method = head.getStringWithoutLengthAscii(requestDecoder.methodOffset(), requestDecoder.methodLength());
        final byte[] body = new byte[bodyLength];
        head.getBytes(requestDecoder.headLength(), body);
        final HttpRequestHead request = new HttpRequestHead(method, requestDecoder.path(), query,
            connection.remoteAddress(), secure, headText, body, connection.isLoopbackPeer());
        byte[] response;
        try
        {
            response = settings.service().serve(request);
        }
        catch (final RuntimeException ex)
        {
            LOG.log(Level.WARNING, "HTTP handler failed for " + LogText.of(request.path()), ex);
            response = errorBytes(500, "Internal Server Error", "internal error\n");
        }
        respondRaw(response, "served " + request.path());
    }

    private void respondError(final int status, final String reason, final String body)
    {
        respondRaw(errorBytes(status, reason, body), "HTTP " + status + ": " + body.trim());
    }

    private static byte[] errorBytes(final int status, final String reason, final String body)
    {
        final UnsafeBuffer out = new UnsafeBuffer(new byte[512 + body.getBytes(StandardCharsets.UTF_8).length]);
        return bytes(out, HttpUpgradeResponseEncoder.encodeError(out, 0, status, reason, null, null, body));
    }

    private static byte[] rejection(final int result)
    {
        final UnsafeBuffer out = new UnsafeBuffer(new byte[512]);
        return bytes(out, HttpUpgradeResponseEncoder.encodeRejection(out, 0, result));
    }

    private static byte[] bytes(final UnsafeBuffer buffer, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(0, bytes);
        return bytes;
    }

    private void respondRaw(final byte[] response, final String why)
    {
        state = STATE_DONE;
        requestDecoder = null;
        head = null;
        connection.writeRaw(new UnsafeBuffer(response), 0, response.length);
        connection.closeAfterFlush(why);
    }
}
