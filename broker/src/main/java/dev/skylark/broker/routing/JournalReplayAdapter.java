package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

import static org.agrona.BitUtil.SIZE_OF_INT;
import static org.agrona.BitUtil.SIZE_OF_SHORT;

/**
 * Decodes the journal's records ({@link JournalRecord}) at start-up and rebuilds the routing agent's state from them:
 * persistent sessions (offline, with what is left of their expiry), their subscriptions, inbound QoS 2 state, the
 * messages they are owed (QoS 2 ones back in flight under their packet ids) and the retained messages. Runs once,
 * on the thread that builds the broker, before the agent's thread starts; called by {@link RoutingAgent#replay()}.
 * <p>
 * The same decoding rebuilds a dead cluster node's sessions on its heir ({@link HeirTakeover}), from that node's
 * journal replica: {@link #beginInherited} … {@link #onRecord} … {@link #finishInherited}. Then only the sessions of
 * the client ids the registry moved to this node are rebuilt (the others are not this node's), the dead node's
 * durable ids and message ids are replaced by fresh ones of this node (its id spaces are its own) rather than
 * carried on, and retained messages are left alone (the registry holds them cluster-wide). It runs on the routing
 * agent's thread, amid live sessions, which it does not touch.
 */
final class JournalReplayAdapter implements DurableLog.Replayer
{
    private static final System.Logger LOG = System.getLogger(JournalReplayAdapter.class.getName());

    private final DurableLog log;
    private final SessionRegistry sessions;
    private final TopicTree tree;
    private final MessageRouter router;
    private final Deliveries deliveries;
    private final MessageStore store;
    private final DurableIds ids;
    private final RoutingCounters counters;
    private final NanoClock clock;
    private final int inflightMax;
    private EpochClock epochClock;
    private ClusterForwarding forwardRecords;

    private final Long2ObjectHashMap<Session> replaySessions = new Long2ObjectHashMap<>();
    /** Heir mode: the client ids whose sessions are rebuilt; null at start-up (every session is). */
    private java.util.Set<String> inheritedClientIds;
    private final ArrayList<Session> expired = new ArrayList<>();
    /**
     * QoS 2 "sent under this packet id" records read before their MESSAGE record: a message sent at once to an online
     * subscriber is journaled as sent while it is routed, before the MESSAGE record that ends its routing. Key
     * "durableId:messageId", value the packet id; applied when the MESSAGE comes, forgotten at the end of the replay.
     */
    private final java.util.HashMap<String, Integer> sentEarly = new java.util.HashMap<>();
    private final int[] noSubscriptionIds = new int[1];
    private int[] replayIds = new int[8];
    private long replayRecords;
    /** A MESSAGE record cut into several ({@link JournalRecord#MESSAGE_FLAG_CONTINUED}) while its parts are read. */
    private final ExpandableArrayBuffer chunkTargets = new ExpandableArrayBuffer(4096);
    private final ExpandableArrayBuffer chunkMessage = new ExpandableArrayBuffer(4096);
    private boolean chunkPending;
    private int chunkFlags;
    private long chunkMessageId;
    private int chunkTargetCount;
    private int chunkTargetsLength;
    private int chunkMessageLength;
    private long chunksDropped;

    JournalReplayAdapter(
        final DurableLog log,
        final SessionRegistry sessions,
        final TopicTree tree,
        final MessageRouter router,
        final Deliveries deliveries,
        final MessageStore store,
        final DurableIds ids,
        final RoutingCounters counters,
        final NanoClock clock,
        final EpochClock epochClock,
        final int inflightMax)
    {
        this.log = log;
        this.sessions = sessions;
        this.tree = tree;
        this.router = router;
        this.deliveries = deliveries;
        this.store = store;
        this.ids = ids;
        this.counters = counters;
        this.clock = clock;
        this.epochClock = epochClock;
        this.inflightMax = inflightMax;
    }

    /** A cluster node: its FORWARD records go to {@code forwarding} ({@link ClusterForwarding#onOwnRecord}). */
    void forwardRecords(final ClusterForwarding forwarding)
    {
        this.forwardRecords = forwarding;
    }

    void epochClock(final EpochClock epochClock)
    {
        this.epochClock = epochClock;
    }

