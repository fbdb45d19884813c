package dev.skylark.broker.routing;

import dev.skylark.broker.net.IoAgent;
import org.agrona.BufferUtil;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue #15, the delivery side of a long target list: one message's subscribers of an I/O agent go in one ring record
 * up to 64 KB of entries, and an entry grows 4 bytes a subscription identifier. Against a ring whose largest record
 * is smaller than message + entries the record is now cut before it passes it, instead of the claim throwing.
 */
class DeliveryBatchLimitTest
{
    @Test
    void aBatchIsCutBeforeItPassesWhatTheRingTakes()
    {
        final int capacity = 64 * 1024; // largest record: 8 KB
        final RingBuffer ring = new OneToOneRingBuffer(new UnsafeBuffer(
            BufferUtil.allocateDirectAligned(capacity + RingBufferDescriptor.TRAILER_LENGTH, 64)));
        final AtomicCounter waits = new CountersManager(new UnsafeBuffer(new byte[64 * 1024]),
            new UnsafeBuffer(new byte[8 * 1024])).newCounter("waits");
        final DeliveryPublisher publisher = new DeliveryPublisher(new RingBuffer[]{ ring },
            new Runnable[]{ () -> { } }, new BusySpinIdleStrategy(), waits);
        final byte[] message = new byte[4 * 1024];
        final int[] ids = new int[100];
        final int subscribers = 10; // 10 x (16 + 400) bytes of entries beside a 4 KB message: past 8 KB
        publisher.beginBatch(new UnsafeBuffer(message), 0, message.length);
        for (int i = 0; i < subscribers; i++)
        {
            publisher.addEntry((long)(i + 1) << IoAgent.AGENT_INDEX_BITS, i + 1, 1, 0, ids, 0, ids.length);
        }
        publisher.endBatch();

        final int[] counts = new int[2]; // records, entries
        ring.read((type, buffer, index, length) ->
        {
            assertTrue(length <= ring.maxMsgLength(), length + " <= " + ring.maxMsgLength());
            counts[0]++;
            counts[1] += buffer.getInt(index + Delivery.PUBLISH_COUNT_OFFSET);
        }, Integer.MAX_VALUE);
        assertEquals(subscribers, counts[1], "every subscriber once");
        assertTrue(counts[0] >= 2, "cut into records: " + counts[0]);
    }
}
