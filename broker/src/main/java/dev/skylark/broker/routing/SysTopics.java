package dev.skylark.broker.routing;

import org.agrona.ExpandableArrayBuffer;

import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;

/**
 * The broker's own figures on {@code $SYS/broker/...} topics, published by the routing agent on an interval as
 * ordinary (QoS 0, not retained) messages, so any client subscribed to {@code $SYS/#} sees them. Not retained and
 * not journaled: they describe the running process, and would only churn the journal.
 */
final class SysTopics
{
    static final String VERSION = versionOfThisJar();

    private final long intervalNs;
    private final long startNs;
    private final LongSupplier messagesSent;
    private final ExpandableArrayBuffer message = new ExpandableArrayBuffer(256);
    private long nextNs;

    /**
     * @param intervalNs   0 = off.
     * @param messagesSent PUBLISH packets sent by all I/O threads (read from the counters).
     */
    SysTopics(final long intervalNs, final long startNs, final LongSupplier messagesSent)
    {
        this.intervalNs = intervalNs;
        this.startNs = startNs;
        this.messagesSent = messagesSent;
        this.nextNs = startNs;
    }

    boolean isDue(final long nowNs)
    {
        return intervalNs > 0 && nowNs - nextNs >= 0;
    }

    /** Publishes every figure through {@code sink}; call when {@link #isDue}. */
    void publish(
        final long nowNs,
        final int clientsConnected,
        final int sessions,
        final int subscriptions,
        final int retained,
        final long publishesRouted,
        final Sink sink)
    {
        nextNs = nowNs + intervalNs;
        publish("$SYS/broker/version", "Skylark " + VERSION, sink);
        publish("$SYS/broker/uptime", (nowNs - startNs) / 1_000_000_000L + " seconds", sink);
        publish("$SYS/broker/clients/connected", clientsConnected, sink);
        publish("$SYS/broker/clients/total", sessions, sink);
        publish("$SYS/broker/subscriptions/count", subscriptions, sink);
        publish("$SYS/broker/retained messages/count", retained, sink);
        publish("$SYS/broker/messages/received", publishesRouted, sink);
        publish("$SYS/broker/messages/sent", messagesSent.getAsLong(), sink);
    }

    private void publish(final String topic, final long value, final Sink sink)
    {
        publish(topic, Long.toString(value), sink);
    }

    private void publish(final String topic, final String value, final Sink sink)
    {
        final byte[] topicBytes = topic.getBytes(StandardCharsets.UTF_8);
        final byte[] payload = value.getBytes(StandardCharsets.UTF_8);
        message.putByte(MessageLayout.QOS_OFFSET, (byte)0);
        message.putByte(MessageLayout.FLAGS_OFFSET, (byte)0);
        message.putShort(2, (short)0);
        message.putShort(MessageLayout.TOPIC_LENGTH_OFFSET, (short)topicBytes.length);
        int position = MessageLayout.TOPIC_OFFSET;
        message.putBytes(position, topicBytes);
        position += topicBytes.length;
        message.putInt(position, 0); // no properties
        position += 4;
        message.putInt(position, payload.length);
        message.putBytes(position + 4, payload);
        sink.route(message, 0, MessageLayout.length(topicBytes.length, 0, payload.length));
    }

    /** Where the messages go: the routing agent's own route(). */
    @FunctionalInterface
    interface Sink
    {
        void route(ExpandableArrayBuffer buffer, int offset, int length);
    }

    private static String versionOfThisJar()
    {
        final String version = SysTopics.class.getPackage().getImplementationVersion();
        return version != null ? version : "development build";
    }
}
