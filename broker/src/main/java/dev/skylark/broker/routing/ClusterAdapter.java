package dev.skylark.broker.routing;

import dev.skylark.codec.LogText;
import org.agrona.DirectBuffer;

import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.Map;

/**
 * The routing agent's side of a cluster: polls the {@link ClusterLink} on each duty cycle and dispatches what the
 * registry committed, and what other nodes sent, to the part that handles it — ownership claims to
 * {@link PendingClaims} and the {@link SessionRegistry}, route commits to {@link LocalRoutes} and the held
 * SUBACK/UNSUBACKs of {@link Subscriptions}, routes and peer messages to {@link ClusterForwarding}, retained
 * messages to the {@link MessageRouter}'s retained index. Releases a client id when its session here ends.
 * Owned by the routing agent's thread.
 */
final class ClusterAdapter implements ClusterLink.Events, SessionRegistry.EndListener
{
    private static final System.Logger LOG = System.getLogger(ClusterAdapter.class.getName());
    private static final int POLL_LIMIT = 256;

    private final ClusterLink link;
    private final int self;
    private final PendingClaims claims;
    private final LocalRoutes localRoutes;
    private final ClusterForwarding forwarding;
    private final SessionRegistry sessions;
    private final Subscriptions subscriptions;
    private final MessageRouter router;
    private final SessionTransfer transfer;
    /** Nodes the registry says are up. */
    private final org.agrona.collections.IntHashSet nodesUp = new org.agrona.collections.IntHashSet();
    /** Releases that could not be queued: client id → epoch, retried. */
    private final Map<String, Long> releases = new HashMap<>();
    private final org.agrona.ExpandableArrayBuffer ackBuffer = new org.agrona.ExpandableArrayBuffer(256);
    /** Wills: set in the registry, and published here when the registry names this node for a dead node's client. */
    private Wills wills;
    private final org.agrona.concurrent.CachedNanoClock clock;
    /** This node's clean leave (shutdown), and the heir's side of others'. */
    private final ClusterLeave leave;
    /** What this node does as a dead node's heir, and with its own sessions after a restart; set by {@link #heir}. */
    private HeirTakeover heir;
    private RejoinCheck rejoin;
    /**
     * Between this node's own onNodeDown (with an heir) and its onInherited: the registry declared this node dead
     * (it was cut off, or is stopping) and moves its client ids to the heir, which rebuilds their sessions from its
     * replica of this node's journal. This node then drops each such session without journaling its end, so no end
     * reaches the replica ahead of the heir's replay.
     */
    private boolean inheritedAway;
    /** Dead nodes this node is the heir of whose forwards wait for their sessions to be restored (onInherited). */
    private final org.agrona.collections.IntHashSet deferredForwardsDown = new org.agrona.collections.IntHashSet();

    ClusterAdapter(
        final ClusterLink link,
        final PendingClaims claims,
        final LocalRoutes localRoutes,
        final ClusterForwarding forwarding,
        final SessionRegistry sessions,
        final Subscriptions subscriptions,
        final MessageRouter router,
        final SessionTransfer transfer,
        final org.agrona.concurrent.CachedNanoClock clock,
        final RoutingCounters counters)
    {
        this.transfer = transfer;
        transfer.nodeUp(nodesUp::contains);
        transfer.forwarding(forwarding);
        this.link = link;
        this.self = link.nodeId();
        this.claims = claims;
        this.localRoutes = localRoutes;
        this.forwarding = forwarding;
        this.sessions = sessions;
        this.subscriptions = subscriptions;
        this.router = router;
        this.clock = clock;
        localRoutes.awaitAcks(nodesUp, clock, counters.clusterRouteAckTimeouts);
        this.leave = new ClusterLeave(link, sessions, claims, nodesUp, clock);
        transfer.leave(leave);
    }

    /** Starts this node's clean leave: clients go, persistent sessions go to the heir within {@code timeoutNs}. */
    void leave(final long timeoutNs)
    {
        leave.start(timeoutNs);
    }

    /** Whether the leave started by {@link #leave} is over. Any thread. */
    boolean hasLeft()
    {
        return leave.isDone();
    }

    void wills(final Wills wills)
    {
        this.wills = wills;
    }

    /**
     * Wires the heir's takeover of a dead node ({@link HeirTakeover}) and the check of restored sessions after a
     * restart ({@link RejoinCheck}).
     */
    void heir(final JournalReplayAdapter replay, final CheckpointWriter writer, final DurableLog log,
        final org.agrona.concurrent.CachedNanoClock clock)
    {
        heir = new HeirTakeover(link, replay, writer, log, localRoutes, forwarding, sessions, clock, this::release);
        heir.transfer(transfer);
        rejoin = new RejoinCheck(self, sessions);
    }

    /** The start-up replay is done: the sessions there are now are this node's restored ones. */
    void onReplayed()
    {
        if (rejoin != null)
        {
            rejoin.onReplayed();
        }
    }