    /** Replays the whole journal; {@code nowNs} is the routing clock the restored deadlines count from. */
    void replay(final long nowNs)
    {
        final long startNs = clock.nanoTime();
        replayRecords = 0;
        log.replay(this);
        finishReplay(nowNs);
        int owed = 0;
        for (final Session session : sessions.sessions())
        {
            owed += session.window.backlog();
        }
        LOG.log(Level.INFO, "journal replayed in " + TimeUnit.NANOSECONDS.toMillis(clock.nanoTime() - startNs) +
            " ms: " + replayRecords + " record(s); restored " + sessions.sessionCount() + " persistent session(s), " +
            tree.subscriptionCount() + " subscription(s), " + owed + " owed message(s), " +
            router.retained().size() + " retained message(s)");
    }

    @Override
    public void onRecord(final DirectBuffer buffer, final int offset, final int length)
    {
        replayRecords++;
        final int type = buffer.getByte(offset + JournalRecord.TYPE_OFFSET);
        final long durableId = length >= JournalRecord.DURABLE_ID_OFFSET + 8 ?
            buffer.getLong(offset + JournalRecord.DURABLE_ID_OFFSET) : 0;
        if (chunkPending && type != JournalRecord.TARGETS)
        {
            dropChunkedMessage();
        }
        switch (type)
        {
            case JournalRecord.SESSION -> onSession(buffer, offset, durableId);
            case JournalRecord.SESSION_OFFLINE ->
            {
                final Session session = replaySessions.get(durableId);
                if (session != null)
                {
                    session.expiryInterval = buffer.getLong(offset + JournalRecord.OFFLINE_EXPIRY_OFFSET);
                    session.offlineSinceEpochMs = buffer.getLong(offset + JournalRecord.OFFLINE_SINCE_OFFSET);
                }
            }
            case JournalRecord.SESSION_END ->
            {
                final Session session = replaySessions.remove(durableId);
                if (session != null)
                {
                    sessions.endSession(session, false);
                }
            }
            case JournalRecord.SUBSCRIBE -> onSubscribe(buffer, offset, durableId);
            case JournalRecord.UNSUBSCRIBE ->
            {
                final Session session = replaySessions.get(durableId);
                if (session != null)
                {
                    final int filterLength = buffer.getShort(offset + JournalRecord.UNSUBSCRIBE_FILTER_OFFSET) & 0xFFFF;
                    final String filter = buffer.getStringWithoutLengthUtf8(
                        offset + JournalRecord.UNSUBSCRIBE_FILTER_OFFSET + SIZE_OF_SHORT, filterLength);
                    tree.unsubscribe(filter, session.sessionId);
                    session.removeDurableSubscription(filter);
                }
            }
            case JournalRecord.MESSAGE ->
            {
                if ((buffer.getByte(offset + JournalRecord.MESSAGE_FLAGS_OFFSET) &
                    JournalRecord.MESSAGE_FLAG_CONTINUED) != 0)
                {
                    beginChunkedMessage(buffer, offset, length);
                }
                else
                {
                    replayMessage(buffer, offset, length);
                }
            }
            case JournalRecord.TARGETS -> onTargets(buffer, offset, length);
            case JournalRecord.DELIVERED -> replayDelivered(buffer, offset, durableId);
            case JournalRecord.RECEIVED ->
            {
                final Session session = replaySessions.get(durableId);
                if (session != null)
                {
                    final int packetId = buffer.getShort(offset + JournalRecord.DELIVERED_PACKET_ID_OFFSET) & 0xFFFF;
                    if (buffer.getByte(offset + JournalRecord.DELIVERED_STATE_OFFSET) != 0)
                    {
                        session.awaitPubrel(packetId);
                    }
                    else
                    {
                        session.pubrelArrived(packetId);
                    }
                }
            }
            case JournalRecord.FORWARD, JournalRecord.FORWARD_APPLIED, JournalRecord.FORWARD_CONFIRMED ->
            {
                if (forwardRecords != null && inheritedClientIds == null)
                {
                    // This node's own forwards; an heir hands a dead node's to ClusterForwarding.onReplicaRecord.
                    forwardRecords.onOwnRecord(buffer, offset, length);
                }
            }
            default -> LOG.log(Level.WARNING, "journal: unknown record type " + type + " skipped");
        }
    }

