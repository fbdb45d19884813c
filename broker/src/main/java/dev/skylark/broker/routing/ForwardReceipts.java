package dev.skylark.broker.routing;

import org.agrona.ExpandableArrayBuffer;
import org.agrona.collections.Long2LongHashMap;

import java.util.Arrays;

/**
 * The receiving side of durable forwards ({@link ClusterForwarding}): per (origin node, target node) the highest
 * forward id applied here — anything at or below it is a duplicate (a re-send after a failover) and is dropped — and
 * the confirmations owed to the nodes that sent them.
 * <p>
 * A confirmation ({@link #CONFIRM}: origin, target, up-to id) goes to the sending node once this node's
 * {@link DurableLog#durableSequence()} covers the records it wrote for those forwards: one per (sender, origin,
 * target) and per durable round, not one per forward. Each pair keeps a candidate (the highest id applied when the
 * candidate was taken, and the sequence of its records); when that sequence is durable the candidate is confirmed
 * and the next one taken, so a steady stream still gets confirmed, one round behind.
 * <p>
 * The FORWARD_APPLIED mark that makes the de-duplication survive a restart is journaled alike: one per (origin,
 * target) per round of the routing agent ({@link #writeMarks}), not one per forward; a confirmation waits for the
 * mark as well as for the messages.
 * <p>
 * Bounded by the number of (sender, origin, target) triples (nodes, not messages). Routing agent thread only; no
 * allocation once every triple has been seen.
 */
final class ForwardReceipts
{
    /** Peer message type: {@code origin:4 target:4 upToForwardId:8}, from a receiving node to the sender. */
    static final int CONFIRM = 6;
    static final int CONFIRM_ORIGIN_OFFSET = 0;
    static final int CONFIRM_TARGET_OFFSET = 4;
    static final int CONFIRM_ID_OFFSET = 8;
    static final int CONFIRM_LENGTH = 16;

    private static final class Owed
    {
        final int from;
        final int origin;
        final int target;
        long appliedId;
        long appliedSequence;
        long candidateId;
        long candidateSequence;
        long confirmedId;

        Owed(final int from, final int origin, final int target)
        {
            this.from = from;
            this.origin = origin;
            this.target = target;
        }
    }

    /** (origin, target) → highest forward id applied here. */
    private final Long2LongHashMap applied = new Long2LongHashMap(0);
    /** Bound on the (sender, origin, target) triples tracked: nodes are few; a peer naming others is not trusted. */
    static final int MAX_OWED = 4096;
    private Owed[] owed = new Owed[0];
    /** (origin, target) → highest forward id applied since the last {@link #writeMarks}: its mark is still owed. */
    private final Long2LongHashMap unmarked = new Long2LongHashMap(0);
    private final org.agrona.collections.LongLongConsumer markWriter = this::writeMark;
    private JournalRecord markJournal;
    private final ExpandableArrayBuffer confirm = new ExpandableArrayBuffer(CONFIRM_LENGTH);

    static long key(final int origin, final int target)
    {
        return ((long)origin << 32) | (target & 0xFFFF_FFFFL);
    }

    static int origin(final long key)
    {
        return (int)(key >>> 32);
    }

    static int target(final long key)
    {
        return (int)key;
    }

    /** The highest forward id applied here from {@code origin} for {@code target} (0: none). */
    long applied(final int origin, final int target)
    {
        return applied.get(key(origin, target));
    }

    /** A forward was applied here (or, replaying, had been): raises the mark. */
    void seen(final int origin, final int target, final long forwardId)
    {
        final long key = key(origin, target);
        if (forwardId > applied.get(key))
        {
            applied.put(key, forwardId);
        }
    }

    /**
     * A forward was applied here just now: raises the mark, and journals it at the next {@link #writeMarks} (the
     * forwards of one poll share one record).
     */
    void applied(final int origin, final int target, final long forwardId)
    {
        seen(origin, target, forwardId);
        final long key = key(origin, target);
        if (forwardId > unmarked.get(key))
        {
            unmarked.put(key, forwardId);
        }
    }

