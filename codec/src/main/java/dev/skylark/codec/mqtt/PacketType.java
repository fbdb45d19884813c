package dev.skylark.codec.mqtt;

/**
 * MQTT control packet types (the high nibble of the fixed header's first byte).
 */
public final class PacketType
{
    public static final int RESERVED = 0;
    public static final int CONNECT = 1;
    public static final int CONNACK = 2;
    public static final int PUBLISH = 3;
    public static final int PUBACK = 4;
    public static final int PUBREC = 5;
    public static final int PUBREL = 6;
    public static final int PUBCOMP = 7;
    public static final int SUBSCRIBE = 8;
    public static final int SUBACK = 9;
    public static final int UNSUBSCRIBE = 10;
    public static final int UNSUBACK = 11;
    public static final int PINGREQ = 12;
    public static final int PINGRESP = 13;
    public static final int DISCONNECT = 14;
    /** MQTT 5.0 only. */
    public static final int AUTH = 15;

    private static final String[] NAMES =
    {
        "RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
        "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"
    };

    private PacketType()
    {
    }

    /** The packet type of a fixed header's first byte. */
    public static int of(final int firstByte)
    {
        return (firstByte >> 4) & 0x0F;
    }

    public static String name(final int type)
    {
        return type >= 0 && type < NAMES.length ? NAMES[type] : "UNKNOWN(" + type + ")";
    }
}