    private void onSession(final DirectBuffer buffer, final int offset, final long durableId)
    {
        final int clientIdLength = buffer.getShort(offset + JournalRecord.SESSION_CLIENT_ID_OFFSET) & 0xFFFF;
        final String clientId = buffer.getStringWithoutLengthUtf8(
            offset + JournalRecord.SESSION_CLIENT_ID_OFFSET + SIZE_OF_SHORT, clientIdLength);
        Session session = replaySessions.get(durableId);
        if (session == null && inheritedClientIds != null && !inheritedClientIds.contains(clientId))
        {
            return; // heir mode: not a client id the registry moved here
        }
        if (session == null)
        {
            final Session previous = sessions.byClientId(clientId);
            if (previous != null)
            {
                final boolean replayed = replaySessions.get(previous.durableId) == previous;
                if (replayed)
                {
                    replaySessions.remove(previous.durableId);
                }
                previous.clusterEpoch = 0; // heir mode: an older session here; its client id is re-owned now
                sessions.endSession(previous, !replayed && inheritedClientIds != null);
            }
            session = sessions.add(clientId);
            session.durableId = durableId;
            session.offline = true;
            session.offlineSinceEpochMs = epochClock.time();
            session.replayIndex = new Long2ObjectHashMap<>();
            replaySessions.put(durableId, session);
        }
        session.version = buffer.getInt(offset + JournalRecord.SESSION_VERSION_OFFSET);
        session.expiryInterval = buffer.getLong(offset + JournalRecord.SESSION_EXPIRY_OFFSET);
        session.window.sendWindow = inflightMax;
        session.window.sendWindowBytes = deliveries.inflightMaxBytes();
        if (inheritedClientIds == null)
        {
            ids.durableIdSeen(durableId);
        }
    }

    private void onSubscribe(final DirectBuffer buffer, final int offset, final long durableId)
    {
        final Session session = replaySessions.get(durableId);
        if (session != null)
        {
            final int options = buffer.getByte(offset + JournalRecord.SUBSCRIBE_OPTIONS_OFFSET) & 0xFF;
            final int subscriptionId = buffer.getInt(offset + JournalRecord.SUBSCRIBE_ID_OFFSET);
            final int filterLength = buffer.getShort(offset + JournalRecord.SUBSCRIBE_FILTER_OFFSET) & 0xFFFF;
            final String filter = buffer.getStringWithoutLengthUtf8(
                offset + JournalRecord.SUBSCRIBE_FILTER_OFFSET + SIZE_OF_SHORT, filterLength);
            tree.subscribe(filter, session.sessionId, options, subscriptionId);
            session.putDurableSubscription(filter, Session.packSubscription(options, subscriptionId));
        }
    }

    /** The first part of a message cut into several records: kept until its last part has been read. */
    private void beginChunkedMessage(final DirectBuffer buffer, final int offset, final int length)
    {
        chunkPending = true;
        chunkFlags = buffer.getByte(offset + JournalRecord.MESSAGE_FLAGS_OFFSET) & ~JournalRecord.MESSAGE_FLAG_CONTINUED;
        chunkMessageId = buffer.getLong(offset + JournalRecord.MESSAGE_ID_OFFSET);
        messageIdSeen(chunkMessageId);
        final int count = buffer.getInt(offset + JournalRecord.MESSAGE_TARGET_COUNT_OFFSET);
        final int targetsLength = targetsLength(buffer, offset + JournalRecord.MESSAGE_TARGETS_OFFSET, count);
        chunkTargetCount = count;
        chunkTargetsLength = targetsLength;
        chunkTargets.putBytes(0, buffer, offset + JournalRecord.MESSAGE_TARGETS_OFFSET, targetsLength);
        final int messageOffset = offset + JournalRecord.MESSAGE_TARGETS_OFFSET + targetsLength;
        chunkMessageLength = offset + length - messageOffset;
        chunkMessage.putBytes(0, buffer, messageOffset, chunkMessageLength);
    }