    /**
     * Journals a FORWARD_APPLIED mark for each (origin, target) {@link #applied} since the last call, and makes the
     * confirmations owed for them wait for the mark too: until it is durable a restart would take the forwards
     * again. Returns how many marks were written.
     */
    int writeMarks(final JournalRecord journal)
    {
        if (unmarked.isEmpty())
        {
            return 0;
        }
        final int count = unmarked.size();
        markJournal = journal;
        unmarked.forEachLong(markWriter);
        unmarked.clear();
        return count;
    }

    private void writeMark(final long key, final long forwardId)
    {
        final int origin = origin(key);
        final int target = target(key);
        final long sequence = markJournal.forwardMark(false, origin, target, forwardId);
        for (final Owed entry : owed)
        {
            if (entry.origin == origin && entry.target == target && entry.appliedId > entry.confirmedId)
            {
                entry.appliedSequence = Math.max(entry.appliedSequence, sequence);
            }
        }
    }

    /** Every mark, for a checkpoint. */
    Long2LongHashMap marks()
    {
        return applied;
    }

    /** {@code from} sent the forward; confirm it once {@code sequence} is durable. */
    void owe(final int from, final int origin, final int target, final long forwardId, final long sequence)
    {
        final Owed entry = entry(from, origin, target);
        if (entry == null)
        {
            return; // past the bound: the sender holds it until a failover re-sends it (de-duplicated then)
        }
        entry.appliedId = Math.max(entry.appliedId, forwardId);
        entry.appliedSequence = Math.max(entry.appliedSequence, sequence);
    }

    /** The sender is gone: nothing more is owed to it (its heir re-sends what it had not seen confirmed). */
    void forgetSender(final int node)
    {
        int kept = 0;
        for (final Owed entry : owed)
        {
            if (entry.from != node)
            {
                owed[kept++] = entry;
            }
        }
        if (kept != owed.length)
        {
            owed = Arrays.copyOf(owed, kept);
        }
    }

    /** Whether a confirmation could go now. */
    boolean hasReady(final long durableSequence)
    {
        for (final Owed entry : owed)
        {
            if (entry.candidateId > entry.confirmedId ? entry.candidateSequence <= durableSequence :
                entry.appliedId > entry.confirmedId && entry.appliedSequence <= durableSequence)
            {
                return true;
            }
        }
        return false;
    }

    /** Sends the confirmations whose records are durable; returns how many went. */
    int confirm(final ClusterLink link, final long durableSequence)
    {
        int sent = 0;
        for (final Owed entry : owed)
        {
            if (entry.candidateId <= entry.confirmedId && entry.appliedId > entry.confirmedId)
            {
                entry.candidateId = entry.appliedId;
                entry.candidateSequence = entry.appliedSequence;
            }
            if (entry.candidateId > entry.confirmedId && entry.candidateSequence <= durableSequence)
            {
                confirm.putInt(CONFIRM_ORIGIN_OFFSET, entry.origin);
                confirm.putInt(CONFIRM_TARGET_OFFSET, entry.target);
                confirm.putLong(CONFIRM_ID_OFFSET, entry.candidateId);
                if (link.send(entry.from, CONFIRM, confirm, 0, CONFIRM_LENGTH))
                {
                    entry.confirmedId = entry.candidateId;
                    sent++;
                    if (entry.appliedId > entry.confirmedId)
                    {
                        entry.candidateId = entry.appliedId;
                        entry.candidateSequence = entry.appliedSequence;
                    }
                }
            }
        }
        return sent;
    }

    private Owed entry(final int from, final int origin, final int target)
    {
        for (final Owed entry : owed)
        {
            if (entry.from == from && entry.origin == origin && entry.target == target)
            {
                return entry;
            }
        }
        if (owed.length >= MAX_OWED)
        {
            return null;
        }
        final Owed entry = new Owed(from, origin, target);
        owed = Arrays.copyOf(owed, owed.length + 1);
        owed[owed.length - 1] = entry;
        return entry;
    }
}
