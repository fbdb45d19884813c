package dev.skylark.codec.ws;

import org.agrona.DirectBuffer;

import java.nio.charset.StandardCharsets;

/**
 * Bounded parser of the HTTP/1.1 request that opens a WebSocket (RFC 6455 section 4.2.1), or of a plain
 * {@code GET} on the same port ({@code /healthz}, {@code /}).
 * <pre>
 *   GET /mqtt HTTP/1.1\r\n                          request line: method SP origin-form SP "HTTP/1.1"
 *   Host: broker.example:8080\r\n                   required, exactly once
 *   Upgrade: websocket\r\n                          token list containing "websocket" (any case)
 *   Connection: keep-alive, Upgrade\r\n             token list containing "upgrade" (any case)
 *   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n  base64 of 16 bytes, exactly once
 *   Sec-WebSocket-Version: 13\r\n                   must be 13, else 426 + Sec-WebSocket-Version: 13
 *   Sec-WebSocket-Protocol: mqtt\r\n                optional comma-separated list, may repeat
 *   Origin: https://app.example\r\n                 optional (first kept)
 *   X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n       optional (first line kept)
 *   \r\n
 * </pre>
 * {@link #decode} looks for the blank line within {@code maxRequestLength} bytes and returns the length of the
 * request head (frame bytes may follow it in the same read), {@link #NEED_MORE}, or a negative error code;
 * {@link HttpUpgradeResponseEncoder#encodeRejection} maps each code to its HTTP response. On success the views
 * ({@code xxxOffset()}/{@code xxxLength()}) point into the decoded buffer; an absent header has offset -1.
 * <p>
 * A request is a WebSocket upgrade when {@code Upgrade} names {@code websocket} or a {@code Sec-WebSocket-Key}
 * or {@code Sec-WebSocket-Version} is present; then every handshake header must be right. Otherwise it is a
 * plain GET ({@link #isWebSocketUpgrade()} false) and the caller serves or refuses it.
 * <p>
 * Strict framing: lines end in CRLF (a bare LF is malformed), no whitespace between a field name and its colon,
 * no obsolete line folding, no control characters. Header names are compared case-insensitively, values of
 * {@code Upgrade}/{@code Connection} case-insensitively, subprotocols case-sensitively. Request bodies are not
 * supported (only GET is accepted). The decoder remembers how far it has searched for the blank line so that
 * a head arriving a byte at a time is not rescanned from the start: call it again with the same start and a
 * longer length, and {@link #reset()} it for a new request. Allocates nothing.
 */
public final class HttpUpgradeRequestDecoder
{
    public static final int DEFAULT_MAX_REQUEST_LENGTH = 8192;

    /** The head is not complete yet. */
    public static final int NEED_MORE = 0;
    /** No blank line within the maximum request length: 431. */
    public static final int TOO_LARGE = -1;
    /** Bad request line, header syntax, duplicate Host, or a non-HTTP first byte: 400. */
    public static final int MALFORMED = -2;
    /**
     * A method this listener does not serve (anything but GET, POST, PUT, DELETE), or a WebSocket upgrade by a method
     * other than GET: 405 with {@code Allow: GET}.
     */
    public static final int NOT_GET = -3;
    /** Not HTTP/1.1: 505. */
    public static final int BAD_HTTP_VERSION = -4;
    /** No Host header: 400. */
    public static final int MISSING_HOST = -5;
    /** WebSocket headers present but Upgrade lacks websocket or Connection lacks upgrade: 400. */
    public static final int NOT_UPGRADE = -6;
    /** Upgrade without Sec-WebSocket-Key: 400. */
    public static final int MISSING_KEY = -7;
    /** Sec-WebSocket-Key repeated or not base64 of 16 bytes: 400. */
    public static final int BAD_KEY = -8;
    /** Sec-WebSocket-Version missing or not 13: 426 with {@code Sec-WebSocket-Version: 13}. */
    public static final int BAD_VERSION = -9;

