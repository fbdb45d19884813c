package dev.skylark.codec.ws;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Writes the HTTP responses of the WebSocket handshake (RFC 6455 section 4.2.2).
 * <pre>
 *   HTTP/1.1 101 Switching Protocols\r\n
 *   Upgrade: websocket\r\n
 *   Connection: Upgrade\r\n
 *   Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n
 *   Sec-WebSocket-Protocol: mqtt\r\n                   only when a subprotocol was selected
 *   \r\n
 * </pre>
 * and small {@code text/plain} error responses that close the connection. Runs once per connection, so the
 * accept key computation allocates (SHA-1 digest, base64); nothing here is on the frame path.
 * Every method checks the capacity of a non-expandable buffer and returns {@link #INSUFFICIENT_CAPACITY}
 * rather than throwing.
 */
public final class HttpUpgradeResponseEncoder
{
    /** RFC 6455 GUID appended to the client key before hashing. */
    public static final String WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    /** Length of a Sec-WebSocket-Accept value: base64 of a 20-byte SHA-1. */
    public static final int ACCEPT_KEY_LENGTH = 28;
    /** Result: the destination buffer is too small. */
    public static final int INSUFFICIENT_CAPACITY = -1;

    private static final byte[] GUID_BYTES = WEBSOCKET_GUID.getBytes(StandardCharsets.US_ASCII);
    private static final String SWITCHING_PROTOCOLS_HEAD =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
    private static final String PROTOCOL_HEADER = "\r\nSec-WebSocket-Protocol: ";
    private static final String CRLF = "\r\n";

    private HttpUpgradeResponseEncoder()
    {
    }

    /** Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)). */
    public static String acceptKey(final String key)
    {
        final byte[] keyBytes = key.getBytes(StandardCharsets.US_ASCII);
        return new String(acceptKey(keyBytes, 0, keyBytes.length), StandardCharsets.US_ASCII);
    }

    /** Write the 28-byte Sec-WebSocket-Accept for the key at {@code key[keyOffset, keyOffset + keyLength)}. */
    public static int encodeAcceptKey(
        final DirectBuffer key, final int keyOffset, final int keyLength, final MutableDirectBuffer dst, final int offset)
    {
        if (!fits(dst, offset, ACCEPT_KEY_LENGTH))
        {
            return INSUFFICIENT_CAPACITY;
        }
        final byte[] keyBytes = new byte[keyLength];
        key.getBytes(keyOffset, keyBytes);
        dst.putBytes(offset, acceptKey(keyBytes, 0, keyLength));
        return ACCEPT_KEY_LENGTH;
    }

    /** Length of the 101 response for a {@link WebSocketSubprotocol} selection. */
    public static int switchingProtocolsLength(final int subprotocol)
    {
        final String name = WebSocketSubprotocol.name(subprotocol);
        return SWITCHING_PROTOCOLS_HEAD.length() + ACCEPT_KEY_LENGTH +
            (name == null ? 0 : PROTOCOL_HEADER.length() + name.length()) + 4;
    }

    /**
     * Write {@code 101 Switching Protocols}; the protocol header is present only for
     * {@link WebSocketSubprotocol#MQTT} and {@link WebSocketSubprotocol#MQTT_V31}.
     *
     * @return bytes written or {@link #INSUFFICIENT_CAPACITY}.
     */
    public static int encodeSwitchingProtocols(
        final MutableDirectBuffer dst,
        final int offset,
        final DirectBuffer key,
        final int keyOffset,
        final int keyLength,
        final int subprotocol)
    {
        final int length = switchingProtocolsLength(subprotocol);
        if (!fits(dst, offset, length))
        {
            return INSUFFICIENT_CAPACITY;
        }
        int i = offset;
        i += dst.putStringWithoutLengthAscii(i, SWITCHING_PROTOCOLS_HEAD);
        i += encodeAcceptKey(key, keyOffset, keyLength, dst, i);
        final String name = WebSocketSubprotocol.name(subprotocol);
        if (name != null)
        {
            i += dst.putStringWithoutLengthAscii(i, PROTOCOL_HEADER);
            i += dst.putStringWithoutLengthAscii(i, name);
        }
        i += dst.putStringWithoutLengthAscii(i, CRLF);
        i += dst.putStringWithoutLengthAscii(i, CRLF);
        return i - offset;
    }

    /** The 101 response for a successfully decoded upgrade. */
    public static int encodeSwitchingProtocols(
        final MutableDirectBuffer dst, final int offset, final HttpUpgradeRequestDecoder request, final int subprotocol)
    {
        return encodeSwitchingProtocols(
            dst, offset, request.buffer(), request.keyOffset(), request.keyLength(), subprotocol);
    }

    /**
     * Write a complete error response that closes the connection:
     * <pre>
     *   HTTP/1.1 {status} {reason}\r\n
     *   Content-Type: text/plain; charset=utf-8\r\n
     *   Content-Length: {body bytes}\r\n
     *   Connection: close\r\n
     *   {extraHeaderName}: {extraHeaderValue}\r\n         when extraHeaderName != null
     *   \r\n
     *   {body}
     * </pre>
     *
     * @return bytes written or {@link #INSUFFICIENT_CAPACITY}.
     */
    public static int encodeError(
        final MutableDirectBuffer dst,
        final int offset,
        final int status,
        final String reasonPhrase,
        final String extraHeaderName,
        final String extraHeaderValue,
        final String body)
    {
        final byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
        final StringBuilder head = new StringBuilder(160)
            .append("HTTP/1.1 ").append(status).append(' ').append(reasonPhrase).append(CRLF)
            .append("Content-Type: text/plain; charset=utf-8").append(CRLF)
            .append("Content-Length: ").append(bodyBytes.length).append(CRLF)
            .append("Connection: close").append(CRLF);
        if (extraHeaderName != null)
        {
            head.append(extraHeaderName).append(": ").append(extraHeaderValue).append(CRLF);
        }
        head.append(CRLF);

        final byte[] headBytes = head.toString().getBytes(StandardCharsets.US_ASCII);
        if (!fits(dst, offset, headBytes.length + bodyBytes.length))
        {
            return INSUFFICIENT_CAPACITY;
        }
        dst.putBytes(offset, headBytes);
        dst.putBytes(offset + headBytes.length, bodyBytes);
        return headBytes.length + bodyBytes.length;
    }

    /** The HTTP status for a negative {@link HttpUpgradeRequestDecoder} result. */
    public static int statusFor(final int decodeResult)
    {
        switch (decodeResult)
        {
            case HttpUpgradeRequestDecoder.TOO_LARGE: return 431;
            case HttpUpgradeRequestDecoder.NOT_GET: return 405;
            case HttpUpgradeRequestDecoder.BAD_HTTP_VERSION: return 505;
            case HttpUpgradeRequestDecoder.BAD_VERSION: return 426;
            default: return 400;
        }
    }

    /**
     * The one place that maps a negative {@link HttpUpgradeRequestDecoder} result to its response: 431, 405
     * (with {@code Allow: GET}), 505, 426 (with {@code Sec-WebSocket-Version: 13}) or 400, with a short body
     * saying why.
     *
     * @return bytes written or {@link #INSUFFICIENT_CAPACITY}.
     */
    public static int encodeRejection(final MutableDirectBuffer dst, final int offset, final int decodeResult)
    {
        switch (decodeResult)
        {
            case HttpUpgradeRequestDecoder.TOO_LARGE:
                return encodeError(dst, offset, 431, "Request Header Fields Too Large", null, null,
                    "request head too large\n");
            case HttpUpgradeRequestDecoder.NOT_GET:
                return encodeError(dst, offset, 405, "Method Not Allowed", "Allow", "GET", "only GET is allowed\n");
            case HttpUpgradeRequestDecoder.BAD_HTTP_VERSION:
                return encodeError(dst, offset, 505, "HTTP Version Not Supported", null, null, "HTTP/1.1 required\n");
            case HttpUpgradeRequestDecoder.BAD_VERSION:
                return encodeError(dst, offset, 426, "Upgrade Required", "Sec-WebSocket-Version", "13",
                    "WebSocket version 13 required\n");
            case HttpUpgradeRequestDecoder.MISSING_HOST:
                return badRequest(dst, offset, "missing Host header\n");
            case HttpUpgradeRequestDecoder.NOT_UPGRADE:
                return badRequest(dst, offset, "Upgrade: websocket and Connection: Upgrade required\n");
            case HttpUpgradeRequestDecoder.MISSING_KEY:
                return badRequest(dst, offset, "missing Sec-WebSocket-Key\n");
            case HttpUpgradeRequestDecoder.BAD_KEY:
                return badRequest(dst, offset, "invalid Sec-WebSocket-Key\n");
            default:
                return badRequest(dst, offset, "malformed request\n");
        }
    }

    /** 400 for a handshake that offers subprotocols but not MQTT ({@link WebSocketSubprotocol#OTHERS_ONLY}). */
    public static int encodeSubprotocolRejection(final MutableDirectBuffer dst, final int offset)
    {
        return badRequest(dst, offset, "subprotocol mqtt required\n");
    }

    private static int badRequest(final MutableDirectBuffer dst, final int offset, final String body)
    {
        return encodeError(dst, offset, 400, "Bad Request", null, null, body);
    }

    private static boolean fits(final MutableDirectBuffer dst, final int offset, final int length)
    {
        return dst.isExpandable() || (offset >= 0 && (long)offset + length <= dst.capacity());
    }

    private static byte[] acceptKey(final byte[] key, final int offset, final int length)
    {
        try
        {
            final MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(key, offset, length);
            sha1.update(GUID_BYTES);
            return Base64.getEncoder().encode(sha1.digest());
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("SHA-1 is required of every JVM", ex);
        }
    }
}
