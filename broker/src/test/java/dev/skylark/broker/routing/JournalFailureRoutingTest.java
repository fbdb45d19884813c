package dev.skylark.broker.routing;

import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.status.Counters;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.PublishView;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The acknowledgement path when the journal cannot append, with a fault-injecting {@link DurableLog}: no
 * acknowledgement for a record that was not appended, QoS 1/2 refused (v5 PUBACK 0x83, 3.1.1 disconnect), QoS 0
 * still routed, a recovery checkpoint offered, acknowledgements resuming once it is durable.
 */
class JournalFailureRoutingTest
{
    private static final long ONE_MS = 1_000_000L;
    private static final long START_NS = 5_000 * ONE_MS;
    private static final int RING_CAPACITY = 64 * 1024;

    private final ControlledClock clock = new ControlledClock();
    private final FaultyLog log = new FaultyLog();
    private final List<String> out = new ArrayList<>();
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
        router = new RoutingAgent(inbound, publisher, clock, counters, 10, 100, 65_535, 3600,
            new PublishGate(), Long.MAX_VALUE, SharedSubscriptionPolicy.ROUND_ROBIN, log, Long.MAX_VALUE);
        router.replay();
        log.durable = log.sequence;
        connect(1, "sub", 3600, 0, null, 0, true, MqttVersion.V5);
        subscribe(1, "t/#", 1);
        connect(2, "pub5", 0, 0, null, 0, true, MqttVersion.V5);
        connect(3, "pub3", 0, 0, null, 0, true, MqttVersion.V3_1_1);
        log.durable = log.sequence;
        pump();
        out.clear();
    }

    @Test
    void nothingIsAcknowledgedPastAFailedAppendAndAcknowledgementsResumeAfterARecoveryCheckpoint()
    {
        // Appended but not yet durable when the journal fails: held, not acknowledged.
        publish(2, "t/a", 1, 10);
        assertEquals(List.of("publish t/a"), out);
        out.clear();
        log.failing = true;
        at(200 * ONE_MS);
        assertEquals(1, counters.journal.failing.get());

        // v5 QoS 1 and QoS 2: refused with 0x83 at once, not routed; 3.1.1 QoS 1: disconnected, no PUBACK.
        publish(2, "t/a", 1, 11);
        publish(2, "t/a", 2, 12);
        publish(3, "t/a", 1, 13);
        assertEquals(List.of(
            "ack " + PacketType.PUBACK + " 11 " + ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR,
            "ack " + PacketType.PUBREC + " 12 " + ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR,
            "disconnect " + connectionId(3)), out);
        assertEquals(3, counters.journal.publishesRefused.get());
        out.clear();

        // QoS 0 keeps flowing.
        publish(2, "t/zero", 0, 0);
        assertEquals(List.of("publish t/zero"), out);
        out.clear();

        // A recovery checkpoint is offered while the journal fails (at most once a second).
        final int before = log.checkpoints;
        at(200 * ONE_MS + CheckpointWriter.RECOVERY_INTERVAL_NS - 100 * ONE_MS);
        assertEquals(before, log.checkpoints);
        at(200 * ONE_MS + CheckpointWriter.RECOVERY_INTERVAL_NS + 100 * ONE_MS);
        assertEquals(before + 1, log.checkpoints);
        assertTrue(out.isEmpty(), "still nothing acknowledged: " + out);

        // The recovery checkpoint is durable: the held acknowledgement goes out (success), new ones too.
        log.failing = false;
        log.durable = log.sequence;
        at(1_500 * ONE_MS);
        assertEquals(List.of("ack " + PacketType.PUBACK + " 10 " + ReasonCode.SUCCESS), out);
        assertEquals(0, counters.journal.failing.get());
        out.clear();
        publish(2, "t/a", 1, 14);
        log.durable = log.sequence;
        pump();
        assertEquals(List.of("publish t/a", "ack " + PacketType.PUBACK + " 14 " + ReasonCode.SUCCESS), out);
    }

    /** Moves the clock to {@code START_NS + offsetNs} and runs duty cycles. */
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
                out.add("publish " + buffer.getStringWithoutLengthUtf8(
                    MessageLayout.topicOffset(message), MessageLayout.topicLength(buffer, message)));
            }
            else if (msgTypeId == Delivery.ACK)
            {
                out.add("ack " + buffer.getByte(index + Delivery.ACK_PACKET_TYPE_OFFSET) + " " +
                    (buffer.getShort(index + Delivery.ACK_PACKET_ID_OFFSET) & 0xFFFF) + " " +
                    (buffer.getByte(index + Delivery.ACK_REASONS_OFFSET) & 0xFF));
            }
            else if (msgTypeId == Delivery.DISCONNECT)
            {
                out.add("disconnect " + buffer.getLong(index));
            }
        }, Integer.MAX_VALUE);
    }

    private void connect(
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

    private void publish(final int client, final String topic, final int qos, final int packetId)
    {
        final byte[] topicBytes = bytes(topic);
        final byte[] payload = bytes("hello");
        final int messageLength = MessageLayout.length(topicBytes.length, 0, payload.length);
        final int index = claim(PUBLISH, PUBLISH_MESSAGE_OFFSET + messageLength);
        final MutableDirectBuffer buffer = inbound.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId(client));
        MessageLayout.write(buffer, index + PUBLISH_MESSAGE_OFFSET, new PublishView()
            .flags(qos, false, false)
            .packetId(packetId)
            .topic(new UnsafeBuffer(topicBytes), 0, topicBytes.length)
            .properties(new UnsafeBuffer(new byte[0]), 0, 0)
            .payload(new UnsafeBuffer(payload), 0, payload.length));
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

    /** A journal whose durable position and failure the test sets. */
    private static final class FaultyLog implements DurableLog
    {
        long sequence;
        long durable;
        boolean failing;
        int checkpoints;

        public long append(final DirectBuffer buffer, final int offset, final int length)
        {
            return ++sequence;
        }

        public void beginCheckpoint()
        {
            checkpoints++;
            ++sequence;
        }

        public void endCheckpoint()
        {
            ++sequence;
        }

        public long lastSequence()
        {
            return sequence;
        }

        public long durableSequence()
        {
            return durable;
        }

        public long bytesSinceCheckpoint()
        {
            return 0;
        }

        public boolean isBackPressured()
        {
            return false;
        }

        public boolean isFailing()
        {
            return failing;
        }

        public int doWork()
        {
            return 0;
        }

        public void replay(final Replayer replayer)
        {
        }

        public void close()
        {
        }
    }
}
