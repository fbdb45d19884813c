package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;

import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Open addressing map from a topic level's bytes to a trie node. Lookups compare the stored key with a slice of a
 * {@link DirectBuffer} so matching a topic never allocates; the caller hashes the level with {@link #hashStep(int,
 * byte)} while it scans for the next '/'. Removal uses backward shift deletion (no tombstones).
 * <p>
 * Level names come from clients, so the hash is seeded: a per-process random {@link #SEED} enters every byte's step
 * through a multiply and a rotation (not linear, so no set of names collides whatever the seed, as 65,536 names built
 * from "Aa"/"BB" all did under the former {@code 31 * h + b} and fell into one probe chain), and again when the hash
 * picks a slot. Still one multiply per byte and no allocation.
 *
 * @param <V> node type.
 */
final class LevelMap<V>
{
    private static final int MIN_CAPACITY = 4;
    /** Drawn once per process; never stored (hashes are recomputed from the level bytes after a restart). */
    private static final int SEED = new SecureRandom().nextInt() | 1;

    private byte[][] keys;
    private int[] hashes;
    private Object[] values;
    private int size;
    private int mask;
    private int resizeThreshold;

    LevelMap()
    {
        allocate(MIN_CAPACITY);
    }

    /**
     * One step of the level hash, applied to each byte of the level in order starting from 0.
     *
     * @param hash so far.
     * @param b    next byte.
     * @return new hash.
     */
    static int hashStep(final int hash, final byte b)
    {
        return Integer.rotateLeft((hash ^ (b & 0xFF) ^ SEED) * 0x9E3779B1, 15);
    }

    static int hash(final byte[] key)
    {
        int hash = 0;
        for (final byte b : key)
        {
            hash = hashStep(hash, b);
        }

        return hash;
    }

    private static int index(final int hash, final int mask)
    {
        final int h = (hash ^ SEED) * 0x9E3779B9;
        return (h ^ (h >>> 16)) & mask;
    }

    /** The longest distance, in slots, from a key's home slot to where it sits: a lookup's worst probe count. */
    int longestProbe()
    {
        int longest = 0;
        for (int i = 0; i < values.length; i++)
        {
            if (null != values[i])
            {
                longest = Math.max(longest, (i - index(hashes[i], mask)) & mask);
            }
        }
        return longest;
    }

    int size()
    {
        return size;
    }

    /**
     * @return number of slots, for iteration with {@link #valueAt(int)}.
     */
    int capacity()
    {
        return values.length;
    }

    @SuppressWarnings("unchecked")
    V valueAt(final int slot)
    {
        return (V)values[slot];
    }

    byte[] keyAt(final int slot)
    {
        return keys[slot];
    }

    @SuppressWarnings("unchecked")
    V get(final DirectBuffer buffer, final int offset, final int length, final int hash)
    {
        final Object[] values = this.values;
        final int mask = this.mask;
        int index = index(hash, mask);
        Object value;
        while (null != (value = values[index]))
        {
            if (hashes[index] == hash && equals(keys[index], buffer, offset, length))
            {
                return (V)value;
            }
            index = (index + 1) & mask;
        }

        return null;
    }

    @SuppressWarnings("unchecked")
    V get(final byte[] key, final int hash)
    {
        final Object[] values = this.values;
        final int mask = this.mask;
        int index = index(hash, mask);
        Object value;
        while (null != (value = values[index]))
        {
            if (hashes[index] == hash && Arrays.equals(keys[index], key))
            {
                return (V)value;
            }
            index = (index + 1) & mask;
        }

        return null;
    }

    /**
     * Add a mapping for a key known to be absent.
     *
     * @param key   level bytes, kept by reference.
     * @param hash  {@link #hash(byte[])} of the key.
     * @param value to map.
     */
    void add(final byte[] key, final int hash, final V value)
    {
        if (size + 1 > resizeThreshold)
        {
            rehash(values.length << 1);
        }
        insert(key, hash, value);
        size++;
    }

    @SuppressWarnings("unchecked")
    V remove(final byte[] key, final int hash)
    {
        final Object[] values = this.values;
        final int mask = this.mask;
        int index = index(hash, mask);
        Object value;
        while (null != (value = values[index]))
        {
            if (hashes[index] == hash && Arrays.equals(keys[index], key))
            {
                values[index] = null;
                keys[index] = null;
                size--;
                compactChain(index);
                return (V)value;
            }
            index = (index + 1) & mask;
        }

        return null;
    }

    private void insert(final byte[] key, final int hash, final Object value)
    {
        int index = index(hash, mask);
        while (null != values[index])
        {
            index = (index + 1) & mask;
        }
        keys[index] = key;
        hashes[index] = hash;
        values[index] = value;
    }

    private void compactChain(final int deleteIndexStart)
    {
        final Object[] values = this.values;
        final int mask = this.mask;
        int deleteIndex = deleteIndexStart;
        int index = deleteIndex;
        while (true)
        {
            index = (index + 1) & mask;
            if (null == values[index])
            {
                break;
            }

            final int hashIndex = index(hashes[index], mask);
            if ((index < hashIndex && (hashIndex <= deleteIndex || deleteIndex <= index)) ||
                (hashIndex <= deleteIndex && deleteIndex <= index))
            {
                keys[deleteIndex] = keys[index];
                hashes[deleteIndex] = hashes[index];
                values[deleteIndex] = values[index];
                keys[index] = null;
                values[index] = null;
                deleteIndex = index;
            }
        }
    }

    private void rehash(final int newCapacity)
    {
        final byte[][] oldKeys = keys;
        final int[] oldHashes = hashes;
        final Object[] oldValues = values;
        allocate(newCapacity);
        for (int i = 0; i < oldValues.length; i++)
        {
            if (null != oldValues[i])
            {
                insert(oldKeys[i], oldHashes[i], oldValues[i]);
            }
        }
    }

    private void allocate(final int capacity)
    {
        keys = new byte[capacity][];
        hashes = new int[capacity];
        values = new Object[capacity];
        mask = capacity - 1;
        resizeThreshold = (capacity * 5) >> 3;
    }

    private static boolean equals(final byte[] key, final DirectBuffer buffer, final int offset, final int length)
    {
        if (key.length != length)
        {
            return false;
        }

        for (int i = 0; i < length; i++)
        {
            if (key[i] != buffer.getByte(offset + i))
            {
                return false;
            }
        }

        return true;
    }
}
