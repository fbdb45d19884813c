package dev.skylark.broker.routing;

import org.agrona.collections.Int2IntHashMap;

import java.util.Arrays;

/**
 * Parallel arrays of (session id, options, subscription id) with at most one entry per session. Small lists are
 * searched linearly; past {@link #INDEX_THRESHOLD} entries a session id to position index is kept so that a node
 * with many subscribers (e.g. {@code devices/+/telemetry}) subscribes and unsubscribes in constant time. Removal
 * swaps the last entry into the hole.
 */
final class SubscriberList
{
    static final int INDEX_THRESHOLD = 8;
    private static final int[] EMPTY = new int[0];

    int[] sessionIds = EMPTY;
    int[] options = EMPTY;
    int[] subscriptionIds = EMPTY;
    int count;
    private Int2IntHashMap index;

    int indexOf(final int sessionId)
    {
        if (null != index)
        {
            return index.get(sessionId);
        }

        final int[] sessionIds = this.sessionIds;
        for (int i = 0, count = this.count; i < count; i++)
        {
            if (sessionIds[i] == sessionId)
            {
                return i;
            }
        }

        return -1;
    }

    /**
     * Add or replace the entry for a session.
     *
     * @return true if an entry for the session existed and was replaced.
     */
    boolean put(final int sessionId, final int options, final int subscriptionId)
    {
        final int existing = indexOf(sessionId);
        if (existing >= 0)
        {
            this.options[existing] = options;
            this.subscriptionIds[existing] = subscriptionId;
            return true;
        }

        if (count == sessionIds.length)
        {
            final int newLength = Math.max(2, count << 1);
            sessionIds = Arrays.copyOf(sessionIds, newLength);
            this.options = Arrays.copyOf(this.options, newLength);
            subscriptionIds = Arrays.copyOf(subscriptionIds, newLength);
        }

        final int position = count++;
        sessionIds[position] = sessionId;
        this.options[position] = options;
        subscriptionIds[position] = subscriptionId;

        if (null != index)
        {
            index.put(sessionId, position);
        }
        else if (count > INDEX_THRESHOLD)
        {
            index = new Int2IntHashMap(count << 1, 0.65f, -1);
            for (int i = 0; i < count; i++)
            {
                index.put(sessionIds[i], i);
            }
        }

        return false;
    }

    /**
     * @return true if the session had an entry.
     */
    boolean remove(final int sessionId)
    {
        final int position = indexOf(sessionId);
        if (position < 0)
        {
            return false;
        }

        final int last = --count;
        if (null != index)
        {
            index.remove(sessionId);
        }

        if (position != last)
        {
            sessionIds[position] = sessionIds[last];
            options[position] = options[last];
            subscriptionIds[position] = subscriptionIds[last];
            if (null != index)
            {
                index.put(sessionIds[position], position);
            }
        }

        if (0 == count)
        {
            sessionIds = EMPTY;
            options = EMPTY;
            subscriptionIds = EMPTY;
            index = null;
        }
        else if (null != index && count <= INDEX_THRESHOLD / 2)
        {
            index = null;
        }

        return true;
    }
}