    /** One duty cycle's cluster work: committed events and peer messages, then retries. */
    int doWork()
    {
        final int polled = link.poll(this, POLL_LIMIT);
        int work = polled;
        if (heir != null)
        {
            if (!rejoin.isDone())
            {
                // Caught up: this poll took in all that waited (steady traffic from peers never leaves it empty).
                work += rejoin.poll(polled < POLL_LIMIT || !link.hasWork());
                if (rejoin.isDone())
                {
                    heir.caughtUp();
                    forwarding.onRejoined();
                }
            }
            work += heir.doWork();
        }
        work += subscriptions.releaseCommitted();
        if (rejoin == null || rejoin.isDone())
        {
            work += localRoutes.retry(); // not while catching up after a start: see onNodeUp
        }
        work += transfer.poll();
        work += forwarding.drainBacklogs();
        if (wills != null)
        {
            work += wills.syncCluster(clock.nanoTime());
        }
        work += forwarding.confirmDurable();
        work += leave.poll();
        if (!releases.isEmpty())
        {
            releases.entrySet().removeIf((entry) -> link.release(entry.getKey(), entry.getValue()));
        }
        return work;
    }

    public void onNodeUp(final int nodeId)
    {
        nodesUp.add(nodeId);
        forwarding.onNodeUp(nodeId);
        if (nodeId == self)
        {
            if (rejoin != null && !rejoin.isDone())
            {
                // Catching up after this node's start: the log's earlier onNodeUp of this node are history (their
                // re-adds would count twice after the current HELLO). Its routes (restored, waiting in the retry
                // list) go once it has caught up, when the RejoinCheck has ended what is not its own.
                rejoin.onNodeUp();
            }
            else
            {
                localRoutes.onNodeUp();
            }
        }
    }

    public void onNodeDown(final int nodeId, final int heirNodeId)
    {
        nodesUp.remove(nodeId);
        if (nodeId == self && heirNodeId != ClusterLink.NO_NODE)
        {
            inheritedAway = true;
        }
        if (heirNodeId == self && nodeId != self && heir != null)
        {
            // The heir: what was on its way to the dead node goes to the sessions taken over from it, so its
            // forwards are redirected once they are restored (onInherited), not now.
            deferredForwardsDown.add(nodeId);
        }
        else
        {
            forwarding.onNodeDown(nodeId, heirNodeId);
        }
        localRoutes.onNodeDown(nodeId);
        if (heir != null)
        {
            heir.onNodeDown(nodeId, heirNodeId);
        }
    }

    public void onInherited(final int nodeId, final int heirNodeId)
    {
        if (nodeId == self)
        {
            inheritedAway = false;
        }
        if (heir != null)
        {
            heir.onInherited(nodeId, heirNodeId);
        }
        if (deferredForwardsDown.remove(nodeId))
        {
            forwarding.onNodeDown(nodeId, heirNodeId);
        }
        if (heir != null)
        {
            heir.completeHere(transfer);
            heir.sendLate(transfer);
        }
        transfer.onNodeDown(nodeId);
    }

    public void onClaimed(
        final long correlationId,
        final String clientId,
        final int ownerNodeId,
        final long epoch,
        final int previousNodeId,
        final long previousEpoch)
    {
        if (heir != null)
        {
            rejoin.onClaimed(clientId, ownerNodeId, epoch);
            if (heir.onClaimed(clientId, ownerNodeId, epoch, previousNodeId))
            {
                return; // a dead node's client id moved here: rebuilt at onInherited
            }
        }
        if (ownerNodeId == self)
        {
            final PendingClaims.Pending pending =
                correlationId == 0 ? claims.onHandOverClaimed(clientId) : claims.onClaimed(correlationId);
            if (pending == null)
            {
                return; // not a claim this run of the node made
            }
            if (previousNodeId == self && !pending.isHandOver() &&
                transfer.rejoin(pending, epoch, claims.decode(pending).cleanStart()))
            {
                return; // its session is still on its way here for an earlier CONNECT: this one waits for it instead
            }
            if (previousNodeId != ClusterLink.NO_NODE && previousNodeId != self && nodesUp.contains(previousNodeId) &&
                (pending.isHandOver() || !claims.decode(pending).cleanStart()))
            {
                // CONNACK once the previous owner sent the session. Also when the connection is lost already (the
                // client gave up, or this node fenced itself meanwhile): the previous owner, or the heir of a dead
                // one, sends the session only here, and it stays here, offline, for the client's next CONNECT.
                transfer.await(pending, epoch, previousNodeId);
                return;
            }
            if (pending.isHandOver())
            {
                leave.confirm(clientId, pending.handedOverFrom, epoch); // nothing to take: the leaving node is told
            }
            if (!claims.connected(pending))
            {
                final Session session = sessions.byClientId(clientId);
                if (session == null)
                {
                    release(clientId, epoch); // nobody here to own it
                }
                else
                {
                    session.clusterEpoch = epoch;
                }
                return;
            }
            sessions.onConnect(pending.connectionId, claims.decode(pending));
            final Session session = sessions.byClientId(clientId);
            if (session != null)
            {
                session.clusterEpoch = epoch;
            }
            return;
        }
        final Session session = sessions.byClientId(clientId);
        if (session != null && rejoin != null && !rejoin.isDone() && session.clusterEpoch == 0 && !session.isOnline())
        {
            return; // restored from the journal, the log still catching up: the RejoinCheck decides at the end
        }
        if (session != null && inheritedAway && previousNodeId == self)
        {
            // Declared dead: the heir owns it now and rebuilds it from the replica. Dropped here, its end not
            // journaled (a journaled end would reach the replica and could pass the heir's replay).
            session.durableId = 0;
            sessions.onTakenOverElsewhere(session);
            return;
        }
        if (previousNodeId == self && transfer.passOn(clientId, ownerNodeId, epoch))
        {
            LOG.log(Level.DEBUG, () -> "cluster: " + LogText.of(clientId) + " taken over by node " + ownerNodeId +
                " while its session is on its way here: handed on when it arrives");
        }
        else         if (session != null)
        {
            LOG.log(Level.DEBUG, () -> "cluster: " + LogText.of(clientId) + " taken over by node " + ownerNodeId);
            if (previousNodeId == self)
            {
                transfer.send(session, ownerNodeId, epoch);
            }
            sessions.onTakenOverElsewhere(session);
        }
        else if (previousNodeId == self)
        {
            transfer.sendNone(clientId, ownerNodeId, epoch);
        }
        if (previousNodeId == self)
        {
            leave.onClaimedAway(clientId, ownerNodeId);
        }
    }

