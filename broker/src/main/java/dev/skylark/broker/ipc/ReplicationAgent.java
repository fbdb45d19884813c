package dev.skylark.broker.ipc;

import io.aeron.Aeron;
import io.aeron.ControlledFragmentAssembler;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.ControlledFragmentHandler;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import java.util.function.IntSupplier;
import java.util.function.IntUnaryOperator;
import java.util.function.LongSupplier;

/**
 * Journal replication between cluster nodes, on its own thread, off the routing agent's path.
 * <p>
 * <b>Origin side.</b> A second subscriber of the journal's IPC stream (the journal agent is the first): every message
 * the routing agent offers to its journal — records, checkpoint begin and end — is sent over Aeron UDP to this node's
 * buddy ({@link Settings#buddy}: the next live node id above this one, as the registry holds it), on the buddy's
 * node-to-node port ({@link ReplicaStream}). A stream to a buddy always starts with a checkpoint: when the buddy
 * changes (a node died or joined), the buddy cannot be reached, or it asks for one, the agent drops what the journal
 * stream carries (the local journal is unaffected), asks the routing agent for a fresh checkpoint
 * ({@link IpcDurableLog#checkpointRequested()}) once the buddy is reachable, and streams from that checkpoint's
 * beginning under a new epoch. The buddy acknowledges the sequence it holds durably; {@link IpcDurableLog} makes
 * {@code min(local, buddy)} its durable sequence with {@code skylark.cluster.ack=replica}.
 * <p>
 * Back pressure: a buddy that falls behind fills the UDP publication's window; the agent then stops reading the IPC
 * stream (the message is retried), which holds the IPC publication, whose routing-side backlog closes the publish
 * gate past its limit — bounded, never buffered here. A buddy that stops answering is declared unreachable by
 * Aeron (its connection times out) and the stream restarts, with a checkpoint, when it is back.
 * <p>
 * <b>Buddy side.</b> A {@link ReplicaReceiver} on the same thread appends other nodes' streams to their replicas.
 */
public final class ReplicationAgent implements Agent, ControlledFragmentHandler
{
    /** Where replication goes, from the cluster node (whose Aeron client and media driver carry the UDP streams). */
    public record Settings(
        int selfId,
        long membersMask,
        IntFunction<String> peerEndpoint,
        IntSupplier buddy,
        IntUnaryOperator liveBuddyOf,
        Path replicasDir,
        boolean fsync)
    {
    }

    /** The figures (any may be null). */
    public record Metrics(
        AtomicCounter buddy,
        AtomicCounter lagRecords,
        AtomicCounter lagBytes,
        AtomicCounter restarts,
        AtomicCounter[] heldBytes,
        AtomicCounter rejected)
    {
    }

