package dev.skylark.broker.cluster;

import io.aeron.Aeron;
import io.aeron.ControlledFragmentAssembler;
import io.aeron.Subscription;
import io.aeron.cluster.ClusterControl;
import io.aeron.cluster.client.AeronCluster;
import io.aeron.cluster.client.EgressListener;
import io.aeron.logbuffer.ControlledFragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ErrorHandler;
import org.agrona.ExpandableRingBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersReader;
import io.aeron.cluster.ConsensusModule;
import io.aeron.cluster.service.Cluster;

import java.util.concurrent.TimeUnit;

/**
 * A cluster node's own thread: keeps this node's registry session (connects, says HELLO, reconnects when the
 * session is lost, sends keep-alives), moves the routing agent's commands from the command ring to the cluster
 * ingress in order (a command that meets back pressure stays at the head of the ring), receives node-to-node
 * messages into the peer ring (waking the routing agent; a full ring leaves them in Aeron, which pushes back on the
 * sender), and asks the leader's consensus module for a snapshot when the log grew past
 * {@code snapshotLogBytes} or {@code snapshotIntervalMs} passed with commands since the last one.
 */
final class ClusterNodeAgent implements Agent, ControlledMessageHandler, ControlledFragmentHandler, EgressListener
{
    private static final long KEEP_ALIVE_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final long POLICY_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final ClusterNode.Settings settings;
    private final AeronCluster.Context clientContext;
    private final Aeron aeron;
    private final RegistryService service;
    private final AeronClusterLink link;
    private final RingBuffer commandRing;
    private final RingBuffer peerRing;
    private final Runnable wakeRouter;
    private final ErrorHandler errorHandler;
    private final Subscription peerSubscription;
    private final ControlledFragmentAssembler peerAssembler = new ControlledFragmentAssembler(this);
    private final UnsafeBuffer helloBuffer = new UnsafeBuffer(new byte[RegistryCommands.HELLO_LENGTH]);
    /** Commands offered in this session and not yet applied: resent after a leader change. */
    private final ExpandableRingBuffer unapplied;
    private final ExpandableRingBuffer.MessageConsumer trimmer = this::trim;
    private final ExpandableRingBuffer.MessageConsumer resender = this::resend;
    private final ExpandableRingBuffer.MessageConsumer renumberer = this::renumber;
    private int nextSequence;
    private int appliedSequence;
    private boolean resendPending;
    private long resends;

    private AeronCluster.AsyncConnect connecting;
    private AeronCluster client;
    private boolean helloSent;
    private volatile boolean connected;
    /** The registry session this run of the node said HELLO on (-1: none): due wills name it (see RegistryEvents). */
    private volatile long clusterSessionId = -1;
    private volatile int leaderId = -1;
    private long nextKeepAliveNs;
    private long nextPolicyNs;
    private long lastSnapshotNs;
    private long lastSnapshotCount;
    private AtomicCounter controlToggle;
    private final ClusterMetrics metrics;
    private int commitPositionCounterId = CountersReader.NULL_COUNTER_ID;

    ClusterNodeAgent(
        final ClusterNode.Settings settings, final AeronCluster.Context clientContext, final Aeron aeron,
        final RegistryService service, final AeronClusterLink link, final RingBuffer commandRing,
        final RingBuffer peerRing, final Runnable wakeRouter, final ErrorHandler errorHandler,
        final ClusterMetrics metrics)
    {
        this.metrics = metrics;
        this.settings = settings;
        this.clientContext = clientContext.egressListener(this);
        this.aeron = aeron;
        this.service = service;
        this.link = link;
        this.commandRing = commandRing;
        this.peerRing = peerRing;
        this.wakeRouter = wakeRouter;
        this.errorHandler = errorHandler;
        this.peerSubscription = aeron.addSubscription("aeron:udp?endpoint=" +
            settings.members().member(settings.nodeId()).endpoint(ClusterMembers.PEER_OFFSET),
            ClusterNode.PEER_STREAM_ID);
        RegistryCommands.encodeHello(helloBuffer, 0, settings.nodeId());
        unapplied = new ExpandableRingBuffer(0, ClusterNode.ringBytes(settings.maxMessageLength()), true);
        lastSnapshotNs = System.nanoTime();
    }

    public String roleName()
    {
        return "skylark-cluster-node";
    }

