package dev.skylark.broker.ipc;

import dev.skylark.broker.journal.ChronicleJournal;
import dev.skylark.broker.journal.OwnerOnly;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;
import java.util.stream.Stream;

/**
 * The buddy's side of journal replication: appends each origin node's journal stream ({@link ReplicaStream}) to a
 * {@link ChronicleJournal} of its own in {@code <dataDir>/replicas/node-<origin>} (owner-only files, the local
 * journal's durability mode) and acknowledges the origin's sequence once it is durable here.
 * <p>
 * A stream starts with a checkpoint: its beginning opens a new generation of the replica, its end deletes the older
 * ones (so the replica stays one checkpoint plus what followed, like the local journal, and the previous replica is
 * kept until the new stream's checkpoint is complete). Acks go out only once the stream's first checkpoint has ended
 * here: from then on, the replica holds everything the origin appended up to the acknowledged sequence. Records of a
 * stream whose beginning this node did not see (it restarted meanwhile) are dropped and a new checkpoint is asked for;
 * so is one after an append failed here (disk full): nothing is acknowledged until a new checkpoint has ended, as on
 * the local journal.
 * <p>
 * Bounds: only member node ids other than this node's are accepted as origins (at most 64 replicas; the UDP port is
 * unauthenticated, so the cluster's ports belong on a private network); nothing is buffered here — a receiver that
 * falls behind leaves the bytes in Aeron, whose flow control holds the origin back. A replica of a live node whose
 * buddy this node no longer is goes after {@link #STALE_NS}; the heir drops a dead node's replica once it took over.
 * <p>
 * One thread (the replication agent's) except {@link #requestDrop} and {@link #replay}.
 */
public final class ReplicaReceiver implements FragmentHandler, AutoCloseable
{
    /** Sends an ack to an origin node; false when it cannot now (the ack is sent again later). */
    @FunctionalInterface
    public interface AckSender
    {
        boolean send(int originNodeId, DirectBuffer buffer, int offset, int length);
    }

