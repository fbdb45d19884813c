package dev.skylark.codec.mqtt;

/**
 * MQTT 5.0 reason codes (specification section 2.4) and the MQTT 3.1.1 CONNACK return codes.
 * <p>
 * Decoders report a failure as the negative of the reason code the specification requires, e.g.
 * {@code -MALFORMED_PACKET}; {@link #isError(int)} tells a decode result apart from a length.
 */
public final class ReasonCode
{
    public static final int SUCCESS = 0x00;
    public static final int NORMAL_DISCONNECTION = 0x00;
    public static final int GRANTED_QOS_0 = 0x00;
    public static final int GRANTED_QOS_1 = 0x01;
    public static final int GRANTED_QOS_2 = 0x02;
    public static final int DISCONNECT_WITH_WILL_MESSAGE = 0x04;
    public static final int NO_MATCHING_SUBSCRIBERS = 0x10;
    public static final int NO_SUBSCRIPTION_EXISTED = 0x11;
    public static final int CONTINUE_AUTHENTICATION = 0x18;
    public static final int RE_AUTHENTICATE = 0x19;
    public static final int UNSPECIFIED_ERROR = 0x80;
    public static final int MALFORMED_PACKET = 0x81;
    public static final int PROTOCOL_ERROR = 0x82;
    public static final int IMPLEMENTATION_SPECIFIC_ERROR = 0x83;
    public static final int UNSUPPORTED_PROTOCOL_VERSION = 0x84;
    public static final int CLIENT_IDENTIFIER_NOT_VALID = 0x85;
    public static final int BAD_USER_NAME_OR_PASSWORD = 0x86;
    public static final int NOT_AUTHORIZED = 0x87;
    public static final int SERVER_UNAVAILABLE = 0x88;
    public static final int SERVER_BUSY = 0x89;
    public static final int BANNED = 0x8A;
    public static final int SERVER_SHUTTING_DOWN = 0x8B;
    public static final int BAD_AUTHENTICATION_METHOD = 0x8C;
    public static final int KEEP_ALIVE_TIMEOUT = 0x8D;
    public static final int SESSION_TAKEN_OVER = 0x8E;
    public static final int TOPIC_FILTER_INVALID = 0x8F;
    public static final int TOPIC_NAME_INVALID = 0x90;
    public static final int PACKET_IDENTIFIER_IN_USE = 0x91;
    public static final int PACKET_IDENTIFIER_NOT_FOUND = 0x92;
    public static final int RECEIVE_MAXIMUM_EXCEEDED = 0x93;
    public static final int TOPIC_ALIAS_INVALID = 0x94;
    public static final int PACKET_TOO_LARGE = 0x95;
    public static final int MESSAGE_RATE_TOO_HIGH = 0x96;
    public static final int QUOTA_EXCEEDED = 0x97;
    public static final int ADMINISTRATIVE_ACTION = 0x98;
    public static final int PAYLOAD_FORMAT_INVALID = 0x99;
    public static final int RETAIN_NOT_SUPPORTED = 0x9A;
    public static final int QOS_NOT_SUPPORTED = 0x9B;
    public static final int USE_ANOTHER_SERVER = 0x9C;
    public static final int SERVER_MOVED = 0x9D;
    public static final int SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E;
    public static final int CONNECTION_RATE_EXCEEDED = 0x9F;
    public static final int MAXIMUM_CONNECT_TIME = 0xA0;
    public static final int SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1;
    public static final int WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2;

    /** MQTT 3.1.1 CONNACK return codes (section 3.2.2.3). */
    public static final int V3_CONNECTION_ACCEPTED = 0x00;
    public static final int V3_UNACCEPTABLE_PROTOCOL_VERSION = 0x01;
    public static final int V3_IDENTIFIER_REJECTED = 0x02;
    public static final int V3_SERVER_UNAVAILABLE = 0x03;
    public static final int V3_BAD_USER_NAME_OR_PASSWORD = 0x04;
    public static final int V3_NOT_AUTHORIZED = 0x05;

    /** MQTT 3.1.1 SUBACK failure return code. */
    public static final int V3_SUBACK_FAILURE = 0x80;

    private static final int[][] VALID_CODES =
    {
        {},                                                         // RESERVED
        {},                                                         // CONNECT
        {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A,
            0x9B, 0x9C, 0x9D, 0x9F},                                // CONNACK
        {},                                                         // PUBLISH
        {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99},     // PUBACK
        {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99},     // PUBREC
        {0x00, 0x92},                                               // PUBREL
        {0x00, 0x92},                                               // PUBCOMP
        {},                                                         // SUBSCRIBE
        {0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2}, // SUBACK
        {},                                                         // UNSUBSCRIBE
        {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91},                 // UNSUBACK
        {},                                                         // PINGREQ
        {},                                                         // PINGRESP
        {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97,
            0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2}, // DISCONNECT
        {0x00, 0x18, 0x19},                                         // AUTH
    };

