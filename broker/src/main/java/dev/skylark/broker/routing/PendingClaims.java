package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * CONNECTs waiting for their client id's ownership claim to commit in the cluster registry. The CONNECT command is
 * copied and handed to the {@link SessionRegistry} once {@link ClusterLink.Events#onClaimed} comes back with its
 * correlation; meanwhile the I/O side reads nothing more from the connection (it paused reading at CONNECT), so
 * packets sent after CONNECT wait in the socket until the session exists. A claim that cannot be queued refuses the
 * CONNECT with CONNACK 0x88 Server unavailable (3.1.1: return code 3); a connection lost while waiting is forgotten
 * (its claim, when it commits, is released unless a session of that client id lives here, or comes: one that took the
 * client id from another live node waits for that node's session all the same, see {@link SessionTransfer}).
 * <p>
 * Bounded by the connections the I/O side accepts: one entry per connection between CONNECT and CONNACK. Owned by
 * the routing agent's thread.
 */
final class PendingClaims
{
    /** One CONNECT waiting for its claim. */
    static final class Pending
    {
        final long connectionId;
        final String clientId;
        final UnsafeBuffer connect;
        /**
         * {@link ClusterLink#NO_NODE} for a CONNECT; else the leaving node this claim (without a connection) takes a
         * session from: the session it streams is installed offline ({@link ClusterLeave}).
         */
        final int handedOverFrom;
        boolean lost;
        /** A hand-over claim: forgotten after this when it never commits. */
        long deadlineNs;

        Pending(final long connectionId, final String clientId, final UnsafeBuffer connect)
        {
            this(connectionId, clientId, connect, ClusterLink.NO_NODE);
        }

        Pending(final long connectionId, final String clientId, final UnsafeBuffer connect, final int handedOverFrom)
        {
            this.connectionId = connectionId;
            this.clientId = clientId;
            this.connect = connect;
            this.handedOverFrom = handedOverFrom;
        }

        /** A claim for a leaving node's session, with no connection. */
        boolean isHandOver()
        {
            return handedOverFrom != ClusterLink.NO_NODE;
        }
    }

    private final ClusterLink link;
    private final DeliveryPublisher out;
    private final ConnectCommandDecoder decoder = new ConnectCommandDecoder();
    private final Long2ObjectHashMap<Pending> byCorrelation = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<Pending> byConnection = new Long2ObjectHashMap<>();
    /**
     * Hand-over claims ({@link ClusterLeave}) by client id: conditional claims commit with correlation 0. Bounded by
     * the persistent sessions of the (trusted) leaving nodes, each entry by its deadline.
     */
    private final java.util.HashMap<String, Pending> handOvers = new java.util.HashMap<>();
    private long nextCorrelation;
    /** This node is leaving: CONNECTs are refused (0x88), the clients go to another node. */
    private boolean refuseNew;
    /** See {@link Fencing}: CONNECTs are refused with 0x88 while set. */
    private boolean fenced;

    PendingClaims(final ClusterLink link, final DeliveryPublisher out)
    {
        this.link = link;
        this.out = out;
    }

    /** A CONNECT command (the whole ring record): claims its client id, or refuses it with 0x88. */
    void onConnect(final long connectionId, final DirectBuffer buffer, final int index, final int length)
    {
        final String clientId = decoder.wrap(buffer, index).clientId();
        final long correlationId = ++nextCorrelation;
        if (refuseNew || fenced || !link.claim(correlationId, clientId))
        {
            out.connack(connectionId, false, ReasonCode.SERVER_UNAVAILABLE, 0, 0);
            return;
        }
        final byte[] copy = new byte[length];
        buffer.getBytes(index, copy);
        final Pending pending = new Pending(connectionId, clientId, new UnsafeBuffer(copy));
        byCorrelation.put(correlationId, pending);
        byConnection.put(connectionId, pending);
    }

    /** This node is leaving: from now on every CONNECT is refused with 0x88 Server unavailable. */
    void refuseNew()
    {
        refuseNew = true;
    }

    /**
     * Leaving node {@code fromNodeId} asks this one to take the session of {@code clientId} over: claims it without a
     * connection. False when the claim cannot be queued now (the leaving node's time then runs out for it).
     */
    boolean claimHandedOver(final String clientId, final int fromNodeId, final long epoch, final long deadlineNs)
    {
        if (handOvers.containsKey(clientId) || !link.claimIf(clientId, epoch))
        {
            return false;
        }
        final Pending pending = new Pending(0, clientId, null, fromNodeId);
        pending.deadlineNs = deadlineNs;
        handOvers.put(clientId, pending);
        return true;
    }

    /**
     * A claim of {@code clientId} with correlation 0 committed for this node: the hand-over claim waiting for it, or
     * null.
     */
    Pending onHandOverClaimed(final String clientId)
    {
        return handOvers.isEmpty() ? null : handOvers.remove(clientId);
    }

    /** Hand-over claims that never committed (the client id changed owner first) are forgotten at their deadline. */
    int sweepHandOvers(final long nowNs)
    {
        if (handOvers.isEmpty())
        {
            return 0;
        }
        final int before = handOvers.size();
        handOvers.values().removeIf((pending) -> nowNs - pending.deadlineNs >= 0);
        return before - handOvers.size();
    }

    /** The connection ended before its CONNACK: true when it was waiting here. */
    boolean onDisconnect(final long connectionId)
    {
        final Pending pending = byConnection.remove(connectionId);
        if (pending == null)
        {
            return false;
        }
        pending.lost = true;
        return true;
    }

    /**
     * The claim with {@code correlationId} committed: its CONNECT, or null when it is not one of ours. The
     * connection stays known here (a loss is still noticed) until {@link #connected}.
     */
    Pending onClaimed(final long correlationId)
    {
        return byCorrelation.remove(correlationId);
    }

    /** The CONNECT goes to the session registry now: true unless its connection was lost meanwhile. */
    boolean connected(final Pending pending)
    {
        if (!pending.lost && fenced && !pending.isHandOver())
        {
            out.connack(pending.connectionId, false, ReasonCode.SERVER_UNAVAILABLE, 0, 0);
            pending.lost = true;
        }
        if (pending.lost || pending.isHandOver())
        {
            return false;
        }
        byConnection.remove(pending.connectionId);
        return true;
    }

    /**
     * A later CONNECT of the same client id took this one's place while it waited for its session
     * ({@link SessionTransfer#rejoin}): refused with CONNACK 0x88 if its connection is still open.
     */
    void supersede(final Pending pending)
    {
        if (!pending.lost && !pending.isHandOver())
        {
            out.connack(pending.connectionId, false, ReasonCode.SERVER_UNAVAILABLE, 0, 0);
            pending.lost = true;
            byConnection.remove(pending.connectionId);
        }
    }

    /** The node is (no longer) fenced: while it is, no CONNECT gets through (v5 0x88, 3.1.1 return code 3). */
    void fenced(final boolean fenced)
    {
        this.fenced = fenced;
    }

    /**
     * The node fenced itself: every CONNECT still waiting for its claim (or for a session transfer) is refused with
     * CONNACK 0x88 and treated as lost; its claim, when it commits, is released unless a session lives here.
     */
    void refuseAll()
    {
        for (final Pending pending : byConnection.values())
        {
            if (!pending.lost)
            {
                out.connack(pending.connectionId, false, ReasonCode.SERVER_UNAVAILABLE, 0, 0);
                pending.lost = true;
            }
        }
        byConnection.clear();
    }

    /** The waiting CONNECT decoded. */
    ConnectCommandDecoder decode(final Pending pending)
    {
        return decoder.wrap(pending.connect, 0);
    }

    int size()
    {
        return byCorrelation.size();
    }
}
