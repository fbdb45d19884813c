package dev.skylark.broker.routing;

import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.IntArrayList;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Refcounted, pooled storage for message bytes that must outlive a ring buffer record: QoS 1/2 in-flight and
 * offline queues, retained messages.
 * <p>
 * Messages live in slots of power-of-two size classes ({@link #MIN_SLOT_SIZE} up to {@code chunkSize / 8}) carved
 * from large chunks (off-heap direct buffers or on-heap arrays). A freed slot goes to its class's free list and is
 * reused by the next store of that class, so steady state store/release allocates nothing and the store never
 * shrinks. A message bigger than the largest class gets a dedicated chunk that is dropped on release.
 * <p>
 * A handle packs the slot index (low 32 bits) with the slot's generation (high 32 bits), bumped on every free:
 * using a handle after its message was freed, or releasing it once too often, throws
 * {@link IllegalStateException} — a bug in the caller, never bad input. {@link #NULL_HANDLE} is never a valid
 * handle. Owned by one thread; not thread safe.
 * <pre>
 *   handle: [ generation (32) | slot index (32) ]
 * </pre>
 */
public final class MessageStore
{
    /** Never returned by {@link #store}: use it for "no message". */
    public static final long NULL_HANDLE = 0;
    /** Default size of the chunks slots are carved from. */
    public static final int DEFAULT_CHUNK_SIZE = 1024 * 1024;
    /** Smallest slot. */
    public static final int MIN_SLOT_SIZE = 64;

    private static final int MIN_SLOT_SHIFT = 6;
    private static final int LARGE_CLASS = -1;
    private static final int NONE = -1;

    private final int chunkSize;
    private final int maxSlotSize;
    private final boolean offHeap;
    private final int classCount;

    private UnsafeBuffer[] chunks = new UnsafeBuffer[16];
    private int chunkCount;
    private final IntArrayList freeChunkIndexes = new IntArrayList();

    private final int[] freeHeads;
    private final int[] carveChunks;
    private final int[] carveOffsets;
    private int largeFreeHead = NONE;

    private int slotCount;
    private int[] slotChunks = new int[1024];
    private int[] slotOffsets = new int[1024];
    private int[] slotLengths = new int[1024];
    private int[] slotRefCounts = new int[1024];
    private int[] slotGenerations = new int[1024];
    private int[] slotNext = new int[1024];
    private int[] slotClasses = new int[1024];

    private long bytesInUse;
    private long bytesReserved;
    private int count;

    /**
     * An off-heap store with {@link #DEFAULT_CHUNK_SIZE} chunks.
     */
    public MessageStore()
    {
        this(DEFAULT_CHUNK_SIZE, true);
    }

    /**
     * @param chunkSize power of two, at least {@code 8 * MIN_SLOT_SIZE}; the largest pooled slot is a
     *                  {@code chunkSize / 8}.
     * @param offHeap   carve slots from direct buffers rather than heap arrays.
     */
    public MessageStore(final int chunkSize, final boolean offHeap)
    {
        if (!BitUtil.isPowerOfTwo(chunkSize) || chunkSize < 8 * MIN_SLOT_SIZE)
        {
            throw new IllegalArgumentException("chunkSize must be a power of two >= " + 8 * MIN_SLOT_SIZE);
        }

        this.chunkSize = chunkSize;
        this.maxSlotSize = chunkSize >> 3;
        this.offHeap = offHeap;
        this.classCount = Integer.numberOfTrailingZeros(maxSlotSize) - MIN_SLOT_SHIFT + 1;
        freeHeads = new int[classCount];
        carveChunks = new int[classCount];
        carveOffsets = new int[classCount];
        Arrays.fill(freeHeads, NONE);
        Arrays.fill(carveChunks, NONE);
    }

    /**
     * Copy a message into the store with a reference count of 1.
     *
     * @param src    holding the bytes.
     * @param offset of the bytes in src.
     * @param length of the bytes.
     * @return handle for the stored copy.
     */
    public long store(final DirectBuffer src, final int offset, final int length)
    {
        final long handle = allocate(length);
        final int slot = (int)handle;
        chunks[slotChunks[slot]].putBytes(slotOffsets[slot], src, offset, length);

        return handle;
    }

    /**
     * Reserve space for a message of a given length with a reference count of 1, to be written in place through
     * {@link #buffer(long)} at {@link #offset(long)}.
     *
     * @param length of the message.
     * @return handle for the space.
     */
    public long allocate(final int length)
    {
        if (length < 0)
        {
            throw new IllegalArgumentException("negative length: " + length);
        }

        final int slot = length > maxSlotSize ? allocateLarge(length) : allocatePooled(sizeClass(length));
        slotLengths[slot] = length;
        slotRefCounts[slot] = 1;
        bytesInUse += length;
        count++;

        return ((long)slotGenerations[slot] << 32) | (slot & 0xFFFF_FFFFL);
    }

    /**
     * @param handle of a live message.
     * @return the buffer holding it, at {@link #offset(long)} for {@link #length(long)} bytes.
     */
    public MutableDirectBuffer buffer(final long handle)
    {
        return chunks[slotChunks[checkLive(handle)]];
    }

    public int offset(final long handle)
    {
        return slotOffsets[checkLive(handle)];
    }

    public int length(final long handle)
    {
        return slotLengths[checkLive(handle)];
    }

    /**
     * Point a view at a live message.
     *
     * @param handle of a live message.
     * @param view   wrapped around the message's bytes.
     * @return the view.
     */
    public UnsafeBuffer wrap(final long handle, final UnsafeBuffer view)
    {
        final int slot = checkLive(handle);
        view.wrap(chunks[slotChunks[slot]], slotOffsets[slot], slotLengths[slot]);
        return view;
    }

    /**
     * Add a reference.
     *
     * @param handle of a live message.
     */
    public void retain(final long handle)
    {
        slotRefCounts[checkLive(handle)]++;
    }

    /**
     * Drop a reference, freeing the message when it was the last.
     *
     * @param handle of a live message.
     * @return the remaining reference count, 0 if the message was freed.
     */
    public int release(final long handle)
    {
        final int slot = checkLive(handle);
        final int refCount = --slotRefCounts[slot];
        if (0 == refCount)
        {
            free(slot);
        }

        return refCount;
    }

    /**
     * @param handle of a live message.
     * @return its reference count.
     */
    public int refCount(final long handle)
    {
        return slotRefCounts[checkLive(handle)];
    }

    /**
     * @param handle any handle.
     * @return true if it refers to a message not yet freed.
     */
    public boolean isLive(final long handle)
    {
        final int slot = (int)handle;
        return slot >= 0 && slot < slotCount &&
            slotGenerations[slot] == (int)(handle >>> 32) && slotRefCounts[slot] > 0;
    }

    /**
     * @return bytes of live messages.
     */
    public long bytesInUse()
    {
        return bytesInUse;
    }

    /**
     * @return bytes of chunks held, pooled and dedicated.
     */
    public long bytesReserved()
    {
        return bytesReserved;
    }

    /**
     * @return number of live messages.
     */
    public int count()
    {
        return count;
    }

    /**
     * @return number of chunks held.
     */
    public int chunkCount()
    {
        return chunkCount - freeChunkIndexes.size();
    }

    /**
     * @return the largest message kept in a pooled slot; bigger ones get a dedicated chunk.
     */
    public int maxSlotSize()
    {
        return maxSlotSize;
    }

    private int checkLive(final long handle)
    {
        final int slot = (int)handle;
        if (slot < 0 || slot >= slotCount ||
            slotGenerations[slot] != (int)(handle >>> 32) || slotRefCounts[slot] <= 0)
        {
            throw new IllegalStateException("message handle used after free or never valid: 0x" +
                Long.toHexString(handle));
        }

        return slot;
    }

    private static int sizeClass(final int length)
    {
        if (length <= MIN_SLOT_SIZE)
        {
            return 0;
        }

        return 32 - Integer.numberOfLeadingZeros(length - 1) - MIN_SLOT_SHIFT;
    }

    private int allocatePooled(final int sizeClass)
    {
        final int head = freeHeads[sizeClass];
        if (NONE != head)
        {
            freeHeads[sizeClass] = slotNext[head];
            return head;
        }

        final int slotSize = MIN_SLOT_SIZE << sizeClass;
        int chunk = carveChunks[sizeClass];
        if (NONE == chunk || carveOffsets[sizeClass] + slotSize > chunkSize)
        {
            chunk = addChunk(chunkSize);
            carveChunks[sizeClass] = chunk;
            carveOffsets[sizeClass] = 0;
        }

        final int slot = newSlot();
        slotChunks[slot] = chunk;
        slotOffsets[slot] = carveOffsets[sizeClass];
        slotClasses[slot] = sizeClass;
        carveOffsets[sizeClass] += slotSize;

        return slot;
    }

    private int allocateLarge(final int length)
    {
        int slot = largeFreeHead;
        if (NONE != slot)
        {
            largeFreeHead = slotNext[slot];
        }
        else
        {
            slot = newSlot();
            slotClasses[slot] = LARGE_CLASS;
        }

        slotChunks[slot] = addChunk(length);
        slotOffsets[slot] = 0;

        return slot;
    }

    private void free(final int slot)
    {
        bytesInUse -= slotLengths[slot];
        count--;
        if (++slotGenerations[slot] == 0)
        {
            slotGenerations[slot] = 1;
        }

        final int sizeClass = slotClasses[slot];
        if (LARGE_CLASS == sizeClass)
        {
            final int chunk = slotChunks[slot];
            bytesReserved -= chunks[chunk].capacity();
            chunks[chunk] = null;
            freeChunkIndexes.addInt(chunk);
            slotChunks[slot] = NONE;
            slotNext[slot] = largeFreeHead;
            largeFreeHead = slot;
        }
        else
        {
            slotNext[slot] = freeHeads[sizeClass];
            freeHeads[sizeClass] = slot;
        }
    }

    private int addChunk(final int capacity)
    {
        final UnsafeBuffer chunk = offHeap ?
            new UnsafeBuffer(ByteBuffer.allocateDirect(capacity)) : new UnsafeBuffer(new byte[capacity]);
        bytesReserved += capacity;

        if (!freeChunkIndexes.isEmpty())
        {
            final int index = freeChunkIndexes.popInt();
            chunks[index] = chunk;
            return index;
        }

        if (chunkCount == chunks.length)
        {
            chunks = Arrays.copyOf(chunks, chunkCount << 1);
        }
        chunks[chunkCount] = chunk;

        return chunkCount++;
    }

    private int newSlot()
    {
        if (slotCount == slotChunks.length)
        {
            final int newLength = slotCount << 1;
            slotChunks = Arrays.copyOf(slotChunks, newLength);
            slotOffsets = Arrays.copyOf(slotOffsets, newLength);
            slotLengths = Arrays.copyOf(slotLengths, newLength);
            slotRefCounts = Arrays.copyOf(slotRefCounts, newLength);
            slotGenerations = Arrays.copyOf(slotGenerations, newLength);
            slotNext = Arrays.copyOf(slotNext, newLength);
            slotClasses = Arrays.copyOf(slotClasses, newLength);
        }

        final int slot = slotCount++;
        slotGenerations[slot] = 1;

        return slot;
    }

    public String toString()
    {
        return "MessageStore{count=" + count + ", bytesInUse=" + bytesInUse + ", bytesReserved=" + bytesReserved +
            ", chunks=" + chunkCount() + ", classes=" + classCount + "}";
    }
}