    /** Bit i of VALID[type][i / 64] set when reason code i may appear in a v5 packet of that type. */
    private static final long[][] VALID = new long[16][4];

    static
    {
        for (int type = 0; type < VALID_CODES.length; type++)
        {
            for (final int code : VALID_CODES[type])
            {
                VALID[type][code >> 6] |= 1L << (code & 63);
            }
        }
    }

    /**
     * True if {@code reasonCode} is one the MQTT 5.0 specification lists for packets of {@code packetType}
     * (CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH).
     */
    public static boolean isValidFor(final int packetType, final int reasonCode)
    {
        return packetType >= 0 && packetType < 16 && reasonCode >= 0 && reasonCode < 256 &&
            (VALID[packetType][reasonCode >> 6] & (1L << (reasonCode & 63))) != 0;
    }

    private ReasonCode()
    {
    }

    /** True for a negative decode result, i.e. {@code -reasonCode}. */
    public static boolean isError(final int result)
    {
        return result < 0;
    }

    /** The reason code carried by a negative decode result. */
    public static int fromResult(final int result)
    {
        return -result;
    }

    /** Maps a v5 CONNACK reason code to the nearest MQTT 3.1.1 CONNACK return code. */
    public static int toV3ConnackReturnCode(final int reasonCode)
    {
        switch (reasonCode)
        {
            case SUCCESS:
                return V3_CONNECTION_ACCEPTED;
            case UNSUPPORTED_PROTOCOL_VERSION:
                return V3_UNACCEPTABLE_PROTOCOL_VERSION;
            case CLIENT_IDENTIFIER_NOT_VALID:
                return V3_IDENTIFIER_REJECTED;
            case BAD_USER_NAME_OR_PASSWORD:
            case BAD_AUTHENTICATION_METHOD:
                return V3_BAD_USER_NAME_OR_PASSWORD;
            case NOT_AUTHORIZED:
            case BANNED:
                return V3_NOT_AUTHORIZED;
            default:
                return V3_SERVER_UNAVAILABLE;
        }
    }

    /** A readable name for logs, e.g. "0x81 Malformed Packet". */
    public static String describe(final int reasonCode)
    {
        final String name;
        switch (reasonCode)
        {
            case 0x00: name = "Success"; break;
            case 0x01: name = "Granted QoS 1"; break;
            case 0x02: name = "Granted QoS 2"; break;
            case 0x04: name = "Disconnect with Will Message"; break;
            case 0x10: name = "No matching subscribers"; break;
            case 0x11: name = "No subscription existed"; break;
            case 0x18: name = "Continue authentication"; break;
            case 0x19: name = "Re-authenticate"; break;
            case 0x80: name = "Unspecified error"; break;
            case 0x81: name = "Malformed Packet"; break;
            case 0x82: name = "Protocol Error"; break;
            case 0x83: name = "Implementation specific error"; break;
            case 0x84: name = "Unsupported Protocol Version"; break;
            case 0x85: name = "Client Identifier not valid"; break;
            case 0x86: name = "Bad User Name or Password"; break;
            case 0x87: name = "Not authorized"; break;
            case 0x88: name = "Server unavailable"; break;
            case 0x89: name = "Server busy"; break;
            case 0x8A: name = "Banned"; break;
            case 0x8B: name = "Server shutting down"; break;
            case 0x8C: name = "Bad authentication method"; break;
            case 0x8D: name = "Keep Alive timeout"; break;
            case 0x8E: name = "Session taken over"; break;
            case 0x8F: name = "Topic Filter invalid"; break;
            case 0x90: name = "Topic Name invalid"; break;
            case 0x91: name = "Packet Identifier in use"; break;
            case 0x92: name = "Packet Identifier not found"; break;
            case 0x93: name = "Receive Maximum exceeded"; break;
            case 0x94: name = "Topic Alias invalid"; break;
            case 0x95: name = "Packet too large"; break;
            case 0x96: name = "Message rate too high"; break;
            case 0x97: name = "Quota exceeded"; break;
            case 0x98: name = "Administrative action"; break;
            case 0x99: name = "Payload format invalid"; break;
            case 0x9A: name = "Retain not supported"; break;
            case 0x9B: name = "QoS not supported"; break;
            case 0x9C: name = "Use another server"; break;
            case 0x9D: name = "Server moved"; break;
            case 0x9E: name = "Shared Subscriptions not supported"; break;
            case 0x9F: name = "Connection rate exceeded"; break;
            case 0xA0: name = "Maximum connect time"; break;
            case 0xA1: name = "Subscription Identifiers not supported"; break;
            case 0xA2: name = "Wildcard Subscriptions not supported"; break;
            default: name = "Unknown";
        }
        return String.format("0x%02X %s", reasonCode, name);
    }
}
