package dev.skylark.benchmarks.codec;

import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PropertiesEncoder;
import dev.skylark.codec.mqtt.PublishDecoder;
import dev.skylark.codec.mqtt.PublishEncoder;
import dev.skylark.codec.mqtt.PublishView;
import dev.skylark.benchmarks.BenchmarkJvm;
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

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * PUBLISH decode and encode, MQTT 3.1.1 and 5.0; both must allocate nothing (-prof gc: ≈0 B/op).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = { BenchmarkJvm.ADD_EXPORTS_MISC, BenchmarkJvm.ADD_EXPORTS_NIO })
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class PublishCodecBenchmark
{
    @Param({"4", "5"})
    public int version;

    @Param({"64", "1024"})
    public int payloadSize;

    private final PublishDecoder decoder = new PublishDecoder();
    private final PublishView view = new PublishView();
    private final UnsafeBuffer packet = new UnsafeBuffer(new byte[4096]);
    private final UnsafeBuffer out = new UnsafeBuffer(new byte[4096]);
    private final UnsafeBuffer topic = new UnsafeBuffer("sensors/building-7/floor-3/temperature"
        .getBytes(StandardCharsets.UTF_8));
    private final UnsafeBuffer properties = new UnsafeBuffer(new byte[256]);
    private UnsafeBuffer payload;
    private int propertiesLength;
    private int packetLength;

    @Setup
    public void setup()
    {
        payload = new UnsafeBuffer(new byte[payloadSize]);
        propertiesLength = MqttVersion.isV5(version) ?
            new PropertiesEncoder().wrap(properties, 0)
                .messageExpiryInterval(60).payloadFormatIndicator(0).userProperty("trace", "abc123").length() : 0;
        packetLength = PublishEncoder.encode(packet, 0, version,
            view.reset().flags(1, false, false).packetId(17)
                .topic(topic, 0, topic.capacity()).properties(properties, 0, propertiesLength)
                .payload(payload, 0, payloadSize));
    }

    @Benchmark
    public int decodePublish()
    {
        final int result = decoder.wrap(packet, 0, packetLength, version);
        return result + decoder.qos() + decoder.packetId() + decoder.topicLength() + decoder.payloadLength() +
            (int)decoder.messageExpiryInterval() + decoder.propertiesLength();
    }

    @Benchmark
    public int encodePublish()
    {
        return PublishEncoder.encode(out, 0, version,
            view.reset().flags(1, false, false).packetId(17)
                .topic(topic, 0, topic.capacity()).properties(properties, 0, propertiesLength)
                .payload(payload, 0, payloadSize));
    }
}