    public int doWork()
    {
        final long nowNs = System.nanoTime();
        int work = session(nowNs);
        work += peerSubscription.controlledPoll(peerAssembler, 64);
        if (nowNs - nextPolicyNs >= 0)
        {
            nextPolicyNs = nowNs + POLICY_INTERVAL_NS;
            snapshotPolicy(nowNs);
            updateMetrics();
        }
        return work;
    }

    private int session(final long nowNs)
    {
        if (client == null)
        {
            if (connecting == null)
            {
                connecting = AeronCluster.asyncConnect(clientContext.clone());
            }
            try
            {
                client = connecting.poll();
            }
            catch (final RuntimeException ex)
            {
                // no leader reachable in time (election under way): try again
                CloseHelper.quietClose(connecting);
                connecting = null;
                return 0;
            }
            if (client == null)
            {
                return 0;
            }
            connecting = null;
            helloSent = false;
            // a new session numbers from 1 again: what the old one left unapplied goes again, renumbered
            nextSequence = 0;
            unapplied.forEach(renumberer, Integer.MAX_VALUE);
            resendPending = !unapplied.isEmpty();
            leaderId = client.leaderMemberId();
            nextKeepAliveNs = nowNs + KEEP_ALIVE_INTERVAL_NS;
        }
        int work = client.pollEgress();
        if (client.isClosed())
        {
            connected = false;
            clusterSessionId = -1;
            CloseHelper.quietClose(client);
            client = null;
            leaderId = -1;
            return work + 1;
        }
        if (!helloSent)
        {
            if (client.offer(helloBuffer, 0, RegistryCommands.HELLO_LENGTH) < 0)
            {
                return work;
            }
            helloSent = true;
            clusterSessionId = client.clusterSessionId();
            connected = true;
            work++;
        }
        trimApplied();
        if (resendPending)
        {
            resendPending = false;
            unapplied.forEach(resender, Integer.MAX_VALUE);
            work++;
        }
        work += commandRing.controlledRead(this, 64);
        if (nowNs - nextKeepAliveNs >= 0)
        {
            nextKeepAliveNs = nowNs + KEEP_ALIVE_INTERVAL_NS;
            client.sendKeepAlive();
        }
        return work;
    }

    /**
     * A command from the routing agent: numbered, offered to the ingress and kept until applied; or left at the head
     * of the ring for later (back pressure, or too much unapplied).
     */
    public ControlledMessageHandler.Action onMessage(
        final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        if (resendPending || unapplied.size() + length + 2 * ExpandableRingBuffer.HEADER_ALIGNMENT >
            unapplied.maxCapacity())
        {
            return ControlledMessageHandler.Action.ABORT;
        }
        RegistryCommands.sequence(buffer, index, nextSequence + 1);
        if (client.offer(buffer, index, length) < 0)
        {
            return ControlledMessageHandler.Action.ABORT;
        }
        nextSequence++;
        unapplied.append(buffer, index, length);
        return ControlledMessageHandler.Action.CONTINUE;
    }

    private void trimApplied()
    {
        final long session = service.localSession();
        final int sequence = service.localAppliedSequence();
        if (session == client.clusterSessionId() && service.localSession() == session && sequence != appliedSequence)
        {
            appliedSequence = sequence;
            unapplied.consume(trimmer, Integer.MAX_VALUE);
        }
    }

    private boolean trim(final MutableDirectBuffer buffer, final int offset, final int length, final int headOffset)
    {
        return RegistryCommands.sequence(buffer, offset) <= appliedSequence;
    }

    private boolean resend(final MutableDirectBuffer buffer, final int offset, final int length, final int headOffset)
    {
        if (client.offer(buffer, offset, length) < 0)
        {
            resendPending = true; // all again later: the registry skips what it applied already
            return false;
        }
        resends++;
        return true;
    }

    private boolean renumber(final MutableDirectBuffer buffer, final int offset, final int length, final int headOffset)
    {
        RegistryCommands.sequence(buffer, offset, ++nextSequence);
        return true;
    }

