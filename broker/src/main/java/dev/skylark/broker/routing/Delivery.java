package dev.skylark.broker.routing;

/**
 * Message types on the one-to-one ring from the routing agent to one I/O agent, and their layouts.
 *
 * <pre>
 * CONNACK     connectionId:8 sessionPresent:1 reasonCode:1 pad:2 sessionExpiry:4(u32) receiveMaximum:4
 * PUBLISH     count:4 pad:4 message:{@link MessageLayout}
 *             { connectionId:8 packetId:2 qos:1 flags:1 subscriptionIdCount:4 subscriptionId:4*k }*count
 * ACK         connectionId:8 packetType:1 pad:1 packetId:2 count:4 reasonCode:1*count
 *             (PUBACK, PUBREC, PUBREL, PUBCOMP: one code; SUBACK, UNSUBACK: one per filter)
 * DISCONNECT  connectionId:8 reasonCode:1                      (e.g. 0x8E Session taken over)
 * </pre>
 * A PUBLISH record carries the message once for every subscriber on that I/O agent; each agent encodes the
 * per-subscriber fields (packet id, QoS, DUP, RETAIN, subscription ids) around it.
 */
public final class Delivery
{
    public static final int CONNACK = 1;
    public static final int PUBLISH = 2;
    public static final int ACK = 3;
    public static final int DISCONNECT = 4;

    public static final int CONNACK_SESSION_PRESENT_OFFSET = 8;
    public static final int CONNACK_REASON_OFFSET = 9;
    public static final int CONNACK_SESSION_EXPIRY_OFFSET = 12;
    public static final int CONNACK_RECEIVE_MAXIMUM_OFFSET = 16;
    public static final int CONNACK_LENGTH = 20;

    public static final int PUBLISH_COUNT_OFFSET = 0;
    public static final int PUBLISH_MESSAGE_OFFSET = 8;
    public static final int ENTRY_CONNECTION_ID_OFFSET = 0;
    public static final int ENTRY_PACKET_ID_OFFSET = 8;
    public static final int ENTRY_QOS_OFFSET = 10;
    public static final int ENTRY_FLAGS_OFFSET = 11;
    public static final int ENTRY_SUBSCRIPTION_ID_COUNT_OFFSET = 12;
    public static final int ENTRY_SUBSCRIPTION_IDS_OFFSET = 16;
    public static final int ENTRY_FLAG_RETAIN = 1;
    public static final int ENTRY_FLAG_DUP = 2;

    public static final int ACK_PACKET_TYPE_OFFSET = 8;
    public static final int ACK_PACKET_ID_OFFSET = 10;
    public static final int ACK_COUNT_OFFSET = 12;
    public static final int ACK_REASONS_OFFSET = 16;

    public static final int DISCONNECT_REASON_OFFSET = 8;
    public static final int DISCONNECT_LENGTH = 9;

    private Delivery()
    {
    }
}
