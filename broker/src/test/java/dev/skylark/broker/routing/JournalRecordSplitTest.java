package dev.skylark.broker.routing;

import dev.skylark.broker.status.Counters;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.skylark.broker.routing.RouterCommand.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Issue #15: a message's journal record grows with its target list (12 bytes a persistent QoS 1/2 subscriber, 4 more
 * a subscription identifier) and once past the journal link's largest message Aeron refused it: the append threw
 * inside routing and the publisher never got its PUBACK. Records are now cut to fit (MESSAGE + TARGETS records);
 * here the log enforces a small limit the way Aeron does, keeps what was appended, and replays it into a new agent.
 */
class JournalRecordSplitTest
{
    private static final long ONE_MS = 1_000_000L;
    private static final long START_NS = 5_000 * ONE_MS;
    private static final int RING_CAPACITY = 256 * 1024;
    private static final int MAX_RECORD = 600;
    private static final int SUBSCRIBERS = 120;

    private final RouterCommands.ControlledClock clock = new RouterCommands.ControlledClock();
    private final RecordingLog log = new RecordingLog(MAX_RECORD);
    private final List<String> out = new ArrayList<>();
    private int delivered;
    private RingBuffer inbound;
    private RouterCommands commands;
    private RingBuffer outbound;
    private RoutingAgent router;

    @BeforeEach
    void setUp()
    {
        start();
        for (int i = 0; i < SUBSCRIBERS; i++)
        {
            commands.connect(10 + i, "sub" + i, 3600, 0, null, 0, true, MqttVersion.V5);
            commands.subscribe(10 + i, "t/#", 1, i % 3 == 0 ? 0 : 1 + i); // some targets carry a subscription identifier
            if (i % 7 == 0)
            {
                commands.subscribe(10 + i, "t/+", 1, 1000 + i); // two matching subscriptions: two identifiers
            }
        }
        commands.connect(2, "pub", 0, 0, null, 0, true, MqttVersion.V5);
        log.durable = log.sequence;
        pump();
        out.clear();
        delivered = 0;
    }

    private void start()
    {
        clock.nowNs = START_NS;
        inbound = new ManyToOneRingBuffer(RouterCommands.ring(RING_CAPACITY));
        commands = new RouterCommands(inbound, this::pump);
        outbound = new OneToOneRingBuffer(RouterCommands.ring(RING_CAPACITY));
        final RoutingCounters counters = new RoutingCounters(Counters.inMemory());
        final DeliveryPublisher publisher = new DeliveryPublisher(new RingBuffer[]{ outbound },
            new Runnable[]{ () -> { } }, new BusySpinIdleStrategy(), counters.outboundRingFull);
        router = new RoutingAgent(inbound, publisher, clock, counters, 10, 100, 65_535, 3600,
            new PublishGate(), Long.MAX_VALUE, SharedSubscriptionPolicy.ROUND_ROBIN, log, Long.MAX_VALUE);
        router.replay();
        log.durable = log.sequence;
    }

    @Test
    void aMessageWhoseTargetsPassTheLimitIsAcknowledgedDeliveredAndReplayedToEveryTarget()
    {
        final int before = log.records.size();
        commands.publish(2, "t/a", 1, 10, new byte[0]);
        assertTrue(log.records.size() - before > 2, "cut into several records: " + (log.records.size() - before));
        assertEquals(SUBSCRIBERS, delivered, "every subscriber got it at once");
        assertFalse(out.contains("ack " + PacketType.PUBACK + " 10 " + ReasonCode.SUCCESS), "not durable yet");

        // Durable up to all but the last part: still held.
        log.durable = log.sequence - 1;
        pump();
        assertFalse(out.contains("ack " + PacketType.PUBACK + " 10 " + ReasonCode.SUCCESS), "held for the last part");
        log.durable = log.sequence;
        pump();
        assertTrue(out.contains("ack " + PacketType.PUBACK + " 10 " + ReasonCode.SUCCESS), "PUBACK: " + out);

        // Restart: every persistent subscriber is owed the message once more (never acknowledged by them).
        router.onClose();
        start();
        out.clear();
        delivered = 0;
        for (int i = 0; i < SUBSCRIBERS; i++)
        {
            commands.connect(10 + i, "sub" + i, 3600, 0, null, 0, false, MqttVersion.V5);
        }
        pump();
        assertEquals(SUBSCRIBERS, delivered, "after the restart every subscriber is owed it: " + out.size());
    }

