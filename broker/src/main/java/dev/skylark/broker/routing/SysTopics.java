package dev.skylark.broker.routing;

import org.agrona.ExpandableArrayBuffer;

import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;

/**
 * The broker's own figures on {@code $SYS/broker/...} topics, published by the routing agent on an interval as QoS 0
 * retained messages (as Mosquitto does), so a client that subscribes to {@code $SYS/#} gets the latest figures at once.
 * Topic names are Mosquitto's where one has a counterpart ({@code clients/connected}, {@code clients/maximum},
 * {@code load/messages/received/1min}, {@code bytes/received}, {@code store/messages/count}, …), so dashboards made
 * for Mosquitto read them. The load figures are, like Mosquitto's, exponentially decaying averages per minute over 1,
 * 5 and 15 minutes. Off the hot path: once per interval, on the routing agent's slow tick.
 */
final class SysTopics
{
    static final String VERSION = versionOfThisJar();

    private final long intervalNs;
    private final long startNs;
    private final LongSupplier messagesSent;
    private final ToLongFunction<String> counterTotal;
    private final ExpandableArrayBuffer message = new ExpandableArrayBuffer(256);
    private long nextNs;
    private long lastNs;
    private int clientsMaximum;
    private boolean loadsStarted;
    /** Per figure (messages received, sent; bytes received, sent; connections): last total and 1/5/15 min loads. */
    private final long[] lastTotals = new long[LOADS.length];
    private final double[][] loads = new double[LOADS.length][3];

    /** The load figures: topic part, counter. */
    private static final String[][] LOADS = {
        {"messages/received", "skylark_packets_received_total"},
        {"messages/sent", "skylark_packets_sent_total"},
        {"publish/received", "skylark_publishes_routed_total"},
        {"publish/sent", "skylark_messages_sent_total"},
        {"bytes/received", "skylark_bytes_received_total"},
        {"bytes/sent", "skylark_bytes_sent_total"},
        {"connections", "skylark_connections_accepted_total"},
    };
    private static final int[] LOAD_MINUTES = {1, 5, 15};

    /**
     * @param intervalNs   0 = off.
     * @param messagesSent PUBLISH packets sent by all I/O threads (read from the counters).
     */
    SysTopics(final long intervalNs, final long startNs, final LongSupplier messagesSent)
    {
        this(intervalNs, startNs, messagesSent, (name) -> 0);
    }

    /**
     * @param counterTotal a counter's total over every I/O thread, by metric name (read from the counters file).
     */
    SysTopics(final long intervalNs, final long startNs, final LongSupplier messagesSent,
        final ToLongFunction<String> counterTotal)
    {
        this.intervalNs = intervalNs;
        this.startNs = startNs;
        this.messagesSent = messagesSent;
        this.counterTotal = counterTotal;
        this.nextNs = startNs;
        this.lastNs = startNs;
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
        publish(nowNs, clientsConnected, sessions, subscriptions, retained, publishesRouted, 0, sink);
    }

    /** As above, with the number of messages the broker stores (queued, in flight and retained). */
    void publish(
        final long nowNs,
        final int clientsConnected,
        final int sessions,
        final int subscriptions,
        final int retained,
        final long publishesRouted,
        final int storedMessages,
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
        clientsMaximum = Math.max(clientsMaximum, clientsConnected);
        publish("$SYS/broker/clients/maximum", clientsMaximum, sink);
        publish("$SYS/broker/clients/disconnected", Math.max(0, sessions - clientsConnected), sink);
        publish("$SYS/broker/publish/messages/received", publishesRouted, sink);
        publish("$SYS/broker/publish/messages/sent", messagesSent.getAsLong(), sink);
        publish("$SYS/broker/bytes/received", counterTotal.applyAsLong("skylark_bytes_received_total"), sink);
        publish("$SYS/broker/bytes/sent", counterTotal.applyAsLong("skylark_bytes_sent_total"), sink);
        publish("$SYS/broker/store/messages/count", storedMessages, sink);
        publish("$SYS/broker/store/messages/bytes", counterTotal.applyAsLong("skylark_stored_message_bytes"), sink);
        publishLoads(nowNs, sink);
    }

    /** Mosquitto's load figures: per-minute rates, exponentially smoothed over 1, 5 and 15 minutes. */
    private void publishLoads(final long nowNs, final Sink sink)
    {
        final double elapsedS = Math.max(1e-3, (nowNs - lastNs) / 1e9);
        final boolean first = !loadsStarted;
        loadsStarted = true;
        lastNs = nowNs;
        for (int i = 0; i < LOADS.length; i++)
        {
            final long total = counterTotal.applyAsLong(LOADS[i][1]);
            final double perMinute = first ? 0 : (total - lastTotals[i]) * 60.0 / elapsedS;
            lastTotals[i] = total;
            for (int m = 0; m < LOAD_MINUTES.length; m++)
            {
                final double decay = Math.exp(-elapsedS / (60.0 * LOAD_MINUTES[m]));
                loads[i][m] = first ? 0 : loads[i][m] * decay + perMinute * (1 - decay);
                publish("$SYS/broker/load/" + LOADS[i][0] + "/" + LOAD_MINUTES[m] + "min",
                    String.format(java.util.Locale.ROOT, "%.2f", loads[i][m]), sink);
            }
        }
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
        message.putByte(MessageLayout.FLAGS_OFFSET, (byte)MessageLayout.FLAG_RETAIN); // retained, as Mosquitto's
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
        return version != null ? version : dev.skylark.broker.status.BuildInfo.VERSION;
    }
}
