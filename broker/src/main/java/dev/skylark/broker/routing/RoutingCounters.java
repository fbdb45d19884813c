package dev.skylark.broker.routing;

import dev.skylark.broker.status.Counters;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * What the routing agent counts. Written by the routing agent's thread only; readable live from another process
 * through the counters file ({@code skylark stat}) and rendered at {@code /metrics}.
 */
public final class RoutingCounters
{
    public final AtomicCounter publishesIn;
    public final AtomicCounter sessions;
    /** Sessions with a connection (MQTT clients connected). */
    public final AtomicCounter clientsConnected;
    public final AtomicCounter subscriptions;
    public final AtomicCounter retained;
    public final AtomicCounter storedBytes;
    public final AtomicCounter takeovers;
    public final AtomicCounter willsPublished;
    /** QoS 1/2 messages dropped because a session (online or offline) already had skylark.queue.max.messages queued. */
    public final AtomicCounter queueDropped;
    /** QoS 1/2 messages dropped because they would take a session's queue (online or offline) past skylark.queue.max.bytes. */
    public final AtomicCounter queueDroppedBytes;
    /** Subscriptions refused: the client already holds skylark.subscriptions.per.client.max. */
    public final AtomicCounter subscriptionsRefusedPerClient;
    /** Subscriptions refused: the filter already has skylark.subscribers.per.filter.max subscribers. */
    public final AtomicCounter subscriptionsRefusedPerFilter;
    /** Shared subscriptions refused: the filter already has skylark.shared.groups.per.filter.max groups. */
    public final AtomicCounter subscriptionsRefusedGroupsPerFilter;
    /** Shared subscriptions refused: the client is already in skylark.shared.groups.per.client.max groups. */
    public final AtomicCounter subscriptionsRefusedGroupsPerClient;
    /** Shared-subscription messages handed to another member because theirs went away. */
    public final AtomicCounter sharedRedistributed;
    /** QoS 1/2 copies deleted because their Message Expiry Interval ran out before delivery started. */
    public final AtomicCounter expired;
    /** Times stored messages reached the high-water mark and publishers were held back. */
    public final AtomicCounter publishGateClosed;
    /** Times the routing agent waited for room in an I/O agent's ring. */
    public final AtomicCounter outboundRingFull;
    /** Retained PUBLISHes (QoS 0 included) and retained wills refused: over a retained quota, by the limit passed. */
    public final AtomicCounter retainedRefusedBrokerMessages;
    public final AtomicCounter retainedRefusedBrokerBytes;
    public final AtomicCounter retainedRefusedClientMessages;
    public final AtomicCounter retainedRefusedClientBytes;
    /** Stored bytes of retained messages. */
    public final AtomicCounter retainedBytes;
    /** 1 while the publish gate holds back publishes that would grow the store, else 0. */
    public final AtomicCounter publishGateHeld;
    /** QoS 1/2 subscribers disconnected (0x97) because their window stayed full past the slow-consumer timeout. */
    public final AtomicCounter slowSubscribersDisconnected;

    /** The journal's health: replay damage, append failures, publishes refused while it fails. */
    public final JournalCounters journal;
    /** Subscriptions removed because the session may no longer hold them (rules reloaded, narrower token). */
    public final AtomicCounter accessSubscriptionsRemoved;
    /** Queued QoS 1/2 messages dropped because the session may no longer receive their topic. */
    public final AtomicCounter accessQueuedDropped;

    /** Bytes of commands waiting in the I/O-to-routing ring, sampled every 100 ms. */
    public final AtomicCounter inboundRingBytes;
    /** Bytes of deliveries waiting in the routing-to-I/O rings (all I/O agents), sampled every 100 ms. */
    public final AtomicCounter outboundRingBytes;

    /** Routes in this node's cluster route table: (filter, node) pairs, this node's own included (0 off a cluster). */
    public final AtomicCounter clusterRoutes;
    /** Messages this node sent to other cluster nodes (once per node, not per subscriber). */
    public final AtomicCounter clusterForwardedOut;
    /** Messages other cluster nodes forwarded to this one. */
    public final AtomicCounter clusterForwardedIn;
    /** Messages (or retained updates) not sent to another node or the registry: unreachable or back pressure. */
    public final AtomicCounter clusterForwardDropped;
    /** Nodes that did not acknowledge one of this node's new routes in time (its SUBACK went without them). */
    public final AtomicCounter clusterRouteAckTimeouts;
    /** Bytes of forwards the link refused, waiting to be retried (all peers). */
    public final AtomicCounter clusterForwardBacklogBytes;
    /** QoS 1/2 publishes discarded unacknowledged while this node was fenced (their publishers resend elsewhere). */
    public final AtomicCounter clusterFencedPublishes;

