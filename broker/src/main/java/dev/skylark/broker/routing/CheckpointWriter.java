package dev.skylark.broker.routing;

import org.agrona.collections.IntHashSet;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Writes the routing agent's whole durable state as a journal checkpoint: persistent sessions, their subscriptions,
 * inbound QoS 2 state and owed messages, and the retained messages; once it is durable the journal drops everything
 * before it. Called by the agent after a replay and when the journal has grown past its checkpoint size.
 */
final class CheckpointWriter
{
    private static final System.Logger LOG = System.getLogger(CheckpointWriter.class.getName());
    /** How often a failing journal is offered a recovery checkpoint. */
    static final long RECOVERY_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);

    private final DurableLog log;
    private final JournalRecord journal;
    private final SessionRegistry sessions;
    private final RetainedIndex<Long> retained;
    private final MessageStore store;
    private final DurableIds ids;
    private final NanoClock clock;
    private final long checkpointBytes;
    private final JournalCounters counters;
    private long nextRecoveryAttemptNs;
    private boolean failing;
    private final UnsafeBuffer storedView = new UnsafeBuffer(0, 0);
    private long lastCheckpointBytes;
    /** A cluster node's forwards not yet confirmed, and marks of what it applied; null on a single node. */
    private ClusterForwarding forwarding;

    CheckpointWriter(
        final DurableLog log,
        final JournalRecord journal,
        final SessionRegistry sessions,
        final RetainedIndex<Long> retained,
        final MessageStore store,
        final DurableIds ids,
        final NanoClock clock,
        final long checkpointBytes,
        final JournalCounters counters)
    {
        this.counters = counters;
        this.log = log;
        this.journal = journal;
        this.sessions = sessions;
        this.retained = retained;
        this.store = store;
        this.ids = ids;
        this.clock = clock;
        this.checkpointBytes = checkpointBytes;
    }

    /**
     * True when the journal has grown past the checkpoint size, and past twice the size of the last checkpoint; or
     * when the journal failed to append and a recovery attempt is due (at most one per
     * {@link #RECOVERY_INTERVAL_NS}): after a failure nothing is durable until a whole checkpoint is, because the
     * records lost in the failure are only covered again by a checkpoint of the state they changed.
     */
    boolean isDue()
    {
        counters.appendFailures.setRelease(log.appendFailures());
        if (log.isFailing())
        {
            final long nowNs = clock.nanoTime();
            if (!failing)
            {
                failing = true;
                counters.failing.setRelease(1);
                nextRecoveryAttemptNs = nowNs + RECOVERY_INTERVAL_NS;
                LOG.log(Level.ERROR, "journal: cannot append; QoS 1/2 publishes are refused (v5 0x97, 3.1.1 " +
                    "disconnect) and acknowledgements held until a checkpoint is durable again");
                return false;
            }
            if (nowNs - nextRecoveryAttemptNs >= 0)
            {
                nextRecoveryAttemptNs = nowNs + RECOVERY_INTERVAL_NS;
                return true;
            }
            return false;
        }
        if (failing)
        {
            failing = false;
            counters.failing.setRelease(0);
            LOG.log(Level.WARNING, "journal: appending again (recovery checkpoint durable); QoS 1/2 publishes accepted");
        }
        return log.bytesSinceCheckpoint() > Math.max(checkpointBytes, 2 * lastCheckpointBytes);
    }

    /** Joins a cluster: checkpoints keep the forwards not yet confirmed ({@link ClusterForwarding#checkpoint}). */
    void forwarding(final ClusterForwarding forwarding)
    {
        this.forwarding = forwarding;
    }

    /** After the replay: what it could not read, for the metrics. */
    void onReplayed()
    {
        counters.recordsSkipped.setRelease(log.recordsSkipped());
        counters.generationsQuarantined.setRelease(log.generationsQuarantined());
    }

    void writeCheckpoint()
    {
        final long startNs = clock.nanoTime();
        log.beginCheckpoint();
        int messages = 0;
        for (final Session session : sessions.sessions())
        {
            if (session.durableId == 0)
            {
                continue;
            }
            messages += writeSession(session);
        }
        retained.forEachMatch("#", (topic, topicOffset, topicLength, handle) ->
        {
            store.wrap(handle, storedView);
            journal.beginMessage(0, JournalRecord.MESSAGE_FLAG_RETAINED);
            journal.endMessage(storedView, 0, storedView.capacity());
        });
        if (forwarding != null)
        {
            forwarding.checkpoint(journal);
        }
        log.endCheckpoint();
        lastCheckpointBytes = log.bytesSinceCheckpoint();
        LOG.log(Level.DEBUG, "journal checkpoint: " + sessions.sessionCount() + " session(s), " + messages +
            " owed message(s), " + retained.size() + " retained, " + lastCheckpointBytes + " bytes, " +
            TimeUnit.NANOSECONDS.toMicros(clock.nanoTime() - startNs) + " us");
    }

    /**
     * Journals one persistent session's whole state — the session (and its offline time), its subscriptions, inbound
     * QoS 2 state and owed messages — as a checkpoint does; also how an heir makes a session it took over its own
     * ({@link HeirTakeover}). Returns the owed messages written; the sequence of the last record is the log's
     * {@link DurableLog#lastSequence()}.
     */
    int writeSession(final Session session)
    {
        int messages = 0;
        journal.session(session);
        if (session.offline)
        {
            journal.sessionOffline(session);
        }
        for (final Map.Entry<String, Long> entry : session.durableSubscriptions().entrySet())
        {
            final long packed = entry.getValue();
            journal.subscribe(session.durableId, entry.getKey(), Session.packedOptions(packed),
                Session.packedSubscriptionId(packed));
        }
        if (null != session.awaitingPubrel)
        {
            final IntHashSet.IntIterator received = session.awaitingPubrel.iterator();
            while (received.hasNext())
            {
                journal.received(session.durableId, received.nextValue(), true);
            }
        }
        for (final PendingMessage pending : session.window.inFlightOrder())
        {
            messages += checkpointPending(session, pending);
        }
        for (final PendingMessage pending : session.window.queue)
        {
            messages += checkpointPending(session, pending);
        }
        return messages;
    }

    private int checkpointPending(final Session session, final PendingMessage pending)
    {
        if (pending.messageId == 0)
        {
            pending.messageId = ids.newMessageId();
        }
        if (pending.state == PendingMessage.AWAIT_PUBCOMP)
        {
            journal.delivered(session.durableId, pending.messageId, JournalRecord.DELIVERED_RELEASED, pending.packetId);
            return 1;
        }
        store.wrap(pending.handle, storedView);
        journal.beginMessage(pending.messageId, 0);
        journal.addTarget(session.durableId, pending.qos, pending.retain ? Delivery.ENTRY_FLAG_RETAIN : 0,
            pending.subscriptionIds, 0, pending.subscriptionIdCount);
        journal.endMessage(storedView, 0, storedView.capacity());
        if (pending.state == PendingMessage.AWAIT_PUBREC)
        {
            journal.delivered(session.durableId, pending.messageId, JournalRecord.DELIVERED_SENT, pending.packetId);
        }
        return 1;
    }
}
