package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;

/**
 * The routing agent's link to the other nodes of a Skylark cluster: the registry, whose state every node agrees on
 * through Aeron Cluster's Raft log, and node-to-node messages over Aeron UDP. The routing package knows only this
 * seam; {@code dev.skylark.broker.cluster} implements it. A single node runs with no link at all (null), so it pays
 * nothing for the cluster.
 * <p>
 * Registry commands are appended to the log; their effect comes back later through {@link #poll} as
 * {@link Events}, on every node (this one included) in the same log order. A command returns false when it cannot
 * be queued now (no leader yet, back pressure): the caller refuses what depended on it (CONNACK 0x88 Server
 * unavailable, SUBACK 0x80) or retries on a later duty cycle; it never blocks.
 * <p>
 * Called on the routing agent's thread only; implementations never block it and allocate nothing per message on
 * {@link #send} and {@link #poll}.
 */
public interface ClusterLink
{
    /** No owner, no node. */
    int NO_NODE = -1;

    /** This node's id. */
    int nodeId();

    /**
     * Claims {@code clientId} for this node. Committed as {@link Events#onClaimed} with a new epoch (greater than
     * every epoch before it, cluster-wide); the last claim in the log owns the client id.
     */
    boolean claim(long correlationId, String clientId);

    /**
     * Claims {@code clientId} for this node only while its current epoch is {@code epoch} (its owner has not changed
     * since): committed as {@link Events#onClaimed} with correlation id 0, or not at all. A leaving node's heir takes
     * its sessions over with it, so a client that reconnected to another node meanwhile stays there.
     */
    default boolean claimIf(final String clientId, final long epoch)
    {
        return false;
    }

    /**
     * This node's session of {@code clientId} ended (not merely went offline). Committed as
     * {@link Events#onReleased} only when {@code epoch} is still the client id's current epoch.
     */
    boolean release(String clientId, long epoch);

    /**
     * This node has (gained) a subscriber for {@code filter}, as subscribed: {@code "a/+/c"} or
     * {@code "$share/group/a/+/c"}. The registry counts adds and removes per (filter, node).
     */
    boolean addRoute(long correlationId, String filter);

    /** This node lost a subscriber for {@code filter}; the count per (filter, node) never goes below zero. */
    boolean removeRoute(long correlationId, String filter);

    /**
     * Sets (or, empty payload, clears) the retained message of its topic cluster-wide; {@code message} is in the
     * {@link MessageLayout}. The registry keeps the latest per topic, size-capped.
     */
    boolean setRetained(DirectBuffer message, int offset, int length);

    /**
     * Sets the will of {@code clientId}, which this node owns under {@code epoch}, in the registry, or clears it
     * ({@code length} 0): {@code message} is the will in the {@link MessageLayout}, {@code willDelaySeconds} its
     * Will Delay Interval, {@code sessionExpirySeconds} the session's expiry (the delay is capped by it). Should this
     * node go down, the registry makes the will due {@code min(delay, expiry)} after the node-down and names the
     * node's heir to publish it ({@link Events#onWillDue}) — unless the client id is claimed again before then.
     * A set that is stale (the client id was claimed or released since) is ignored; one past the registry's cap is
     * refused there (the will is then published by this node only). False when it cannot be queued now, or the will
     * is larger than a registry command may be.
     */
    default boolean setWill(
        final String clientId, final long epoch, final long willDelaySeconds, final long sessionExpirySeconds,
        final DirectBuffer message, final int offset, final int length)
    {
        return false;
    }

    /**
     * A message to node {@code nodeId} (not this one): delivered once, in order per (sender, receiver) pair, while
     * both live. {@code type} and the bytes are the routing package's own. False on back pressure or when the node
     * is not reachable.
     */
    boolean send(int nodeId, int type, DirectBuffer buffer, int offset, int length);

    /**
     * True when events or peer messages wait for {@link #poll}: the routing agent does not park then. The link also
     * wakes a parked routing agent when they arrive (it is given the agent's waker where it is built).
     */
    boolean hasWork();

    /** Delivers up to {@code limit} committed registry events and peer messages; returns how many. */
    int poll(Events events, int limit);

