package dev.skylark.broker.routing;

import dev.skylark.broker.net.IoAgent;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PublishView;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.nio.charset.StandardCharsets;

import static dev.skylark.broker.routing.RouterCommand.*;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Writes the commands an I/O agent would put on the routing agent's inbound ring (CONNECT, SUBSCRIBE, PUBLISH,
 * DISCONNECT) for tests that drive a {@link RoutingAgent} directly, then runs {@code pump} so the agent reads them.
 * Client {@code n} is connection {@code n} of I/O agent 0.
 */
final class RouterCommands
{
    private final RingBuffer inbound;
    private final Runnable pump;

    RouterCommands(final RingBuffer inbound, final Runnable pump)
    {
        this.inbound = inbound;
        this.pump = pump;
    }

    /** A v5 CONNECT with Clean Start. */
    void connect(
        final int client, final String clientId, final long expiryS, final long willDelayS, final String willTopic,
        final int willQos)
    {
        connect(client, clientId, expiryS, willDelayS, willTopic, willQos, true, MqttVersion.V5);
    }

    /** A CONNECT; a will (payload "gone") when {@code willTopic} is not null. */
    void connect(
        final int client,
        final String clientId,
        final long expiryS,
        final long willDelayS,
        final String willTopic,
        final int willQos,
        final boolean cleanStart,
        final int version)
    {
        final byte[] id = bytes(clientId);
        final byte[] topic = willTopic == null ? new byte[0] : bytes(willTopic);
        final byte[] payload = bytes("gone");
        final int index = claim(CONNECT, CONNECT_CLIENT_ID_OFFSET + 2 + id.length + 2 + topic.length + 4 + 4 +
            payload.length);
        final MutableDirectBuffer buffer = inbound.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId(client));
        buffer.putByte(index + CONNECT_VERSION_OFFSET, (byte)version);
        int flags = cleanStart ? CONNECT_FLAG_CLEAN_START : 0;
        flags |= willTopic != null ? CONNECT_FLAG_WILL : 0;
        buffer.putByte(index + CONNECT_FLAGS_OFFSET, (byte)flags);
        buffer.putByte(index + CONNECT_WILL_QOS_OFFSET, (byte)willQos);
        buffer.putInt(index + CONNECT_RECEIVE_MAXIMUM_OFFSET, 65_535);
        buffer.putInt(index + CONNECT_SESSION_EXPIRY_OFFSET, (int)expiryS);
        buffer.putInt(index + CONNECT_MAX_PACKET_SIZE_OFFSET, 0);
        buffer.putInt(index + CONNECT_WILL_DELAY_OFFSET, (int)willDelayS);
        int position = index + CONNECT_CLIENT_ID_OFFSET;
        buffer.putShort(position, (short)id.length);
        buffer.putBytes(position + 2, id);
        position += 2 + id.length;
        buffer.putShort(position, (short)topic.length);
        buffer.putBytes(position + 2, topic);
        position += 2 + topic.length;
        buffer.putInt(position, 0);
        position += 4;
        buffer.putInt(position, payload.length);
        buffer.putBytes(position + 4, payload);
        commit(index);
    }

    /** A SUBSCRIBE of one filter, packet id 1. */
    void subscribe(final int client, final String filter, final int qos, final int subscriptionId)
    {
        final byte[] bytes = bytes(filter);
        final int index = claim(SUBSCRIBE, SUBSCRIBE_ENTRIES_OFFSET + 4 + bytes.length);
        final MutableDirectBuffer buffer = inbound.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId(client));
        buffer.putShort(index + PACKET_ID_OFFSET, (short)1);
        buffer.putShort(index + SUBSCRIBE_COUNT_OFFSET, (short)1);
        buffer.putInt(index + SUBSCRIBE_SUBSCRIPTION_ID_OFFSET, subscriptionId);
        final int entry = index + SUBSCRIBE_ENTRIES_OFFSET;
        buffer.putByte(entry, (byte)SubscriptionOptions.ofQos(qos));
        buffer.putByte(entry + 1, (byte)0);
        buffer.putShort(entry + 2, (short)bytes.length);
        buffer.putBytes(entry + 4, bytes);
        commit(index);
    }

    /** A PUBLISH with payload "hello". */
    void publish(final int client, final String topic, final int qos, final int packetId, final byte[] properties)
    {
        final byte[] topicBytes = bytes(topic);
        final byte[] payload = bytes("hello");
        final int messageLength = MessageLayout.length(topicBytes.length, properties.length, payload.length);
        final int index = claim(PUBLISH, PUBLISH_MESSAGE_OFFSET + messageLength);
        final MutableDirectBuffer buffer = inbound.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId(client));
        MessageLayout.write(buffer, index + PUBLISH_MESSAGE_OFFSET, new PublishView()
            .flags(qos, false, false)
            .packetId(packetId)
            .topic(new UnsafeBuffer(topicBytes), 0, topicBytes.length)
            .properties(new UnsafeBuffer(properties), 0, properties.length)
            .payload(new UnsafeBuffer(payload), 0, payload.length));
        commit(index);
    }

    /** A DISCONNECT of {@code kind} ({@link RouterCommand#DISCONNECT_WITH_WILL}, ...), expiry unchanged. */
    void disconnect(final int client, final int kind)
    {
        final int index = claim(DISCONNECT, DISCONNECT_LENGTH);
        final MutableDirectBuffer buffer = inbound.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId(client));
        buffer.putByte(index + DISCONNECT_KIND_OFFSET, (byte)kind);
        buffer.putInt(index + DISCONNECT_SESSION_EXPIRY_OFFSET, SESSION_EXPIRY_UNCHANGED);
        commit(index);
    }

    static long connectionId(final int client)
    {
        return (long)client << IoAgent.AGENT_INDEX_BITS; // I/O agent 0
    }

    static UnsafeBuffer ring(final int capacity)
    {
        return new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity + RingBufferDescriptor.TRAILER_LENGTH, 64));
    }

    private int claim(final int type, final int length)
    {
        final int index = inbound.tryClaim(type, length);
        assertTrue(index > 0, "room in the inbound ring");
        return index;
    }

    private void commit(final int index)
    {
        inbound.commit(index);
        pump.run();
    }

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** A nano clock the test moves. */
    static final class ControlledClock implements NanoClock
    {
        long nowNs;

        public long nanoTime()
        {
            return nowNs;
        }
    }
}
