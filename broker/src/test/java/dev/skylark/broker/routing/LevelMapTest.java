package dev.skylark.broker.routing;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LevelMapTest
{
    /** The {@code i}th of 65,536 names of 16 "Aa"/"BB" pairs: all share one {@code 31 * h + b} hash. */
    private static byte[] collidingName(final int i)
    {
        final StringBuilder name = new StringBuilder(32);
        for (int bit = 0; bit < 16; bit++)
        {
            name.append((i >>> bit & 1) == 0 ? "Aa" : "BB");
        }
        return name.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static int streamedHash(final UnsafeBuffer buffer)
    {
        int hash = 0;
        for (int i = 0; i < buffer.capacity(); i++)
        {
            hash = LevelMap.hashStep(hash, buffer.getByte(i));
        }
        return hash;
    }

    /** Issue #15: the names once all fell into one probe chain of 65,536 slots (a publish scanned them all). */
    @Test
    void namesBuiltToCollideSpreadOutAndAreAllFound()
    {
        assertEquals("Aa".hashCode(), "BB".hashCode(), "the attack: equal under 31 * h + b");
        final LevelMap<Integer> map = new LevelMap<>();
        final Set<Integer> hashes = new HashSet<>();
        for (int i = 0; i < 65_536; i++)
        {
            final byte[] name = collidingName(i);
            final int hash = LevelMap.hash(name);
            hashes.add(hash);
            map.add(name, hash, i);
        }
        assertTrue(hashes.size() > 65_000, "distinct hashes: " + hashes.size());
        assertTrue(map.longestProbe() < 64, "longest probe chain: " + map.longestProbe());

        for (int i = 0; i < 65_536; i++)
        {
            final UnsafeBuffer name = new UnsafeBuffer(collidingName(i));
            final int hash = streamedHash(name);
            assertEquals(LevelMap.hash(collidingName(i)), hash, "streamed and whole-key hashes agree");
            assertEquals(i, map.get(name, 0, name.capacity(), hash));
        }
        final byte[] absent = "AaAaAaAaAaAaAaAaAaAaAaAaAaAaAaAaAa".getBytes(StandardCharsets.US_ASCII);
        assertNull(map.get(absent, LevelMap.hash(absent)));

        for (int i = 0; i < 65_536; i += 2)
        {
            final byte[] name = collidingName(i);
            assertEquals(i, map.remove(name, LevelMap.hash(name)));
        }
        assertEquals(32_768, map.size());
        for (int i = 0; i < 65_536; i++)
        {
            final byte[] name = collidingName(i);
            final Integer found = map.get(name, LevelMap.hash(name));
            if (i % 2 == 0)
            {
                assertNull(found);
            }
            else
            {
                assertSame(map.get(name, LevelMap.hash(name)), found);
                assertEquals(i, found);
            }
        }
    }
}