    /**
     * Replays the replica this node holds of node {@code nodeId}'s journal (its buddy's copy of the records that node
     * appended to its {@link DurableLog}, in order, from its last checkpoint), oldest first, on the caller's thread.
     * Used by the heir of a dead node ({@link Events#onNodeDown}) to rebuild that node's sessions.
     *
     * @return false when this node holds no replica of {@code nodeId}.
     */
    default boolean replayReplica(final int nodeId, final DurableLog.Replayer replayer)
    {
        return false;
    }

    /** The replica of {@code nodeId} is no longer needed (its sessions are taken over and journaled here). */
    default void dropReplica(final int nodeId)
    {
    }

    /**
     * True while this node is cut off from the cluster's majority for longer than the session timeout: it may already
     * have been declared down and its sessions taken over by its heir, so it must acknowledge no QoS 1/2 publish and
     * must drop its clients (fencing). Any thread.
     */
    default boolean isFenced()
    {
        return false;
    }

    /** What comes back: committed registry changes (on every node, in log order) and peer messages. */
    interface Events
    {
        /**
         * A node joined (or rejoined) the cluster. When it is this node, the registry has just dropped every route
         * it held for this node: the routing agent adds its routes again.
         */
        void onNodeUp(int nodeId);

        /**
         * A node left or timed out. {@code heirNodeId} is its heir: the node that was its buddy (held the replica of
         * its journal) when it went down, {@link #NO_NODE} when it had none. Without an heir the registry has dropped
         * its routes (an {@link #onRoute} each came first) and its client ids keep their owner. With one, the heir
         * takes over what the dead node still owned, in this order: the heir's new routes ({@code onRoute(filter,
         * heir, true)}), this event, the dead node's routes dropped ({@code onRoute(filter, nodeId, false)} each),
         * its client ids moved ({@link #onClaimed} each, previous owner {@code nodeId}), then {@link #onInherited}.
         */
        void onNodeDown(int nodeId, int heirNodeId);

        /**
         * The end of a dead node's inheritance (see {@link #onNodeDown}): every client id {@code nodeId} owned is now
         * {@code heirNodeId}'s (an {@link #onClaimed} each came before this, with {@code nodeId} as the previous
         * owner), and so is each of its routes (an {@code onRoute(filter, heirNodeId, true)} before the
         * {@code onNodeDown} where the heir had none; then an {@code onRoute(filter, nodeId, false)} each after it:
         * the heir holds one inherited reference per such filter, which it removes once it has rebuilt what it
         * needs). Only when the dead node had an heir.
         */
        default void onInherited(final int nodeId, final int heirNodeId)
        {
        }

        /**
         * {@code clientId} is now owned by {@code ownerNodeId} under {@code epoch}. {@code correlationId} is the
         * one given to {@link #claim} when {@code ownerNodeId} is this node, else 0. {@code previousNodeId} is the
         * owner before ({@link #NO_NODE} for none), {@code previousEpoch} its epoch (0 for none).
         */
        void onClaimed(
            long correlationId, String clientId, int ownerNodeId, long epoch, int previousNodeId, long previousEpoch);

        /** {@code clientId}'s session on {@code nodeId} under {@code epoch} ended; nobody owns it now. */
        void onReleased(String clientId, int nodeId, long epoch);

        /** The count of {@code filter} on {@code nodeId} went from 0 to 1 ({@code present}) or from 1 to 0. */
        void onRoute(String filter, int nodeId, boolean present);

        /** This node's {@link #addRoute} or {@link #removeRoute} with {@code correlationId} is committed. */
        void onRouteCommitted(long correlationId);

        /** The retained message of a topic was set or cleared (empty payload) by a publisher on {@code originNodeId}. */
        void onRetained(int originNodeId, DirectBuffer message, int offset, int length);

        /**
         * The will of {@code clientId}, whose owning node went down, is due: {@code publisherNodeId} (the dead node's
         * heir, or the next live node after it when the heir is down too) publishes it as a normal publish, once.
         * Every node sees the event; only the publisher acts. {@code message} is in the {@link MessageLayout}.
         */
        default void onWillDue(
            final String clientId, final int publisherNodeId, final DirectBuffer message, final int offset,
            final int length)
        {
        }

        /** A message another node {@link #send sent} to this one. */
        void onPeerMessage(int fromNodeId, int type, DirectBuffer buffer, int offset, int length);
    }
}
