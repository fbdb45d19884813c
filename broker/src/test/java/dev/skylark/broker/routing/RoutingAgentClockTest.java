package dev.skylark.broker.routing;

import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.status.Counters;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PublishView;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.skylark.broker.routing.RouterCommand.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The routing agent driven by hand on a controlled clock: session expiry, will delay and the expiry of a queued
 * copy, each checked 1 ms before and 1 ms after its boundary. Commands are written to the inbound ring in the
 * {@link RouterCommand} layouts; deliveries are read back off the outbound ring. Nothing waits for real time.
 */
class RoutingAgentClockTest
{
    private static final long ONE_MS = 1_000_000L;
    private static final long ONE_S = 1_000 * ONE_MS;
    private static final long START_NS = 5 * ONE_S;
    private static final int RING_CAPACITY = 64 * 1024;

    private final ControlledClock clock = new ControlledClock();
    private final List<String> published = new ArrayList<>();
    private RingBuffer inbound;
    private RingBuffer outbound;
    private RoutingCounters counters;
    private RoutingAgent router;

    @BeforeEach
    void setUp()
    {
        clock.nowNs = START_NS;
        inbound = new ManyToOneRingBuffer(ring());
        outbound = new OneToOneRingBuffer(ring());
        counters = new RoutingCounters(Counters.inMemory());
        final DeliveryPublisher publisher = new DeliveryPublisher(new RingBuffer[]{ outbound },
            new Runnable[]{ () -> { } }, new BusySpinIdleStrategy(), counters.outboundRingFull);
        router = new RoutingAgent(inbound, publisher, clock, counters, 10, 100, 65_535, Session.NEVER,
            new PublishGate(), Long.MAX_VALUE, SharedSubscriptionPolicy.ROUND_ROBIN, DurableLog.NONE, Long.MAX_VALUE);
        router.replay();
    }

    @Test
    void anOfflineSessionEndsExactlyWhenItsExpiryIntervalRunsOut()
    {
        connect(1, "a", 2, 0, null, 0);
        disconnect(1, DISCONNECT_NORMAL);
        assertEquals(1, router.sessionCount());

        at(2 * ONE_S - ONE_MS);
        assertEquals(1, router.sessionCount());
        at(2 * ONE_S + ONE_MS);
        assertEquals(0, router.sessionCount());
    }

    @Test
    void aResumedSessionDoesNotExpire()
    {
        connect(1, "a", 2, 0, null, 0);
        disconnect(1, DISCONNECT_NORMAL);
        at(ONE_S);
        connect(2, "a", 2, 0, null, 0, false);
        at(10 * ONE_S);
        assertEquals(1, router.sessionCount());
    }

    @Test
    void aDelayedWillGoesExactlyWhenItsDelayRunsOut()
    {
        connect(1, "sub", 0, 0, null, 0);
        subscribe(1, "will/a", 0);
        connect(2, "a", 10, 3, "will/a", 0);
        disconnect(2, DISCONNECT_WITH_WILL);

        at(3 * ONE_S - ONE_MS);
        assertEquals(List.of(), published);
        at(3 * ONE_S + ONE_MS);
        assertEquals(List.of("will/a"), published);
        assertEquals(1, counters.willsPublished.get());
        assertEquals(2, router.sessionCount(), "the session lives on until its own expiry");
    }

    @Test
    void aWillGoesWithItsSessionWhenTheSessionExpiresFirst()
    {
        connect(1, "sub", 0, 0, null, 0);
        subscribe(1, "will/a", 0);
        connect(2, "a", 2, 5, "will/a", 0);
        disconnect(2, DISCONNECT_WITH_WILL);

        at(2 * ONE_S - ONE_MS);
        assertEquals(List.of(), published);
        at(2 * ONE_S + ONE_MS);
        assertEquals(List.of("will/a"), published);
        assertEquals(1, router.sessionCount());
    }

    @Test
    void reconnectingWithinTheWillDelayCancelsTheWill()
    {
        connect(1, "sub", 0, 0, null, 0);
        subscribe(1, "will/a", 0);
        connect(2, "a", 10, 3, "will/a", 0);
        disconnect(2, DISCONNECT_WITH_WILL);
        at(3 * ONE_S - ONE_MS);
        connect(3, "a", 10, 0, null, 0, false);
        at(20 * ONE_S);
        assertEquals(List.of(), published);
    }

    @Test
    void aQueuedCopyIsDeliveredOneMillisecondBeforeItExpires()
    {
        queueMessageExpiringIn2sForOfflineSubscriber();
        at(2 * ONE_S - ONE_MS);
        connect(3, "sub", 60, 0, null, 0, false);
        assertEquals(List.of("t"), published);
        assertEquals(0, counters.expired.get());
    }

    @Test
    void aQueuedCopyIsDeletedOneMillisecondAfterItExpires()
    {
        queueMessageExpiringIn2sForOfflineSubscriber();
        at(2 * ONE_S + ONE_MS);
        connect(3, "sub", 60, 0, null, 0, false);
        assertEquals(List.of(), published);
        assertEquals(1, counters.expired.get());
    }

