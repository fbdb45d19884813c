package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.PacketType;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayDeque;

/**
 * The broker side of every session's {@link DeliveryWindow}: pooled {@link PendingMessage}s and their store
 * references, sends through the {@link DeliveryPublisher}, the journal's delivery records and the drop counters;
 * and the session-level entry points ({@link #offer}, {@link #drain}, {@link #onAck}, ...) the routing agent's parts
 * call with the agent's limits and cached clock.
 */
final class Deliveries implements DeliveryWindow.Outbound
{
    private final DeliveryPublisher out;
    private final MessageStore store;
    private final JournalRecord journal;
    private final RoutingCounters counters;
    private final CachedNanoClock clock;
    private final int queueMaxMessages;
    private final SlowSubscribers slowSubscribers;
    private long queueMaxBytes;
    private int inflightMaxBytes = Integer.MAX_VALUE;
    private final ArrayDeque<PendingMessage> pendingPool = new ArrayDeque<>();
    private final UnsafeBuffer storedView = new UnsafeBuffer(0, 0);

    Deliveries(
        final DeliveryPublisher out,
        final MessageStore store,
        final JournalRecord journal,
        final RoutingCounters counters,
        final CachedNanoClock clock,
        final int queueMaxMessages,
        final SlowSubscribers slowSubscribers)
    {
        this.slowSubscribers = slowSubscribers;
        this.out = out;
        this.store = store;
        this.journal = journal;
        this.counters = counters;
        this.clock = clock;
        this.queueMaxMessages = queueMaxMessages;
    }

    void queueMaxBytes(final long bytes)
    {
        queueMaxBytes = bytes;
    }

    /** Stored bytes in flight to one session past which its window takes no further message. */
    void inflightMaxBytes(final int bytes)
    {
        inflightMaxBytes = bytes;
    }

    int inflightMaxBytes()
    {
        return inflightMaxBytes;
    }

    /** A pooled pending message holding {@code handle} (the caller has taken the reference for it). */
    PendingMessage newPending(
        final long expiryDeadlineNs,
        final long handle,
        final int qos,
        final boolean retain,
        final int[] subscriptionIds,
        final int subscriptionIdOffset,
        final int subscriptionIdCount)
    {
        PendingMessage pending = pendingPool.pollFirst();
        if (pending == null)
        {
            pending = new PendingMessage();
        }
        pending.expiryDeadlineNs = expiryDeadlineNs;
        pending.handle = handle;
        pending.length = handle == MessageStore.NULL_HANDLE ? 0 : store.length(handle);
        pending.qos = qos;
        pending.retain = retain;
        pending.state = PendingMessage.QUEUED;
        if (pending.subscriptionIds.length < subscriptionIdCount)
        {
            pending.subscriptionIds = new int[subscriptionIdCount];
        }
        System.arraycopy(subscriptionIds, subscriptionIdOffset, pending.subscriptionIds, 0, subscriptionIdCount);
        pending.subscriptionIdCount = subscriptionIdCount;
        return pending;
    }

    /** Sends at once when the window allows, else queues within the offline limits. */
    void offer(final Session session, final PendingMessage pending)
    {
        session.window.offer(pending, queueMaxMessages, queueMaxBytes, this);
        slowSubscribers.onQueued(session);
    }

    /** Queues within the offline limits (the caller found the window full). */
    void enqueue(final Session session, final PendingMessage pending)
    {
        session.window.enqueue(pending, queueMaxMessages, queueMaxBytes, this);
        slowSubscribers.onQueued(session);
    }

    /** Puts a message in flight; the caller sends it in its own batch. */
    void startInFlight(final Session session, final PendingMessage pending)
    {
        session.window.startInFlight(pending, this);
    }

    void drain(final Session session)
    {
        session.window.drain(clock.nanoTime(), this);
    }

    void resend(final Session session)
    {
        session.window.resend(this);
    }

    /** False when the acknowledgement is of the wrong type for the delivery it names (a protocol violation). */
    boolean onAck(final Session session, final int packetType, final int reasonCode, final int packetId)
    {
        final boolean valid = session.window.onAck(packetType, reasonCode, packetId, clock.nanoTime(), this);
        slowSubscribers.onProgress(session);
        return valid;
    }

    /** The session ends: everything it was owed goes back to the pool. */
    void clear(final Session session)
    {
        slowSubscribers.forget(session);
        session.window.clear(this);
    }

    public void send(final Session session, final PendingMessage pending, final boolean dup)
    {
        store.wrap(pending.handle, storedView);
        MessageExpiry.patchRemaining(storedView, 0, pending.expiryDeadlineNs, clock.nanoTime());
        out.beginBatch(storedView, 0, storedView.capacity());
        int flags = pending.retain ? Delivery.ENTRY_FLAG_RETAIN : 0;
        flags |= dup || pending.redelivery ? Delivery.ENTRY_FLAG_DUP : 0;
        out.addEntry(session.connectionId, pending.packetId, pending.qos, flags, pending.subscriptionIds, 0,
            pending.subscriptionIdCount);
        out.endBatch();
    }

    public void pubrel(final Session session, final int packetId, final int reasonCode)
    {
        out.ack(session.connectionId, PacketType.PUBREL, packetId, reasonCode);
    }

    public void delivered(final Session session, final PendingMessage pending, final int journalState)
    {
        if (session.durableId != 0 && pending.messageId != 0)
        {
            journal.delivered(session.durableId, pending.messageId, journalState, pending.packetId);
        }
    }

    public void releaseMessage(final PendingMessage pending)
    {
        store.release(pending.handle);
        pending.handle = MessageStore.NULL_HANDLE;
        pending.length = 0; // nothing stored is held for it any more (the window's in-flight bytes)
    }

    public void recycle(final PendingMessage pending)
    {
        if (pending.handle != MessageStore.NULL_HANDLE)
        {
            store.release(pending.handle);
        }
        pending.reset();
        pendingPool.addLast(pending);
    }

    public void dropped(final Session session, final PendingMessage pending, final int reason)
    {
        switch (reason)
        {
            case DeliveryWindow.DROPPED_QUEUE_FULL -> counters.queueDropped.incrementRelease();
            case DeliveryWindow.DROPPED_QUEUE_BYTES -> counters.queueDroppedBytes.incrementRelease();
            case DeliveryWindow.DROPPED_NOT_AUTHORIZED -> { } // counted by AccessRecheck
            default -> counters.expired.incrementRelease();
        }
    }
}