    private static final byte[] HTTP_1_1 = ascii("HTTP/1.1");
    private static final byte[] HTTP_SLASH = ascii("HTTP/");
    private static final byte[] GET = ascii("GET");
    private static final byte[] POST = ascii("POST");
    private static final byte[] PUT = ascii("PUT");
    private static final byte[] DELETE = ascii("DELETE");
    private static final byte[] CONTENT_LENGTH = ascii("content-length");
    private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding");
    private static final byte[] HOST = ascii("host");
    private static final byte[] UPGRADE = ascii("upgrade");
    private static final byte[] CONNECTION = ascii("connection");
    private static final byte[] SEC_WEBSOCKET_KEY = ascii("sec-websocket-key");
    private static final byte[] SEC_WEBSOCKET_VERSION = ascii("sec-websocket-version");
    private static final byte[] SEC_WEBSOCKET_PROTOCOL = ascii("sec-websocket-protocol");
    private static final byte[] ORIGIN = ascii("origin");
    private static final byte[] X_FORWARDED_FOR = ascii("x-forwarded-for");
    private static final byte[] WEBSOCKET = ascii("websocket");
    private static final byte[] VERSION_13 = ascii("13");

    private final int maxRequestLength;
    private int searchedLength;

    private DirectBuffer buffer;
    private int headLength;
    private int methodOffset;
    private int methodLength;
    private int pathOffset;
    private int pathLength;
    private int queryOffset;
    private int queryLength;
    private int hostOffset;
    private int hostLength;
    private int keyOffset;
    private int keyLength;
    private int protocolOffset;
    private int protocolLength;
    private int originOffset;
    private int originLength;
    private int forwardedForOffset;
    private int forwardedForLength;
    private int subprotocol;
    private boolean upgradeWebSocket;
    private long contentLength = -1;
    private boolean connectionUpgrade;
    private boolean versionSeen;
    private boolean versionOk;
    private boolean keyRepeated;

    public HttpUpgradeRequestDecoder()
    {
        this(DEFAULT_MAX_REQUEST_LENGTH);
    }

    /** @param maxRequestLength largest request head, request line to blank line inclusive. */
    public HttpUpgradeRequestDecoder(final int maxRequestLength)
    {
        if (maxRequestLength < 16)
        {
            throw new IllegalArgumentException("maxRequestLength too small: " + maxRequestLength);
        }
        this.maxRequestLength = maxRequestLength;
    }

    /** Forget the search position and all views, for a new request. */
    public HttpUpgradeRequestDecoder reset()
    {
        searchedLength = 0;
        buffer = null;
        headLength = 0;
        clearFields();
        return this;
    }

    /**
     * Parse the request head at {@code buffer[offset, offset + length)}.
     *
     * @return the head length (&gt; 0) including the blank line, {@link #NEED_MORE}, or a negative error code.
     */
    public int decode(final DirectBuffer buffer, final int offset, final int length)
    {
        final int limit = Math.min(length, maxRequestLength);
        int i = Math.max(3, searchedLength);
        int headEnd = -1;
        while (i < limit)
        {
            if (buffer.getByte(offset + i) == '\n' &&
                buffer.getByte(offset + i - 1) == '\r' &&
                buffer.getByte(offset + i - 2) == '\n' &&
                buffer.getByte(offset + i - 3) == '\r')
            {
                headEnd = i + 1;
                break;
            }
            i++;
        }

        if (headEnd < 0)
        {
            searchedLength = Math.max(searchedLength, limit);
            if (length >= maxRequestLength)
            {
                return TOO_LARGE;
            }
            return isPlausibleMethodPrefix(buffer, offset, limit) ? NEED_MORE : MALFORMED;
        }

        searchedLength = 0;
        this.buffer = buffer;
        this.headLength = headEnd;
        clearFields();
        return parse(buffer, offset, offset + headEnd);
    }

    /** Length of the request head from the last successful {@link #decode}. */
    public int headLength()
    {
        return headLength;
    }

    /** The buffer the views point into. */
    public DirectBuffer buffer()
    {
        return buffer;
    }

    /** True for a valid WebSocket upgrade, false for a plain GET. */
    public boolean isWebSocketUpgrade()
    {
        return upgradeWebSocket;
    }

    /** {@link WebSocketSubprotocol} selection over every Sec-WebSocket-Protocol line. */
    public int subprotocol()
    {
        return subprotocol;
    }

    public int methodOffset()
    {
        return methodOffset;
    }

    public int methodLength()
    {
        return methodLength;
    }

    /** Path of the request target, without the query. */
    public int pathOffset()
    {
        return pathOffset;
    }

    public int pathLength()
    {
        return pathLength;
    }

    /** Query after '?', offset -1 when there is none. */
    public int queryOffset()
    {
        return queryOffset;
    }

    public int queryLength()
    {
        return queryLength;
    }

    public int hostOffset()
    {
        return hostOffset;
    }

    public int hostLength()
    {
        return hostLength;
    }

    /** The Sec-WebSocket-Key value (24 bytes) for {@link HttpUpgradeResponseEncoder}. */
    public int keyOffset()
    {
        return keyOffset;
    }

