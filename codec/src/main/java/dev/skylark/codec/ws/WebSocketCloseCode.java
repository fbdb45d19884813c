package dev.skylark.codec.ws;

/**
 * RFC 6455 section 7.4 close status codes.
 * <p>
 * {@link WebSocketFrameDecoder#onBytes} reports a violation as the negative of the close status
 * the server should send before closing, e.g. {@code -PROTOCOL_ERROR}; {@link #fromResult(int)}
 * recovers the status.
 */
public final class WebSocketCloseCode
{
    public static final int NORMAL_CLOSURE = 1000;
    public static final int GOING_AWAY = 1001;
    public static final int PROTOCOL_ERROR = 1002;
    public static final int UNSUPPORTED_DATA = 1003;
    /** Reserved: must never be sent on the wire. Reported locally for a close frame without a body. */
    public static final int NO_STATUS_RECEIVED = 1005;
    /** Reserved: must never be sent on the wire. The connection dropped without a close frame. */
    public static final int ABNORMAL_CLOSURE = 1006;
    public static final int INVALID_FRAME_PAYLOAD_DATA = 1007;
    public static final int POLICY_VIOLATION = 1008;
    public static final int MESSAGE_TOO_BIG = 1009;
    public static final int MANDATORY_EXTENSION = 1010;
    public static final int INTERNAL_ERROR = 1011;
    /** Reserved: must never be sent on the wire (TLS handshake failure). */
    public static final int TLS_HANDSHAKE = 1015;

    private WebSocketCloseCode()
    {
    }

    /**
     * Whether a peer may send this status in a close frame: 1000-1003, 1007-1011 and the
     * registered / private ranges 3000-4999. 1004-1006, 1015, 1012-1014 (not in RFC 6455 itself)
     * and everything else are refused with 1002, as the Autobahn test suite expects.
     */
    public static boolean isValidOnWire(final int code)
    {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
    }

    /** The close status carried by a negative decoder result. */
    public static int fromResult(final int result)
    {
        return -result;
    }

    /** A readable name for logs. */
    public static String describe(final int code)
    {
        final String name;
        switch (code)
        {
            case NORMAL_CLOSURE: name = "Normal Closure"; break;
            case GOING_AWAY: name = "Going Away"; break;
            case PROTOCOL_ERROR: name = "Protocol Error"; break;
            case UNSUPPORTED_DATA: name = "Unsupported Data"; break;
            case NO_STATUS_RECEIVED: name = "No Status Received"; break;
            case ABNORMAL_CLOSURE: name = "Abnormal Closure"; break;
            case INVALID_FRAME_PAYLOAD_DATA: name = "Invalid Frame Payload Data"; break;
            case POLICY_VIOLATION: name = "Policy Violation"; break;
            case MESSAGE_TOO_BIG: name = "Message Too Big"; break;
            case MANDATORY_EXTENSION: name = "Mandatory Extension"; break;
            case INTERNAL_ERROR: name = "Internal Error"; break;
            case TLS_HANDSHAKE: name = "TLS Handshake"; break;
            default: name = "Unknown";
        }
        return code + " " + name;
    }
}
