package dev.skylark.broker.routing;

import org.agrona.concurrent.ManyToOneConcurrentLinkedQueue;

/**
 * Hands a connection's {@link SessionAccess} from its I/O thread to the routing agent: offered at CONNECT (before the
 * CONNECT command is committed, so the routing agent has it when the session resumes) and after a re-authentication;
 * a connection that closes before its CONNECT reached the routing agent withdraws it ({@link #withdraw}). Control,
 * not data: at most a few entries per connection, drained by the routing agent every duty cycle.
 */
public final class AccessUpdates
{
    /** One hand-off; {@code access} null withdraws an earlier one. */
    record Update(long connectionId, SessionAccess access)
    {
    }

    private final ManyToOneConcurrentLinkedQueue<Update> queue = new ManyToOneConcurrentLinkedQueue<>();

    /** Any I/O thread. */
    public void offer(final long connectionId, final SessionAccess access)
    {
        queue.offer(new Update(connectionId, access));
    }

    /** Any I/O thread: the connection went before the routing agent heard of it. */
    public void withdraw(final long connectionId)
    {
        queue.offer(new Update(connectionId, null));
    }

    /** Routing agent: the next hand-off, or null. */
    Update poll()
    {
        return queue.poll();
    }
}
