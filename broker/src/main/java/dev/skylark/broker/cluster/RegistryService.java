package dev.skylark.broker.cluster;

import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.cluster.codecs.CloseReason;
import io.aeron.cluster.service.ClientSession;
import io.aeron.cluster.service.Cluster;
import io.aeron.cluster.service.ClusteredService;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.IdleStrategy;

/**
 * The {@link Registry} as an Aeron Cluster clustered service: applies each committed command in log order (live,
 * and during recovery replay), turns cluster session closes (a node's clean close or its timeout) into node down,
 * writes the registry's whole state into a snapshot when the consensus module asks for one, and loads it back on
 * start. Every event the registry emits goes to the routing agent's ring (see {@link RegistryEvents}); after a
 * snapshot load the whole state is emitted first, so the routing agent rebuilds its view from events alone.
 * <p>
 * The open-source consensus module never snapshots by itself: {@link ClusterNode} triggers one through the
 * control toggle, reading {@link #logBytesSinceSnapshot()} here. The figures other threads read are volatile.
 */
final class RegistryService implements ClusteredService
{
    /** The one cluster timer the registry keeps: for the earliest due will. */
    static final long WILL_TIMER_ID = 1;
    private final Registry registry;
    /** The due time the will timer is set for ({@link Registry#NOT_DUE}: none, or not known after a restart). */
    private long armedWillDue = Registry.NOT_DUE;
    private final ExpandableArrayBuffer snapshotBuffer = new ExpandableArrayBuffer(4096);
    private final ExpandableArrayBuffer loadBuffer = new ExpandableArrayBuffer(4096);
    private int loadLength;
    private Cluster cluster;
    private IdleStrategy idle;

    private volatile Cluster.Role role = Cluster.Role.FOLLOWER;
    private volatile long logBytesSinceSnapshot;
    private volatile long snapshots;
    private volatile long commands;
    private volatile int routeEntries;
    private volatile long liveNodesMask;
    private volatile long appliedLogPosition;
    private volatile boolean hashRequested;
    private volatile long stateHash;
    private volatile long stateHashPosition = -1;
    private final int localNodeId;
    private volatile long localSession = -1;
    private volatile int localAppliedSequence;
    private OwnershipLog ownershipLog;

    RegistryService(final Registry registry, final int localNodeId)
    {
        this.registry = registry;
        this.localNodeId = localNodeId;
    }

    public void onStart(final Cluster cluster, final Image snapshotImage)
    {
        this.cluster = cluster;
        this.idle = cluster.idleStrategy();
        if (snapshotImage != null)
        {
            loadLength = 0;
            final FragmentHandler collect = this::onSnapshotFragment;
            while (!snapshotImage.isEndOfStream())
            {
                idle.idle(snapshotImage.poll(collect, 64));
            }
            registry.loadSnapshot(loadBuffer, 0, loadLength);
            registry.replayState();
        }
        // Timers may not be scheduled from onStart: the next log entry re-arms the will timer (armedWillDue is
        // NOT_DUE now). The consensus module's own snapshot keeps the timer meanwhile.
        armedWillDue = Registry.NOT_DUE;
        published();
    }