    @Test
    void aMessageCutShortByACrashIsNeitherAcknowledgedNorDeliveredToPartOfItsTargets()
    {
        final int before = log.records.size();
        commands.publish(2, "t/a", 1, 10, new byte[0]);
        final int parts = log.records.size() - before;
        assertTrue(parts > 2, "cut into several records: " + parts);
        // kill -9 after the first parts reached the journal: the last one never did, so no PUBACK went out.
        log.durable = log.sequence - 1;
        pump();
        assertFalse(out.contains("ack " + PacketType.PUBACK + " 10 " + ReasonCode.SUCCESS));
        log.records.remove(log.records.size() - 1);

        router.onClose();
        start();
        out.clear();
        delivered = 0;
        for (int i = 0; i < SUBSCRIBERS; i++)
        {
            commands.connect(10 + i, "sub" + i, 3600, 0, null, 0, false, MqttVersion.V5);
        }
        pump();
        assertEquals(0, delivered, "no target gets it from a partial list");

        // The publisher sends it again (it never had its PUBACK): every subscriber gets it, acknowledged.
        commands.connect(2, "pub", 0, 0, null, 0, true, MqttVersion.V5);
        commands.publish(2, "t/a", 1, 10, new byte[0]);
        log.durable = log.sequence;
        pump();
        assertEquals(SUBSCRIBERS, delivered);
        assertTrue(out.contains("ack " + PacketType.PUBACK + " 10 " + ReasonCode.SUCCESS), "PUBACK: " + out);
    }

    @Test
    void aMessageNobodyIsOwedWritesNoRecordAndIsAcknowledgedAtOnce()
    {
        // In a cluster this is every message only forwarded: its FORWARD record is what the journal must keep.
        final int before = log.records.size();
        commands.publish(2, "elsewhere/a", 1, 11, new byte[0]);
        pump();
        assertEquals(before, log.records.size(), "no subscriber here: nothing to replay, no MESSAGE record");
        assertTrue(out.contains("ack " + PacketType.PUBACK + " 11 " + ReasonCode.NO_MATCHING_SUBSCRIBERS), "PUBACK: " + out);

        commands.connect(3, "qos0", 0, 0, null, 0, true, MqttVersion.V5);
        commands.subscribe(3, "elsewhere/#", 0, 0);
        commands.publish(2, "elsewhere/a", 1, 12, new byte[0]);
        pump();
        assertEquals(before, log.records.size(), "a QoS 0 subscriber is owed nothing after a restart");
        assertTrue(out.contains("publish elsewhere/a"), "delivered: " + out);

        commands.publish(2, "t/b", 1, 13, new byte[0]);
        assertTrue(log.records.size() > before, "persistent QoS 1 targets still get their record");
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
                delivered += buffer.getInt(index + Delivery.PUBLISH_COUNT_OFFSET);
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
        }, Integer.MAX_VALUE);
    }

    /** Keeps every record; refuses one longer than its limit as Aeron's publication does. */
    private static final class RecordingLog implements DurableLog
    {
        final int maxRecord;
        final List<byte[]> records = new ArrayList<>();
        long sequence;
        long durable;

        RecordingLog(final int maxRecord)
        {
            this.maxRecord = maxRecord;
        }

        public long append(final DirectBuffer buffer, final int offset, final int length)
        {
            if (length > maxRecord)
            {
                throw new IllegalArgumentException("message exceeds maxMessageLength of " + maxRecord + ", length=" +
                    length);
            }
            final byte[] copy = new byte[length];
            buffer.getBytes(offset, copy);
            records.add(copy);
            return ++sequence;
        }

        public int maxRecordLength()
        {
            return maxRecord;
        }

        public void beginCheckpoint()
        {
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

        public int doWork()
        {
            return 0;
        }

        public void replay(final Replayer replayer)
        {
            for (final byte[] record : records)
            {
                replayer.onRecord(new UnsafeBuffer(record), 0, record.length);
            }
        }

        public void close()
        {
        }
    }
}
