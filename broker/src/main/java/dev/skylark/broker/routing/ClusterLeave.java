package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.collections.IntHashSet;
import org.agrona.concurrent.CachedNanoClock;

import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

import static org.agrona.BitUtil.SIZE_OF_LONG;
import static org.agrona.BitUtil.SIZE_OF_SHORT;

/**
 * A clustered node's clean leave (shutdown): its clients are told to go (v5 DISCONNECT 0x9C Use another server with
 * the Server Reference when one is configured, else 0x8B; their sessions go offline here), then every persistent
 * session this node owns is handed to its heir — the next live node id above this one, wrapping round, as
 * {@code Registry.buddyOf} — by the takeover path that already moves a session between nodes: this node asks the
 * heir ({@link #HAND_OVER}) to claim the client id; the heir claims it without a connection, on condition that this
 * node still owns it ({@link ClusterLink#claimIf}); when the claim commits
 * this node is its previous owner, so {@link SessionTransfer} streams the session, and the heir installs it offline
 * (expiry running, journaled as its own) and confirms ({@link #HANDED_OVER}). A client that reconnects to another
 * node meanwhile takes its session over as usual (its claim names this node as the previous owner): then nothing is
 * asked of the heir for it, and the heir's conditional claim does not commit. Sessions that end with their
 * connection (expiry 0) just end (released).
 * <p>
 * Bounded by {@code skylark.cluster.leave.timeout.ms}: what is not handed over by then is logged (a count) and stays
 * owned by this node, so when this node's registry session closes the registry's heir takes it from the journal
 * replica (cluster part 2). A complete hand-over leaves this node owning nothing.
 *
 * <pre>
 * HAND_OVER, HANDED_OVER: clientIdLength:2 clientId:n epoch:8 (the leaving node's epoch of the client id: the heir's
 *                         claim commits only while it stands, {@link ClusterLink#claimIf})
 * </pre>
 * Rare (once per node's life), so it may allocate. Owned by the routing agent's thread.
 */
final class ClusterLeave
{
    /** Peer message: the leaving node asks its heir to claim a client id (and so take its session). */
    static final int HAND_OVER = 16;
    /** Peer message: the heir installed (or found nothing of) the session the leaving node asked it to take. */
    static final int HANDED_OVER = 17;
    /** How long the heir keeps a hand-over claim that has not committed (the client id changed owner first). */
    private static final long HAND_OVER_CLAIM_WAIT_NS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    private static final System.Logger LOG = System.getLogger(ClusterLeave.class.getName());

    private final ClusterLink link;
    private final int self;
    private final SessionRegistry sessions;
    private final PendingClaims claims;
    private final IntHashSet nodesUp;
    private final CachedNanoClock clock;
    private final ExpandableArrayBuffer scratch = new ExpandableArrayBuffer(256);
    /** Client ids still to ask the heir for, in order. */
    private final ArrayDeque<String> toAsk = new ArrayDeque<>();
    /** Client ids not handed over yet → this node's epoch of them. */
    private final Map<String, Long> waiting = new HashMap<>();
    private boolean leaving;
    private volatile boolean done;
    private int heir = ClusterLink.NO_NODE;
    private long deadlineNs;
    private int handedOver;

    ClusterLeave(
        final ClusterLink link,
        final SessionRegistry sessions,
        final PendingClaims claims,
        final IntHashSet nodesUp,
        final CachedNanoClock clock)
    {
        this.link = link;
        this.self = link.nodeId();
        this.sessions = sessions;
        this.claims = claims;
        this.nodesUp = nodesUp;
        this.clock = clock;
    }

    /** Whether this node has started to leave: it takes nothing over from others any more. */
    boolean isLeaving()
    {
        return leaving;
    }

    /** Whether the leave is over: everything handed over, or the time ran out. Any thread. */
    boolean isDone()
    {
        return done;
    }

    /**
     * Starts the leave: refuses new CONNECTs, disconnects every client (its session goes offline here, or ends when
     * its expiry is 0) and names the sessions to hand over. {@code timeoutNs} bounds the whole hand-over.
     */
    void start(final long timeoutNs)
    {
        if (leaving)
        {
            return;
        }
        leaving = true;
        deadlineNs = clock.nanoTime() + timeoutNs;
        claims.refuseNew();
        final ArrayList<Session> all = new ArrayList<>();
        sessions.sessions().forEach(all::add);
        for (final Session session : all)
        {
            if (session.isOnline())
            {
                sessions.disconnect(session, ReasonCode.SERVER_SHUTTING_DOWN); // the I/O side says 0x9C + reference
            }
        }
        for (final Session session : sessions.sessions())
        {
            if (session.expiryInterval > 0 && session.clusterEpoch != 0)
            {
                waiting.put(session.clientId, session.clusterEpoch);
                toAsk.add(session.clientId);
            }
        }
        heir = heir();
        LOG.log(Level.INFO, "cluster: leaving; handing " + waiting.size() + " persistent session(s) over to node " +
            heir + " (at most " + timeoutNs / 1_000_000 + " ms)");
        if (waiting.isEmpty() || heir == ClusterLink.NO_NODE || timeoutNs <= 0)
        {
            finish();
        }
    }

