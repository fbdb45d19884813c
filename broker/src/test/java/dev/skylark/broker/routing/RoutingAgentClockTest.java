package dev.skylark.broker.routing;

import dev.skylark.broker.status.Counters;
import dev.skylark.codec.mqtt.MqttVersion;
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

    private final RouterCommands.ControlledClock clock = new RouterCommands.ControlledClock();
    private final List<String> published = new ArrayList<>();
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
        router = new RoutingAgent(inbound, publisher, clock, counters, 10, 100, 65_535, Session.NEVER,
            new PublishGate(), Long.MAX_VALUE, SharedSubscriptionPolicy.ROUND_ROBIN, DurableLog.NONE, Long.MAX_VALUE);
        router.replay();
    }

    @Test
    void anOfflineSessionEndsExactlyWhenItsExpiryIntervalRunsOut()
    {
        commands.connect(1, "a", 2, 0, null, 0);
        commands.disconnect(1, DISCONNECT_NORMAL);
        assertEquals(1, router.sessionCount());

        at(2 * ONE_S - ONE_MS);
        assertEquals(1, router.sessionCount());
        at(2 * ONE_S + ONE_MS);
        assertEquals(0, router.sessionCount());
    }

    @Test
    void aResumedSessionDoesNotExpire()
    {
        commands.connect(1, "a", 2, 0, null, 0);
        commands.disconnect(1, DISCONNECT_NORMAL);
        at(ONE_S);
        commands.connect(2, "a", 2, 0, null, 0, false, MqttVersion.V5);
        at(10 * ONE_S);
        assertEquals(1, router.sessionCount());
    }

    @Test
    void aDelayedWillGoesExactlyWhenItsDelayRunsOut()
    {
        commands.connect(1, "sub", 0, 0, null, 0);
        commands.subscribe(1, "will/a", 0, 0);
        commands.connect(2, "a", 10, 3, "will/a", 0);
        commands.disconnect(2, DISCONNECT_WITH_WILL);

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
        commands.connect(1, "sub", 0, 0, null, 0);
        commands.subscribe(1, "will/a", 0, 0);
        commands.connect(2, "a", 2, 5, "will/a", 0);
        commands.disconnect(2, DISCONNECT_WITH_WILL);

        at(2 * ONE_S - ONE_MS);
        assertEquals(List.of(), published);
        at(2 * ONE_S + ONE_MS);
        assertEquals(List.of("will/a"), published);
        assertEquals(1, router.sessionCount());
    }

    @Test
    void reconnectingWithinTheWillDelayCancelsTheWill()
    {
        commands.connect(1, "sub", 0, 0, null, 0);
        commands.subscribe(1, "will/a", 0, 0);
        commands.connect(2, "a", 10, 3, "will/a", 0);
        commands.disconnect(2, DISCONNECT_WITH_WILL);
        at(3 * ONE_S - ONE_MS);
        commands.connect(3, "a", 10, 0, null, 0, false, MqttVersion.V5);
        at(20 * ONE_S);
        assertEquals(List.of(), published);
    }

    @Test
    void aQueuedCopyIsDeliveredOneMillisecondBeforeItExpires()
    {
        queueMessageExpiringIn2sForOfflineSubscriber();
        at(2 * ONE_S - ONE_MS);
        commands.connect(3, "sub", 60, 0, null, 0, false, MqttVersion.V5);
        assertEquals(List.of("t"), published);
        assertEquals(0, counters.expired.get());
    }

    @Test
    void aQueuedCopyIsDeletedOneMillisecondAfterItExpires()
    {
        queueMessageExpiringIn2sForOfflineSubscriber();
        at(2 * ONE_S + ONE_MS);
        commands.connect(3, "sub", 60, 0, null, 0, false, MqttVersion.V5);
        assertEquals(List.of(), published);
        assertEquals(1, counters.expired.get());
    }

    private void queueMessageExpiringIn2sForOfflineSubscriber()
    {
        commands.connect(1, "sub", 60, 0, null, 0);
        commands.subscribe(1, "t", 1, 0);
        commands.disconnect(1, DISCONNECT_NORMAL);
        commands.connect(2, "pub", 0, 0, null, 0);
        commands.publish(2, "t", 1, 7, new byte[]{ 0x02, 0, 0, 0, 2 }); // Message Expiry Interval 2 s
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

}