    public int keyLength()
    {
        return keyLength;
    }

    /** The first Sec-WebSocket-Protocol line, offset -1 when absent. */
    public int protocolOffset()
    {
        return protocolOffset;
    }

    public int protocolLength()
    {
        return protocolLength;
    }

    /** The first Origin line, offset -1 when absent. */
    public int originOffset()
    {
        return originOffset;
    }

    public int originLength()
    {
        return originLength;
    }

    /** The first X-Forwarded-For line (whole list), offset -1 when absent. */
    public int forwardedForOffset()
    {
        return forwardedForOffset;
    }

    public int forwardedForLength()
    {
        return forwardedForLength;
    }

    /** True when the path equals {@code expected} exactly (e.g. "/mqtt"). */
    public boolean pathEquals(final String expected)
    {
        if (pathLength != expected.length())
        {
            return false;
        }
        for (int i = 0; i < pathLength; i++)
        {
            if (buffer.getByte(pathOffset + i) != expected.charAt(i))
            {
                return false;
            }
        }
        return true;
    }

    /** Convenience for logs; allocates. */
    public String path()
    {
        return string(pathOffset, pathLength);
    }

    /** Convenience for logs; allocates. Null when absent. */
    public String host()
    {
        return string(hostOffset, hostLength);
    }

    /** Convenience for logs; allocates. Null when absent. */
    public String origin()
    {
        return string(originOffset, originLength);
    }

    /** Convenience for logs; allocates. Null when absent. */
    public String forwardedFor()
    {
        return string(forwardedForOffset, forwardedForLength);
    }

    /** Convenience; allocates. Null when absent. */
    public String key()
    {
        return string(keyOffset, keyLength);
    }

    /** Convenience; allocates. Null when absent. */
    public String protocols()
    {
        return string(protocolOffset, protocolLength);
    }

    private String string(final int offset, final int length)
    {
        return offset < 0 || buffer == null ? null : buffer.getStringWithoutLengthAscii(offset, length);
    }

    private void clearFields()
    {
        methodOffset = -1;
        methodLength = 0;
        pathOffset = -1;
        pathLength = 0;
        queryOffset = -1;
        queryLength = 0;
        hostOffset = -1;
        hostLength = 0;
        keyOffset = -1;
        keyLength = 0;
        protocolOffset = -1;
        protocolLength = 0;
        originOffset = -1;
        originLength = 0;
        forwardedForOffset = -1;
        forwardedForLength = 0;
        subprotocol = WebSocketSubprotocol.NOT_OFFERED;
        upgradeWebSocket = false;
        connectionUpgrade = false;
        contentLength = -1;
        versionSeen = false;
        versionOk = true;
        keyRepeated = false;
    }

