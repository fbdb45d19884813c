package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.PublishView;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Every session's will message: stored at CONNECT in the shared {@link MessageLayout}, published through the
 * {@link MessageRouter} when the connection is lost (at once, or when its delay runs out on {@link SessionTimers}),
 * and cleared when the client disconnects normally or resumes the session. Called by {@link SessionRegistry}.
 */
final class Wills
{
    private final MessageStore store;
    private final MessageRouter router;
    private final SessionTimers timers;
    private final RoutingCounters counters;
    /** The will being stored, re-wrapped per CONNECT. */
    private final PublishView will = new PublishView();

    Wills(final MessageStore store, final MessageRouter router, final SessionTimers timers, final RoutingCounters counters)
    {
        this.store = store;
        this.router = router;
        this.timers = timers;
        this.counters = counters;
    }

    /** Stores the will of a CONNECT that carries one; returns its store handle. */
    long store(final ConnectCommandDecoder connect)
    {
        final DirectBuffer record = connect.buffer();
        final PublishView will = this.will.reset()
            .flags(connect.willQos(), false, connect.willRetain())
            .topic(record, connect.willTopicOffset(), connect.willTopicLength())
            .properties(record, connect.willPropertiesOffset(), connect.willPropertiesLength())
            .payload(record, connect.willPayloadOffset(), connect.willPayloadLength());
        final long handle = store.allocate(MessageLayout.length(will));
        MessageLayout.write(store.buffer(handle), store.offset(handle), will);
        return handle;
    }

    /** The connection is gone with its will due after {@code deadlineNs}, unless the session resumes first. */
    void publishAt(final Session session, final long deadlineNs)
    {
        session.willPending = true;
        session.willDeadlineNs = deadlineNs;
        timers.scheduleWill(session, deadlineNs);
    }

    /** Publishes the session's will now, if it has one, and forgets it. */
    void publish(final Session session)
    {
        final long handle = session.willHandle;
        session.willHandle = MessageStore.NULL_HANDLE;
        session.willPending = false;
        timers.cancelWill(session);
        if (handle == MessageStore.NULL_HANDLE)
        {
            return;
        }
        counters.willsPublished.incrementRelease();
        final MutableDirectBuffer buffer = store.buffer(handle);
        final int offset = store.offset(handle);
        final int length = store.length(handle);
        if (MessageLayout.retain(buffer, offset))
        {
            final int verdict = router.admitsRetained(session.clientId, buffer, offset, length);
            if (verdict != RetainedQuota.ADMITTED)
            {
                // Over its client's (or the broker's) retained quota: still published, but not retained.
                InboundQos.countRefused(counters, verdict);
                buffer.putByte(offset + MessageLayout.FLAGS_OFFSET, (byte)0);
            }
        }
        router.route(buffer, offset, length, -1, handle, session.clientId);
        store.release(handle);
    }

    /** Forgets the session's will without publishing it. */
    void clear(final Session session)
    {
        if (session.willHandle != MessageStore.NULL_HANDLE)
        {
            store.release(session.willHandle);
            session.willHandle = MessageStore.NULL_HANDLE;
        }
        session.willPending = false;
        timers.cancelWill(session);
    }

    /** At shutdown: gives the store back the wills still held (none is published). */
    void releaseAtClose(final Session session)
    {
        if (session.willHandle != MessageStore.NULL_HANDLE)
        {
            store.release(session.willHandle);
            session.willHandle = MessageStore.NULL_HANDLE;
        }
    }
}
