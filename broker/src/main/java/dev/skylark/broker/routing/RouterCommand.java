package dev.skylark.broker.routing;

/**
 * Message types on the many-to-one ring from the I/O agents to the routing agent, and their layouts.
 * Every record starts with the connection id (8 bytes, little endian as Agrona writes it); variable-length fields
 * are a length prefix followed by the bytes, in the order listed.
 *
 * <pre>
 * CONNECT      connectionId:8 version:1 flags:1 willQos:1 pad:1 receiveMaximum:4 sessionExpiry:4(u32)
 *              maxPacketSize:4 willDelay:4(u32) clientId:2+n willTopic:2+n willProperties:4+n willPayload:4+n
 * PUBLISH      connectionId:8 message:{@link MessageLayout} (qos, flags, packetId, topic, properties, payload)
 * PUBREL       connectionId:8 packetId:2
 * ACK          connectionId:8 packetType:1 reasonCode:1 packetId:2     (PUBACK, PUBREC, PUBCOMP from a subscriber)
 * SUBSCRIBE    connectionId:8 packetId:2 count:2 subscriptionId:4 { options:1 result:1 filter:2+n }*count
 * UNSUBSCRIBE  connectionId:8 packetId:2 count:2 { filter:2+n }*count
 * DISCONNECT   connectionId:8 kind:1 pad:3 sessionExpiry:4 (u32; -1 = unchanged)
 * NOT_ROUTED   connectionId:8 qos:1 reasonCode:1 packetId:2   (a publisher's QoS 1/2 message the publish hook
 *              dropped or refused: answered with PUBACK/PUBREC and the reason, never routed)
 * </pre>
 */
public final class RouterCommand
{
    public static final int CONNECT = 1;
    public static final int PUBLISH = 2;
    public static final int PUBREL = 3;
    public static final int ACK = 4;
    public static final int SUBSCRIBE = 5;
    public static final int UNSUBSCRIBE = 6;
    public static final int DISCONNECT = 7;
    public static final int NOT_ROUTED = 8;

    public static final int CONNECTION_ID_OFFSET = 0;

    public static final int CONNECT_VERSION_OFFSET = 8;
    public static final int CONNECT_FLAGS_OFFSET = 9;
    public static final int CONNECT_WILL_QOS_OFFSET = 10;
    public static final int CONNECT_RECEIVE_MAXIMUM_OFFSET = 12;
    public static final int CONNECT_SESSION_EXPIRY_OFFSET = 16;
    public static final int CONNECT_MAX_PACKET_SIZE_OFFSET = 20;
    public static final int CONNECT_WILL_DELAY_OFFSET = 24;
    public static final int CONNECT_CLIENT_ID_OFFSET = 28;
    public static final int CONNECT_FLAG_CLEAN_START = 1;
    public static final int CONNECT_FLAG_WILL = 2;
    public static final int CONNECT_FLAG_WILL_RETAIN = 4;

    public static final int PUBLISH_MESSAGE_OFFSET = 8;
    public static final int PUBLISH_QOS_OFFSET = 8;
    public static final int PUBLISH_FLAGS_OFFSET = 9;
    public static final int PUBLISH_PACKET_ID_OFFSET = 10;
    public static final int PUBLISH_TOPIC_OFFSET = 12;
    public static final int PUBLISH_FLAG_RETAIN = 1;
    public static final int PUBLISH_FLAG_DUP = 2;

    public static final int PACKET_ID_OFFSET = 8;

    public static final int ACK_PACKET_TYPE_OFFSET = 8;
    public static final int ACK_REASON_OFFSET = 9;
    public static final int ACK_PACKET_ID_OFFSET = 10;
    public static final int ACK_LENGTH = 12;

    public static final int SUBSCRIBE_COUNT_OFFSET = 10;
    public static final int SUBSCRIBE_SUBSCRIPTION_ID_OFFSET = 12;
    public static final int SUBSCRIBE_ENTRIES_OFFSET = 16;
    public static final int UNSUBSCRIBE_COUNT_OFFSET = 10;
    public static final int UNSUBSCRIBE_ENTRIES_OFFSET = 12;

    public static final int NOT_ROUTED_QOS_OFFSET = 8;
    public static final int NOT_ROUTED_REASON_OFFSET = 9;
    public static final int NOT_ROUTED_PACKET_ID_OFFSET = 10;
    public static final int NOT_ROUTED_LENGTH = 12;

    public static final int DISCONNECT_KIND_OFFSET = 8;
    public static final int DISCONNECT_SESSION_EXPIRY_OFFSET = 12;
    public static final int DISCONNECT_LENGTH = 16;
    /** The client sent DISCONNECT: the will is discarded. */
    public static final int DISCONNECT_NORMAL = 0;
    /** The connection was lost, timed out, was refused for a protocol error, or the client asked for its will. */
    public static final int DISCONNECT_WITH_WILL = 1;
    /** Session expiry value meaning "leave it as it was at CONNECT". */
    public static final int SESSION_EXPIRY_UNCHANGED = -1;

    private RouterCommand()
    {
    }
}