    private int parse(final DirectBuffer buffer, final int offset, final int end)
    {
        // Request line
        int i = offset;
        while (isTokenChar(buffer.getByte(i)))
        {
            i++;
        }
        if (i == offset || buffer.getByte(i) != ' ')
        {
            return MALFORMED;
        }
        methodOffset = offset;
        methodLength = i - offset;
        i++;

        final int targetStart = i;
        int queryMark = -1;
        while (true)
        {
            final byte b = buffer.getByte(i);
            if (b == ' ')
            {
                break;
            }
            if (b <= ' ' || b == 0x7F)
            {
                return MALFORMED;
            }
            if (b == '?' && queryMark < 0)
            {
                queryMark = i;
            }
            i++;
        }
        if (i == targetStart || buffer.getByte(targetStart) != '/')
        {
            return MALFORMED; // origin-form only
        }
        pathOffset = targetStart;
        pathLength = (queryMark < 0 ? i : queryMark) - targetStart;
        if (queryMark >= 0)
        {
            queryOffset = queryMark + 1;
            queryLength = i - queryOffset;
        }
        i++;

        final int versionStart = i;
        while (buffer.getByte(i) != '\r')
        {
            i++;
        }
        if (buffer.getByte(i + 1) != '\n')
        {
            return MALFORMED;
        }
        final int versionLength = i - versionStart;
        if (!equalsExact(buffer, versionStart, versionLength, HTTP_1_1))
        {
            return isHttpVersion(buffer, versionStart, versionLength) ? BAD_HTTP_VERSION : MALFORMED;
        }
        final boolean get = equalsExact(buffer, methodOffset, methodLength, GET);
        if (!get && !equalsExact(buffer, methodOffset, methodLength, POST) &&
            !equalsExact(buffer, methodOffset, methodLength, PUT) &&
            !equalsExact(buffer, methodOffset, methodLength, DELETE))
        {
            return NOT_GET;
        }
        i += 2;

        // Header fields, until the blank line at end - 2
        int hostCount = 0;
        int keyCount = 0;
        while (i < end - 2)
        {
            final int nameStart = i;
            while (isTokenChar(buffer.getByte(i)))
            {
                i++;
            }
            final int nameLength = i - nameStart;
            if (nameLength == 0 || buffer.getByte(i) != ':')
            {
                return MALFORMED; // includes obs-fold and whitespace before the colon
            }
            i++;

            while (WebSocketSubprotocol.isWhitespace(buffer.getByte(i)))
            {
                i++;
            }
            int valueStart = i;
            while (true)
            {
                final byte b = buffer.getByte(i);
                if (b == '\r')
                {
                    break;
                }
                if ((b >= 0 && b < ' ' && b != '\t') || b == 0x7F)
                {
                    return MALFORMED;
                }
                i++;
            }
            if (buffer.getByte(i + 1) != '\n')
            {
                return MALFORMED;
            }
            int valueEnd = i;
            while (valueEnd > valueStart && WebSocketSubprotocol.isWhitespace(buffer.getByte(valueEnd - 1)))
            {
                valueEnd--;
            }
            final int valueLength = valueEnd - valueStart;
            i += 2;

            if (equalsIgnoreCase(buffer, nameStart, nameLength, HOST))
            {
                if (++hostCount > 1)
                {
                    return MALFORMED;
                }
                hostOffset = valueStart;
                hostLength = valueLength;
            }
            else if (equalsIgnoreCase(buffer, nameStart, nameLength, UPGRADE))
            {
                upgradeWebSocket |= containsToken(buffer, valueStart, valueLength, WEBSOCKET, true);
            }
            else if (equalsIgnoreCase(buffer, nameStart, nameLength, CONNECTION))
            {
                connectionUpgrade |= containsToken(buffer, valueStart, valueLength, UPGRADE, false);
            }
            else if (equalsIgnoreCase(buffer, nameStart, nameLength, SEC_WEBSOCKET_KEY))
            {
                if (++keyCount > 1)
                {
                    keyRepeated = true;
                }
                keyOffset = valueStart;
                keyLength = valueLength;
            }
            else if (equalsIgnoreCase(buffer, nameStart, nameLength, SEC_WEBSOCKET_VERSION))
            {
                versionSeen = true;
                versionOk &= equalsExact(buffer, valueStart, valueLength, VERSION_13);
            }
            else if (equalsIgnoreCase(buffer, nameStart, nameLength, SEC_WEBSOCKET_PROTOCOL))
            {
                if (protocolOffset < 0)
                {
                    protocolOffset = valueStart;
                    protocolLength = valueLength;
                }
                subprotocol = WebSocketSubprotocol.merge(
                    subprotocol, WebSocketSubprotocol.select(buffer, valueStart, valueLength));
            }
            else if (equalsIgnoreCase(buffer, nameStart, nameLength, ORIGIN))
            {
                if (originOffset < 0)
                {
                    originOffset = valueStart;
                    originLength = valueLength;
                }
            }
            else if (equalsIgnoreCase(buffer, nameStart, nameLength, CONTENT_LENGTH))
            {
                final long length = parseContentLength(buffer, valueStart, valueLength);
                if (length < 0 || (contentLength >= 0 && contentLength != length))
                {
                    return MALFORMED;
                }
                contentLength = length;
            }
            else if (equalsIgnoreCase(buffer, nameStart, nameLength, TRANSFER_ENCODING))
            {
                return MALFORMED; // no chunked bodies: requests here are small and say their length
            }
            else if (equalsIgnoreCase(buffer, nameStart, nameLength, X_FORWARDED_FOR))
            {
                if (forwardedForOffset < 0)
                {
                    forwardedForOffset = valueStart;
                    forwardedForLength = valueLength;
                }
            }
        }

        if (hostCount == 0)
        {
            return MISSING_HOST;
        }

        final boolean wantsWebSocket = upgradeWebSocket || keyCount > 0 || versionSeen;
        if (!wantsWebSocket)
        {
            return end - offset; // plain request: the caller reads contentLength() more bytes for its body
        }
        if (!get)
        {
            upgradeWebSocket = false;
            return NOT_GET;
        }
        if (!upgradeWebSocket || !connectionUpgrade)
        {
            upgradeWebSocket = false;
            return NOT_UPGRADE;
        }
        if (!versionSeen || !versionOk)
        {
            upgradeWebSocket = false;
            return BAD_VERSION;
        }
        if (keyCount == 0)
        {
            upgradeWebSocket = false;
            return MISSING_KEY;
        }
        if (keyRepeated || !isValidKey(buffer, keyOffset, keyLength))
        {
            upgradeWebSocket = false;
            return BAD_KEY;
        }

        return end - offset;
    }