    /** More targets of the message being read; the last part replays the whole message. */
    private void onTargets(final DirectBuffer buffer, final int offset, final int length)
    {
        final long messageId = buffer.getLong(offset + JournalRecord.MESSAGE_ID_OFFSET);
        if (!chunkPending || messageId != chunkMessageId)
        {
            dropChunkedMessage();
            messageIdSeen(messageId);
            LOG.log(Level.WARNING, "journal: targets of message " + messageId + " without its message skipped");
            return;
        }
        final int count = buffer.getInt(offset + JournalRecord.MESSAGE_TARGET_COUNT_OFFSET);
        final int targetsLength = Math.min(length - JournalRecord.MESSAGE_TARGETS_OFFSET,
            targetsLength(buffer, offset + JournalRecord.MESSAGE_TARGETS_OFFSET, count));
        chunkTargets.putBytes(chunkTargetsLength, buffer, offset + JournalRecord.MESSAGE_TARGETS_OFFSET, targetsLength);
        chunkTargetsLength += targetsLength;
        chunkTargetCount += count;
        if ((buffer.getByte(offset + JournalRecord.MESSAGE_FLAGS_OFFSET) & JournalRecord.MESSAGE_FLAG_CONTINUED) == 0)
        {
            // Whole: the record as it would have been written had it fitted.
            final ExpandableArrayBuffer whole = new ExpandableArrayBuffer(
                JournalRecord.MESSAGE_TARGETS_OFFSET + chunkTargetsLength + chunkMessageLength);
            whole.putByte(JournalRecord.TYPE_OFFSET, (byte)JournalRecord.MESSAGE);
            whole.putByte(JournalRecord.MESSAGE_FLAGS_OFFSET, (byte)chunkFlags);
            whole.putInt(JournalRecord.MESSAGE_TARGET_COUNT_OFFSET, chunkTargetCount);
            whole.putLong(JournalRecord.MESSAGE_ID_OFFSET, chunkMessageId);
            whole.putBytes(JournalRecord.MESSAGE_TARGETS_OFFSET, chunkTargets, 0, chunkTargetsLength);
            whole.putBytes(JournalRecord.MESSAGE_TARGETS_OFFSET + chunkTargetsLength, chunkMessage, 0,
                chunkMessageLength);
            chunkPending = false;
            replayMessage(whole, 0, JournalRecord.MESSAGE_TARGETS_OFFSET + chunkTargetsLength + chunkMessageLength);
        }
    }

    /**
     * A message whose parts stop short (a crash between them, or a damaged part skipped): it was never acknowledged,
     * so it is dropped whole rather than delivered to part of its targets; its publisher sends it again.
     */
    private void dropChunkedMessage()
    {
        if (chunkPending)
        {
            chunkPending = false;
            chunksDropped++;
            LOG.log(Level.WARNING, "journal: message " + chunkMessageId + " cut short (" + chunkTargetCount +
                " target(s) read), never acknowledged: dropped");
        }
    }

    /** Messages dropped at replay because their records stopped short. */
    long chunkedMessagesDropped()
    {
        return chunksDropped;
    }

    private static int targetsLength(final DirectBuffer buffer, final int from, final int count)
    {
        int position = from;
        for (int i = 0; i < count; i++)
        {
            final int ids = buffer.getShort(position + JournalRecord.TARGET_SUBSCRIPTION_ID_COUNT_OFFSET) & 0xFFFF;
            position += JournalRecord.TARGET_SUBSCRIPTION_IDS_OFFSET + ids * SIZE_OF_INT;
        }
        return position - from;
    }

