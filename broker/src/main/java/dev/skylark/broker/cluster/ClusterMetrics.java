package dev.skylark.broker.cluster;

import dev.skylark.broker.status.Counters;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * A cluster node's figures in the broker's counters file, so {@code /metrics} and {@code skylark stat} show them:
 * <ul>
 * <li>{@code skylark_cluster_role}: 0 follower, 1 candidate, 2 leader (this member's Raft role);</li>
 * <li>{@code skylark_cluster_leader}: the leader's node id as this node's registry client last heard it (-1: none);</li>
 * <li>{@code skylark_cluster_commit_lag_bytes}: committed log this node's registry has not applied yet;</li>
 * <li>{@code skylark_cluster_live_nodes}, {@code skylark_cluster_route_entries}: the registry's live nodes and its
 * (filter, node) route entries;</li>
 * <li>{@code skylark_cluster_snapshots_total}, {@code skylark_cluster_commands_refused_total} (no registry
 * session or command ring full);</li>
 * <li>{@code skylark_cluster_peer_sent_messages_total{peer="N"}}, {@code ..._sent_bytes_total},
 * {@code ..._received_messages_total}, {@code ..._received_bytes_total}, {@code skylark_cluster_peer_send_refused_total}:
 * node-to-node traffic per peer;</li>
 * <li>{@code skylark_cluster_fenced} (1 while fenced) and {@code skylark_cluster_fencings_total}.</li>
 * </ul>
 * Per-peer sent figures have the routing agent as their single writer, received ones the node agent; the rest are
 * set by the node agent on its 100 ms tick.
 */
public final class ClusterMetrics
{
    final AtomicCounter role;
    final AtomicCounter leader;
    final AtomicCounter commitLagBytes;
    final AtomicCounter liveNodes;
    final AtomicCounter routeEntries;
    final AtomicCounter snapshots;
    final AtomicCounter commandsRefused;
    final AtomicCounter sendRefused;
    final AtomicCounter fenced;
    final AtomicCounter fencings;
    final AtomicCounter[] sentMessages = new AtomicCounter[ClusterMembers.MAX_NODE_ID + 1];
    final AtomicCounter[] sentBytes = new AtomicCounter[ClusterMembers.MAX_NODE_ID + 1];
    final AtomicCounter[] receivedMessages = new AtomicCounter[ClusterMembers.MAX_NODE_ID + 1];
    final AtomicCounter[] receivedBytes = new AtomicCounter[ClusterMembers.MAX_NODE_ID + 1];

    public ClusterMetrics(final Counters counters, final ClusterMembers members, final int nodeId)
    {
        role = counters.gauge("skylark_cluster_role", "cluster role: 0 follower, 1 candidate, 2 leader", null);
        leader = counters.gauge("skylark_cluster_leader", "cluster leader node id (-1: none)", null);
        leader.setRelease(-1);
        commitLagBytes = counters.gauge("skylark_cluster_commit_lag_bytes",
            "committed registry log not yet applied on this node, bytes", null);
        liveNodes = counters.gauge("skylark_cluster_live_nodes", "nodes the registry holds as live", null);
        routeEntries = counters.gauge("skylark_cluster_route_entries", "registry route entries (filter, node)", null);
        snapshots = counters.counter("skylark_cluster_snapshots_total", "registry snapshots taken", null);
        commandsRefused = counters.counter("skylark_cluster_commands_refused_total",
            "registry commands refused (no registry session, ring full)", null);
        sendRefused = counters.counter("skylark_cluster_peer_send_refused_total",
            "node-to-node sends refused (back pressure, peer unreachable)", null);
        fenced = counters.gauge("skylark_cluster_fenced",
            "1 while this node is fenced: cut off from the registry log's majority, it serves no client", null);
        fencings = counters.counter("skylark_cluster_fencings_total", "times this node fenced itself", null);
        for (final ClusterMembers.Member member : members.all().values())
        {
            final int peer = member.id();
            if (peer == nodeId)
            {
                continue;
            }
            final String id = String.valueOf(peer);
            sentMessages[peer] = counters.counter("skylark_cluster_peer_sent_messages_total",
                "messages sent to a peer node", "peer", id);
            sentBytes[peer] = counters.counter("skylark_cluster_peer_sent_bytes_total",
                "bytes sent to a peer node", "peer", id);
            receivedMessages[peer] = counters.counter("skylark_cluster_peer_received_messages_total",
                "messages received from a peer node", "peer", id);
            receivedBytes[peer] = counters.counter("skylark_cluster_peer_received_bytes_total",
                "bytes received from a peer node", "peer", id);
        }
    }
}
