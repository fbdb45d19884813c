/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.fanout;

import dev.skylark.benchmarks.BenchmarkJvm;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PublishEncoder;
import dev.skylark.codec.mqtt.PublishView;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
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
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Encode-once fan-out: one routed message (topic, payload) becomes a PUBLISH in the outbound buffer of each of
 * {@code subscribers} subscribers. One operation = the whole fan-out of one message; deliveries/s = ops/s ×
 * subscribers. B/op must be ≈0.
 * <ul>
 *     <li>{@link #encodeOnce}: {@link PublishEncoder#encode} once into a scratch buffer, then per subscriber a copy
 *     and, at QoS 1, {@link PublishEncoder#patchPacketId} with that subscriber's packet id (STYLE habit 9);</li>
 *     <li>{@link #encodePerSubscriber}: the baseline, a full {@link PublishEncoder#encode} per subscriber.</li>
 * </ul>
 * Each subscriber's outbound buffer is 64 KiB, direct, and rewound when the next message would not fit (the socket
 * write that would empty it in the broker is not part of this benchmark).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = { BenchmarkJvm.ADD_EXPORTS_MISC, BenchmarkJvm.ADD_EXPORTS_NIO })
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class FanOutEncodeBenchmark
{
    private static final int OUTBOUND_CAPACITY = 64 * 1024;
    private final PublishView view = new PublishView();

    @Param({ "1", "100", "1000" })
    public int subscribers;

    @Param({ "0", "1" })
    public int qos;

    @Param({ "64" })
    public int payloadLength;

    private final UnsafeBuffer topic = new UnsafeBuffer("devices/42/telemetry".getBytes(StandardCharsets.US_ASCII));
    private final UnsafeBuffer scratch = new UnsafeBuffer(BufferUtil.allocateDirectAligned(4096, 64));
    private UnsafeBuffer payload;
    private UnsafeBuffer[] outbound;
    private int[] positions;
    private int[] packetIds;
    private int flags;

    @Setup
    public void setup()
    {
        payload = new UnsafeBuffer(new byte[payloadLength]);
        outbound = new UnsafeBuffer[subscribers];
        positions = new int[subscribers];
        packetIds = new int[subscribers];
        for (int i = 0; i < subscribers; i++)
        {
            outbound[i] = new UnsafeBuffer(BufferUtil.allocateDirectAligned(OUTBOUND_CAPACITY, 64));
            packetIds[i] = 1 + i % 65535;
        }
        flags = PublishEncoder.flags(qos, false, false);
    }

    @Benchmark
    public long encodeOnce()
    {
        final int length = PublishEncoder.encode(scratch, 0, MqttVersion.V3_1_1,
            view.reset().headerFlags(flags).packetId(0)
                .topic(topic, 0, topic.capacity()).payload(payload, 0, payloadLength));
        final int packetIdOffset = qos > 0 ? PublishEncoder.packetIdOffset(scratch, 0) : -1;
        long bytes = 0;
        for (int i = 0; i < subscribers; i++)
        {
            final UnsafeBuffer out = outbound[i];
            final int position = reserve(i, length);
            out.putBytes(position, scratch, 0, length);
            if (packetIdOffset >= 0)
            {
                out.putShort(position + packetIdOffset, (short)nextPacketId(i), ByteOrder.BIG_ENDIAN);
            }
            positions[i] = position + length;
            bytes += length;
        }

        return bytes;
    }

    @Benchmark
    public long encodePerSubscriber()
    {
        final int length = PublishEncoder.encodedLength(MqttVersion.V3_1_1, qos, topic.capacity(), 0, payloadLength);
        long bytes = 0;
        for (int i = 0; i < subscribers; i++)
        {
            final int position = reserve(i, length);
            final int written = PublishEncoder.encode(outbound[i], position, MqttVersion.V3_1_1,
                view.reset().headerFlags(flags).packetId(qos > 0 ? nextPacketId(i) : 0)
                    .topic(topic, 0, topic.capacity()).payload(payload, 0, payloadLength));
            positions[i] = position + written;
            bytes += written;
        }

        return bytes;
    }

    private int reserve(final int subscriber, final int length)
    {
        final int position = positions[subscriber];
        return position + length > OUTBOUND_CAPACITY ? 0 : position;
    }

    private int nextPacketId(final int subscriber)
    {
        final int id = packetIds[subscriber];
        packetIds[subscriber] = id == 65535 ? 1 : id + 1;
        return id;
    }
}
