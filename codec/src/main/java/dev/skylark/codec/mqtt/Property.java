package dev.skylark.codec.mqtt;

/**
 * MQTT 5.0 properties (specification section 2.2.2.2): identifier, data type and the packets each may appear in.
 * <p>
 * A property block is a Variable Byte Integer length followed by (identifier, value) pairs; the identifier is
 * itself a Variable Byte Integer but every defined identifier fits in one byte.
 * <p>
 * Packet kinds used in the allowed-packet masks are the {@link PacketType} values plus {@link #WILL_PROPERTIES}
 * for the Will Properties inside a CONNECT payload. A property not allowed in a packet, an unknown identifier or a
 * value of the wrong type is a Malformed Packet (0x81); a second instance of a single-valued property, or a value
 * out of the allowed range (e.g. Receive Maximum 0, Payload Format Indicator 2) is a Protocol Error (0x82).
 */
public final class Property
{
    /** Packet kind for the Will Properties in a CONNECT payload (not a packet type). */
    public static final int WILL_PROPERTIES = 16;

    /** Sentinel returned by typed getters for an absent integer property. */
    public static final long ABSENT = -1;

    public static final int TYPE_BYTE = 1;
    public static final int TYPE_TWO_BYTE_INTEGER = 2;
    public static final int TYPE_FOUR_BYTE_INTEGER = 3;
    public static final int TYPE_VARIABLE_BYTE_INTEGER = 4;
    public static final int TYPE_UTF8_STRING = 5;
    public static final int TYPE_BINARY_DATA = 6;
    public static final int TYPE_UTF8_STRING_PAIR = 7;

    public static final int PAYLOAD_FORMAT_INDICATOR = 0x01;
    public static final int MESSAGE_EXPIRY_INTERVAL = 0x02;
    public static final int CONTENT_TYPE = 0x03;
    public static final int RESPONSE_TOPIC = 0x08;
    public static final int CORRELATION_DATA = 0x09;
    public static final int SUBSCRIPTION_IDENTIFIER = 0x0B;
    public static final int SESSION_EXPIRY_INTERVAL = 0x11;
    public static final int ASSIGNED_CLIENT_IDENTIFIER = 0x12;
    public static final int SERVER_KEEP_ALIVE = 0x13;
    public static final int AUTHENTICATION_METHOD = 0x15;
    public static final int AUTHENTICATION_DATA = 0x16;
    public static final int REQUEST_PROBLEM_INFORMATION = 0x17;
    public static final int WILL_DELAY_INTERVAL = 0x18;
    public static final int REQUEST_RESPONSE_INFORMATION = 0x19;
    public static final int RESPONSE_INFORMATION = 0x1A;
    public static final int SERVER_REFERENCE = 0x1C;
    public static final int REASON_STRING = 0x1F;
    public static final int RECEIVE_MAXIMUM = 0x21;
    public static final int TOPIC_ALIAS_MAXIMUM = 0x22;
    public static final int TOPIC_ALIAS = 0x23;
    public static final int MAXIMUM_QOS = 0x24;
    public static final int RETAIN_AVAILABLE = 0x25;
    public static final int USER_PROPERTY = 0x26;
    public static final int MAXIMUM_PACKET_SIZE = 0x27;
    public static final int WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28;
    public static final int SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29;
    public static final int SHARED_SUBSCRIPTION_AVAILABLE = 0x2A;

    /** Highest defined property identifier. */
    public static final int MAX_ID = 0x2A;

    private static final int CONNECT = 1 << PacketType.CONNECT;
    private static final int CONNACK = 1 << PacketType.CONNACK;
    private static final int PUBLISH = 1 << PacketType.PUBLISH;
    private static final int PUBACK = 1 << PacketType.PUBACK;
    private static final int PUBREC = 1 << PacketType.PUBREC;
    private static final int PUBREL = 1 << PacketType.PUBREL;
    private static final int PUBCOMP = 1 << PacketType.PUBCOMP;
    private static final int SUBSCRIBE = 1 << PacketType.SUBSCRIBE;
    private static final int SUBACK = 1 << PacketType.SUBACK;
    private static final int UNSUBSCRIBE = 1 << PacketType.UNSUBSCRIBE;
    private static final int UNSUBACK = 1 << PacketType.UNSUBACK;
    private static final int DISCONNECT = 1 << PacketType.DISCONNECT;
    private static final int AUTH = 1 << PacketType.AUTH;
    private static final int WILL = 1 << WILL_PROPERTIES;
    private static final int ALL = CONNECT | CONNACK | PUBLISH | PUBACK | PUBREC | PUBREL | PUBCOMP | SUBSCRIBE |
        SUBACK | UNSUBSCRIBE | UNSUBACK | DISCONNECT | AUTH | WILL;

    private static final int[] TYPES = new int[MAX_ID + 1];
    private static final int[] ALLOWED = new int[MAX_ID + 1];
    private static final String[] NAMES = new String[MAX_ID + 1];

