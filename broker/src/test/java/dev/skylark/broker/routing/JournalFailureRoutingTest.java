package dev.skylark.broker.routing;

import dev.skylark.broker.status.Counters;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BusySpinIdleStrategy;
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

    private final RouterCommands.ControlledClock clock = new RouterCommands.ControlledClock();
    private final FaultyLog log = new FaultyLog();
    private final List<String> out = new ArrayList<>();
    private RingBuffer inbound;
    private RouterCommands commands;
    private RingBuffer outbound;
    private RoutingCounters counters;
    private RoutingAgent router;

    @BeforeEach
    void setUp()
    {
        clock.nowNs = START_NS;
        inbound = new ManyToOneRingBuffer(RouterCommands.ring(RING_CAPACITY));
        commands = new RouterCommands(inbound, this::pump);
        outbound = new OneToOneRingBuffer(RouterCommands.ring(RING_CAPACITY));
        counters = new RoutingCounters(Counters.inMemory());
        final DeliveryPublisher publisher = new DeliveryPublisher(new RingBuffer[]{ outbound },
            new Runnable[]{ () -> { } }, new BusySpinIdleStrategy(), counters.outboundRingFull);
        router = new RoutingAgent(inbound, publisher, clock, counters, 10, 100, 65_535, 3600,
            new PublishGate(), Long.MAX_VALUE, SharedSubscriptionPolicy.ROUND_ROBIN, log, Long.MAX_VALUE);
        router.replay();
        log.durable = log.sequence;
        commands.connect(1, "sub", 3600, 0, null, 0, true, MqttVersion.V5);
        commands.subscribe(1, "t/#", 1, 0);
        commands.connect(2, "pub5", 0, 0, null, 0, true, MqttVersion.V5);
        commands.connect(3, "pub3", 0, 0, null, 0, true, MqttVersion.V3_1_1);
        log.durable = log.sequence;
        pump();
        out.clear();
    }

    @Test
    void nothingIsAcknowledgedPastAFailedAppendAndAcknowledgementsResumeAfterARecoveryCheckpoint()
    {
        // Appended but not yet durable when the journal fails: held, not acknowledged.
        commands.publish(2, "t/a", 1, 10, new byte[0]);
        assertEquals(List.of("publish t/a"), out);
        out.clear();
        log.failing = true;
        at(200 * ONE_MS);
        assertEquals(1, counters.journal.failing.get());

        // v5 QoS 1 and QoS 2: refused with 0x83 at once, not routed; 3.1.1 QoS 1: disconnected, no PUBACK.
        commands.publish(2, "t/a", 1, 11, new byte[0]);
        commands.publish(2, "t/a", 2, 12, new byte[0]);
        commands.publish(3, "t/a", 1, 13, new byte[0]);
        assertEquals(List.of(
            "ack " + PacketType.PUBACK + " 11 " + ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR,
            "ack " + PacketType.PUBREC + " 12 " + ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR,
            "disconnect " + RouterCommands.connectionId(3)), out);
        assertEquals(3, counters.journal.publishesRefused.get());
        out.clear();

        // QoS 0 keeps flowing.
        commands.publish(2, "t/zero", 0, 0, new byte[0]);
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
        commands.publish(2, "t/a", 1, 14, new byte[0]);
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
