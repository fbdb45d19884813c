package dev.skylark.broker.session;

import org.agrona.DirectBuffer;

/**
 * Topic aliases the broker uses towards one v5 client, up to the client's Topic Alias Maximum.
 * <p>
 * Policy: the first topics delivered to the connection take the aliases, first come first served, and keep them for
 * the connection's life; later topics go out in full. Telemetry subscribers see a stable, small set of topics, so
 * the aliases land on exactly the topics that repeat, and no alias is ever re-pointed (which would cost a full
 * topic again each time). Lookups hash the topic bytes in place: nothing is allocated except when an alias is
 * assigned.
 */
final class OutboundTopicAliases
{
    private final byte[][] topics;
    private final int[] table;
    private final int mask;
    private int assigned;

    OutboundTopicAliases(final int maximum)
    {
        topics = new byte[maximum + 1][];
        int size = 2;
        while (size < maximum * 2)
        {
            size <<= 1;
        }
        table = new int[size];
        mask = size - 1;
    }

    /**
     * The alias of this topic, or 0 if it has none.
     */
    int lookup(final DirectBuffer buffer, final int offset, final int length)
    {
        int slot = hash(buffer, offset, length) & mask;
        int alias;
        while ((alias = table[slot]) != 0)
        {
            if (equals(topics[alias], buffer, offset, length))
            {
                return alias;
            }
            slot = (slot + 1) & mask;
        }
        return 0;
    }

    /**
     * The alias {@link #assign} would give next, or 0 when all are taken.
     */
    int nextFree()
    {
        return assigned + 1 < topics.length ? assigned + 1 : 0;
    }

    /**
     * Gives the topic the next free alias.
     *
     * @return the alias, or 0 when all are taken.
     */
    int assign(final DirectBuffer buffer, final int offset, final int length)
    {
        if (assigned + 1 >= topics.length)
        {
            return 0;
        }
        final int alias = ++assigned;
        final byte[] topic = new byte[length];
        buffer.getBytes(offset, topic);
        topics[alias] = topic;
        int slot = hash(buffer, offset, length) & mask;
        while (table[slot] != 0)
        {
            slot = (slot + 1) & mask;
        }
        table[slot] = alias;
        return alias;
    }

    private static int hash(final DirectBuffer buffer, final int offset, final int length)
    {
        int hash = 0x811C9DC5;
        for (int i = 0; i < length; i++)
        {
            hash = (hash ^ buffer.getByte(offset + i)) * 0x01000193;
        }
        return hash ^ (hash >>> 16);
    }

    private static boolean equals(final byte[] topic, final DirectBuffer buffer, final int offset, final int length)
    {
        if (topic.length != length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (topic[i] != buffer.getByte(offset + i))
            {
                return false;
            }
        }
        return true;
    }
}
