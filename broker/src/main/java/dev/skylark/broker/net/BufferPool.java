package dev.skylark.broker.net;

import org.agrona.BufferUtil;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Small direct buffers shared by one I/O agent's connections, so an idle connection holds none: a connection takes
 * one while it has bytes to assemble or to write and gives it back when empty. Single threaded (the agent's).
 */
final class BufferPool
{
    static final int BUFFER_SIZE = 4096;
    private static final int MAX_POOLED = 4096;

    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private final int bufferSize;

    BufferPool()
    {
        this(BUFFER_SIZE);
    }

    /** A pool of buffers of another size (e.g. TLS record buffers). */
    BufferPool(final int bufferSize)
    {
        this.bufferSize = (bufferSize + 63) & ~63;
    }

    int bufferSize()
    {
        return bufferSize;
    }

    ByteBuffer acquire()
    {
        final ByteBuffer buffer = free.pollFirst();
        return buffer != null ? buffer.clear() : BufferUtil.allocateDirectAligned(bufferSize, 64);
    }

    /**
     * Takes back a buffer of the pooled size (larger ones, grown for big packets, are left to the GC).
     *
     * @return null, for the caller to forget its reference in the same statement.
     */
    ByteBuffer release(final ByteBuffer buffer)
    {
        if (buffer.capacity() == bufferSize && free.size() < MAX_POOLED)
        {
            free.addFirst(buffer);
        }
        return null;
    }
}