    /** One duty cycle: asks the heir for what is left to ask, ends the leave when done or out of time. */
    int poll()
    {
        if (!leaving || done)
        {
            return claims.sweepHandOvers(clock.nanoTime());
        }
        int work = 0;
        while (!toAsk.isEmpty())
        {
            final String clientId = toAsk.peek();
            final Long epoch = waiting.get(clientId);
            if (epoch != null && !send(heir, HAND_OVER, clientId, epoch))
            {
                break; // back pressure: the rest on a later cycle
            }
            toAsk.poll();
            work++;
        }
        if (waiting.isEmpty() || clock.nanoTime() - deadlineNs >= 0)
        {
            finish();
            work++;
        }
        return work;
    }

    /**
     * {@code clientId} was claimed by {@code ownerNodeId} from this node (the caller has streamed its session
     * there), or released here ({@link ClusterLink#NO_NODE}: its session ended). Claimed by a node other than the
     * heir, it is done: its client reconnected there. Claimed by the heir, it is done once the heir confirms it
     * installed the session ({@link #HANDED_OVER}).
     */
    void onClaimedAway(final String clientId, final int ownerNodeId)
    {
        if (leaving && ownerNodeId != heir && waiting.remove(clientId) != null)
        {
            handedOver++;
        }
    }

    /** A peer message of the leave. */
    void onPeerMessage(final int fromNodeId, final int type, final DirectBuffer buffer, final int offset)
    {
        final int idLength = buffer.getShort(offset) & 0xFFFF;
        final String clientId = buffer.getStringWithoutLengthUtf8(offset + SIZE_OF_SHORT, idLength);
        if (type == HAND_OVER)
        {
            if (leaving)
            {
                return; // leaving too: the asking node's time runs out, the registry's heir takes it later
            }
            final long epoch = buffer.getLong(offset + SIZE_OF_SHORT + idLength);
            claims.claimHandedOver(clientId, fromNodeId, epoch, clock.nanoTime() + HAND_OVER_CLAIM_WAIT_NS);
        }
        else if (type == HANDED_OVER && waiting.remove(clientId) != null)
        {
            handedOver++;
        }
    }

    /** The heir installed the session of {@code clientId} it took from {@code fromNodeId}: tells that node. */
    void confirm(final String clientId, final int fromNodeId, final long epoch)
    {
        send(fromNodeId, HANDED_OVER, clientId, epoch);
    }

    private void finish()
    {
        if (!waiting.isEmpty())
        {
            LOG.log(Level.WARNING, "cluster: leave: " + waiting.size() + " persistent session(s) not handed over " +
                (heir == ClusterLink.NO_NODE ? "(no other live node)" : "to node " + heir + " in time") +
                "; they stay owned by this node for its heir to take from the replica");
        }
        else
        {
            LOG.log(Level.INFO, "cluster: leave: " + handedOver + " persistent session(s) handed over");
        }
        done = true;
    }

    /** The next live node id above this one, wrapping round; NO_NODE when no other node is live. */
    private int heir()
    {
        int above = Integer.MAX_VALUE;
        int lowest = Integer.MAX_VALUE;
        final IntHashSet.IntIterator it = nodesUp.iterator();
        while (it.hasNext())
        {
            final int node = it.nextValue();
            if (node != self)
            {
                lowest = Math.min(lowest, node);
                if (node > self)
                {
                    above = Math.min(above, node);
                }
            }
        }
        return above != Integer.MAX_VALUE ? above : lowest != Integer.MAX_VALUE ? lowest : ClusterLink.NO_NODE;
    }

    private boolean send(final int nodeId, final int type, final String clientId, final long epoch)
    {
        final int length = scratch.putStringWithoutLengthUtf8(SIZE_OF_SHORT, clientId);
        scratch.putShort(0, (short)length);
        scratch.putLong(SIZE_OF_SHORT + length, epoch);
        return link.send(nodeId, type, scratch, 0, SIZE_OF_SHORT + length + SIZE_OF_LONG);
    }
}