    public void onReleased(final String clientId, final int nodeId, final long epoch)
    {
        if (rejoin != null)
        {
            rejoin.onReleased(clientId, epoch);
        }
        if (nodeId == self)
        {
            leave.onClaimedAway(clientId, ClusterLink.NO_NODE); // ended here while leaving: nothing to hand over
        }
    }

    public void onRoute(final String filter, final int nodeId, final boolean present)
    {
        forwarding.onRoute(filter, nodeId, present);
        localRoutes.onRoute(filter, nodeId, present);
        if (heir != null)
        {
            heir.onRoute(filter, nodeId, present);
        }
        if (present && nodeId != self && nodeId >= 0)
        {
            // Applied: anything routed here from now on matches it. The subscribing node's SUBACK waits for this.
            final int length = ackBuffer.putStringWithoutLengthUtf8(0, filter);
            if (!link.send(nodeId, LocalRoutes.ROUTE_ACK, ackBuffer, 0, length))
            {
                LOG.log(Level.DEBUG, () -> "cluster: a route acknowledgement to node " + nodeId + " could not be sent");
            }
        }
    }

    public void onRouteCommitted(final long correlationId)
    {
        localRoutes.onRouteCommitted(correlationId);
    }

    public void onRetained(final int originNodeId, final DirectBuffer message, final int offset, final int length)
    {
        if (length < MessageLayout.TOPIC_OFFSET || MessageLayout.length(message, offset) != length)
        {
            LOG.log(Level.WARNING, "cluster: a malformed retained message from the registry (node " + originNodeId +
                ")");
            return;
        }
        router.applyRetained(message, offset, length);
    }

    public void onWillDue(
        final String clientId, final int publisherNodeId, final DirectBuffer message, final int offset,
        final int length)
    {
        if (publisherNodeId == self && wills != null)
        {
            wills.publishDue(clientId, message, offset, length);
        }
    }

    public void onPeerMessage(final int fromNodeId, final int type, final DirectBuffer buffer, final int offset,
        final int length)
    {
        if (type == ClusterForwarding.FORWARD || type == ForwardReceipts.CONFIRM)
        {
            forwarding.onPeerMessage(fromNodeId, type, buffer, offset, length);
        }
        else if (type == LocalRoutes.ROUTE_ACK)
        {
            localRoutes.onRouteAck(fromNodeId, buffer.getStringWithoutLengthUtf8(offset, length));
        }
        else if (type == ClusterLeave.HAND_OVER || type == ClusterLeave.HANDED_OVER)
        {
            leave.onPeerMessage(fromNodeId, type, buffer, offset);
        }
        else
        {
            transfer.onPeerMessage(fromNodeId, type, buffer, offset, length);
        }
    }

    public void onSessionEnded(final Session session)
    {
        if (session.clusterEpoch != 0)
        {
            release(session.clientId, session.clusterEpoch);
            session.clusterEpoch = 0;
        }
    }

    /** Whether a confirmation of forwards received could go now (the agent does not park then). */
    boolean hasConfirmsReady()
    {
        return forwarding.hasConfirmsReady();
    }

    /** Whether forwards to other nodes back up: QoS 1/2 publishers are held back (the publish gate). */
    boolean isBackPressured()
    {
        return forwarding.isBackPressured();
    }

    private void release(final String clientId, final long epoch)
    {
        if (!link.release(clientId, epoch))
        {
            releases.put(clientId, epoch);
        }
    }
}
