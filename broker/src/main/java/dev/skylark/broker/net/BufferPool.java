package dev.skylark.broker.net;

import org.agrona.BufferUtil;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Direct buffers shared by one I/O agent's connections, so an idle connection holds none: a connection takes one
 * while it has bytes to assemble or to write and gives it back when empty. Buffers come in power-of-two size
 * classes from the base size up; larger ones (grown for big packets or a reader's backlog) are kept too, within a
 * byte budget, because allocating a direct buffer per large message costs far more than the message itself (zeroed
 * memory, a Cleaner, and GC pressure). Single threaded (the agent's).
 */
final class BufferPool
{
    static final int BUFFER_SIZE = 4096;
    /** Base-size buffers kept for reuse. */
    private static final int MAX_POOLED = 4096;
    /** Size classes above the base: base << 1 .. base << LARGE_CLASSES (4 KiB base: up to 64 MiB). */
    private static final int LARGE_CLASSES = 14;
    /** Bytes of larger-than-base buffers kept for reuse, all classes together. */
    private static final long LARGE_POOLED_BYTES_MAX = 32L * 1024 * 1024;

    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    @SuppressWarnings("unchecked")
    private final ArrayDeque<ByteBuffer>[] largeFree = new ArrayDeque[LARGE_CLASSES + 1];
    private final int bufferSize;
    private long largePooledBytes;

    BufferPool()
    {
        this(BUFFER_SIZE);
    }

    /** A pool of buffers of another base size (e.g. TLS record buffers). */
    BufferPool(final int bufferSize)
    {
        this.bufferSize = (bufferSize + 63) & ~63;
    }

    int bufferSize()
    {
        return bufferSize;
    }

    /** A cleared buffer of the base size. */
    ByteBuffer acquire()
    {
        final ByteBuffer buffer = free.pollFirst();
        return buffer != null ? buffer.clear() : BufferUtil.allocateDirectAligned(bufferSize, 64);
    }

    /** A cleared buffer of at least {@code minCapacity} bytes: the base size doubled as often as needed. */
    ByteBuffer acquire(final int minCapacity)
    {
        if (minCapacity <= bufferSize)
        {
            return acquire();
        }
        int sizeClass = 1;
        long capacity = (long)bufferSize << 1;
        while (capacity < minCapacity)
        {
            capacity <<= 1;
            sizeClass++;
        }
        if (capacity > Integer.MAX_VALUE - 64)
        {
            throw new IllegalArgumentException("buffer of " + minCapacity + " bytes");
        }
        final ArrayDeque<ByteBuffer> pooled = sizeClass <= LARGE_CLASSES ? largeFree[sizeClass] : null;
        final ByteBuffer buffer = pooled != null ? pooled.pollFirst() : null;
        if (buffer != null)
        {
            largePooledBytes -= buffer.capacity();
            return buffer.clear();
        }
        return BufferUtil.allocateDirectAligned((int)capacity, 64);
    }

    /**
     * Takes back a buffer from {@link #acquire()} or {@link #acquire(int)}; kept while the pool has room, else left
     * to the GC.
     *
     * @return null, for the caller to forget its reference in the same statement.
     */
    ByteBuffer release(final ByteBuffer buffer)
    {
        final int capacity = buffer.capacity();
        if (capacity == bufferSize)
        {
            if (free.size() < MAX_POOLED)
            {
                free.addFirst(buffer);
            }
            return null;
        }
        int sizeClass = 1;
        while (sizeClass <= LARGE_CLASSES && ((long)bufferSize << sizeClass) < capacity)
        {
            sizeClass++;
        }
        if (sizeClass <= LARGE_CLASSES && ((long)bufferSize << sizeClass) == capacity &&
            largePooledBytes + capacity <= LARGE_POOLED_BYTES_MAX)
        {
            ArrayDeque<ByteBuffer> pooled = largeFree[sizeClass];
            if (pooled == null)
            {
                pooled = largeFree[sizeClass] = new ArrayDeque<>();
            }
            pooled.addFirst(buffer);
            largePooledBytes += capacity;
        }
        return null;
    }

    /** Bytes held in larger-than-base buffers waiting for reuse. */
    long largePooledBytes()
    {
        return largePooledBytes;
    }
}
