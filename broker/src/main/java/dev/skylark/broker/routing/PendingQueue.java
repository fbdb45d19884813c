package dev.skylark.broker.routing;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * A session's queued messages (behind a full in-flight window, or while it is offline) in order, with the sum of
 * their stored lengths kept as they come and go, so the queued-bytes limit costs one comparison. Owned by the routing
 * agent thread only.
 */
final class PendingQueue implements Iterable<PendingMessage>
{
    private final ArrayDeque<PendingMessage> messages = new ArrayDeque<>(2); // grows on demand; most sessions queue nothing
    private long bytes;

    void addLast(final PendingMessage pending)
    {
        messages.addLast(pending);
        bytes += pending.length;
    }

    PendingMessage pollFirst()
    {
        final PendingMessage pending = messages.pollFirst();
        if (pending != null)
        {
            bytes -= pending.length;
        }
        return pending;
    }

    boolean remove(final PendingMessage pending)
    {
        if (messages.remove(pending))
        {
            bytes -= pending.length;
            return true;
        }
        return false;
    }

    void clear()
    {
        messages.clear();
        bytes = 0;
    }

    boolean isEmpty()
    {
        return messages.isEmpty();
    }

    int size()
    {
        return messages.size();
    }

    /** Stored bytes of the queued messages (as counted when each was queued). */
    long bytes()
    {
        return bytes;
    }

    @Override
    public Iterator<PendingMessage> iterator()
    {
        return messages.iterator();
    }
}
