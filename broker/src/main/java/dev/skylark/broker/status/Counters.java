package dev.skylark.broker.status;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Allocates the broker's counters. Each counter has a metric name (its key, e.g. {@code skylark_messages_sent_total}),
 * an optional {@code io} label for per-I/O-thread counters (each has a single writer: no contention on the hot path)
 * or another single label such as {@code reason} (one counter per value), a kind (counter or gauge) as its type id,
 * and a human label shown by {@code skylark stat}.
 */
public final class Counters
{
    /** Type id of monotonically increasing counters. */
    public static final int COUNTER = 1;
    /** Type id of values that go up and down. */
    public static final int GAUGE = 2;

    private final CountersManager manager;

    public Counters(final CountersManager manager)
    {
        this.manager = manager;
    }

    /** Counters on the heap only, for tests and benchmarks. */
    public static Counters inMemory()
    {
        final int counters = 1024;
        return new Counters(new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(counters * CountersReader.METADATA_LENGTH)),
            new UnsafeBuffer(ByteBuffer.allocateDirect(counters * CountersReader.COUNTER_LENGTH)),
            StandardCharsets.UTF_8));
    }

    public AtomicCounter counter(final String name, final String label, final String io)
    {
        return allocate(COUNTER, name, label, io);
    }

    /**
     * One series of a counter split by a label, e.g. {@code skylark_queue_dropped_total{reason="bytes"}}; every series
     * of one metric must have the same {@code label} (it becomes the metric's help).
     */
    public AtomicCounter counter(final String name, final String label, final String labelName, final String labelValue)
    {
        return allocate(COUNTER, name + "{" + labelName + "=\"" + labelValue + "\"}", label + " (" + labelValue + ")");
    }

    /** One series of a per-I/O-thread counter split by a further label, e.g. {@code {type="publish",io="0"}}. */
    public AtomicCounter counter(final String name, final String label, final String labelName, final String labelValue,
        final String io)
    {
        return allocate(COUNTER, name + "{" + labelName + "=\"" + labelValue + "\",io=\"" + io + "\"}",
            label + " (" + labelValue + ", io-" + io + ")");
    }

    /** One series of a per-I/O-thread gauge split by a further label, e.g. {@code {transport="ws",io="0"}}. */
    public AtomicCounter gauge(final String name, final String label, final String labelName, final String labelValue,
        final String io)
    {
        return allocate(GAUGE, name + "{" + labelName + "=\"" + labelValue + "\",io=\"" + io + "\"}",
            label + " (" + labelValue + ", io-" + io + ")");
    }

    public AtomicCounter gauge(final String name, final String label, final String io)
    {
        return allocate(GAUGE, name, label, io);
    }

    private AtomicCounter allocate(final int typeId, final String name, final String label, final String io)
    {
        return io == null ? allocate(typeId, name, label) :
            allocate(typeId, name + "{io=\"" + io + "\"}", label + " (io-" + io + ")");
    }

    private AtomicCounter allocate(final int typeId, final String key, final String label)
    {
        final byte[] keyBytes = key.getBytes(StandardCharsets.US_ASCII);
        final byte[] labelBytes = label.getBytes(StandardCharsets.UTF_8);
        return manager.newCounter(typeId,
            new UnsafeBuffer(keyBytes), 0, keyBytes.length,
            new UnsafeBuffer(labelBytes), 0, labelBytes.length);
    }

    /** The metric name and labels stored as a counter's key. */
    public static String key(final org.agrona.DirectBuffer keyBuffer)
    {
        final int end = indexOfZero(keyBuffer);
        return keyBuffer.getStringWithoutLengthAscii(0, end);
    }

    private static int indexOfZero(final org.agrona.DirectBuffer buffer)
    {
        for (int i = 0; i < CountersReader.MAX_KEY_LENGTH; i++)
        {
            if (buffer.getByte(i) == 0)
            {
                return i;
            }
        }
        return CountersReader.MAX_KEY_LENGTH;
    }
}