    private void queueMessageExpiringIn2sForOfflineSubscriber()
    {
        connect(1, "sub", 60, 0, null, 0);
        subscribe(1, "t", 1);
        disconnect(1, DISCONNECT_NORMAL);
        connect(2, "pub", 0, 0, null, 0);
        publish(2, "t", 1, new byte[]{ 0x02, 0, 0, 0, 2 }); // Message Expiry Interval 2 s
        assertEquals(List.of(), published);
    }

    /** Moves the clock to {@code START_NS + offsetNs} and runs a duty cycle. */
    private void at(final long offsetNs)
    {
        clock.nowNs = START_NS + offsetNs;
        pump();
    }

    private void pump()
    {
        while (router.doWork() > 0)
        {
            // until idle
        }
        outbound.read((msgTypeId, buffer, index, length) ->
        {
            if (msgTypeId == Delivery.PUBLISH)
            {
                final int message = index + Delivery.PUBLISH_MESSAGE_OFFSET;
                published.add(buffer.getStringWithoutLengthUtf8(
                    MessageLayout.topicOffset(message), MessageLayout.topicLength(buffer, message)));
            }
        }, Integer.MAX_VALUE);
    }

    private void connect(
        final int client, final String clientId, final long expiryS, final long willDelayS, final String willTopic,
        final int willQos)
    {
        connect(client, clientId, expiryS, willDelayS, willTopic, willQos, true);
    }

    private void connect(
        final int client,
        final String clientId,
        final long expiryS,
        final long willDelayS,
        final String willTopic,
        final int willQos,
        final boolean cleanStart)
    {
        final byte[] id = bytes(clientId);
        final byte[] topic = willTopic == null ? new byte[0] : bytes(willTopic);
        final byte[] payload = bytes("gone");
        final int index = claim(CONNECT, CONNECT_CLIENT_ID_OFFSET + 2 + id.length + 2 + topic.length + 4 + 4 +
            payload.length);
        final MutableDirectBuffer buffer = inbound.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId(client));
        buffer.putByte(index + CONNECT_VERSION_OFFSET, (byte)MqttVersion.V5);
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
        inbound.commit(index);
        pump();
    }

    private void subscribe(final int client, final String filter, final int qos)
    {
        final byte[] bytes = bytes(filter);
        final int index = claim(SUBSCRIBE, SUBSCRIBE_ENTRIES_OFFSET + 4 + bytes.length);
        final MutableDirectBuffer buffer = inbound.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId(client));
        buffer.putShort(index + PACKET_ID_OFFSET, (short)1);
        buffer.putShort(index + SUBSCRIBE_COUNT_OFFSET, (short)1);
        buffer.putInt(index + SUBSCRIBE_SUBSCRIPTION_ID_OFFSET, 0);
        final int entry = index + SUBSCRIBE_ENTRIES_OFFSET;
        buffer.putByte(entry, (byte)SubscriptionOptions.ofQos(qos));
        buffer.putByte(entry + 1, (byte)0);
        buffer.putShort(entry + 2, (short)bytes.length);
        buffer.putBytes(entry + 4, bytes);
        inbound.commit(index);
        pump();
    }

    private void publish(final int client, final String topic, final int qos, final byte[] properties)
    {
        final byte[] topicBytes = bytes(topic);
        final byte[] payload = bytes("hello");
        final int messageLength = MessageLayout.length(topicBytes.length, properties.length, payload.length);
        final int index = claim(PUBLISH, PUBLISH_MESSAGE_OFFSET + messageLength);
        final MutableDirectBuffer buffer = inbound.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId(client));
        MessageLayout.write(buffer, index + PUBLISH_MESSAGE_OFFSET, new PublishView()
            .flags(qos, false, false)
            .packetId(7)
            .topic(new UnsafeBuffer(topicBytes), 0, topicBytes.length)
            .properties(new UnsafeBuffer(properties), 0, properties.length)
            .payload(new UnsafeBuffer(payload), 0, payload.length));
        inbound.commit(index);
        pump();
    }

    private void disconnect(final int client, final int kind)
    {
        final int index = claim(DISCONNECT, DISCONNECT_LENGTH);
        final MutableDirectBuffer buffer = inbound.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId(client));
        buffer.putByte(index + DISCONNECT_KIND_OFFSET, (byte)kind);
        buffer.putInt(index + DISCONNECT_SESSION_EXPIRY_OFFSET, SESSION_EXPIRY_UNCHANGED);
        inbound.commit(index);
        pump();
    }

    private int claim(final int type, final int length)
    {
        final int index = inbound.tryClaim(type, length);
        assertEquals(true, index > 0, "room in the inbound ring");
        return index;
    }

    private static long connectionId(final int client)
    {
        return (long)client << IoAgent.AGENT_INDEX_BITS; // I/O agent 0
    }

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static UnsafeBuffer ring()
    {
        return new UnsafeBuffer(BufferUtil.allocateDirectAligned(RING_CAPACITY + RingBufferDescriptor.TRAILER_LENGTH, 64));
    }

    private static final class ControlledClock implements NanoClock
    {
        long nowNs;

        public long nanoTime()
        {
            return nowNs;
        }
    }
}
