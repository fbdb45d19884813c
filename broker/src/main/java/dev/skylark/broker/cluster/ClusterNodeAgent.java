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

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

/**
 * A cluster node's own thread: keeps this node's registry session (connects, says HELLO, reconnects when the
 * session is lost, sends keep-alives), moves the routing agent's commands from the command ring to the cluster
 * ingress in order (a command that meets back pressure stays at the head of the ring), receives node-to-node
 * messages into the peer ring (waking the routing agent; a full ring leaves them in Aeron, which pushes back on the
 * sender), and asks the leader's consensus module for a snapshot when the log grew past
 * {@code snapshotLogBytes} or {@code snapshotIntervalMs} passed with commands since the last one.
 * <p>
 * <b>Fencing.</b> Every {@link #pingIntervalNs} it offers a {@link RegistryCommands#PING} (numbered and kept like
 * any command, so resends stay in order); the ping coming back applied by this node's own registry, in this
 * session, is a round trip through the log: the session is live and a majority commits. The node is fenced
 * ({@link #fenced()}) once the last ping that came back was <em>sent</em> more than {@link #fenceAfterMs} ago:
 * a quarter of the way from the session timeout back to the leader heartbeat timeout. The leader last heard from the node no
 * earlier than that send, and a new leader restarts every session's timeout when it is elected, so no leader
 * can time the node's session out (and its heir take its sessions over) before {@code send + session timeout}:
 * fencing comes at least {@code (session timeout - heartbeat timeout) / 4} earlier. A plain leader failover
 * stalls the log for the heartbeat timeout plus an election, so it fences the survivors only when the election
 * and the move to the new leader take longer than the other three quarters. A node stays fenced
 * until a ping of its current session comes back; fenced for longer than the session timeout plus the heartbeat
 * timeout, its session is certainly gone, and it opens a new one (HELLO, rejoin) rather than wait for the client
 * to notice. A node that never completed a round trip is not fenced: it can commit no claim, so it has no client.
 */
final class ClusterNodeAgent implements Agent, ControlledMessageHandler, ControlledFragmentHandler, EgressListener
{
    private static final long KEEP_ALIVE_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final long POLICY_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MAX_PING_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final System.Logger LOG = System.getLogger(ClusterNodeAgent.class.getName());

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

