package dev.skylark.broker.ipc;

import dev.skylark.broker.journal.ChronicleJournal;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The journal agent: polls the IPC subscription, appends each record to the {@link ChronicleJournal}, and then —
 * after one sync for the whole batch in fsync mode (group commit) — publishes the sequence of the last record as
 * durable and wakes the routing agent, which releases the acknowledgements waiting for it.
 * <p>
 * The durable sequence only ever covers records that were appended. When an append or a sync fails (disk full, an
 * I/O error, a fault on a mapped file) the agent stops there: the durable sequence stays before the failed record,
 * {@link #failing} turns true, and the records that follow are read off the stream and dropped — they cannot be
 * appended after a hole. Only a checkpoint can close the hole (it holds the whole state, so also what the dropped
 * records changed): the routing agent offers one while the journal fails; its begin opens a new generation, and
 * once its end is appended and synced the durable sequence moves to it and {@link #failing} turns false.
 */
final class JournalAgent implements Agent, FragmentHandler
{
    private static final System.Logger LOG = System.getLogger(JournalAgent.class.getName());
    private static final int FRAGMENT_LIMIT = 256;
    /**
     * Polls of {@link #FRAGMENT_LIMIT} per duty cycle before the one sync: the group commit covers everything on the
     * stream when the cycle began (up to this bound, which keeps a cycle short when the stream never empties).
     */
    private static final int POLLS_PER_SYNC = 64;

    private final Subscription subscription;
    private final FragmentAssembler assembler = new FragmentAssembler(this);
    private final ChronicleJournal journal;
    private final AtomicLong durableSequence;
    private final Runnable routerWaker;
    private final AtomicLong offeredSequence;
    private final AtomicBoolean failing;
    private final AtomicLong appendFailures;
    /** The last sequence read off the stream (appended or dropped). */
    private long lastSequence;
    /** The last sequence appended: the durable sequence never passes it. */
    private long appendedSequence;
    /** Since a failure: records are dropped until a checkpoint begins. */
    private boolean failed;
    /** A checkpoint after a failure is being appended: nothing becomes durable until it ends. */
    private boolean recovering;
    private JournalMetrics metrics;

    JournalAgent(
        final Subscription subscription,
        final ChronicleJournal journal,
        final AtomicLong durableSequence,
        final AtomicLong offeredSequence,
        final Runnable routerWaker,
        final AtomicBoolean failing,
        final AtomicLong appendFailures)
    {
        this.offeredSequence = offeredSequence;
        this.subscription = subscription;
        this.journal = journal;
        this.durableSequence = durableSequence;
        this.routerWaker = routerWaker;
        this.failing = failing;
        this.appendFailures = appendFailures;
    }

    @Override
    public String roleName()
    {
        return "skylark-journal";
    }

    @Override
    public int doWork()
    {
        final JournalMetrics metrics = this.metrics;
        final long startNs = metrics != null ? System.nanoTime() : 0;
        // fsync: drain what is waiting before syncing — while the last sync ran, every publisher's records piled up,
        // and one sync covers them all (group commit), not one per FRAGMENT_LIMIT records. os: nothing to sync, so
        // the durable sequence moves every FRAGMENT_LIMIT records (acknowledgements go out sooner).
        final int polls = journal.isFsync() ? POLLS_PER_SYNC : 1;
        int fragments = 0;
        for (int i = 0; i < polls; i++)
        {
            final int polled = subscription.poll(assembler, FRAGMENT_LIMIT);
            fragments += polled;
            if (polled < FRAGMENT_LIMIT)
            {
                break;
            }
        }
        if (fragments > 0)
        {
            publishDurable();
            if (metrics != null)
            {
                metrics.onBatch(System.nanoTime() - startNs, journal.bytesAppended(), journal.generation(),
                    Math.max(0, offeredSequence.getAcquire() - durableSequence.get()), journal.recordsAppended(),
                    journal.syncs());
            }
        }
        return fragments;
    }

    private void publishDurable()
    {
        if (failed || recovering)
        {
            return;
        }
        try
        {
            journal.sync();
        }
        catch (final RuntimeException | InternalError ex)
        {
            onFailure("sync", ex);
            return;
        }
        if (appendedSequence > durableSequence.get())
        {
            durableSequence.setRelease(appendedSequence);
            routerWaker.run();
        }
    }

    /** Set before the agent starts. */
    void metrics(final JournalMetrics metrics)
    {
        this.metrics = metrics;
    }

    /** True when records offered by the routing agent wait on the stream (checked before parking). */
    boolean hasWork()
    {
        return offeredSequence.getAcquire() > lastSequence;
    }

    @Override
    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        final long sequence = buffer.getLong(offset + JournalStream.SEQUENCE_OFFSET);
        final int kind = buffer.getInt(offset + JournalStream.KIND_OFFSET);
        lastSequence = sequence;
        if (failed && kind != JournalStream.CHECKPOINT_BEGIN)
        {
            return; // after a hole: dropped, never durable; the recovery checkpoint holds what it changed
        }
        try
        {
            switch (kind)
            {
                case JournalStream.RECORD -> journal.append(buffer, offset + JournalStream.HEADER_LENGTH,
                    length - JournalStream.HEADER_LENGTH);
                case JournalStream.CHECKPOINT_BEGIN ->
                {
                    journal.beginCheckpoint();
                    if (failed)
                    {
                        failed = false;
                        recovering = true;
                    }
                }
                case JournalStream.CHECKPOINT_END ->
                {
                    journal.endCheckpoint();
                    if (recovering)
                    {
                        recovering = false;
                        appendedSequence = sequence;
                        durableSequence.setRelease(sequence);
                        failing.setRelease(false);
                        LOG.log(System.Logger.Level.WARNING, "journal: recovered; checkpoint at sequence " + sequence +
                            " is durable, appending again");
                        routerWaker.run();
                    }
                }
                default -> throw new IllegalStateException("journal stream: unknown kind " + kind);
            }
            appendedSequence = sequence;
        }
        catch (final RuntimeException | InternalError ex)
        {
            onFailure(kind == JournalStream.RECORD ? "append" : "checkpoint", ex);
        }
    }

    private void onFailure(final String what, final Throwable ex)
    {
        appendFailures.incrementAndGet();
        final boolean first = !failing.get();
        failed = true;
        recovering = false;
        failing.setRelease(true);
        if (first)
        {
            LOG.log(System.Logger.Level.ERROR, "journal: " + what + " failed after sequence " + appendedSequence +
                " (durable stays at " + durableSequence.get() + "); dropping records until a checkpoint is " +
                "written again", ex);
        }
        else
        {
            LOG.log(System.Logger.Level.WARNING, "journal: " + what + " failed again: " + ex);
        }
        routerWaker.run();
    }

    @Override
    public void onClose()
    {
        // Drain what was already offered, so a graceful stop loses nothing the routing agent appended.
        while (subscription.poll(assembler, FRAGMENT_LIMIT) > 0)
        {
            publishDurable();
        }
        publishDurable();
    }
}