    private void replayMessage(final DirectBuffer buffer, final int offset, final int length)
    {
        final int flags = buffer.getByte(offset + JournalRecord.MESSAGE_FLAGS_OFFSET);
        final int targetCount = buffer.getInt(offset + JournalRecord.MESSAGE_TARGET_COUNT_OFFSET);
        final long messageId = buffer.getLong(offset + JournalRecord.MESSAGE_ID_OFFSET);
        messageIdSeen(messageId);
        int position = offset + JournalRecord.MESSAGE_TARGETS_OFFSET;
        for (int i = 0; i < targetCount; i++)
        {
            final int count = buffer.getShort(position + JournalRecord.TARGET_SUBSCRIPTION_ID_COUNT_OFFSET) & 0xFFFF;
            position += JournalRecord.TARGET_SUBSCRIPTION_IDS_OFFSET + count * SIZE_OF_INT;
        }
        final int messageOffset = position;
        final int messageLength = offset + length - position;
        final long handle = store.store(buffer, messageOffset, messageLength);
        if ((flags & JournalRecord.MESSAGE_FLAG_RETAINED) != 0 && inheritedClientIds == null)
        {
            final int topicOffset = MessageLayout.topicOffset(messageOffset);
            final int topicLength = MessageLayout.topicLength(buffer, messageOffset);
            router.updateRetained(buffer, messageOffset, messageLength, topicOffset, topicLength, handle);
        }
        position = offset + JournalRecord.MESSAGE_TARGETS_OFFSET;
        for (int i = 0; i < targetCount; i++)
        {
            final long durableId = buffer.getLong(position);
            final int qos = buffer.getByte(position + JournalRecord.TARGET_QOS_OFFSET);
            final int targetFlags = buffer.getByte(position + JournalRecord.TARGET_FLAGS_OFFSET);
            final int count = buffer.getShort(position + JournalRecord.TARGET_SUBSCRIPTION_ID_COUNT_OFFSET) & 0xFFFF;
            if (replayIds.length < count)
            {
                replayIds = new int[count];
            }
            for (int j = 0; j < count; j++)
            {
                replayIds[j] = buffer.getInt(position + JournalRecord.TARGET_SUBSCRIPTION_IDS_OFFSET + j * SIZE_OF_INT);
            }
            position += JournalRecord.TARGET_SUBSCRIPTION_IDS_OFFSET + count * SIZE_OF_INT;
            final Session session = replaySessions.get(durableId);
            if (session == null)
            {
                continue;
            }
            store.retain(handle);
            final PendingMessage pending = deliveries.newPending(0, handle, qos,
                (targetFlags & Delivery.ENTRY_FLAG_RETAIN) != 0, replayIds, 0, count);
            pending.messageId = messageId;
            pending.redelivery = true;
            if (!sentEarly.isEmpty())
            {
                final Integer packetId = sentEarly.remove(durableId + ":" + messageId);
                if (packetId != null)
                {
                    pending.state = PendingMessage.AWAIT_PUBREC;
                    pending.packetId = packetId;
                }
            }
            session.window.queue.addLast(pending);
            session.replayIndex.put(messageId, pending);
        }
        store.release(handle);
    }

    private void replayDelivered(final DirectBuffer buffer, final int offset, final long durableId)
    {
        final Session session = replaySessions.get(durableId);
        if (session == null)
        {
            return;
        }
        final int state = buffer.getByte(offset + JournalRecord.DELIVERED_STATE_OFFSET);
        final int packetId = buffer.getShort(offset + JournalRecord.DELIVERED_PACKET_ID_OFFSET) & 0xFFFF;
        final long messageId = buffer.getLong(offset + JournalRecord.DELIVERED_MESSAGE_ID_OFFSET);
        messageIdSeen(messageId);
        PendingMessage pending = session.replayIndex.get(messageId);
        if (state == JournalRecord.DELIVERED_SENT)
        {
            if (pending != null && pending.state == PendingMessage.QUEUED)
            {
                pending.state = PendingMessage.AWAIT_PUBREC;
                pending.packetId = packetId;
            }
            else if (pending == null)
            {
                sentEarly.put(durableId + ":" + messageId, packetId); // its MESSAGE record follows
            }
        }
        else if (state == JournalRecord.DELIVERED_RELEASED)
        {
            if (pending == null)
            {
                // From a checkpoint: only the PUBREL is owed.
                pending = deliveries.newPending(0, MessageStore.NULL_HANDLE, 2, false, noSubscriptionIds, 0, 0);
                pending.messageId = messageId;
                session.replayIndex.put(messageId, pending);
            }
            else if (pending.handle != MessageStore.NULL_HANDLE)
            {
                deliveries.releaseMessage(pending);
            }
            pending.state = PendingMessage.AWAIT_PUBCOMP;
            pending.packetId = packetId;
        }
        else if (pending != null)
        {
            if (pending.state == PendingMessage.AWAIT_PUBCOMP)
            {
                pending.packetId = 0;
            }
            pending.state = PendingMessage.REPLAY_DONE;
            session.replayIndex.remove(messageId);
        }
    }

