package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.MqttVersion;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.CachedNanoClock;

/**
 * Routes one message (in the {@link MessageLayout}) to every matching subscription, once: QoS 0 copies go straight
 * into the delivery batch, QoS 1/2 copies become pending messages in each session's {@link DeliveryWindow}, and a
 * retained message replaces its topic's entry in the retained index. Called by {@link InboundQos} for PUBLISH, by
 * {@link Wills} and by the $SYS publisher.
 */
final class MessageRouter implements SessionAvailability, SysTopics.Sink
{
    private final TopicTree tree;
    private final MatchResult match = new MatchResult();
    private final RetainedIndex<Long> retained = new RetainedIndex<>();
    private final RetainedQuota retainedQuota = new RetainedQuota();
    /** Expiry deadlines of retained messages that have a Message Expiry Interval, by store handle. */
    private final Long2LongHashMap retainedExpiry = new Long2LongHashMap(0);
    private final MessageStore store;
    private final Int2ObjectHashMap<Session> sessionsById;
    private final Deliveries deliveries;
    private final DeliveryPublisher out;
    private final JournalRecord journal;
    private final DurableIds ids;
    private final RoutingCounters counters;
    private final CachedNanoClock clock;
    /** The other nodes of a cluster: null on a single node. */
    private ClusterForwarding forwarding;
    /** An empty retained message, journaled when the admin API deletes one. */
    private final ExpandableArrayBuffer clearScratch = new ExpandableArrayBuffer(256);

    MessageRouter(
        final TopicTree tree,
        final MessageStore store,
        final Int2ObjectHashMap<Session> sessionsById,
        final Deliveries deliveries,
        final DeliveryPublisher out,
        final JournalRecord journal,
        final DurableIds ids,
        final RoutingCounters counters,
        final CachedNanoClock clock)
    {
        this.tree = tree;
        this.store = store;
        this.sessionsById = sessionsById;
        this.deliveries = deliveries;
        this.out = out;
        this.journal = journal;
        this.ids = ids;
        this.counters = counters;
        this.clock = clock;
    }

    /** Joins a cluster: messages published here are also sent to the nodes whose routes match. */
    void forwarding(final ClusterForwarding forwarding)
    {
        this.forwarding = forwarding;
    }

    RetainedIndex<Long> retained()
    {
        return retained;
    }

    RetainedQuota retainedQuota()
    {
        return retainedQuota;
    }

    /**
     * Whether a retained message (in the {@link MessageLayout}) from {@code clientId} fits the retained quotas: a
     * clear (empty payload) always does.
     *
     * @return {@link RetainedQuota#ADMITTED} or the limit it would pass.
     */
    int admitsRetained(final String clientId, final DirectBuffer buffer, final int offset, final int length)
    {
        if (MessageLayout.payloadLength(buffer, offset) == 0)
        {
            return RetainedQuota.ADMITTED;
        }
        final Long previous =
            retained.get(buffer, MessageLayout.topicOffset(offset), MessageLayout.topicLength(buffer, offset));
        final long previousHandle = previous == null ? MessageStore.NULL_HANDLE : previous;
        final int previousLength = previous == null ? 0 : store.length(previousHandle);
        return retainedQuota.admits(clientId, length, previousHandle, previousLength);
    }

    /**
     * Deletes the retained message of a topic (the admin API's delete), as an empty retained PUBLISH would, without
     * routing anything: journaled so that it stays deleted after a restart.
     *
     * @return true when the topic had one.
     */
    boolean deleteRetained(final DirectBuffer topic, final int topicOffset, final int topicLength)
    {
        final Long previous = retained.remove(topic, topicOffset, topicLength);
        if (previous == null)
        {
            return false;
        }
        journal.beginMessage(ids.newMessageId(), JournalRecord.MESSAGE_FLAG_RETAINED);
        final int length = MessageLayout.writeEmptyRetained(clearScratch, 0, topic, topicOffset, topicLength);
        journal.endMessage(clearScratch, 0, length);
        forgetRetained(previous);
        counters.retained.setRelease(retained.size());
        return true;
    }

    /** The expiry deadline of a retained message by its store handle, 0 when it has none. */
    long retainedExpiryNs(final long handle)
    {
        return retainedExpiry.get(handle);
    }

    /** The $SYS publisher's sink: a QoS 0 message from nobody, about this node, so never sent to other nodes. */
    public void route(final ExpandableArrayBuffer buffer, final int offset, final int length)
    {
        route(buffer, offset, length, -1, MessageStore.NULL_HANDLE, null, null, false);
    }

