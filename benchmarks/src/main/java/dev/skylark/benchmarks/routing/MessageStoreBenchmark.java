package dev.skylark.benchmarks.routing;

import dev.skylark.broker.routing.MessageStore;
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

import java.util.concurrent.TimeUnit;

/**
 * Steady state store then release of a message held in a window of in-flight messages: ≈0 B/op expected.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = { BenchmarkJvm.ADD_EXPORTS_MISC, BenchmarkJvm.ADD_EXPORTS_NIO })
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class MessageStoreBenchmark
{
    private static final int WINDOW = 256;

    @Param({ "100", "2000" })
    public int length;

    private final MessageStore store = new MessageStore();
    private final long[] window = new long[WINDOW];
    private final UnsafeBuffer source = new UnsafeBuffer(new byte[4096]);
    private int next;

    @Setup
    public void setup()
    {
        for (int i = 0; i < WINDOW; i++)
        {
            window[i] = store.store(source, 0, length);
        }
    }

    @Benchmark
    public long storeRelease()
    {
        final int index = next++ & (WINDOW - 1);
        store.release(window[index]);
        final long handle = store.store(source, 0, length);
        window[index] = handle;
        return handle;
    }
}