    /** Content-Length of a plain request, or -1 when it has none. */
    public long contentLength()
    {
        return contentLength;
    }

    private static long parseContentLength(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length == 0 || length > 12)
        {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < length; i++)
        {
            final byte b = buffer.getByte(offset + i);
            if (b < '0' || b > '9')
            {
                return -1;
            }
            value = value * 10 + (b - '0');
        }
        return value;
    }

    /** Base64 of 16 bytes: 21 base64 characters, one of "AQgw" (low 4 bits zero), then "==". */
    static boolean isValidKey(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length != 24 || buffer.getByte(offset + 22) != '=' || buffer.getByte(offset + 23) != '=')
        {
            return false;
        }
        for (int i = 0; i < 21; i++)
        {
            if (!isBase64Char(buffer.getByte(offset + i)))
            {
                return false;
            }
        }
        final byte last = buffer.getByte(offset + 21);
        return last == 'A' || last == 'Q' || last == 'g' || last == 'w';
    }

    private static boolean isBase64Char(final byte b)
    {
        return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '+' || b == '/';
    }

    /** A comma-separated token list contains {@code lowerToken}, ignoring case; optionally a "/version" suffix. */
    private static boolean containsToken(
        final DirectBuffer buffer, final int offset, final int length, final byte[] lowerToken, final boolean allowVersion)
    {
        int i = offset;
        final int end = offset + length;
        while (i < end)
        {
            int elementEnd = i;
            while (elementEnd < end && buffer.getByte(elementEnd) != ',')
            {
                elementEnd++;
            }
            int start = i;
            int stop = elementEnd;
            while (start < stop && WebSocketSubprotocol.isWhitespace(buffer.getByte(start)))
            {
                start++;
            }
            while (stop > start && WebSocketSubprotocol.isWhitespace(buffer.getByte(stop - 1)))
            {
                stop--;
            }
            if (allowVersion)
            {
                for (int k = start; k < stop; k++)
                {
                    if (buffer.getByte(k) == '/')
                    {
                        stop = k;
                        break;
                    }
                }
            }
            if (equalsIgnoreCase(buffer, start, stop - start, lowerToken))
            {
                return true;
            }
            i = elementEnd + 1;
        }
        return false;
    }

    /** While the head is incomplete: do the bytes so far start like "TOKEN SP"? Rejects binary garbage early. */
    private static boolean isPlausibleMethodPrefix(final DirectBuffer buffer, final int offset, final int length)
    {
        for (int i = 0; i < length; i++)
        {
            final byte b = buffer.getByte(offset + i);
            if (b == ' ')
            {
                return i > 0;
            }
            if (!isTokenChar(b))
            {
                return false;
            }
        }
        return true;
    }

    private static boolean isHttpVersion(final DirectBuffer buffer, final int offset, final int length)
    {
        return length == 8 && equalsExact(buffer, offset, 5, HTTP_SLASH) &&
            isDigit(buffer.getByte(offset + 5)) && buffer.getByte(offset + 6) == '.' && isDigit(buffer.getByte(offset + 7));
    }

    private static boolean isDigit(final byte b)
    {
        return b >= '0' && b <= '9';
    }

    /** RFC 7230 tchar. */
    static boolean isTokenChar(final byte b)
    {
        if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9'))
        {
            return true;
        }
        switch (b)
        {
            case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
            case '^': case '_': case '`': case '|': case '~':
                return true;
            default:
                return false;
        }
    }

    private static boolean equalsExact(final DirectBuffer buffer, final int offset, final int length, final byte[] s)
    {
        if (length != s.length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (buffer.getByte(offset + i) != s[i])
            {
                return false;
            }
        }
        return true;
    }

    private static boolean equalsIgnoreCase(
        final DirectBuffer buffer, final int offset, final int length, final byte[] lower)
    {
        if (length != lower.length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            byte b = buffer.getByte(offset + i);
            if (b >= 'A' && b <= 'Z')
            {
                b += 'a' - 'A';
            }
            if (b != lower[i])
            {
                return false;
            }
        }
        return true;
    }

    private static byte[] ascii(final String s)
    {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