    private static final System.Logger LOG = System.getLogger(ReplicaReceiver.class.getName());
    static final int MAX_NODES = 64;
    static final long NEED_CHECKPOINT_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);
    /** How long a live node's replica is kept after this node stopped being its buddy (its new buddy has it by then). */
    static final long STALE_NS = TimeUnit.SECONDS.toNanos(30);
    private static final long LOG_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);
    static final String PREFIX = "node-";

    private static final class Replica
    {
        final int origin;
        final Path dir;
        ChronicleJournal journal;
        long epoch;
        boolean inStream;
        boolean complete;
        boolean failed;
        boolean recovering;
        long appendedSequence;
        long position;
        boolean ackDue;
        long needEpoch;
        boolean needDue;
        long nextNeedNs;
        long staleSinceNs;

        Replica(final int origin, final Path dir)
        {
            this.origin = origin;
            this.dir = dir;
        }
    }

    private final int selfId;
    private final long membersMask;
    private final Path replicasDir;
    private final boolean fsync;
    private final AckSender acks;
    private final Replica[] replicas = new Replica[MAX_NODES];
    private final UnsafeBuffer ack = new UnsafeBuffer(new byte[ReplicaStream.ACK_LENGTH]);
    private final AtomicLong dropRequests = new AtomicLong();
    private final AtomicCounter[] heldBytes;
    private final AtomicCounter rejected;
    private long nowNs;
    private long nextRejectLogNs;
    private long rejectedCount;

    /**
     * @param selfId      this node's id.
     * @param membersMask bit n set: node n is a member (the only origins accepted).
     * @param replicasDir {@code <dataDir>/replicas}.
     * @param fsync       sync appended records before acknowledging them (the local journal's mode).
     * @param acks        where acks go.
     * @param heldBytes   per origin (null entries allowed): bytes of the replica's current generation.
     * @param rejected    messages refused (not from a member, malformed); may be null.
     */
    public ReplicaReceiver(
        final int selfId, final long membersMask, final Path replicasDir, final boolean fsync, final AckSender acks,
        final AtomicCounter[] heldBytes, final AtomicCounter rejected)
    {
        this.selfId = selfId;
        this.membersMask = membersMask & ~(1L << selfId);
        this.replicasDir = replicasDir;
        this.fsync = fsync;
        this.acks = acks;
        this.heldBytes = heldBytes != null ? heldBytes : new AtomicCounter[MAX_NODES];
        this.rejected = rejected;
        ack.putInt(ReplicaStream.ACK_FROM_OFFSET, selfId);
        try
        {
            OwnerOnly.createDirectories(replicasDir);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create replica directory " + replicasDir, ex);
        }
        // Replicas left by an earlier run: kept (an heir may replay them), dropped as stale or when their node is
        // taken over.
        for (int n = 0; n < MAX_NODES; n++)
        {
            if (n != selfId && Files.isDirectory(dir(n)))
            {
                replicas[n] = new Replica(n, dir(n));
            }
        }
    }

    private Path dir(final int origin)
    {
        return replicasDir.resolve(PREFIX + origin);
    }

    @Override
    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        onMessage(buffer, offset, length, header.position());
    }

    /** One data message (the replication agent's poll, or a test). */
    void onMessage(final DirectBuffer buffer, final int offset, final int length, final long position)
    {
        if (length < ReplicaStream.DATA_HEADER_LENGTH + JournalStream.HEADER_LENGTH)
        {
            reject("a message of " + length + " bytes");
            return;
        }
        final int origin = buffer.getInt(offset + ReplicaStream.ORIGIN_OFFSET);
        if (origin < 0 || origin >= MAX_NODES || (membersMask & (1L << origin)) == 0)
        {
            reject("origin " + origin + " is not another member");
            return;
        }
        final long epoch = buffer.getLong(offset + ReplicaStream.EPOCH_OFFSET);
        final int at = offset + ReplicaStream.DATA_HEADER_LENGTH;
        final long sequence = buffer.getLong(at + JournalStream.SEQUENCE_OFFSET);
        final int kind = buffer.getInt(at + JournalStream.KIND_OFFSET);
        final Replica r = replica(origin);
        if (kind == JournalStream.CHECKPOINT_BEGIN)
        {
            // Any checkpoint starts a consistent stream: the whole state follows.
            if (r.epoch != epoch)
            {
                r.complete = false;
                r.appendedSequence = 0;
            }
            r.epoch = epoch;
            r.inStream = false;
            if (r.failed)
            {
                r.failed = false;
                r.recovering = true;
                r.complete = false;
            }
            try
            {
                open(r).beginCheckpoint();
                r.inStream = true;
                r.appendedSequence = sequence;
                r.position = position;
            }
            catch (final RuntimeException | InternalError ex)
            {
                fail(r, "checkpoint", ex, epoch);
            }
            return;
        }
        if (r.failed || !r.inStream || r.epoch != epoch)
        {
            // A stream whose beginning is not here (this node restarted meanwhile), or after a failure: ask for a new
            // one; the records are dropped, never acknowledged.
            needCheckpoint(r, epoch);
            return;
        }
        try
        {
            switch (kind)
            {
                case JournalStream.RECORD -> r.journal.append(buffer, at + JournalStream.HEADER_LENGTH,
                    length - ReplicaStream.DATA_HEADER_LENGTH - JournalStream.HEADER_LENGTH);
                case JournalStream.CHECKPOINT_END ->
                {
                    r.journal.endCheckpoint();
                    if (!r.complete)
                    {
                        r.complete = true;
                        if (r.recovering)
                        {
                            r.recovering = false;
                            LOG.log(Level.WARNING, "replica of node " + origin + ": recovered; checkpoint at its " +
                                "sequence " + sequence + " is durable here, acknowledging again");
                        }
                        else
                        {
                            LOG.log(Level.INFO, "replica of node " + origin + ": checkpoint at its sequence " +
                                sequence + " complete in " + r.dir + ", acknowledging");
                        }
                    }
                }
                default ->
                {
                    reject("unknown record kind " + kind + " from node " + origin);
                    return;
                }
            }
            r.appendedSequence = sequence;
            r.position = position;
            r.ackDue = r.complete;
        }
        catch (final RuntimeException | InternalError ex)
        {
            fail(r, kind == JournalStream.RECORD ? "append" : "checkpoint", ex, epoch);
        }
    }

    private ChronicleJournal open(final Replica r)
    {
        if (r.journal == null)
        {
            final ChronicleJournal journal = new ChronicleJournal(r.dir, fsync);
            // Numbers the next generation after those on disk; the old ones go when the new checkpoint ends.
            journal.replay((buffer, offset, length) -> { });
            r.journal = journal;
        }
        return r.journal;
    }

    private Replica replica(final int origin)
    {
        Replica r = replicas[origin];
        if (r == null)
        {
            r = replicas[origin] = new Replica(origin, dir(origin));
        }
        return r;
    }

    private void fail(final Replica r, final String what, final Throwable ex, final long epoch)
    {
        final boolean first = !r.failed;
        r.failed = true;
        r.inStream = false;
        r.complete = false;
        r.recovering = false;
        r.ackDue = false;
        if (first)
        {
            LOG.log(Level.ERROR, "replica of node " + r.origin + ": " + what + " failed in " + r.dir + " after its " +
                "sequence " + r.appendedSequence + "; acknowledging nothing until a new checkpoint is written here", ex);
        }
        needCheckpoint(r, epoch);
    }

    private void needCheckpoint(final Replica r, final long epoch)
    {
        r.needEpoch = epoch;
        r.needDue = true;
    }

    private void reject(final String why)
    {
        rejectedCount++;
        if (rejected != null)
        {
            rejected.incrementRelease();
        }
        if (nowNs - nextRejectLogNs >= 0)
        {
            nextRejectLogNs = nowNs + LOG_INTERVAL_NS;
            LOG.log(Level.WARNING, "replication: refused " + why + " (" + rejectedCount + " refused so far)");
        }
    }

    /**
     * After a poll: syncs (fsync mode) and acknowledges what each replica appended, and asks for checkpoints where a
     * stream cannot go on. Returns the work done.
     */
    int afterPoll(final long nowNs)
    {
        this.nowNs = nowNs;
        int work = 0;
        for (final Replica r : replicas)
        {
            if (r == null)
            {
                continue;
            }
            if (r.ackDue)
            {
                try
                {
                    r.journal.sync();
                }
                catch (final RuntimeException | InternalError ex)
                {
                    fail(r, "sync", ex, r.epoch);
                }
                try
                {
                    if (r.ackDue && sendAck(r.origin, 0, r.epoch, r.appendedSequence, r.position))
                    {
                        r.ackDue = false;
                        work++;
                    }
                }
                catch (final InternalError ex)
                {
                    // A fault on a mapped file (disk full) is raised at the thread's next unsafe access after the
                    // append, which may be here: the append failed, so this replica's stream is broken.
                    fail(r, "append", ex, r.epoch);
                }
            }
            if (r.needDue && nowNs - r.nextNeedNs >= 0)
            {
                if (sendAck(r.origin, ReplicaStream.NEED_CHECKPOINT, r.needEpoch, 0, 0))
                {
                    r.needDue = false;
                    r.nextNeedNs = nowNs + NEED_CHECKPOINT_INTERVAL_NS;
                    work++;
                }
            }
        }
        return work;
    }

    private boolean sendAck(final int origin, final int flags, final long epoch, final long sequence, final long position)
    {
        ack.putInt(ReplicaStream.ACK_FLAGS_OFFSET, flags);
        ack.putLong(ReplicaStream.ACK_EPOCH_OFFSET, epoch);
        ack.putLong(ReplicaStream.ACK_SEQUENCE_OFFSET, sequence);
        ack.putLong(ReplicaStream.ACK_POSITION_OFFSET, position);
        return acks.send(origin, ack, 0, ReplicaStream.ACK_LENGTH);
    }

    /**
     * Rare work (about once a second): drops requested by the heir, replicas of live nodes this node is no longer
     * the buddy of (after {@link #STALE_NS}), and the per-origin figures.
     *
     * @param liveBuddyOf for a live node, its buddy; {@code -1} for a node not live (or when this node does not know).
     */
    void slowTick(final long nowNs, final IntUnaryOperator liveBuddyOf)
    {
        this.nowNs = nowNs;
        final long drops = dropRequests.getAndSet(0);
        for (int n = 0; n < MAX_NODES; n++)
        {
            final Replica r = replicas[n];
            if (r == null)
            {
                continue;
            }
            if ((drops & (1L << n)) != 0)
            {
                drop(r, "its sessions were taken over");
                continue;
            }
            final int buddy = liveBuddyOf.applyAsInt(n);
            if (buddy >= 0 && buddy != selfId)
            {
                if (r.staleSinceNs == 0)
                {
                    r.staleSinceNs = nowNs;
                }
                else if (nowNs - r.staleSinceNs >= STALE_NS)
                {
                    drop(r, "node " + n + " is live with node " + buddy + " as its buddy");
                    continue;
                }
            }
            else
            {
                r.staleSinceNs = 0;
            }
            if (heldBytes[n] != null)
            {
                heldBytes[n].setRelease(r.journal != null ? r.journal.bytesAppended() : 0);
            }
        }
    }

    private void drop(final Replica r, final String why)
    {
        replicas[r.origin] = null;
        if (r.journal != null)
        {
            r.journal.close();
        }
        deleteTree(r.dir);
        if (heldBytes[r.origin] != null)
        {
            heldBytes[r.origin].setRelease(0);
        }
        LOG.log(Level.INFO, "replica of node " + r.origin + " dropped (" + r.dir + "): " + why);
    }

    /** Asks for the replica of {@code origin} to be deleted (on the replication agent's next slow tick). Any thread. */
    public void requestDrop(final int origin)
    {
        if (origin >= 0 && origin < MAX_NODES)
        {
            dropRequests.getAndAccumulate(1L << origin, (a, b) -> a | b);
        }
    }

    /**
     * Replays the replica of {@code origin} from its last complete checkpoint, oldest record first, on the caller's
     * thread (the origin is dead: nothing appends to it). Moves no file.
     *
     * @return false when this node holds no replica of {@code origin}.
     */
    public boolean replay(final int origin, final ChronicleJournal.RecordConsumer consumer)
    {
        if (origin < 0 || origin >= MAX_NODES || origin == selfId)
        {
            return false;
        }
        final long records = ChronicleJournal.replayInPlace(dir(origin), consumer);
        if (records >= 0)
        {
            LOG.log(Level.INFO, "replica of node " + origin + ": " + records + " record(s) replayed");
        }
        return records >= 0;
    }

    /** The last origin sequence appended for {@code origin} (tests). */
    long appendedSequence(final int origin)
    {
        final Replica r = replicas[origin];
        return r == null ? -1 : r.appendedSequence;
    }

    /** True when {@code origin}'s replica has a complete checkpoint of its current stream (tests). */
    boolean isComplete(final int origin)
    {
        final Replica r = replicas[origin];
        return r != null && r.complete;
    }

    long rejectedCount()
    {
        return rejectedCount;
    }

    private static void deleteTree(final Path path)
    {
        if (!Files.exists(path))
        {
            return;
        }
        try (Stream<Path> walk = Files.walk(path))
        {
            walk.sorted(Comparator.reverseOrder()).forEach((p) ->
            {
                try
                {
                    Files.deleteIfExists(p);
                }
                catch (final IOException ex)
                {
                    throw new UncheckedIOException(ex);
                }
            });
        }
        catch (final IOException | UncheckedIOException ex)
        {
            LOG.log(Level.WARNING, "replication: cannot delete " + path + ": " + ex);
        }
    }

    @Override
    public void close()
    {
        for (final Replica r : replicas)
        {
            if (r != null && r.journal != null)
            {
                r.journal.close();
                r.journal = null;
            }
        }
    }
}
