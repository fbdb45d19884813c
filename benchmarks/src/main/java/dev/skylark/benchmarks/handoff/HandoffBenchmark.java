/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.handoff;

import dev.skylark.benchmarks.BenchmarkJvm;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.jctools.queues.MessagePassingQueue;
import org.jctools.queues.MpscArrayQueue;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
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
 * The I/O-agent → routing-agent handoff, measured before choosing: Agrona {@link ManyToOneRingBuffer}
 * ({@code tryClaim}, encode in place, {@code commit}; what {@code RouterProxy} does) against a JCTools
 * {@link MpscArrayQueue} of pre-allocated message slots, with one and with two producers and one consumer.
 * <p>
 * Each message is a connection id plus {@code payloadLength} bytes copied from the producer's receive buffer (as a
 * decoded PUBLISH is). Both sides hold {@link #MESSAGES} messages of capacity. Read the {@code sent} and
 * {@code received} secondary results (successful handoffs per second; {@code full} counts producer attempts that
 * found the queue full); the primary score also counts those failed attempts. B/op must be ≈0 for both.
 * <p>
 * Slots of the JCTools variant: each producer owns {@code MESSAGES + 1} slots and reuses them round robin. The
 * queue is FIFO and holds at most {@code MESSAGES} elements, so once a producer has offered {@code MESSAGES} more
 * slots, an older slot has left the queue; no return queue is needed (the consumer reads a slot right after
 * polling it, a benign race for a benchmark whose payload values are not checked).
 * <p>
 * Two producers and a consumer are three busy threads: on a two-core machine they share cores, which is the
 * broker's situation too (I/O agents and the routing agent), so read the 2-producer figures as "this box".
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = { BenchmarkJvm.ADD_EXPORTS_MISC, BenchmarkJvm.ADD_EXPORTS_NIO })
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class HandoffBenchmark
{
    /** Messages each queue holds: a power of two. */
    static final int MESSAGES = 1024;
    static final int MSG_TYPE_ID = 2;
    static final int CONSUMER_LIMIT = 256;

    /** Successful handoffs, per thread, reported as ops/s. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counters
    {
        public long sent;
        public long received;
        public long full;

        @Setup(Level.Iteration)
        public void reset()
        {
            sent = 0;
            received = 0;
            full = 0;
        }
    }

    /** The producer's receive buffer holding the decoded message. */
    @State(Scope.Thread)
    public static class Source
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[4096]);
        long connectionId = Thread.currentThread().getId() << 8;
    }

    /** One slot of the JCTools variant. */
    static final class Slot
    {
        long connectionId;
        int length;
        final UnsafeBuffer bytes;

        Slot(final int capacity)
        {
            bytes = new UnsafeBuffer(new byte[capacity]);
        }
    }

    @State(Scope.Group)
    public static class Agrona
    {
        @Param({ "64", "512" })
        public int payloadLength;

        ManyToOneRingBuffer ring;
        final Sink sink = new Sink();

        @Setup(Level.Trial)
        public void setup()
        {
            final int recordLength = align(8 + 8 + 4 + payloadLength, 32);
            final int capacity = Integer.highestOneBit(MESSAGES * recordLength - 1) << 1;
            ring = new ManyToOneRingBuffer(new UnsafeBuffer(
                BufferUtil.allocateDirectAligned(capacity + RingBufferDescriptor.TRAILER_LENGTH, 64)));
        }
    }

    @State(Scope.Group)
    public static class JCTools
    {
        @Param({ "64", "512" })
        public int payloadLength;

        MpscArrayQueue<Slot> queue;
        final SlotSink sink = new SlotSink();

        @Setup(Level.Trial)
        public void setup()
        {
            queue = new MpscArrayQueue<>(MESSAGES);
        }
    }

    /** Per producer thread: its own ring of slots. */
    @State(Scope.Thread)
    public static class Slots
    {
        Slot[] slots;
        int next;

        @Setup(Level.Trial)
        public void setup(final JCTools jctools)
        {
            slots = new Slot[MESSAGES + 1];
            for (int i = 0; i < slots.length; i++)
            {
                slots[i] = new Slot(jctools.payloadLength);
            }
        }
    }

    static final class Sink implements MessageHandler
    {
        long checksum;

        public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
        {
            checksum += buffer.getLong(index) + buffer.getByte(index + length - 1);
        }
    }

    static final class SlotSink implements MessagePassingQueue.Consumer<Slot>
    {
        long checksum;

        public void accept(final Slot slot)
        {
            checksum += slot.connectionId + slot.bytes.getByte(slot.length - 1);
        }
    }

    // ---------------------------------------------------------------------------------------- Agrona, 1 producer

    @Benchmark
    @Group("agrona1")
    @GroupThreads(1)
    public boolean agrona1Producer(final Agrona state, final Source source, final Counters counters)
    {
        return offer(state, source, counters);
    }

    @Benchmark
    @Group("agrona1")
    @GroupThreads(1)
    public long agrona1Consumer(final Agrona state, final Counters counters)
    {
        return poll(state, counters);
    }

    // ---------------------------------------------------------------------------------------- Agrona, 2 producers

    @Benchmark
    @Group("agrona2")
    @GroupThreads(2)
    public boolean agrona2Producer(final Agrona state, final Source source, final Counters counters)
    {
        return offer(state, source, counters);
    }

    @Benchmark
    @Group("agrona2")
    @GroupThreads(1)
    public long agrona2Consumer(final Agrona state, final Counters counters)
    {
        return poll(state, counters);
    }

    // ---------------------------------------------------------------------------------------- JCTools, 1 producer

    @Benchmark
    @Group("jctools1")
    @GroupThreads(1)
    public boolean jctools1Producer(
        final JCTools state, final Slots slots, final Source source, final Counters counters)
    {
        return offer(state, slots, source, counters);
    }

    @Benchmark
    @Group("jctools1")
    @GroupThreads(1)
    public long jctools1Consumer(final JCTools state, final Counters counters)
    {
        return poll(state, counters);
    }

    // ---------------------------------------------------------------------------------------- JCTools, 2 producers

    @Benchmark
    @Group("jctools2")
    @GroupThreads(2)
    public boolean jctools2Producer(
        final JCTools state, final Slots slots, final Source source, final Counters counters)
    {
        return offer(state, slots, source, counters);
    }

    @Benchmark
    @Group("jctools2")
    @GroupThreads(1)
    public long jctools2Consumer(final JCTools state, final Counters counters)
    {
        return poll(state, counters);
    }

    // ---------------------------------------------------------------------------------------- the two handoffs

    private static boolean offer(final Agrona state, final Source source, final Counters counters)
    {
        final ManyToOneRingBuffer ring = state.ring;
        final int length = 8 + 4 + state.payloadLength;
        final int index = ring.tryClaim(MSG_TYPE_ID, length);
        if (index <= 0)
        {
            counters.full++;
            return false;
        }
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index, source.connectionId);
        buffer.putInt(index + 8, state.payloadLength);
        buffer.putBytes(index + 12, source.payload, 0, state.payloadLength);
        ring.commit(index);
        counters.sent++;
        return true;
    }

    private static long poll(final Agrona state, final Counters counters)
    {
        final int read = state.ring.read(state.sink, CONSUMER_LIMIT);
        counters.received += read;
        return state.sink.checksum;
    }

    private static boolean offer(final JCTools state, final Slots slots, final Source source, final Counters counters)
    {
        final Slot slot = slots.slots[slots.next];
        slot.connectionId = source.connectionId;
        slot.length = state.payloadLength;
        slot.bytes.putBytes(0, source.payload, 0, state.payloadLength);
        if (!state.queue.offer(slot))
        {
            counters.full++;
            return false;
        }
        if (++slots.next == slots.slots.length)
        {
            slots.next = 0;
        }
        counters.sent++;
        return true;
    }

    private static long poll(final JCTools state, final Counters counters)
    {
        final int read = state.queue.drain(state.sink, CONSUMER_LIMIT);
        counters.received += read;
        return state.sink.checksum;
    }

    private static int align(final int value, final int alignment)
    {
        return (value + alignment - 1) & -alignment;
    }
}