    static
    {
        define(PAYLOAD_FORMAT_INDICATOR, "Payload Format Indicator", TYPE_BYTE, PUBLISH | WILL);
        define(MESSAGE_EXPIRY_INTERVAL, "Message Expiry Interval", TYPE_FOUR_BYTE_INTEGER, PUBLISH | WILL);
        define(CONTENT_TYPE, "Content Type", TYPE_UTF8_STRING, PUBLISH | WILL);
        define(RESPONSE_TOPIC, "Response Topic", TYPE_UTF8_STRING, PUBLISH | WILL);
        define(CORRELATION_DATA, "Correlation Data", TYPE_BINARY_DATA, PUBLISH | WILL);
        define(SUBSCRIPTION_IDENTIFIER, "Subscription Identifier", TYPE_VARIABLE_BYTE_INTEGER, PUBLISH | SUBSCRIBE);
        define(SESSION_EXPIRY_INTERVAL, "Session Expiry Interval", TYPE_FOUR_BYTE_INTEGER,
            CONNECT | CONNACK | DISCONNECT);
        define(ASSIGNED_CLIENT_IDENTIFIER, "Assigned Client Identifier", TYPE_UTF8_STRING, CONNACK);
        define(SERVER_KEEP_ALIVE, "Server Keep Alive", TYPE_TWO_BYTE_INTEGER, CONNACK);
        define(AUTHENTICATION_METHOD, "Authentication Method", TYPE_UTF8_STRING, CONNECT | CONNACK | AUTH);
        define(AUTHENTICATION_DATA, "Authentication Data", TYPE_BINARY_DATA, CONNECT | CONNACK | AUTH);
        define(REQUEST_PROBLEM_INFORMATION, "Request Problem Information", TYPE_BYTE, CONNECT);
        define(WILL_DELAY_INTERVAL, "Will Delay Interval", TYPE_FOUR_BYTE_INTEGER, WILL);
        define(REQUEST_RESPONSE_INFORMATION, "Request Response Information", TYPE_BYTE, CONNECT);
        define(RESPONSE_INFORMATION, "Response Information", TYPE_UTF8_STRING, CONNACK);
        define(SERVER_REFERENCE, "Server Reference", TYPE_UTF8_STRING, CONNACK | DISCONNECT);
        define(REASON_STRING, "Reason String", TYPE_UTF8_STRING,
            CONNACK | PUBACK | PUBREC | PUBREL | PUBCOMP | SUBACK | UNSUBACK | DISCONNECT | AUTH);
        define(RECEIVE_MAXIMUM, "Receive Maximum", TYPE_TWO_BYTE_INTEGER, CONNECT | CONNACK);
        define(TOPIC_ALIAS_MAXIMUM, "Topic Alias Maximum", TYPE_TWO_BYTE_INTEGER, CONNECT | CONNACK);
        define(TOPIC_ALIAS, "Topic Alias", TYPE_TWO_BYTE_INTEGER, PUBLISH);
        define(MAXIMUM_QOS, "Maximum QoS", TYPE_BYTE, CONNACK);
        define(RETAIN_AVAILABLE, "Retain Available", TYPE_BYTE, CONNACK);
        define(USER_PROPERTY, "User Property", TYPE_UTF8_STRING_PAIR, ALL);
        define(MAXIMUM_PACKET_SIZE, "Maximum Packet Size", TYPE_FOUR_BYTE_INTEGER, CONNECT | CONNACK);
        define(WILDCARD_SUBSCRIPTION_AVAILABLE, "Wildcard Subscription Available", TYPE_BYTE, CONNACK);
        define(SUBSCRIPTION_IDENTIFIER_AVAILABLE, "Subscription Identifier Available", TYPE_BYTE, CONNACK);
        define(SHARED_SUBSCRIPTION_AVAILABLE, "Shared Subscription Available", TYPE_BYTE, CONNACK);
    }

    private Property()
    {
    }

    private static void define(final int id, final String name, final int type, final int allowed)
    {
        TYPES[id] = type;
        ALLOWED[id] = allowed;
        NAMES[id] = name;
    }

    /** True if {@code id} is a defined property identifier. */
    public static boolean isDefined(final int id)
    {
        return id > 0 && id <= MAX_ID && TYPES[id] != 0;
    }

    /** The data type ({@code TYPE_*}) of a defined property, 0 if undefined. */
    public static int type(final int id)
    {
        return id > 0 && id <= MAX_ID ? TYPES[id] : 0;
    }

    /** Bit mask of packet kinds ({@code 1 << PacketType.X}, {@code 1 << WILL_PROPERTIES}) the property may appear in. */
    public static int allowedMask(final int id)
    {
        return id > 0 && id <= MAX_ID ? ALLOWED[id] : 0;
    }

    /** True if property {@code id} may appear in a packet of kind {@code packetKind}. */
    public static boolean isAllowed(final int id, final int packetKind)
    {
        return (allowedMask(id) & (1 << packetKind)) != 0;
    }

    /**
     * True if the property may appear more than once in a packet of kind {@code packetKind}: User Property anywhere,
     * Subscription Identifier in PUBLISH (server to client).
     */
    public static boolean isRepeatable(final int id, final int packetKind)
    {
        return id == USER_PROPERTY || (id == SUBSCRIPTION_IDENTIFIER && packetKind == PacketType.PUBLISH);
    }

    public static String name(final int id)
    {
        return isDefined(id) ? NAMES[id] : "Unknown(0x" + Integer.toHexString(id) + ")";
    }
}
