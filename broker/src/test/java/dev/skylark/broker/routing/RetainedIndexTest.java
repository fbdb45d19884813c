package dev.skylark.broker.routing;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetainedIndexTest
{
    private final RetainedIndex<String> index = new RetainedIndex<>();

    private Map<String, String> matches(final String filter)
    {
        final Map<String, String> found = new TreeMap<>();
        final int count = index.forEachMatch(filter, (topic, offset, length, message) ->
            assertNull(found.put(topic.getStringWithoutLengthUtf8(offset, length), message), "visited twice"));
        assertEquals(found.size(), count);
        return found;
    }

    @Test
    void shouldPutReplaceGetAndRemove()
    {
        assertNull(index.put("a/b", "m1"));
        assertEquals("m1", index.put("a/b", "m2"));
        assertEquals(1, index.size());
        assertEquals("m2", index.get("a/b"));
        assertNull(index.get("a"));
        assertNull(index.get("a/b/c"));

        final byte[] bytes = "xxa/b".getBytes(StandardCharsets.UTF_8);
        assertEquals("m2", index.get(new UnsafeBuffer(bytes), 2, 3));
        assertEquals("m2", index.remove(new UnsafeBuffer(bytes), 2, 3));
        assertNull(index.remove("a/b"));
        assertEquals(0, index.size());
        assertEquals(Map.of(), matches("#"));
    }

    @Test
    void shouldWalkWildcards()
    {
        index.put("sport/tennis/player1", "p1");
        index.put("sport/tennis/player1/ranking", "r1");
        index.put("sport/tennis/player2", "p2");
        index.put("sport", "s");
        index.put("/finance", "f");
        index.put("a//b", "ab");

        assertEquals(Map.of("sport/tennis/player1", "p1", "sport/tennis/player1/ranking", "r1"),
            matches("sport/tennis/player1/#"));
        assertEquals(Map.of("sport/tennis/player1", "p1", "sport/tennis/player2", "p2"), matches("sport/tennis/+"));
        assertEquals(4, matches("sport/#").size());
        assertEquals(Map.of("/finance", "f"), matches("+/+"));
        assertEquals(Map.of("/finance", "f"), matches("/+"));
        assertEquals(Map.of("sport", "s"), matches("+"));
        assertEquals(Map.of("a//b", "ab"), matches("a/+/b"));
        assertEquals(6, matches("#").size());
        assertEquals(Map.of("sport/tennis/player1/ranking", "r1"), matches("+/+/+/ranking"));
    }

    @Test
    void shouldNotMatchSystemTopicsWithLeadingWildcard()
    {
        index.put("$SYS/broker/uptime", "u");
        index.put("$SYS", "sys");
        index.put("a/$b", "ab");

        assertEquals(Map.of("a/$b", "ab"), matches("#"));
        assertEquals(Map.of(), matches("+/broker/uptime"));
        assertEquals(Map.of(), matches("+"));
        assertEquals(Map.of("$SYS/broker/uptime", "u", "$SYS", "sys"), matches("$SYS/#"));
        assertEquals(Map.of("$SYS/broker/uptime", "u"), matches("$SYS/+/uptime"));
        assertEquals(Map.of("a/$b", "ab"), matches("a/+"));
    }

    @Test
    void shouldPruneOnRemove()
    {
        index.put("a/b/c", "abc");
        index.put("a", "a");
        assertEquals("abc", index.remove("a/b/c"));
        assertEquals(Map.of("a", "a"), matches("#"));
        assertEquals(Map.of(), matches("a/+"));
        assertEquals("a", index.remove("a"));
        assertEquals(Map.of(), matches("#"));
    }

    @Test
    void randomizedAgainstScan()
    {
        final Random random = new Random(42);
        final String[] alphabet = { "a", "b", "c", "", "$x" };
        final Map<String, String> reference = new HashMap<>();

        for (int op = 0; op < 4000; op++)
        {
            final String topic = randomLevels(random, alphabet, false);
            final int action = random.nextInt(10);
            if (action < 4)
            {
                final String value = "v" + op;
                assertEquals(reference.put(topic, value), index.put(topic, value));
            }
            else if (action < 6)
            {
                assertEquals(reference.remove(topic), index.remove(topic));
            }
            else
            {
                final String filter = randomLevels(random, alphabet, true);
                final Map<String, String> expected = new TreeMap<>();
                reference.forEach((t, v) ->
                {
                    if (ReferenceMatcher.matches(filter, t))
                    {
                        expected.put(t, v);
                    }
                });
                assertEquals(expected, matches(filter), filter);
            }
            assertEquals(reference.size(), index.size());
        }
        assertTrue(index.size() > 0);
    }

    private static String randomLevels(final Random random, final String[] alphabet, final boolean wildcards)
    {
        final int depth = 1 + random.nextInt(4);
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depth; i++)
        {
            if (i > 0)
            {
                sb.append('/');
            }
            final int r = random.nextInt(10);
            if (wildcards && r < 3)
            {
                sb.append('+');
            }
            else if (wildcards && r < 4 && i == depth - 1)
            {
                sb.append('#');
            }
            else
            {
                final String level = alphabet[random.nextInt(alphabet.length)];
                sb.append(i > 0 && level.startsWith("$") ? "d" : level);
            }
        }
        return sb.toString();
    }
}
