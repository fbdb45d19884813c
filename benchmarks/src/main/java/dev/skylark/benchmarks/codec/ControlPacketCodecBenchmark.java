package dev.skylark.benchmarks.codec;

import dev.skylark.codec.mqtt.ConnectDecoder;
import dev.skylark.codec.mqtt.ConnectEncoder;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PropertiesEncoder;
import dev.skylark.codec.mqtt.SubscribeDecoder;
import dev.skylark.codec.mqtt.SubscribeEncoder;
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
 * CONNECT decode/encode and SUBSCRIBE decode (with entry iteration and filter validation).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = { BenchmarkJvm.ADD_EXPORTS_MISC, BenchmarkJvm.ADD_EXPORTS_NIO })
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class ControlPacketCodecBenchmark
{
    @Param({"4", "5"})
    public int version;

    private final ConnectDecoder connectDecoder = new ConnectDecoder();
    private final ConnectEncoder connectEncoder = new ConnectEncoder();
    private final SubscribeDecoder subscribeDecoder = new SubscribeDecoder();
    private final UnsafeBuffer connect = new UnsafeBuffer(new byte[1024]);
    private final UnsafeBuffer subscribe = new UnsafeBuffer(new byte[1024]);
    private final UnsafeBuffer out = new UnsafeBuffer(new byte[1024]);
    private final UnsafeBuffer properties = new UnsafeBuffer(new byte[256]);
    private final UnsafeBuffer clientId = utf8("device-000042");
    private final UnsafeBuffer userName = utf8("device-000042");
    private final UnsafeBuffer password = utf8("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJkZXZpY2UtMDAwMDQyIn0.c2lnbmF0dXJl");
    private final UnsafeBuffer willTopic = utf8("devices/device-000042/status");
    private final UnsafeBuffer willPayload = utf8("offline");
    private int propertiesLength;
    private int connectLength;
    private int subscribeLength;

    private static UnsafeBuffer utf8(final String s)
    {
        return new UnsafeBuffer(s.getBytes(StandardCharsets.UTF_8));
    }

    @Setup
    public void setup()
    {
        propertiesLength = MqttVersion.isV5(version) ? new PropertiesEncoder().wrap(properties, 0)
            .sessionExpiryInterval(3600).receiveMaximum(100).topicAliasMaximum(10).length() : 0;
        configureConnect();
        connectLength = connectEncoder.encode(connect, 0);
        subscribeLength = new SubscribeEncoder().subscribe(version, 9)
            .filter("devices/+/status", 1)
            .filter("commands/device-000042/#", 2)
            .filter("$share/workers/jobs/+", 1)
            .encode(subscribe, 0);
    }

    private void configureConnect()
    {
        connectEncoder.reset().version(version).keepAlive(60).cleanStart(true)
            .properties(properties, 0, propertiesLength)
            .clientId(clientId, 0, clientId.capacity())
            .will(1, false).willTopic(willTopic, 0, willTopic.capacity())
            .willPayload(willPayload, 0, willPayload.capacity())
            .userName(userName, 0, userName.capacity())
            .password(password, 0, password.capacity());
    }

    @Benchmark
    public int decodeConnect()
    {
        final int result = connectDecoder.wrap(connect, 0, connectLength);
        return result + connectDecoder.keepAlive() + connectDecoder.clientIdLength() +
            connectDecoder.passwordLength() + (int)connectDecoder.sessionExpiryInterval();
    }

    @Benchmark
    public int encodeConnect()
    {
        configureConnect();
        return connectEncoder.encode(out, 0);
    }

    @Benchmark
    public int decodeSubscribe()
    {
        int sum = subscribeDecoder.wrap(subscribe, 0, subscribeLength, version);
        while (subscribeDecoder.nextEntry())
        {
            sum += subscribeDecoder.qos() + subscribeDecoder.filterLength() + subscribeDecoder.filterStatus();
        }
        return sum;
    }
}