    /** A node-to-node message: into the peer ring for the routing agent, or left in Aeron while the ring is full. */
    public ControlledFragmentHandler.Action onFragment(
        final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (length < AeronClusterLink.PEER_HEADER_LENGTH)
        {
            return ControlledFragmentHandler.Action.CONTINUE;
        }
        if (!peerRing.write(1, buffer, offset, length))
        {
            wakeRouter.run();
            return ControlledFragmentHandler.Action.ABORT;
        }
        link.received(buffer.getInt(offset + AeronClusterLink.PEER_FROM_OFFSET), length);
        wakeRouter.run();
        return ControlledFragmentHandler.Action.CONTINUE;
    }

    public void onMessage(
        final long clusterSessionId, final long timestamp, final DirectBuffer buffer, final int offset,
        final int length, final Header header)
    {
        // The registry answers through the log, not the egress.
    }

    public void onNewLeader(
        final long clusterSessionId, final long leadershipTermId, final int leaderMemberId,
        final String ingressEndpoints)
    {
        leaderId = leaderMemberId;
        resendPending = !unapplied.isEmpty(); // what went to the old leader may be lost: again, to the new one
    }

    private void snapshotPolicy(final long nowNs)
    {
        final long snapshots = service.snapshots();
        if (snapshots != lastSnapshotCount)
        {
            lastSnapshotCount = snapshots;
            lastSnapshotNs = nowNs;
        }
        final long bytes = service.logBytesSinceSnapshot();
        if (bytes == 0 || !ClusterNode.isLeaderRole(service))
        {
            return;
        }
        final boolean big = bytes >= settings.snapshotLogBytes();
        final boolean old = settings.snapshotIntervalMs() > 0 &&
            nowNs - lastSnapshotNs >= TimeUnit.MILLISECONDS.toNanos(settings.snapshotIntervalMs());
        if ((big || old) && toggleSnapshot())
        {
            lastSnapshotNs = nowNs;
        }
    }

    private void updateMetrics()
    {
        final Cluster.Role role = service.role();
        metrics.role.setRelease(role == Cluster.Role.LEADER ? 2 : role == Cluster.Role.CANDIDATE ? 1 : 0);
        metrics.leader.setRelease(leaderId);
        metrics.liveNodes.setRelease(Long.bitCount(service.liveNodesMask()));
        metrics.routeEntries.setRelease(service.routeEntries());
        metrics.snapshots.setRelease(service.snapshots());
        final CountersReader counters = aeron.countersReader();
        if (commitPositionCounterId == CountersReader.NULL_COUNTER_ID ||
            counters.getCounterState(commitPositionCounterId) != CountersReader.RECORD_ALLOCATED ||
            counters.getCounterTypeId(commitPositionCounterId) != ConsensusModule.Configuration.COMMIT_POSITION_TYPE_ID)
        {
            commitPositionCounterId = CountersReader.NULL_COUNTER_ID;
            for (int id = 0, max = counters.maxCounterId(); id <= max; id++)
            {
                if (counters.getCounterState(id) == CountersReader.RECORD_ALLOCATED &&
                    counters.getCounterTypeId(id) == ConsensusModule.Configuration.COMMIT_POSITION_TYPE_ID)
                {
                    commitPositionCounterId = id;
                    break;
                }
            }
        }
        if (commitPositionCounterId != CountersReader.NULL_COUNTER_ID)
        {
            metrics.commitLagBytes.setRelease(Math.max(0,
                counters.getCounterValue(commitPositionCounterId) - service.appliedLogPosition()));
        }
    }

    boolean toggleSnapshot()
    {
        if (!ClusterNode.isLeaderRole(service))
        {
            return false;
        }
        final AtomicCounter toggle = controlToggle();
        return toggle != null && ClusterControl.ToggleState.SNAPSHOT.toggle(toggle);
    }

    ClusterControl.ToggleState toggleState()
    {
        final AtomicCounter toggle = controlToggle();
        return toggle == null ? null : ClusterControl.ToggleState.get(toggle);
    }

    private AtomicCounter controlToggle()
    {
        if (controlToggle == null || controlToggle.isClosed())
        {
            controlToggle = ClusterControl.findControlToggle(aeron.countersReader(), ClusterNode.CLUSTER_ID);
        }
        return controlToggle;
    }

    boolean connected()
    {
        return connected;
    }

    long clusterSessionId()
    {
        return clusterSessionId;
    }

    int leaderId()
    {
        return leaderId;
    }

    void closeClient()
    {
        connected = false;
        CloseHelper.quietCloseAll(connecting, client, peerSubscription);
    }

    @Override
    public void onClose()
    {
        closeClient();
    }
}
