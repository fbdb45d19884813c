package dev.skylark.broker.ipc;

import dev.skylark.broker.journal.ChronicleJournal;
import dev.skylark.broker.journal.OwnerOnly;
import dev.skylark.broker.routing.DurableLog;
import dev.skylark.broker.routing.SignalledIdleStrategy;
import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.logbuffer.FrameDescriptor;
import io.aeron.driver.ThreadingMode;
import org.agrona.BitUtil;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The routing agent's {@link DurableLog}: records go over an Aeron IPC publication (embedded media driver) to the
 * {@link JournalAgent} on its own thread, which appends them to the {@link ChronicleJournal} and publishes the
 * durable sequence back through an {@link AtomicLong}.
 * <p>
 * {@link #append} never blocks: when the publication is back pressured the record waits in a local backlog, which
 * {@link #doWork()} hands on in order; while that backlog is above a limit {@link #isBackPressured()} says so and
 * the routing agent holds publishers back.
 * <p>
 * The media driver's directory is {@code /dev/shm/skylark-aeron-<hash of the data directory>} where /dev/shm exists
 * (else under the data directory); it is deleted on start and on close.
 */
public final class IpcDurableLog implements DurableLog
{
    private static final System.Logger LOG = System.getLogger(IpcDurableLog.class.getName());
    private static final int BACKLOG_LIMIT = 64 * 1024 * 1024;
    /**
     * How long the embedded driver's one thread sleeps when idle. Over IPC it is on no record's path (the publication
     * writes into the log buffer, the journal agent reads it); it moves the publisher's limit, which trails by half a
     * term (8 MB and more), and answers the client's keep-alives (seconds). At 1 ms it woke about 1,000 times a second
     * even with no client connected; 10 ms is 100.
     */
    static final long DRIVER_IDLE_MS = 10;

    private final ChronicleJournal journal;
    private final MediaDriver driver;
    private final NanoClock clock;
    private final Aeron aeron;
    private final Publication publication;
    private final Subscription subscription;
    private final AtomicLong durableSequence = new AtomicLong();
    private final AtomicBoolean failing = new AtomicBoolean();
    private final AtomicLong appendFailures = new AtomicLong();
    /** The last sequence handed to the publication, for the journal agent's idle check. */
    private final AtomicLong offeredSequence = new AtomicLong();
    private final JournalAgent agent;
    private final SignalledIdleStrategy agentIdle;
    private final AgentRunner agentRunner;
    private final UnsafeBuffer header = new UnsafeBuffer(new byte[JournalStream.HEADER_LENGTH]);
    private final UnsafeBuffer empty = new UnsafeBuffer(new byte[0]);
    private final ExpandableArrayBuffer backlog = new ExpandableArrayBuffer(64 * 1024);
    private int backlogHead;
    private int backlogTail;
    private long sequence;
    private long bytesSinceCheckpoint;
    private boolean appendedThisCycle;
    private boolean started;
    private final int maxRecordLength;
    private final String channel;
    private final int termLength;
    private final Runnable routerWaker;
    /** The origin sequence the buddy holds durably, in the current replication stream (0: none yet). */
    private final AtomicLong replicaSequence = new AtomicLong();
    /** Checkpoints the replication agent asked for; {@link #checkpointsServed} those begun since. */
    private final AtomicLong checkpointRequests = new AtomicLong();
    private long checkpointsServed;
    /** {@code skylark.cluster.ack=replica}: durable means in the local journal and on the buddy. */
    private volatile boolean ackReplica;
    private ReplicationAgent replication;
    private AgentRunner replicationRunner;

    /**
     * @param dataDir       the broker's data directory; the journal lives in {@code <dataDir>/journal}.
     * @param fsync         force records to disk before they count as durable.
     * @param maxRecordSize largest record to carry (sizes the IPC term).
     * @param routerWaker   wakes the routing agent when the durable sequence advances.
     * @param clock         the broker's clock (bounds the drain at close).
     */
    public IpcDurableLog(
        final Path dataDir, final boolean fsync, final int maxRecordSize, final Runnable routerWaker,
        final NanoClock clock)
    {
        this.clock = clock;
        this.routerWaker = routerWaker;
        journal = new ChronicleJournal(dataDir.resolve("journal"), fsync);
        termLength = termLength(maxRecordSize);
        maxRecordLength = maxRecordLength(maxRecordSize);
        final MediaDriver.Context driverContext = new MediaDriver.Context()
            .aeronDirectoryName(aeronDirectory(dataDir))
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(new SleepingMillisIdleStrategy(DRIVER_IDLE_MS))
            // No async executor thread: it resolves UDP endpoint names, which IPC has none of, and it woke ~800 times
            // a second idle; what little it would do runs on the driver's thread instead.
            .asyncExecutorEnabled(false)
            .ipcTermBufferLength(termLength)
            .ipcPublicationTermWindowLength(termLength / 2)
            .spiesSimulateConnection(true)
            .warnIfDirectoryExists(false)
            .printConfigurationOnStart(false);
        MediaDriver launched = null;
        Aeron client = null;
        try
        {
            launched = MediaDriver.launchEmbedded(driverContext);
            client = Aeron.connect(new Aeron.Context().aeronDirectoryName(launched.aeronDirectoryName()));
            channel = "aeron:ipc?term-length=" + termLength;
            subscription = client.addSubscription(channel, JournalStream.STREAM_ID);
            publication = client.addExclusivePublication(channel, JournalStream.STREAM_ID);
            // Its buffers carry payloads: owner only (the driver creates them with the process umask).
            OwnerOnly.restrictTree(Path.of(launched.aeronDirectoryName()));
        }
        catch (final IOException ex)
        {
            CloseHelper.quietCloseAll(client, launched);
            journal.close();
            throw new UncheckedIOException("journal: cannot restrict the Aeron directory's permissions", ex);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(client, launched);
            journal.close();
            throw ex;
        }
        driver = launched;
        aeron = client;
        agent = new JournalAgent(subscription, journal, durableSequence, offeredSequence, routerWaker, failing,
            appendFailures);
        agentIdle = new SignalledIdleStrategy(agent::hasWork);
        agentRunner = new AgentRunner(agentIdle, this::onError, null, agent);
        LOG.log(Level.INFO, "journal: " + dataDir.resolve("journal") + " (" + (fsync ? "fsync" : "os") +
            "), Aeron IPC via " + driver.aeronDirectoryName());
    }

    /** The largest record the journal's Aeron IPC stream carries when sized for {@code maxRecordSize}. */
    public static int maxMessageLength(final int maxRecordSize)
    {
        return FrameDescriptor.computeMaxMessageLength(termLength(maxRecordSize));
    }

    /**
     * The longest record {@link #append} takes when sized for {@code maxRecordSize}: Aeron's limit less our header and
     * the replication header (a replicated journal message carries both on a UDP stream of the same term length).
     */
    public static int maxRecordLength(final int maxRecordSize)
    {
        return maxMessageLength(maxRecordSize) - JournalStream.HEADER_LENGTH - ReplicaStream.DATA_HEADER_LENGTH;
    }

    @Override
    public int maxRecordLength()
    {
        return maxRecordLength;
    }

    private static int termLength(final int maxRecordSize)
    {
        // Aeron carries messages up to a term / 8.
        final long needed = 8L * (maxRecordSize + 4096);
        return (int)Math.min(1 << 30, Math.max(16 * 1024 * 1024, BitUtil.findNextPositivePowerOfTwo(needed)));
    }

    /**
     * The embedded media driver's directory for {@code dataDir}: in /dev/shm where it exists, named after the data
     * directory so a restart after kill -9 finds and deletes the one left behind (tests that kill a broker in a
     * temporary directory delete it themselves).
     */
    public static String aeronDirectory(final Path dataDir)
    {
        final String name = "skylark-aeron-" +
            Integer.toHexString(dataDir.toAbsolutePath().normalize().toString().hashCode());
        final File shm = new File("/dev/shm");
        if (shm.isDirectory() && shm.canWrite())
        {
            return new File(shm, name).getAbsolutePath();
        }
        return dataDir.resolve(name).toAbsolutePath().toString();
    }

    private void onError(final Throwable error)
    {
        LOG.log(Level.ERROR, "journal agent error", error);
    }

    /** For tests: the embedded media driver's settings (its idle strategy, its executor). */
    MediaDriver.Context driverContext()
    {
        return driver.context();
    }

    /** Where the journal agent reports each batch ({@link JournalMetrics}); set before {@link #start()}. */
    public void metrics(final JournalMetrics metrics)
    {
        agent.metrics(metrics);
    }

    /**
     * Replicates this journal to the cluster node's buddy ({@link ReplicationAgent}) and, with {@code ackReplica}
     * ({@code skylark.cluster.ack=replica}), counts a record durable only once the buddy holds it too. Call once,
     * before {@link #start()}. {@code udpAeronDirectory} is the cluster node's media driver (it carries the UDP
     * streams); the replication agent connects its own Aeron client to it, run on its own thread (no conductor
     * thread).
     *
     * @return the replicas this node holds for other nodes.
     */
    public ReplicaReceiver replicate(
        final String udpAeronDirectory, final ReplicationAgent.Settings settings,
        final ReplicationAgent.Metrics metrics, final boolean ackReplica)
    {
        if (replication != null || started)
        {
            throw new IllegalStateException("replicate() once, before start()");
        }
        final Aeron udp = Aeron.connect(new Aeron.Context()
            .aeronDirectoryName(udpAeronDirectory)
            .useConductorAgentInvoker(true)
            .errorHandler(this::onError));
        final Subscription tap;
        try
        {
            tap = aeron.addSubscription(channel, JournalStream.STREAM_ID);
            replication = new ReplicationAgent(settings, metrics, udp, tap, termLength, replicaSequence,
                checkpointRequests, durableSequence::get, routerWaker);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(udp);
            throw ex;
        }
        replicationRunner = new AgentRunner(new org.agrona.concurrent.BackoffIdleStrategy(10, 10, 1_000, 1_000_000),
            this::onError, null, replication);
        this.ackReplica = ackReplica;
        LOG.log(Level.INFO, "journal: replicated to the cluster node's buddy; acknowledgements wait for " +
            (ackReplica ? "the local journal and the buddy (skylark.cluster.ack=replica)" :
            "the local journal only (skylark.cluster.ack=local)"));
        return replication.receiver();
    }

    /**
     * Stops replication (before the cluster node closes): its thread ends and the journal stream no longer waits for
     * it. Acknowledgements count the local journal only from then on.
     */
    public void stopReplication()
    {
        if (replicationRunner != null)
        {
            ackReplica = false;
            routerWaker.run();
            if (started)
            {
                CloseHelper.quietClose(replicationRunner);
            }
            else
            {
                replication.onClose();
            }
            replicationRunner = null;
        }
    }

    /** Starts the journal agent's thread (after the replay), and the replication agent's when there is one. */
    public void start()
    {
        if (!started)
        {
            started = true;
            AgentRunner.startOnThread(agentRunner);
            if (replicationRunner != null)
            {
                AgentRunner.startOnThread(replicationRunner);
            }
        }
    }

    @Override
    public void replay(final Replayer replayer)
    {
        final long records = journal.replay(replayer::onRecord);
        LOG.log(Level.DEBUG, "journal: " + records + " record(s) read");
    }

    @Override
    public long append(final DirectBuffer buffer, final int offset, final int length)
    {
        bytesSinceCheckpoint += length;
        return offer(JournalStream.RECORD, buffer, offset, length);
    }

    @Override
    public void beginCheckpoint()
    {
        checkpointsServed = checkpointRequests.get();
        bytesSinceCheckpoint = 0;
        offer(JournalStream.CHECKPOINT_BEGIN, empty, 0, 0);
    }

    @Override
    public void endCheckpoint()
    {
        offer(JournalStream.CHECKPOINT_END, empty, 0, 0);
    }

    private long offer(final int kind, final DirectBuffer buffer, final int offset, final int length)
    {
        final long seq = ++sequence;
        appendedThisCycle = true;
        if (backlogTail == backlogHead)
        {
            header.putLong(JournalStream.SEQUENCE_OFFSET, seq);
            header.putInt(JournalStream.KIND_OFFSET, kind);
            final long result = publication.offer(header, 0, JournalStream.HEADER_LENGTH, buffer, offset, length, null);
            if (result > 0)
            {
                offeredSequence.setRelease(seq);
                return seq;
            }
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED)
            {
                LOG.log(Level.ERROR, "journal: IPC publication unusable (" + result + "); record kept in memory");
            }
        }
        // Back pressured (or others already waiting): keep it, in order, for doWork().
        int position = backlogTail;
        backlog.putInt(position, JournalStream.HEADER_LENGTH + length);
        position += Integer.BYTES;
        backlog.putLong(position + JournalStream.SEQUENCE_OFFSET, seq);
        backlog.putInt(position + JournalStream.KIND_OFFSET, kind);
        backlog.putInt(position + JournalStream.KIND_OFFSET + 4, 0);
        backlog.putBytes(position + JournalStream.HEADER_LENGTH, buffer, offset, length);
        backlogTail = position + JournalStream.HEADER_LENGTH + length;
        return seq;
    }

    @Override
    public int doWork()
    {
        int work = 0;
        while (backlogHead < backlogTail)
        {
            final int length = backlog.getInt(backlogHead);
            final long result = publication.offer(backlog, backlogHead + Integer.BYTES, length);
            if (result < 0)
            {
                break;
            }
            offeredSequence.setRelease(backlog.getLong(backlogHead + Integer.BYTES + JournalStream.SEQUENCE_OFFSET));
            backlogHead += Integer.BYTES + length;
            work++;
        }
        if (backlogHead == backlogTail && backlogHead > 0)
        {
            backlogHead = 0;
            backlogTail = 0;
        }
        if (appendedThisCycle || work > 0)
        {
            appendedThisCycle = false;
            agentIdle.signal();
        }
        return work;
    }

    @Override
    public long lastSequence()
    {
        return sequence;
    }

    /**
     * Every record up to it is in the local journal and — with {@code skylark.cluster.ack=replica} — in the buddy's
     * replica: the lower of the two. The buddy's counts only in the current stream (from the checkpoint it started
     * with), so a new buddy holds acknowledgements back until it has that checkpoint; with no buddy, they wait.
     */
    @Override
    public long durableSequence()
    {
        final long local = durableSequence.getAcquire();
        return ackReplica ? Math.min(local, replicaSequence.getAcquire()) : local;
    }

    /** True when the replication agent asked for a checkpoint (a new buddy starts from one) not yet begun. */
    @Override
    public boolean checkpointRequested()
    {
        return checkpointRequests.get() != checkpointsServed;
    }

    /** For tests: as the replication agent asks for a checkpoint. */
    void requestCheckpoint()
    {
        checkpointRequests.incrementAndGet();
    }

    /** For tests: as if the buddy acknowledged {@code sequence}. */
    void replicaAcknowledged(final long sequence)
    {
        replicaSequence.setRelease(sequence);
    }

    /** For tests: count the buddy's sequence (as replicate() with ackReplica does). */
    void ackReplica(final boolean ackReplica)
    {
        this.ackReplica = ackReplica;
    }

    @Override
    public long bytesSinceCheckpoint()
    {
        return bytesSinceCheckpoint;
    }

    @Override
    public boolean isBackPressured()
    {
        return backlogTail - backlogHead > BACKLOG_LIMIT;
    }

    @Override
    public boolean isFailing()
    {
        return failing.getAcquire();
    }

    @Override
    public long appendFailures()
    {
        return appendFailures.get();
    }

    @Override
    public long recordsSkipped()
    {
        return journal.recordsSkipped();
    }

    @Override
    public long generationsQuarantined()
    {
        return journal.generationsQuarantined();
    }

    /** For tests: generation directories on disk. */
    public int generationCount()
    {
        return journal.generationCount();
    }

    /**
     * Hands on the backlog, stops the journal agent (which drains the stream and syncs), then closes Aeron and
     * the journal. Called after the routing agent has stopped.
     */
    @Override
    public void close()
    {
        stopReplication(); // its stream must not hold the journal's back while the backlog drains
        final long deadlineNs = clock.nanoTime() + 5_000_000_000L;
        while (backlogHead < backlogTail && clock.nanoTime() - deadlineNs < 0 && started)
        {
            doWork();
            Thread.onSpinWait();
        }
        if (backlogHead < backlogTail)
        {
            LOG.log(Level.WARNING, "journal: " + (backlogTail - backlogHead) + " backlog bytes not written at close");
        }
        if (started)
        {
            CloseHelper.quietClose(agentRunner);
        }
        CloseHelper.quietCloseAll(publication, subscription, aeron, driver);
        journal.close();
        LOG.log(Level.INFO, "journal closed at sequence " + durableSequence.get());
    }
}
