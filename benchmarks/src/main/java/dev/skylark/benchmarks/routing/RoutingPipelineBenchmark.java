/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.routing;

import dev.skylark.benchmarks.BenchmarkJvm;
import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.routing.ConnectRequest;
import dev.skylark.broker.routing.Delivery;
import dev.skylark.broker.routing.DeliveryPublisher;
import dev.skylark.broker.routing.MessageLayout;
import dev.skylark.broker.routing.RouterCommand;
import dev.skylark.broker.routing.DurableLog;
import dev.skylark.broker.routing.PublishGate;
import dev.skylark.broker.status.Counters;
import dev.skylark.broker.routing.RouterProxy;
import dev.skylark.broker.routing.SharedSubscriptionPolicy;
import dev.skylark.broker.routing.RoutingAgent;
import dev.skylark.broker.routing.RoutingCounters;
import dev.skylark.broker.routing.SignalledIdleStrategy;
import dev.skylark.broker.routing.SubscriptionOptions;
import dev.skylark.codec.mqtt.PublishView;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * In-process routing pipeline, one thread, no sockets: a decoded QoS 0 PUBLISH goes through
 * {@link RouterProxy#publish} into the inbound {@link ManyToOneRingBuffer}, {@link RoutingAgent#doWork()} matches it
 * in the topic tree and writes the delivery record through {@link DeliveryPublisher} into the I/O agent's
 * {@link OneToOneRingBuffer}, and a consumer walks that record's per-subscriber entries as {@code MqttProtocol} does.
 * One operation = one message fanned out to {@code subscribers} subscribers of {@code devices/+/telemetry}.
 * <p>
 * It stops at the delivery ring: the last step ({@code MqttProtocol.onMessage → MqttConnectionHandler.deliver →
 * Connection} outbound buffer) cannot be driven without sockets, because {@code MqttProtocol} finds handlers through
 * {@code IoAgent.connection(id)} and a {@code Connection} (a final class with a package-private constructor) is only
 * made by {@code IoAgent.register} from an accepted {@code SocketChannel}. {@code FanOutEncodeBenchmark} measures
 * that encode step on its own.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = { BenchmarkJvm.ADD_EXPORTS_MISC, BenchmarkJvm.ADD_EXPORTS_NIO })
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class RoutingPipelineBenchmark
{
    private static final int RING_CAPACITY = 4 * 1024 * 1024;
    private static final String FILTER = "devices/+/telemetry";

    @Param({ "1", "100" })
    public int subscribers;

    @Param({ "64" })
    public int payloadLength;

    private final UnsafeBuffer topic = new UnsafeBuffer("devices/7/telemetry".getBytes(StandardCharsets.US_ASCII));
    private final EntryWalker walker = new EntryWalker();
    private UnsafeBuffer payload;
    private RingBuffer inbound;
    private RingBuffer outbound;
    private RouterProxy proxy;
    private final PublishView view = new PublishView();
    private RoutingAgent router;
    private long publisherId;

    @Setup
    public void setup()
    {
        payload = new UnsafeBuffer(new byte[payloadLength]);
        inbound = new ManyToOneRingBuffer(ring());
        outbound = new OneToOneRingBuffer(ring());
        final SignalledIdleStrategy routerIdle = new SignalledIdleStrategy(() -> inbound.size() > 0);
        final PublishGate gate = new PublishGate();
        final RoutingCounters counters = new RoutingCounters(Counters.inMemory());
        proxy = new RouterProxy(inbound, routerIdle::signal, gate);
        final DeliveryPublisher publisher = new DeliveryPublisher(new RingBuffer[]{ outbound },
            new Runnable[]{ () -> { } }, new BusySpinIdleStrategy(), counters.outboundRingFull);
        router = new RoutingAgent(inbound, publisher, SystemNanoClock.INSTANCE, counters,
            100, 1000, 65535, 0, gate, Long.MAX_VALUE, SharedSubscriptionPolicy.ROUND_ROBIN, DurableLog.NONE,
            Long.MAX_VALUE);

        for (int i = 0; i <= subscribers; i++)
        {
            final long connectionId = connectionId(i);
            final ConnectRequest request = new ConnectRequest();
            request.version = 4;
            request.cleanStart = true;
            request.maxPacketSize = 1 << 20;
            request.clientId = ("bench-" + i).getBytes(StandardCharsets.US_ASCII);
            check(proxy.connect(connectionId, request), "connect");
            if (i > 0)
            {
                subscribe(connectionId);
            }
            pump();
        }
        publisherId = connectionId(0);
        check(walker.entries == 0, "no deliveries before the benchmark");
    }

    @TearDown
    public void tearDown()
    {
        router.onClose();
    }

    @Benchmark
    public long publishRouteDeliver()
    {
        proxy.publish(publisherId, view.topic(topic, 0, topic.capacity()).payload(payload, 0, payloadLength));
        router.doWork();
        outbound.read(walker, Integer.MAX_VALUE);

        return walker.entries;
    }

    private void subscribe(final long connectionId)
    {
        final byte[] filter = FILTER.getBytes(StandardCharsets.US_ASCII);
        final int index = inbound.tryClaim(RouterCommand.SUBSCRIBE, RouterCommand.SUBSCRIBE_ENTRIES_OFFSET + 4 + filter.length);
        check(index > 0, "subscribe claim");
        final MutableDirectBuffer buffer = inbound.buffer();
        buffer.putLong(index + RouterCommand.CONNECTION_ID_OFFSET, connectionId);
        buffer.putShort(index + RouterCommand.PACKET_ID_OFFSET, (short)1);
        buffer.putShort(index + RouterCommand.SUBSCRIBE_COUNT_OFFSET, (short)1);
        buffer.putInt(index + RouterCommand.SUBSCRIBE_SUBSCRIPTION_ID_OFFSET, 0);
        final int entry = index + RouterCommand.SUBSCRIBE_ENTRIES_OFFSET;
        buffer.putByte(entry, (byte)SubscriptionOptions.ofQos(0));
        buffer.putByte(entry + 1, (byte)0);
        buffer.putShort(entry + 2, (short)filter.length);
        buffer.putBytes(entry + 4, filter);
        inbound.commit(index); // written by hand: the benchmark has no SUBSCRIBE packet to hand RouterProxy
    }

    private void pump()
    {
        while (router.doWork() > 0 || outbound.read(walker.control, Integer.MAX_VALUE) > 0)
        {
            // drain CONNACK/SUBACK records
        }
    }

    private static long connectionId(final int i)
    {
        final long id = (long)(i + 1) << IoAgent.AGENT_INDEX_BITS;
        check(IoAgent.agentIndexOf(id) == 0, "agent 0");
        return id;
    }

    private static UnsafeBuffer ring()
    {
        return new UnsafeBuffer(BufferUtil.allocateDirectAligned(RING_CAPACITY + RingBufferDescriptor.TRAILER_LENGTH, 64));
    }

    private static void check(final boolean condition, final String what)
    {
        if (!condition)
        {
            throw new IllegalStateException("setup failed: " + what);
        }
    }

    /** Walks a delivery record's per-subscriber entries as {@code MqttProtocol.onPublish} does. */
    static final class EntryWalker implements MessageHandler
    {
        long entries;
        long checksum;
        final MessageHandler control = (msgTypeId, buffer, index, length) -> { };

        public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
        {
            if (msgTypeId != Delivery.PUBLISH)
            {
                return;
            }
            final int count = buffer.getInt(index + Delivery.PUBLISH_COUNT_OFFSET);
            final int messageOffset = index + Delivery.PUBLISH_MESSAGE_OFFSET;
            int entry = messageOffset + MessageLayout.length(buffer, messageOffset);
            for (int i = 0; i < count; i++)
            {
                checksum += buffer.getLong(entry + Delivery.ENTRY_CONNECTION_ID_OFFSET) +
                    buffer.getByte(entry + Delivery.ENTRY_QOS_OFFSET);
                entry += Delivery.ENTRY_SUBSCRIPTION_IDS_OFFSET +
                    buffer.getInt(entry + Delivery.ENTRY_SUBSCRIPTION_ID_COUNT_OFFSET) * 4;
            }
            entries += count;
        }
    }
}