    private final long fenceAfterNs;
    private final long reconnectAfterNs;
    private final long pingIntervalNs;
    private final UnsafeBuffer pingBuffer = new UnsafeBuffer(new byte[RegistryCommands.PING_LENGTH]);
    /** The sequence of the ping in flight in this session; 0: none. */
    private int pingSequence;
    private long pingSentNs;
    /** {@link #roundTripSentNs} before the first round trip: never fenced. */
    private static final long NEVER = Long.MIN_VALUE;
    /**
     * When the last ping that came back applied was sent ({@link #NEVER} before the first). Volatile: the routing
     * agent's {@link #fenced()} compares it with its own clock read, so a late duty cycle here delays no fencing.
     */
    private volatile long roundTripSentNs = NEVER;
    /** What the last {@link #fence} saw, for its log lines and metric. */
    private boolean fenceLogged;
    private long fencedSinceNs;
    private long nextReconnectNs;

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
        RegistryCommands.encodePing(pingBuffer, 0);
        fenceAfterNs = TimeUnit.MILLISECONDS.toNanos(fenceAfterMs(settings));
        reconnectAfterNs = TimeUnit.MILLISECONDS.toNanos(settings.sessionTimeoutMs() +
            settings.leaderHeartbeatTimeoutMs());
        pingIntervalNs = Math.min(MAX_PING_INTERVAL_NS, fenceAfterNs / 16);
    }

    /**
     * How long after the send of its last ping that came back a node fences itself: a quarter of the way back from
     * the session timeout to the leader heartbeat timeout, and at least an eighth of the session timeout before it
     * (8.75 s with the defaults 10 s and 5 s; 2.625 s with 3 s and 1.5 s). The margin only has to cover the routing
     * agent's reaction (it reads the flag each duty cycle); the rest goes to a leader failover, which stalls the log
     * for the heartbeat timeout plus an election and should not fence the survivors. The session timeout here is the earlier of {@code session.timeout.ms} and
     * Aeron's image liveness timeout ({@code aeron.image.liveness.timeout}, 10 s): the leader also closes a session
     * whose ingress image went unavailable, which a silent client's does after that long.
     */
    static long fenceAfterMs(final ClusterNode.Settings settings)
    {
        final long timeoutMs = Math.min(settings.sessionTimeoutMs(),
            TimeUnit.NANOSECONDS.toMillis(io.aeron.driver.Configuration.imageLivenessTimeoutNs()));
        final long marginMs = Math.max((timeoutMs - settings.leaderHeartbeatTimeoutMs()) / 4, timeoutMs / 8);
        return timeoutMs - marginMs;
    }

    public String roleName()
    {
        return "skylark-cluster-node";
    }

    public int doWork()
    {
        final long nowNs = System.nanoTime();
        int work = session(nowNs);
        work += fence(nowNs);
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
            pingSequence = 0; // renumbered with the rest: the next ping, in this session, says when it works
            pingSentNs = nowNs - pingIntervalNs;
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
        work += ping(nowNs);
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

    /** Notes a ping of this session come back applied, and offers the next one when due. */
    private int ping(final long nowNs)
    {
        if (pingSequence != 0)
        {
            final long session = service.localSession();
            final int sequence = service.localAppliedSequence();
            if (session != client.clusterSessionId() || service.localSession() != session || sequence < pingSequence)
            {
                return 0;
            }
            pingSequence = 0;
            roundTripSentNs = pingSentNs;
        }
        if (resendPending || nowNs - pingSentNs < pingIntervalNs ||
            unapplied.size() + RegistryCommands.PING_LENGTH + 2 * ExpandableRingBuffer.HEADER_ALIGNMENT >
            unapplied.maxCapacity())
        {
            return 0;
        }
        RegistryCommands.sequence(pingBuffer, 0, nextSequence + 1);
        if (client.offer(pingBuffer, 0, RegistryCommands.PING_LENGTH) < 0)
        {
            return 0;
        }
        pingSequence = ++nextSequence;
        pingSentNs = nowNs;
        unapplied.append(pingBuffer, 0, RegistryCommands.PING_LENGTH);
        return 1;
    }

    /** Fences or unfences this node (see the class comment); a WARN line on each change. */
    private int fence(final long nowNs)
    {
        final long sentNs = roundTripSentNs;
        final long sinceNs = nowNs - sentNs;
        final boolean fence = sentNs != NEVER && sinceNs > fenceAfterNs;
        if (fence == fenceLogged)
        {
            if (fence && client != null && sinceNs > reconnectAfterNs && nowNs - nextReconnectNs >= 0)
            {
                LOG.log(Level.WARNING, "cluster: still no round trip through the registry log after " +
                    TimeUnit.NANOSECONDS.toMillis(sinceNs) + " ms: opening a new registry session");
                connected = false;
                CloseHelper.quietClose(client);
                client = null;
                leaderId = -1;
                nextReconnectNs = nowNs + reconnectAfterNs; // once per this long at most
                return 1;
            }
            return 0;
        }
        fenceLogged = fence;
        metrics.fenced.setRelease(fence ? 1 : 0);
        wakeRouter.run();
        if (fence)
        {
            fencedSinceNs = nowNs;
            metrics.fencings.incrementRelease();
            LOG.log(Level.WARNING, "cluster: node " + settings.nodeId() + " FENCED: no round trip through the " +
                "registry log for " + TimeUnit.NANOSECONDS.toMillis(sinceNs) + " ms (fences after " +
                TimeUnit.NANOSECONDS.toMillis(fenceAfterNs) + " ms, before the session timeout of " +
                settings.sessionTimeoutMs() + " ms): no QoS 1/2 acknowledged, clients disconnected, connects " +
                "refused until it rejoins");
        }
        else
        {
            LOG.log(Level.WARNING, "cluster: node " + settings.nodeId() + " unfenced: round trips through the " +
                "registry log work again after " + TimeUnit.NANOSECONDS.toMillis(nowNs - fencedSinceNs) +
                " ms fenced; accepting clients");
        }
        return 1;
    }

    /**
     * True while this node is cut off from the registry log's majority (see the class comment). Any thread: one
     * volatile read and a clock read, so the caller's thread decides on time even when this agent's thread is late.
     */
    boolean fenced()
    {
        final long sentNs = roundTripSentNs;
        return sentNs != NEVER && System.nanoTime() - sentNs > fenceAfterNs;
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
