package dev.skylark.broker.ipc;

import dev.skylark.broker.journal.ChronicleJournal;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The journal agent: polls the IPC subscription, appends each record to the {@link ChronicleJournal}, and then —
 * after one sync for the whole batch in fsync mode (group commit) — publishes the sequence of the last record as
 * durable and wakes the routing agent, which releases the acknowledgements waiting for it.
 */
final class JournalAgent implements Agent, FragmentHandler
{
    private static final int FRAGMENT_LIMIT = 256;

    private final Subscription subscription;
    private final FragmentAssembler assembler = new FragmentAssembler(this);
    private final ChronicleJournal journal;
    private final AtomicLong durableSequence;
    private final Runnable routerWaker;
    private final AtomicLong offeredSequence;
    private long lastSequence;
    private JournalMetrics metrics;

    JournalAgent(
        final Subscription subscription,
        final ChronicleJournal journal,
        final AtomicLong durableSequence,
        final AtomicLong offeredSequence,
        final Runnable routerWaker)
    {
        this.offeredSequence = offeredSequence;
        this.subscription = subscription;
        this.journal = journal;
        this.durableSequence = durableSequence;
        this.routerWaker = routerWaker;
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
        final int fragments = subscription.poll(assembler, FRAGMENT_LIMIT);
        if (fragments > 0)
        {
            journal.sync();
            durableSequence.setRelease(lastSequence);
            routerWaker.run();
            if (metrics != null)
            {
                metrics.onBatch(System.nanoTime() - startNs, journal.bytesAppended(), journal.generation(),
                    Math.max(0, offeredSequence.getAcquire() - lastSequence));
            }
        }
        return fragments;
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
        switch (kind)
        {
            case JournalStream.RECORD -> journal.append(buffer, offset + JournalStream.HEADER_LENGTH,
                length - JournalStream.HEADER_LENGTH);
            case JournalStream.CHECKPOINT_BEGIN -> journal.beginCheckpoint();
            case JournalStream.CHECKPOINT_END -> journal.endCheckpoint();
            default -> throw new IllegalStateException("journal stream: unknown kind " + kind);
        }
        lastSequence = sequence;
    }

    @Override
    public void onClose()
    {
        // Drain what was already offered, so a graceful stop loses nothing the routing agent appended.
        while (subscription.poll(assembler, FRAGMENT_LIMIT) > 0)
        {
            durableSequence.setRelease(lastSequence);
        }
        journal.sync();
        durableSequence.setRelease(lastSequence);
    }
}