    /**
     * A message another cluster node published and {@link ClusterForwarding} received: delivered to this node's
     * subscribers only (never forwarded again), its shared groups as {@code forwarding} says, the retained index
     * untouched (retained messages arrive through the registry).
     */
    int routeForwarded(
        final DirectBuffer buffer, final int offset, final int length, final ClusterForwarding forwarding)
    {
        return route(buffer, offset, length, -1, MessageStore.NULL_HANDLE, null, forwarding, true);
    }

    /**
     * A retained message the cluster registry committed (from any node, this one included): replaces its topic's
     * entry in the retained index, or clears it, without routing anything.
     */
    void applyRetained(final DirectBuffer buffer, final int offset, final int length)
    {
        final long handle = updateRetained(buffer, offset, length, MessageLayout.topicOffset(offset),
            MessageLayout.topicLength(buffer, offset), MessageStore.NULL_HANDLE, null);
        if (handle != MessageStore.NULL_HANDLE)
        {
            final long expiryDeadlineNs = MessageExpiry.deadlineNs(buffer, offset, clock.nanoTime());
            if (expiryDeadlineNs != 0)
            {
                retainedExpiry.put(handle, expiryDeadlineNs);
            }
            store.release(handle); // the retained index holds its own reference
        }
    }

    /**
     * Routes one message to every matching subscription and stores it as retained if flagged.
     *
     * @param publisherSessionId the publisher's session (for No Local), or -1.
     * @param storedHandle       the message's handle if it already lives in the store, else NULL_HANDLE.
     * @return the number of subscriptions it matched.
     */
    int route(
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int publisherSessionId,
        final long storedHandle)
    {
        final Session publisher = publisherSessionId < 0 ? null : sessionsById.get(publisherSessionId);
        return route(buffer, offset, length, publisherSessionId, storedHandle, publisher == null ? null : publisher.clientId);
    }

    /**
     * As {@link #route(DirectBuffer, int, int, int, long)}, with the client id a retained message is counted against
     * ({@link RetainedQuota}; null: nobody's). The caller has checked {@link #admitsRetained}.
     */
    int route(
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int publisherSessionId,
        final long storedHandle,
        final String owner)
    {
        return route(buffer, offset, length, publisherSessionId, storedHandle, owner, forwarding, false);
    }

