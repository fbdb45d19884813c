package dev.skylark.broker.net;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class BufferPoolTest
{
    private final BufferPool pool = new BufferPool();

    @Test
    void largeBuffersComeInPowerOfTwoClassesAndAreReused()
    {
        final ByteBuffer large = pool.acquire(20_000);
        assertEquals(32_768, large.capacity());
        large.position(100);
        assertNull(pool.release(large));
        assertEquals(32_768, pool.largePooledBytes());

        final ByteBuffer again = pool.acquire(17_000);
        assertSame(large, again, "the same class is served from the pool");
        assertEquals(0, again.position(), "cleared");
        assertEquals(0, pool.largePooledBytes());
        assertNotSame(large, pool.acquire(17_000), "an empty class allocates");
        assertEquals(65_536, pool.acquire(32_769).capacity());
    }

    @Test
    void baseSizeIsServedForSmallRequests()
    {
        final ByteBuffer small = pool.acquire(10);
        assertEquals(BufferPool.BUFFER_SIZE, small.capacity());
        pool.release(small);
        assertSame(small, pool.acquire(BufferPool.BUFFER_SIZE));
        assertEquals(0, pool.largePooledBytes(), "base buffers are not counted as large");
    }

    @Test
    void largeBuffersBeyondTheBudgetAreLeftToTheGc()
    {
        final int size = 8 * 1024 * 1024;
        final ByteBuffer[] buffers = new ByteBuffer[5];
        for (int i = 0; i < buffers.length; i++)
        {
            buffers[i] = pool.acquire(size);
        }
        for (final ByteBuffer buffer : buffers)
        {
            pool.release(buffer);
        }
        assertEquals(32L * 1024 * 1024, pool.largePooledBytes(), "four kept, the fifth dropped");
    }

    @Test
    void buffersOfAnotherSizeAreNotPooled()
    {
        pool.release(ByteBuffer.allocateDirect(10_000));
        assertEquals(0, pool.largePooledBytes());
    }
}
