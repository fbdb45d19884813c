package dev.skylark.broker.session;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the protocol layer counts, shared by all I/O agents (rarely written except the message counters).
 */
public final class ProtocolCounters
{
    public final AtomicLong connections = new AtomicLong();
    public final AtomicLong connectsRefused = new AtomicLong();
    public final AtomicLong protocolErrors = new AtomicLong();
    public final AtomicLong messagesOut = new AtomicLong();
    /** QoS 0 messages not sent because the subscriber's outbound buffer was full. */
    public final AtomicLong qos0Dropped = new AtomicLong();
    /** Messages not sent because they exceed the client's Maximum Packet Size. */
    public final AtomicLong tooLargeForClient = new AtomicLong();
    /** Publishes to '$' topics refused. */
    public final AtomicLong reservedTopicPublishes = new AtomicLong();
    /** Times a connection stopped being read because the routing ring was full. */
    public final AtomicLong inboundBackPressure = new AtomicLong();
}