    private static final System.Logger LOG = System.getLogger(ReplicationAgent.class.getName());
    private static final long REQUEST_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);
    private static final long TICK_NS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final int FRAGMENT_LIMIT = 64;

    private final Settings settings;
    private final Metrics metrics;
    private final Aeron aeron;
    private final Subscription tap;
    private final int termLength;
    private final AtomicLong replicaSequence;
    private final AtomicLong checkpointRequests;
    private final LongSupplier localDurable;
    private final Runnable routerWaker;
    private final ControlledFragmentAssembler tapAssembler = new ControlledFragmentAssembler(this);
    private final ExclusivePublication[] dataPublications = new ExclusivePublication[ReplicaReceiver.MAX_NODES];
    private final ExclusivePublication[] ackPublications = new ExclusivePublication[ReplicaReceiver.MAX_NODES];
    private final UnsafeBuffer dataHeader = new UnsafeBuffer(new byte[ReplicaStream.DATA_HEADER_LENGTH]);
    private final Subscription ackSubscription;
    private final FragmentHandler ackHandler = this::onAck;
    private final Subscription dataSubscription;
    private final ReplicaReceiver receiver;
    private final FragmentAssembler dataAssembler;
    private int buddy = Integer.MIN_VALUE;
    private long epoch;
    private boolean streaming;
    private long nextRequestNs;
    private long ackedPosition;
    private long nextTickNs;
    private long restarts;

    /** {@code aeron}: a client of the cluster node's media driver, owned here, its conductor invoked by this agent. */
    ReplicationAgent(
        final Settings settings, final Metrics metrics, final Aeron aeron, final Subscription tap, final int termLength,
        final AtomicLong replicaSequence, final AtomicLong checkpointRequests, final LongSupplier localDurable,
        final Runnable routerWaker)
    {
        this.settings = settings;
        this.metrics = metrics;
        this.aeron = aeron;
        this.tap = tap;
        this.termLength = termLength;
        this.replicaSequence = replicaSequence;
        this.checkpointRequests = checkpointRequests;
        this.localDurable = localDurable;
        this.routerWaker = routerWaker;
        // Epochs of a later run start above every earlier one (a buddy may still hold a stream of the previous run).
        epoch = System.currentTimeMillis() << 20;
        dataHeader.putInt(ReplicaStream.ORIGIN_OFFSET, settings.selfId());
        final String self = "aeron:udp?endpoint=" + settings.peerEndpoint().apply(settings.selfId());
        ackSubscription = aeron.addSubscription(self, ReplicaStream.ACK_STREAM_ID);
        dataSubscription = aeron.addSubscription(self, ReplicaStream.DATA_STREAM_ID);
        receiver = new ReplicaReceiver(settings.selfId(), settings.membersMask(), settings.replicasDir(),
            settings.fsync(), this::sendAck, metrics.heldBytes(), metrics.rejected());
        dataAssembler = new FragmentAssembler(receiver);
    }

    @Override
    public String roleName()
    {
        return "skylark-replication";
    }

    /** The buddy side: replicas this node holds (the heir replays one, and drops it once taken over). */
    public ReplicaReceiver receiver()
    {
        return receiver;
    }

    @Override
    public int doWork()
    {
        final long nowNs = System.nanoTime();
        int work = aeron.conductorAgentInvoker().invoke();
        final int current = settings.buddy().getAsInt();
        if (current != buddy)
        {
            changeBuddy(current);
            work++;
        }
        work += ackSubscription.poll(ackHandler, FRAGMENT_LIMIT);
        if (!streaming && buddy >= 0 && nowNs - nextRequestNs >= 0 && dataPublication(buddy).isConnected())
        {
            // The routing agent writes one on its next slow tick; its beginning starts the stream.
            nextRequestNs = nowNs + REQUEST_INTERVAL_NS;
            checkpointRequests.incrementAndGet();
            routerWaker.run();
            work++;
        }
        work += tap.controlledPoll(tapAssembler, FRAGMENT_LIMIT);
        work += dataSubscription.poll(dataAssembler, FRAGMENT_LIMIT);
        work += receiver.afterPoll(nowNs);
        if (nowNs - nextTickNs >= 0)
        {
            nextTickNs = nowNs + TICK_NS;
            receiver.slowTick(nowNs, settings.liveBuddyOf());
            updateMetrics();
        }
        return work;
    }

    private void changeBuddy(final int newBuddy)
    {
        final int old = buddy;
        buddy = newBuddy;
        if (newBuddy >= 0)
        {
            LOG.log(Level.INFO, "replication: buddy is node " + newBuddy + (old >= 0 ? " (was node " + old + ")" : "") +
                "; streaming the journal to it from a fresh checkpoint");
        }
        else
        {
            // At start no node is known live yet: only losing a buddy is worth a warning.
            LOG.log(old >= 0 ? Level.WARNING : Level.INFO, "replication: no buddy (no other node is live): with " +
                "skylark.cluster.ack=replica, QoS 1/2 acknowledgements wait until one is");
        }
        restart();
    }

    /** Starts a new stream (a new epoch), from the next checkpoint; acks of the old one no longer count. */
    private void restart()
    {
        epoch++;
        streaming = false;
        nextRequestNs = 0;
        replicaSequence.setRelease(0);
        restarts++;
        if (metrics.restarts() != null)
        {
            metrics.restarts().incrementRelease();
        }
    }

    private ExclusivePublication dataPublication(final int node)
    {
        ExclusivePublication publication = dataPublications[node];
        if (publication == null)
        {
            publication = dataPublications[node] = aeron.addExclusivePublication("aeron:udp?endpoint=" +
                settings.peerEndpoint().apply(node) + "|term-length=" + termLength, ReplicaStream.DATA_STREAM_ID);
        }
        return publication;
    }

    /** One message of the journal's IPC stream. */
    @Override
    public ControlledFragmentHandler.Action onFragment(
        final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (buddy < 0)
        {
            return ControlledFragmentHandler.Action.CONTINUE;
        }
        final ExclusivePublication publication = dataPublication(buddy);
        if (!streaming)
        {
            if (buffer.getInt(offset + JournalStream.KIND_OFFSET) != JournalStream.CHECKPOINT_BEGIN ||
                !publication.isConnected())
            {
                return ControlledFragmentHandler.Action.CONTINUE; // not for this buddy: it starts at a checkpoint
            }
            streaming = true;
            LOG.log(Level.INFO, "replication: streaming to node " + buddy + " from the checkpoint at sequence " +
                buffer.getLong(offset + JournalStream.SEQUENCE_OFFSET));
        }
        dataHeader.putLong(ReplicaStream.EPOCH_OFFSET, epoch);
        final long result = publication.offer(dataHeader, 0, ReplicaStream.DATA_HEADER_LENGTH, buffer, offset, length,
            null);
        if (result > 0)
        {
            return ControlledFragmentHandler.Action.CONTINUE;
        }
        if (result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION)
        {
            return ControlledFragmentHandler.Action.ABORT; // the buddy is behind: hold the journal stream here
        }
        LOG.log(Level.WARNING, "replication: node " + buddy + " not reachable (" + Publication.errorString(result) +
            "); streaming again from a fresh checkpoint once it is");
        restart();
        return ControlledFragmentHandler.Action.CONTINUE;
    }

    private void onAck(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (length < ReplicaStream.ACK_LENGTH || buffer.getInt(offset + ReplicaStream.ACK_FROM_OFFSET) != buddy ||
            buffer.getLong(offset + ReplicaStream.ACK_EPOCH_OFFSET) != epoch)
        {
            return; // of an earlier stream or another node
        }
        if ((buffer.getInt(offset + ReplicaStream.ACK_FLAGS_OFFSET) & ReplicaStream.NEED_CHECKPOINT) != 0)
        {
            if (streaming)
            {
                LOG.log(Level.WARNING, "replication: node " + buddy + " cannot continue the stream (it restarted or " +
                    "cannot write); streaming again from a fresh checkpoint");
                restart();
            }
            return;
        }
        final long sequence = buffer.getLong(offset + ReplicaStream.ACK_SEQUENCE_OFFSET);
        if (sequence > replicaSequence.get())
        {
            ackedPosition = buffer.getLong(offset + ReplicaStream.ACK_POSITION_OFFSET);
            replicaSequence.setRelease(sequence);
            routerWaker.run();
        }
    }

    private boolean sendAck(final int origin, final DirectBuffer buffer, final int offset, final int length)
    {
        ExclusivePublication publication = ackPublications[origin];
        if (publication == null)
        {
            publication = ackPublications[origin] = aeron.addExclusivePublication("aeron:udp?endpoint=" +
                settings.peerEndpoint().apply(origin) + "|term-length=65536", ReplicaStream.ACK_STREAM_ID);
        }
        return publication.offer(buffer, offset, length) > 0;
    }

    private void updateMetrics()
    {
        if (metrics.buddy() != null)
        {
            metrics.buddy().setRelease(buddy);
        }
        final long replica = replicaSequence.get();
        if (metrics.lagRecords() != null)
        {
            metrics.lagRecords().setRelease(streaming ? Math.max(0, localDurable.getAsLong() - replica) : 0);
        }
        if (metrics.lagBytes() != null)
        {
            metrics.lagBytes().setRelease(streaming && buddy >= 0 && replica > 0 ?
                Math.max(0, dataPublication(buddy).position() - ackedPosition) : 0);
        }
    }

    /** The current stream: true once it started at a checkpoint (tests). */
    boolean isStreaming()
    {
        return streaming;
    }

    long restarts()
    {
        return restarts;
    }

    @Override
    public void onClose()
    {
        for (int i = 0; i < ReplicaReceiver.MAX_NODES; i++)
        {
            CloseHelper.quietCloseAll(dataPublications[i], ackPublications[i]);
        }
        CloseHelper.quietCloseAll(ackSubscription, dataSubscription, tap, aeron);
        receiver.close();
    }
}
