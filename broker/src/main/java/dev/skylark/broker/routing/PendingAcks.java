package dev.skylark.broker.routing;

/**
 * Acknowledgements to publishers (PUBACK, PUBREC, PUBCOMP) held until the journal has made durable everything
 * appended before them, in the order they were queued. A growable ring of parallel arrays: no allocation once
 * warmed up.
 */
final class PendingAcks
{
    private long[] sequences = new long[1024];
    private long[] connectionIds = new long[1024];
    private int[] packed = new int[1024];
    private int head;
    private int size;

    boolean isEmpty()
    {
        return size == 0;
    }

    int size()
    {
        return size;
    }

    /** True when the oldest held ack may go out. */
    boolean hasReady(final long durableSequence)
    {
        return size > 0 && sequences[head] <= durableSequence;
    }

    void add(final long sequence, final long connectionId, final int packetType, final int packetId, final int reason)
    {
        if (size == sequences.length)
        {
            grow();
        }
        final int index = (head + size) & (sequences.length - 1);
        sequences[index] = sequence;
        connectionIds[index] = connectionId;
        packed[index] = (packetType << 24) | ((reason & 0xFF) << 16) | (packetId & 0xFFFF);
        size++;
    }

    /** Sends every held ack whose record is durable; returns how many. */
    int release(final long durableSequence, final DeliveryPublisher out)
    {
        int released = 0;
        while (size > 0 && sequences[head] <= durableSequence)
        {
            final int value = packed[head];
            out.ack(connectionIds[head], value >>> 24, value & 0xFFFF, (value >>> 16) & 0xFF);
            head = (head + 1) & (sequences.length - 1);
            size--;
            released++;
        }
        return released;
    }

    private void grow()
    {
        final int capacity = sequences.length;
        final long[] newSequences = new long[capacity * 2];
        final long[] newConnectionIds = new long[capacity * 2];
        final int[] newPacked = new int[capacity * 2];
        for (int i = 0; i < size; i++)
        {
            final int index = (head + i) & (capacity - 1);
            newSequences[i] = sequences[index];
            newConnectionIds[i] = connectionIds[index];
            newPacked[i] = packed[index];
        }
        sequences = newSequences;
        connectionIds = newConnectionIds;
        packed = newPacked;
        head = 0;
    }
}