    public RoutingCounters(final Counters counters)
    {
        inboundRingBytes = counters.gauge("skylark_inbound_ring_bytes",
            "bytes of commands waiting for the routing agent (I/O to routing ring)", null);
        outboundRingBytes = counters.gauge("skylark_outbound_ring_bytes",
            "bytes of deliveries waiting for the I/O agents (routing to I/O rings, all agents)", null);
        journal = new JournalCounters(counters);
        publishesIn = counters.counter("skylark_publishes_routed_total", "publishes routed", null);
        sessions = counters.gauge("skylark_sessions", "sessions (online and offline)", null);
        clientsConnected = counters.gauge("skylark_clients_connected", "MQTT clients connected", null);
        subscriptions = counters.gauge("skylark_subscriptions", "subscriptions", null);
        retained = counters.gauge("skylark_retained_messages", "retained messages", null);
        storedBytes = counters.gauge("skylark_stored_message_bytes", "bytes of stored messages", null);
        takeovers = counters.counter("skylark_session_takeovers_total", "session takeovers", null);
        willsPublished = counters.counter("skylark_wills_published_total", "wills published", null);
        final String queueFull = "QoS 1/2 messages dropped: session queue full";
        queueDropped = counters.counter("skylark_queue_dropped_total", queueFull, "reason", "messages");
        queueDroppedBytes = counters.counter("skylark_queue_dropped_total", queueFull, "reason", "bytes");
        final String refused = "subscriptions refused: quota exceeded";
        subscriptionsRefusedPerClient = counters.counter("skylark_subscriptions_refused_total", refused,
            "reason", "per_client");
        subscriptionsRefusedPerFilter = counters.counter("skylark_subscriptions_refused_total", refused,
            "reason", "per_filter");
        subscriptionsRefusedGroupsPerFilter = counters.counter("skylark_subscriptions_refused_total", refused,
            "reason", "shared_groups_per_filter");
        subscriptionsRefusedGroupsPerClient = counters.counter("skylark_subscriptions_refused_total", refused,
            "reason", "shared_groups_per_client");
        sharedRedistributed = counters.counter("skylark_shared_redistributed_total",
            "shared-subscription messages moved to another member", null);
        expired = counters.counter("skylark_messages_expired_total", "queued messages expired before delivery", null);
        publishGateClosed = counters.counter("skylark_publish_gate_closed_total",
            "times publishers were held back (store high water)", null);
        outboundRingFull = counters.counter("skylark_outbound_ring_full_total",
            "waits for room in an I/O ring", null);
        final String retainedRefused = "retained messages refused: quota exceeded";
        retainedRefusedBrokerMessages = counters.counter("skylark_retained_refused_total", retainedRefused,
            "reason", "broker_messages");
        retainedRefusedBrokerBytes = counters.counter("skylark_retained_refused_total", retainedRefused,
            "reason", "broker_bytes");
        retainedRefusedClientMessages = counters.counter("skylark_retained_refused_total", retainedRefused,
            "reason", "client_messages");
        retainedRefusedClientBytes = counters.counter("skylark_retained_refused_total", retainedRefused,
            "reason", "client_bytes");
        retainedBytes = counters.gauge("skylark_retained_bytes", "bytes of retained messages", null);
        publishGateHeld = counters.gauge("skylark_publish_gate_held",
            "1 while publishes that would grow the store are held back (store high water)", null);
        slowSubscribersDisconnected = counters.counter("skylark_slow_consumers_disconnected_total",
            "slow consumers disconnected", "router");
        accessSubscriptionsRemoved = counters.counter("skylark_acl_subscriptions_removed_total",
            "subscriptions removed: no longer allowed (rules reloaded, narrower token)", null);
        accessQueuedDropped = counters.counter("skylark_acl_queued_dropped_total",
            "queued messages dropped: no longer allowed (rules reloaded, narrower token)", null);
        clusterRoutes = counters.gauge("skylark_cluster_routes",
            "routes in the cluster route table: (filter, node) pairs", null);
        clusterForwardedOut = counters.counter("skylark_cluster_forwarded_out_total",
            "messages forwarded to other cluster nodes (once per node)", null);
        clusterForwardedIn = counters.counter("skylark_cluster_forwarded_in_total",
            "messages forwarded here by other cluster nodes", null);
        clusterForwardDropped = counters.counter("skylark_cluster_forward_dropped_total",
            "messages or retained updates not sent to another node or the registry (unreachable, back pressure)",
            null);
        clusterRouteAckTimeouts = counters.counter("skylark_cluster_route_ack_timeouts_total",
            "new routes of this node some live node did not acknowledge in time (SUBACK sent without it)", null);
        clusterForwardBacklogBytes = counters.gauge("skylark_cluster_forward_backlog_bytes",
            "bytes of forwards to other cluster nodes waiting to be retried (the link pushed back)", null);
        clusterFencedPublishes = counters.counter("skylark_cluster_fenced_publishes_total",
            "QoS 1/2 publishes discarded unacknowledged while this node was fenced", null);
    }
}