    /**
     * @param forwarding null on a single node (and for $SYS); else the cluster's view of which shared groups this
     *                   node delivers, and, unless {@code forwarded}, where the message goes besides.
     * @param forwarded  the message came from another node: only this node's subscribers get it.
     */
    private int route(
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int publisherSessionId,
        final long storedHandle,
        final String owner,
        final ClusterForwarding forwarding,
        final boolean forwarded)
    {
        final int qos = MessageLayout.qos(buffer, offset);
        final boolean retain = MessageLayout.retain(buffer, offset);
        final int topicOffset = MessageLayout.topicOffset(offset);
        final int topicLength = MessageLayout.topicLength(buffer, offset);

        final long expiryDeadlineNs = MessageExpiry.deadlineNs(buffer, offset, clock.nanoTime());
        long handle = storedHandle;
        if (retain && !forwarded)
        {
            handle = updateRetained(buffer, offset, length, topicOffset, topicLength, handle, owner);
            if (handle != MessageStore.NULL_HANDLE && expiryDeadlineNs != 0)
            {
                retainedExpiry.put(handle, expiryDeadlineNs);
            }
        }
        int forwardedTo = 0;
        if (forwarding != null && !forwarded)
        {
            if (retain)
            {
                forwarding.setRetained(buffer, offset, length);
            }
            forwardedTo = forwarding.matchRemote(buffer, topicOffset, topicLength);
        }
        final boolean journaled = qos > 0 || retain;
        final long messageId = journaled ? ids.newMessageId() : 0;
        if (journaled)
        {
            journal.beginMessage(messageId, retain ? JournalRecord.MESSAGE_FLAG_RETAINED : 0);
        }

        tree.match(buffer, topicOffset, topicLength, publisherSessionId, match, this);
        final int count = match.size();
        if (count == 0)
        {
            if (journaled)
            {
                journal.endMessage(buffer, offset, length);
            }
            if (handle != MessageStore.NULL_HANDLE && handle != storedHandle)
            {
                store.release(handle); // the routing's own reference: the retained index holds its own
            }
            if (forwardedTo > 0)
            {
                forwarding.sendForwards(buffer, offset, length, expiryDeadlineNs);
            }
            return forwardedTo;
        }

        out.beginBatch(buffer, offset, length);
        final int[] subscriptionIds = match.subscriptionIds();
        for (int i = 0; i < count; i++)
        {
            final Session session = sessionsById.get(match.sessionId(i));
            if (session == null ||
                (forwarding != null && match.isShared(i) && !forwarding.deliversHere(match.sharedGroup(i))) ||
                (forwarded && !forwarding.deliversTo(session)))
            {
                continue;
            }
            final int deliveredQos = Math.min(qos, match.maxQos(i));
            final int flags = retain && match.retainAsPublished(i) ? Delivery.ENTRY_FLAG_RETAIN : 0;
            final int subscriptionIdCount = session.version == MqttVersion.V5 ? match.subscriptionIdCount(i) : 0;
            final int subscriptionIdOffset = match.subscriptionIdOffset(i);
            if (deliveredQos == 0)
            {
                if (session.isOnline())
                {
                    out.addEntry(session.connectionId, 0, 0, flags, subscriptionIds, subscriptionIdOffset,
                        subscriptionIdCount);
                }
                continue;
            }
            if (handle == MessageStore.NULL_HANDLE)
            {
                handle = store.store(buffer, offset, length); // the routing's own reference, released below
            }
            store.retain(handle); // the pending message's reference
            final PendingMessage pending = deliveries.newPending(expiryDeadlineNs, handle, deliveredQos, flags != 0,
                subscriptionIds, subscriptionIdOffset, subscriptionIdCount);
            pending.messageId = messageId;
            pending.sharedGroup = match.isShared(i) ? match.sharedGroup(i) : null;
            if (session.durableId != 0)
            {
                journal.addTarget(session.durableId, deliveredQos, flags, subscriptionIds, subscriptionIdOffset,
                    subscriptionIdCount);
            }
            if (session.window.canSendNow())
            {
                deliveries.startInFlight(session, pending);
                out.addEntry(session.connectionId, pending.packetId, deliveredQos, flags, subscriptionIds,
                    subscriptionIdOffset, subscriptionIdCount);
            }
            else
            {
                deliveries.enqueue(session, pending);
            }
        }
        out.endBatch();
        if (journaled)
        {
            journal.endMessage(buffer, offset, length);
        }
        if (handle != MessageStore.NULL_HANDLE && handle != storedHandle)
        {
            store.release(handle); // the routing's own reference; queues and windows hold theirs
        }
        if (forwardedTo > 0)
        {
            forwarding.sendForwards(buffer, offset, length, expiryDeadlineNs);
        }
        return count + forwardedTo;
    }

    /**
     * Sets or (empty payload) clears the retained message of a topic; the previous one's reference is released.
     *
     * @return the message's store handle (stored here when {@code storedHandle} was NULL_HANDLE).
     */
    long updateRetained(
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int topicOffset,
        final int topicLength,
        final long storedHandle)
    {
        return updateRetained(buffer, offset, length, topicOffset, topicLength, storedHandle, null);
    }

    /** As {@link #updateRetained(DirectBuffer, int, int, int, int, long)}, counted against {@code owner}. */
    long updateRetained(
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int topicOffset,
        final int topicLength,
        final long storedHandle,
        final String owner)
    {
        final Long previous;
        long handle = storedHandle;
        if (MessageLayout.payloadLength(buffer, offset) == 0)
        {
            previous = retained.remove(buffer, topicOffset, topicLength);
        }
        else
        {
            if (handle == MessageStore.NULL_HANDLE)
            {
                handle = store.store(buffer, offset, length); // reference owned by the routing, released after
            }
            store.retain(handle); // reference owned by the retained index
            previous = retained.put(buffer, topicOffset, topicLength, handle);
            retainedQuota.added(handle, store.length(handle), owner);
        }
        if (previous != null)
        {
            forgetRetained(previous);
        }
        counters.retained.setRelease(retained.size());
        return handle;
    }

    private void forgetRetained(final long previous)
    {
        retainedQuota.removed(previous, store.length(previous));
        retainedExpiry.remove(previous);
        store.release(previous);
    }

    public boolean isAvailable(final int sessionId)
    {
        final Session session = sessionsById.get(sessionId);
        return session != null && session.isOnline() && session.window.canSend();
    }

    public int backlog(final int sessionId)
    {
        final Session session = sessionsById.get(sessionId);
        return session == null ? Integer.MAX_VALUE : session.window.backlog();
    }
}
