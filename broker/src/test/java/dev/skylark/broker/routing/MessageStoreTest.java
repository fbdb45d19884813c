package dev.skylark.broker.routing;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessageStoreTest
{
    private static final int CHUNK_SIZE = 64 * 1024;

    private static byte[] bytes(final int length, final int seed)
    {
        final byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed + i * 31);
        }
        return bytes;
    }

    private static byte[] read(final MessageStore store, final long handle)
    {
        final byte[] copy = new byte[store.length(handle)];
        store.buffer(handle).getBytes(store.offset(handle), copy);
        return copy;
    }

    @Test
    void shouldStoreAndReadBackOnAndOffHeap()
    {
        for (final boolean offHeap : new boolean[]{ true, false })
        {
            final MessageStore store = new MessageStore(CHUNK_SIZE, offHeap);
            final int[] lengths = { 0, 1, 63, 64, 65, 1000, 4096, store.maxSlotSize(), store.maxSlotSize() + 1 };
            final long[] handles = new long[lengths.length];
            long expectedBytes = 0;
            for (int i = 0; i < lengths.length; i++)
            {
                final byte[] source = bytes(lengths[i] + 10, i);
                handles[i] = store.store(new UnsafeBuffer(source), 10, lengths[i]);
                assertNotEquals(MessageStore.NULL_HANDLE, handles[i]);
                expectedBytes += lengths[i];
            }
            assertEquals(lengths.length, store.count());
            assertEquals(expectedBytes, store.bytesInUse());

            final UnsafeBuffer view = new UnsafeBuffer(0, 0);
            for (int i = 0; i < lengths.length; i++)
            {
                final byte[] expected = new byte[lengths[i]];
                System.arraycopy(bytes(lengths[i] + 10, i), 10, expected, 0, lengths[i]);
                assertArrayEquals(expected, read(store, handles[i]), "length " + lengths[i]);
                store.wrap(handles[i], view);
                assertEquals(lengths[i], view.capacity());
            }

            for (final long handle : handles)
            {
                assertEquals(0, store.release(handle));
                assertFalse(store.isLive(handle));
            }
            assertEquals(0, store.count());
            assertEquals(0, store.bytesInUse());
        }
    }

    @Test
    void shouldCountReferences()
    {
        final MessageStore store = new MessageStore(CHUNK_SIZE, false);
        final long handle = store.store(new UnsafeBuffer(bytes(100, 1)), 0, 100);
        store.retain(handle);
        store.retain(handle);
        assertEquals(3, store.refCount(handle));
        assertEquals(2, store.release(handle));
        assertEquals(1, store.release(handle));
        assertArrayEquals(bytes(100, 1), read(store, handle));
        assertEquals(0, store.release(handle));
        assertEquals(0, store.count());
    }

    @Test
    void shouldDetectDoubleReleaseAndUseAfterFree()
    {
        final MessageStore store = new MessageStore(CHUNK_SIZE, true);
        final long handle = store.store(new UnsafeBuffer(bytes(10, 1)), 0, 10);
        store.release(handle);

        assertThrows(IllegalStateException.class, () -> store.release(handle));
        assertThrows(IllegalStateException.class, () -> store.retain(handle));
        assertThrows(IllegalStateException.class, () -> store.buffer(handle));
        assertThrows(IllegalStateException.class, () -> store.length(handle));
        assertThrows(IllegalStateException.class, () -> store.release(MessageStore.NULL_HANDLE));
        assertThrows(IllegalStateException.class, () -> store.release(12345L << 32 | 999));

        // the slot is reused, but the stale handle stays dead
        final long reused = store.store(new UnsafeBuffer(bytes(10, 2)), 0, 10);
        assertEquals((int)handle, (int)reused);
        assertNotEquals(handle, reused);
        assertThrows(IllegalStateException.class, () -> store.release(handle));
        assertTrue(store.isLive(reused));

        final long large = store.store(new UnsafeBuffer(new byte[CHUNK_SIZE]), 0, CHUNK_SIZE);
        store.release(large);
        assertThrows(IllegalStateException.class, () -> store.release(large));
    }

    @Test
    void shouldReuseFreedSlotsWithoutGrowing()
    {
        final MessageStore store = new MessageStore(CHUNK_SIZE, true);
        final Random random = new Random(7);
        final UnsafeBuffer source = new UnsafeBuffer(bytes(store.maxSlotSize(), 3));
        final ArrayDeque<Long> live = new ArrayDeque<>();

        for (int i = 0; i < 500; i++)
        {
            live.add(store.store(source, 0, random.nextInt(2000)));
        }
        while (!live.isEmpty())
        {
            store.release(live.poll());
        }
        final long reserved = store.bytesReserved();
        final int chunks = store.chunkCount();

        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < 500; i++)
            {
                live.add(store.store(source, 0, random.nextInt(2000)));
                if (random.nextBoolean())
                {
                    store.release(live.poll());
                }
            }
            while (live.size() > 0)
            {
                store.release(live.poll());
            }
        }
        // Different length draws may need a few more slots of one class, but never unbounded growth.
        assertTrue(store.bytesReserved() <= reserved + 11L * CHUNK_SIZE, store.toString());
        assertTrue(store.chunkCount() <= chunks + 11, store.toString());

        // The same working set again and again: no growth at all after the first round.
        long reservedAfter = 0;
        for (int round = 0; round < 5; round++)
        {
            for (int i = 0; i < 500; i++)
            {
                live.add(store.store(source, 0, 64 + (i % 7) * 100));
            }
            while (!live.isEmpty())
            {
                store.release(live.poll());
            }
            if (0 == round)
            {
                reservedAfter = store.bytesReserved();
            }
            assertEquals(reservedAfter, store.bytesReserved());
        }
        assertEquals(0, store.count());
        assertEquals(0, store.bytesInUse());
    }

    @Test
    void shouldGiveLargeMessagesADedicatedChunkAndFreeIt()
    {
        final MessageStore store = new MessageStore(CHUNK_SIZE, false);
        final int length = 3 * CHUNK_SIZE + 17;
        final byte[] payload = bytes(length, 9);
        final long reservedBefore = store.bytesReserved();
        final long handle = store.store(new UnsafeBuffer(payload), 0, length);
        assertEquals(reservedBefore + length, store.bytesReserved());
        assertArrayEquals(payload, read(store, handle));
        assertEquals(0, store.offset(handle));
        store.release(handle);
        assertEquals(reservedBefore, store.bytesReserved());
        assertEquals(0, store.chunkCount());

        final long again = store.store(new UnsafeBuffer(payload), 0, length);
        assertEquals(1, store.chunkCount());
        assertArrayEquals(payload, read(store, again));
    }

    @Test
    void shouldAllowWritingInPlace()
    {
        final MessageStore store = new MessageStore();
        final long handle = store.allocate(8);
        store.buffer(handle).putLong(store.offset(handle), 0x1122334455667788L);
        assertEquals(0x1122334455667788L, store.buffer(handle).getLong(store.offset(handle)));
        assertThrows(IllegalArgumentException.class, () -> store.allocate(-1));
        assertThrows(IllegalArgumentException.class, () -> new MessageStore(1000, true));
    }
}