    private void onSnapshotFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        loadBuffer.putBytes(loadLength, buffer, offset, length);
        loadLength += length;
    }

    public void onSessionOpen(final ClientSession session, final long timestamp)
    {
        // A node is live once its session says HELLO (with its node id), see Registry.
    }

    public void onSessionClose(final ClientSession session, final long timestamp, final CloseReason closeReason)
    {
        if (closeReason == CloseReason.CLIENT_ACTION)
        {
            registry.onNodeLeaving(session.id()); // closed by the node itself: a clean leave publishes no wills
        }
        registry.onSessionClosed(session.id(), timestamp);
        armWillTimer();
        published();
    }

    public void onSessionMessage(
        final ClientSession session, final long timestamp, final DirectBuffer buffer, final int offset,
        final int length, final Header header)
    {
        if (session != null)
        {
            registry.onCommand(session.id(), timestamp, buffer, offset, length);
            armWillTimer();
        }
        logBytesSinceSnapshot += length;
        commands++;
        appliedLogPosition = header.position();
        published();
    }

    public void onTimerEvent(final long correlationId, final long timestamp)
    {
        if (correlationId == WILL_TIMER_ID)
        {
            armedWillDue = Registry.NOT_DUE; // fired: gone from the consensus module
            registry.onTimer(timestamp);
            armWillTimer();
            published();
        }
    }

    /**
     * Keeps one cluster timer at the earliest due will (log time, deterministic: every member schedules the same).
     * A timer that fires with nothing due (its will cancelled by a claim) does nothing.
     */
    private void armWillTimer()
    {
        final long due = registry.nextWillDue();
        if (due == Registry.NOT_DUE || due == armedWillDue)
        {
            return;
        }
        idle.reset();
        while (!cluster.scheduleTimer(WILL_TIMER_ID, due))
        {
            idle.idle();
        }
        armedWillDue = due;
    }

    public void onTakeSnapshot(final ExclusivePublication snapshotPublication)
    {
        final int length = registry.encodeSnapshot(snapshotBuffer);
        final int chunk = snapshotPublication.maxPayloadLength();
        for (int at = 0; at < length; )
        {
            final int n = Math.min(chunk, length - at);
            idle.reset();
            while (snapshotPublication.offer(snapshotBuffer, at, n) < 0)
            {
                idle.idle();
            }
            at += n;
        }
        logBytesSinceSnapshot = 0;
        snapshots++;
    }

    public void onRoleChange(final Cluster.Role newRole)
    {
        role = newRole;
    }

    public void onTerminate(final Cluster cluster)
    {
    }

    public int doBackgroundWork(final long nowNs)
    {
        if (hashRequested)
        {
            hashRequested = false;
            stateHash = registry.stateHash();
            stateHashPosition = cluster.logPosition();
            return 1;
        }
        return 0;
    }

    private void published()
    {
        // sequence first, then session: a reader that sees the session sees at least that session's sequence
        localAppliedSequence = registry.appliedSequence(localNodeId);
        localSession = registry.sessionOf(localNodeId);
        routeEntries = registry.routeEntries();
        long mask = 0;
        for (final int node : registry.liveNodes())
        {
            if (node < 64)
            {
                mask |= 1L << node;
            }
        }
        liveNodesMask = mask;
        if (ownershipLog != null)
        {
            ownershipLog.afterApply(cluster.logPosition(), registry); // a diagnostic for tests (off by default)
        }
    }

    /** Appends every ownership change this service applies to {@code log} (a diagnostic for tests); before start. */
    void ownershipLog(final OwnershipLog log)
    {
        this.ownershipLog = log;
    }

    /** The cluster session this node's registry client is live on (-1: none); read it before and after the sequence. */
    long localSession()
    {
        return localSession;
    }

    /** The last of this node's commands applied (its sequence, in {@link #localSession()}). */
    int localAppliedSequence()
    {
        return localAppliedSequence;
    }

    Cluster.Role role()
    {
        return role;
    }

    long logBytesSinceSnapshot()
    {
        return logBytesSinceSnapshot;
    }

    long snapshots()
    {
        return snapshots;
    }

    long commands()
    {
        return commands;
    }

    int routeEntries()
    {
        return routeEntries;
    }

    /** Bit n set: node n is live (node ids below 64). */
    long liveNodesMask()
    {
        return liveNodesMask;
    }

    long appliedLogPosition()
    {
        return appliedLogPosition;
    }

    /** Asks the service thread for a fresh {@link #stateHash()}; read it once {@link #stateHashPosition()} moved. */
    void requestStateHash()
    {
        stateHashPosition = -1;
        hashRequested = true;
    }

    long stateHash()
    {
        return stateHash;
    }

    long stateHashPosition()
    {
        return stateHashPosition;
    }
}