    /** Start-up only: heir mode keeps the message ids of this node's own id space apart from the dead node's. */
    private void messageIdSeen(final long messageId)
    {
        if (inheritedClientIds == null)
        {
            ids.messageIdSeen(messageId);
        }
    }

    /**
     * Heir mode: the records that follow (a dead node's replica, through {@link #onRecord}) rebuild the sessions of
     * {@code clientIds} only; then {@link #finishInherited}.
     */
    void beginInherited(final java.util.Set<String> clientIds)
    {
        inheritedClientIds = clientIds;
        replaySessions.clear();
        chunkPending = false;
        replayRecords = 0;
    }

    /**
     * Ends heir mode: the rebuilt sessions, offline, their expiry running from when they went offline (the time the
     * replica says, else now) — those whose expiry passed are ended — each with a fresh durable id and fresh message
     * ids of this node, not yet journaled here (the caller does that).
     */
    java.util.List<Session> finishInherited(final long nowNs)
    {
        final java.util.List<Session> restored = finishReplay(nowNs);
        for (final Session session : restored)
        {
            session.durableId = ids.newDurableId();
            for (final PendingMessage pending : session.window.inFlightOrder())
            {
                pending.messageId = ids.newMessageId();
            }
            for (final PendingMessage pending : session.window.queue)
            {
                pending.messageId = ids.newMessageId();
            }
        }
        inheritedClientIds = null;
        return restored;
    }

    /** Records replayed by the last replay (start-up or heir mode). */
    long replayRecords()
    {
        return replayRecords;
    }

    private java.util.List<Session> finishReplay(final long nowNs)
    {
        dropChunkedMessage();
        sentEarly.clear();
        final long nowEpochMs = epochClock.time();
        expired.clear();
        final ArrayList<Session> restored = new ArrayList<>(replaySessions.values());
        restored.sort((a, b) -> Integer.compare(a.sessionId, b.sessionId));
        for (final Session session : restored)
        {
            // QoS 2 messages sent or released become in flight again under their packet ids (resent with DUP, or
            // PUBREL, on reconnect); those acknowledged since they were journaled are dropped; the rest wait in order.
            final DeliveryWindow window = session.window;
            final int queued = window.queue.size();
            for (int i = 0; i < queued; i++)
            {
                final PendingMessage pending = window.queue.pollFirst();
                if (pending.state == PendingMessage.QUEUED)
                {
                    window.queue.addLast(pending);
                }
                else if (pending.state == PendingMessage.REPLAY_DONE)
                {
                    deliveries.recycle(pending);
                }
                else
                {
                    window.restoreInFlight(pending, deliveries);
                }
            }
            for (final PendingMessage pending : session.replayIndex.values())
            {
                if (pending.state == PendingMessage.AWAIT_PUBCOMP && window.inFlight(pending.packetId) != pending)
                {
                    window.restoreInFlight(pending, deliveries); // from a checkpoint: only the PUBREL is owed
                }
            }
            session.replayIndex = null;
            final long offlineMs = Math.max(0, nowEpochMs - session.offlineSinceEpochMs);
            if (session.expiryInterval == Session.NEVER)
            {
                session.expiryDeadlineNs = Long.MAX_VALUE;
            }
            else
            {
                final long remainingMs = TimeUnit.SECONDS.toMillis(session.expiryInterval) - offlineMs;
                session.expiryDeadlineNs = nowNs + TimeUnit.MILLISECONDS.toNanos(remainingMs);
                if (remainingMs <= 0)
                {
                    expired.add(session);
                }
            }
        }
        for (int i = 0; i < expired.size(); i++)
        {
            sessions.endSession(expired.get(i), false); // still replaying: nothing new is journaled
        }
        restored.removeAll(expired);
        expired.clear();
        for (final Session session : restored)
        {
            if (session.expiryDeadlineNs != Long.MAX_VALUE)
            {
                sessions.expireAt(session, session.expiryDeadlineNs);
            }
        }
        replaySessions.clear();
        counters.sessions.set(sessions.sessionCount());
        counters.subscriptions.set(tree.subscriptionCount());
        return restored;
    }
}
