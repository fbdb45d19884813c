package dev.skylark.benchmarks.routing;

import dev.skylark.broker.routing.MatchResult;
import dev.skylark.broker.routing.SubscriptionOptions;
import dev.skylark.broker.routing.TopicTree;
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
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Matching a telemetry topic {@code devices/<id>/telemetry} against a realistic subscription mix:
 * <ul>
 *     <li>most subscriptions exact, one per device: {@code devices/<id>/telemetry};</li>
 *     <li>one in ten devices also followed by {@code devices/<id>/#} (a device twin / debugger);</li>
 *     <li>a few dashboards on {@code devices/+/telemetry}, {@code devices/#}, {@code +/+/telemetry};</li>
 *     <li>a couple of {@code #} loggers and a shared group of workers on {@code $share/ingest/devices/+/telemetry}.</li>
 * </ul>
 * Expect ≈0 B/op with {@code -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = { BenchmarkJvm.ADD_EXPORTS_MISC, BenchmarkJvm.ADD_EXPORTS_NIO })
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class TopicTreeBenchmark
{
    private static final int TOPIC_COUNT = 1024;

    @Param({ "1000", "100000" })
    public int subscriptions;

    private final TopicTree tree = new TopicTree();
    private final MatchResult result = new MatchResult();
    private final UnsafeBuffer[] topics = new UnsafeBuffer[TOPIC_COUNT];
    private int next;

    @Setup
    public void setup()
    {
        final Random random = new Random(42);
        final int qos1 = SubscriptionOptions.ofQos(1);
        int session = 0;
        int added = 0;
        int device = 0;
        while (added < subscriptions - 16)
        {
            tree.subscribe("devices/" + device + "/telemetry", session++, qos1, 0);
            added++;
            if (device % 10 == 0)
            {
                tree.subscribe("devices/" + device + "/#", session++, SubscriptionOptions.ofQos(0), 7);
                added++;
            }
            device++;
        }

        for (int i = 0; i < 5; i++)
        {
            tree.subscribe("devices/+/telemetry", session, qos1, 1);
            tree.subscribe("devices/#", session++, SubscriptionOptions.ofQos(0), 2);
        }
        tree.subscribe("+/+/telemetry", session++, qos1, 0);
        tree.subscribe("#", session++, SubscriptionOptions.ofQos(0), 0);
        tree.subscribe("#", session++, SubscriptionOptions.ofQos(0), 0);
        for (int i = 0; i < 4; i++)
        {
            tree.subscribe("$share/ingest/devices/+/telemetry", session++, qos1, 0);
        }

        for (int i = 0; i < TOPIC_COUNT; i++)
        {
            final String topic = "devices/" + random.nextInt(device) + "/telemetry";
            topics[i] = new UnsafeBuffer(topic.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Benchmark
    public int match()
    {
        final UnsafeBuffer topic = topics[next++ & (TOPIC_COUNT - 1)];
        tree.match(topic, 0, topic.capacity(), -1, result);
        return result.size();
    }

    @Benchmark
    public int matchNoSubscriber()
    {
        final UnsafeBuffer topic = topics[next++ & (TOPIC_COUNT - 1)];
        // first level "evices": only the '#' and '+/+/telemetry' subscriptions match
        tree.match(topic, 1, topic.capacity() - 1, -1, result);
        return result.size();
    }
}
