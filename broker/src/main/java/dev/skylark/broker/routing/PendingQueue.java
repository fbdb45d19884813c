package dev.skylark.broker.routing;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Iterator;

/**
 * A session's queued messages (behind a full in-flight window, or while it is offline) in order, with the sum of
 * their stored lengths kept as they come and go, so the queued-bytes limit costs one comparison. Owned by the routing
 * agent thread only.
 */
final class PendingQueue implements Iterable<PendingMessage>
{
    /** Created by the first {@link #addLast} and kept (an idle session never queues anything; an active one allocates once). */
    private ArrayDeque<PendingMessage> messages;
    private long bytes;

    void addLast(final PendingMessage pending)
    {
        if (null == messages)
        {
            messages = new ArrayDeque<>(2); // grows on demand
        }
        messages.addLast(pending);
        bytes += pending.length;
    }

    PendingMessage pollFirst()
    {
        final PendingMessage pending = null == messages ? null : messages.pollFirst();
        if (pending != null)
        {
            bytes -= pending.length;
        }
        return pending;
    }

    boolean remove(final PendingMessage pending)
    {
        if (null != messages && messages.remove(pending))
        {
            bytes -= pending.length;
            return true;
        }
        return false;
    }

    void clear()
    {
        if (null != messages)
        {
            messages.clear();
        }
        bytes = 0;
    }

    boolean isEmpty()
    {
        return null == messages || messages.isEmpty();
    }

    int size()
    {
        return null == messages ? 0 : messages.size();
    }

    /** Stored bytes of the queued messages (as counted when each was queued). */
    long bytes()
    {
        return bytes;
    }

    @Override
    public Iterator<PendingMessage> iterator()
    {
        return null == messages ? Collections.emptyIterator() : messages.iterator();
    }
}
