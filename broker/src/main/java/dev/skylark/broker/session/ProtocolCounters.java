package dev.skylark.broker.session;

import dev.skylark.broker.net.Connection;
import dev.skylark.broker.status.Counters;
import dev.skylark.codec.mqtt.PacketType;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * What one I/O agent's protocol layer counts. One instance per I/O agent, written only by its thread, so counting on
 * the hot path is a plain ordered store, never a contended atomic.
 */
public final class ProtocolCounters
{
    public final AtomicCounter connections;
    public final AtomicCounter connectsRefused;
    public final AtomicCounter protocolErrors;
    public final AtomicCounter messagesOut;
    /** QoS 0 messages not sent because the subscriber's outbound buffer was full. */
    public final AtomicCounter qos0Dropped;
    /** Messages not sent because they exceed the client's Maximum Packet Size. */
    public final AtomicCounter tooLargeForClient;
    /** Publishes marked as UTF-8 whose payload is not (only with skylark.payload.format.check). */
    public final AtomicCounter payloadFormatInvalid;
    /** Publishes to '$' topics refused. */
    public final AtomicCounter reservedTopicPublishes;
    /** Subscribers disconnected for staying too far behind for too long. */
    public final AtomicCounter slowConsumersDisconnected;
    /** Times a connection stopped being read because the routing ring was full or publishers were held back. */
    public final AtomicCounter inboundBackPressure;
    /** Publishes (QoS 0 dropped, QoS 1/2 answered 0x87) denied by the authorization rules file. */
    public final AtomicCounter aclPublishesDenied;
    /** Subscriptions (SUBACK 0x87 / 0x80) denied by the authorization rules file. */
    public final AtomicCounter aclSubscriptionsDenied;

    /** Bytes of MQTT packets received and sent (after TLS and WebSocket framing are taken off). */
    public final AtomicCounter bytesReceived;
    public final AtomicCounter bytesSent;
    /** MQTT connections open, by transport (index: {@code Connection.transport()}); HTTP requests are not counted. */
    private final AtomicCounter[] clientsByTransport;
    /** Packets received and sent, by packet type (index: the MQTT packet type, 1..15). */
    private final AtomicCounter[] packetsReceived = new AtomicCounter[PacketType.AUTH + 1];
    private final AtomicCounter[] packetsSent = new AtomicCounter[PacketType.AUTH + 1];

    public ProtocolCounters(final Counters counters, final String io)
    {
        connections = counters.counter("skylark_connections_accepted_total", "connections accepted", io);
        connectsRefused = counters.counter("skylark_connects_refused_total", "CONNECTs refused", io);
        protocolErrors = counters.counter("skylark_protocol_errors_total", "connections closed for errors", io);
        messagesOut = counters.counter("skylark_messages_sent_total", "PUBLISH packets sent", io);
        qos0Dropped = counters.counter("skylark_qos0_dropped_total", "QoS 0 dropped: slow subscriber", io);
        tooLargeForClient = counters.counter("skylark_too_large_for_client_total",
            "messages skipped: above the client's maximum packet size", io);
        payloadFormatInvalid = counters.counter("skylark_payload_format_invalid_total",
            "publishes refused: payload not UTF-8", io);
        reservedTopicPublishes = counters.counter("skylark_reserved_topic_publishes_total",
            "publishes to $ topics refused", io);
        slowConsumersDisconnected = counters.counter("skylark_slow_consumers_disconnected_total",
            "slow consumers disconnected", io);
        inboundBackPressure = counters.counter("skylark_inbound_back_pressure_total",
            "reads paused by back pressure", io);
        aclPublishesDenied = counters.counter("skylark_acl_publishes_denied_total",
            "publishes denied by the authorization rules", io);
        aclSubscriptionsDenied = counters.counter("skylark_acl_subscriptions_denied_total",
            "subscriptions denied by the authorization rules", io);
        bytesReceived = counters.counter("skylark_bytes_received_total", "MQTT bytes received", io);
        bytesSent = counters.counter("skylark_bytes_sent_total", "MQTT bytes sent", io);
        clientsByTransport = new AtomicCounter[Connection.TRANSPORTS.length];
        for (int i = 0; i < clientsByTransport.length; i++)
        {
            clientsByTransport[i] = counters.gauge("skylark_client_connections", "MQTT connections open",
                "transport", Connection.TRANSPORTS[i], io);
        }
        // Type 0 is reserved: a client can still send it (the connection is then closed), and it is counted too.
        for (int type = 0; type <= PacketType.AUTH; type++)
        {
            final String name = type == 0 ? "reserved" : PacketType.name(type).toLowerCase(java.util.Locale.ROOT);
            packetsReceived[type] = counters.counter("skylark_packets_received_total", "MQTT packets received",
                "type", name, io);
            packetsSent[type] = counters.counter("skylark_packets_sent_total", "MQTT packets sent", "type", name, io);
        }
    }

    /** One packet received: its type (from the first byte) and whole length. Single writer: plain stores. */
    public void received(final int type, final int length)
    {
        packetsReceived[type].incrementRelease();
        bytesReceived.getAndAddRelease(length);
    }

    /** One packet written to a connection's outbound buffer. */
    public void sent(final int type, final int length)
    {
        packetsSent[type].incrementRelease();
        bytesSent.getAndAddRelease(length);
    }

    /** An MQTT connection on this transport opened (+1) or closed (-1). */
    public void clientConnection(final int transport, final int delta)
    {
        clientsByTransport[transport].getAndAddRelease(delta);
    }
}
