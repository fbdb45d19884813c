package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

import java.lang.System.Logger.Level;
import java.util.Arrays;

import static org.agrona.BitUtil.SIZE_OF_SHORT;

/**
 * Messages between cluster nodes: the remote route table (filter → nodes with subscribers, this node included, as
 * the registry committed it), the nodes a message published here goes to, and messages other nodes forwarded here.
 * <p>
 * The route table is a second {@link TopicTree} whose "sessions" are node ids, so a remote match costs what a local
 * one does and a shared group picks one node the way the local tree picks one member. A message goes once to each
 * other node with a matching route, as one peer message ({@link #FORWARD}), in the order this node routes them;
 * the receiving node delivers it to its own subscribers only and never forwards it again.
 * <p>
 * Shared groups: the publishing node picks, per matching group, one node among those with members; the message it
 * forwards names the groups that node was picked for ({@code <name>/<filter>} keys), and the local delivery here
 * skips a group picked elsewhere. The receiving node delivers to a member of the named groups only.
 *
 * <pre>
 * FORWARD: groupCount:2 (keyLength:2 key:n)* message (the {@link MessageLayout})
 * </pre>
 * A forward the link refuses (back pressure, a peer not reachable yet) is never dropped at QoS 1/2: it waits in
 * that peer's backlog (bytes, in order; once a peer has a backlog, later forwards to it queue behind it, so one
 * publisher's messages stay in order) and is retried on every duty cycle ({@link #drainBacklogs}). A backlog past
 * {@link #BACKLOG_MAX_BYTES} holds QoS 1/2 publishers back ({@link #isBackPressured}, the publish gate) until all
 * backlogs are below half of it; QoS 0 past the bound is dropped and counted. A peer that goes down drops its
 * backlog. A waiting message's Message Expiry Interval is rewritten to what is left when it is finally sent, and
 * one that expired meanwhile is dropped (counted as expired).
 * <p>
 * Owned by the routing agent's thread; matching and sending allocate nothing (a backlog grows to its bound once).
 */
final class ClusterForwarding
{
    /** Peer message type: a PUBLISH routed on the sending node, for the receiver's local subscribers. */
    static final int FORWARD = 1;
    private static final System.Logger LOG = System.getLogger(ClusterForwarding.class.getName());
    private static final int ROUTE_OPTIONS = SubscriptionOptions.ofQos(2);
    private static final long LOG_INTERVAL_NS = 1_000_000_000L;
    /** The bytes of refused forwards a peer's backlog holds before QoS 1/2 publishers are held back. */
    static final long BACKLOG_MAX_BYTES = 4L << 20;
    /** A backlog record: length:4 expiryDeadlineNs:8, then the peer message. */
    private static final int RECORD_HEADER = 12;

    /** Refused forwards to one peer, oldest first. */
    private static final class Backlog
    {
        final int node;
        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(4096);
        int head;
        int tail;
        long bytes;

        Backlog(final int node)
        {
            this.node = node;
        }

        boolean isEmpty()
        {
            return head == tail;
        }

        void append(final DirectBuffer message, final int offset, final int length, final long deadlineNs)
        {
            if (head == tail)
            {
                head = 0;
                tail = 0;
            }
            else if (head > 0 && tail + RECORD_HEADER + length > buffer.capacity() && head >= tail - head)
            {
                buffer.putBytes(0, buffer, head, tail - head); // compact: the live part moves to the front
                tail -= head;
                head = 0;
            }
            buffer.putInt(tail, length);
            buffer.putLong(tail + 4, deadlineNs);
            buffer.putBytes(tail + RECORD_HEADER, message, offset, length);
            tail += RECORD_HEADER + length;
            bytes += length;
        }

        void clear()
        {
            head = 0;
            tail = 0;
            bytes = 0;
        }
    }

    private final ClusterLink link;
    private final int self;
    private final TopicTree routes = new TopicTree();
    private final MatchResult match = new MatchResult();
    private final RoutingCounters counters;
    private final org.agrona.concurrent.CachedNanoClock clock;
    private MessageRouter router;
    private final ExpandableArrayBuffer scratch = new ExpandableArrayBuffer(1024);

    /** Nodes the current message goes to. */
    private int[] nodes = new int[8];
    private int nodeCount;
    /** Shared groups of the current message picked on another node, and the node each was picked on. */
    private SharedGroup[] groupsElsewhere = new SharedGroup[8];
    private int[] groupNodes = new int[8];
    private int groupCount;

    /** While a forwarded message is routed here: the group keys it names, in {@link #received}. */
    private boolean receiving;
    private DirectBuffer received;
    private int receivedGroupsOffset;
    private int receivedGroupCount;
    private long nextLogNs;
    private Backlog[] backlogs = new Backlog[0];
    private long backlogBytes;
    private boolean backPressured;

    ClusterForwarding(
        final ClusterLink link, final RoutingCounters counters, final org.agrona.concurrent.CachedNanoClock clock)
    {
        this.link = link;
        this.self = link.nodeId();
        this.counters = counters;
        this.clock = clock;
    }

    void router(final MessageRouter router)
    {
        this.router = router;
    }

    /** The registry committed that {@code nodeId} gained (or lost) its first (last) subscriber of {@code filter}. */
    void onRoute(final String filter, final int nodeId, final boolean present)
    {
        if (nodeId < 0)
        {
            return;
        }
        if (present)
        {
            if (TopicFilter.validate(filter) != null)
            {
                LOG.log(Level.WARNING, "ignoring an invalid route from the registry: node " + nodeId);
                return;
            }
            routes.subscribe(filter, nodeId, ROUTE_OPTIONS, 0);
        }
        else
        {
            routes.unsubscribe(filter, nodeId);
        }
        counters.clusterRoutes.setRelease(routes.subscriptionCount());
    }

    /** A node left: whatever routes of it are left go (the registry sent an {@link #onRoute} for each first). */
    void onNodeDown(final int nodeId)
    {
        final Backlog backlog = backlog(nodeId);
        if (backlog != null && !backlog.isEmpty())
        {
            LOG.log(Level.WARNING, "cluster: node " + nodeId + " went down with " + backlog.bytes +
                " bytes of forwards waiting for it: dropped");
            backlogBytes -= backlog.bytes;
            backlog.clear();
            counters.clusterForwardBacklogBytes.setRelease(backlogBytes);
        }
        if (nodeId >= 0 && routes.removeSession(nodeId) > 0)
        {
            counters.clusterRoutes.setRelease(routes.subscriptionCount());
        }
    }

    /**
     * One record of dead node {@code deadNodeId}'s journal replica, as its heir replays it ({@link HeirTakeover}),
     * in journal order: the forwards it had not had confirmed are found here. Nothing yet.
     */
    void onReplicaRecord(final int deadNodeId, final DirectBuffer buffer, final int offset, final int length)
    {
    }

    /** The heir has replayed the last record of {@code deadNodeId}'s replica. Nothing yet. */
    void onReplicaEnd(final int deadNodeId)
    {
    }

    /** Whether this node's route table has {@code nodeId} holding {@code filter} (tests). */
    boolean hasRoute(final String filter, final int nodeId)
    {
        return routes.hasSubscription(filter, nodeId);
    }

    /** A retained PUBLISH made here: the registry sets it cluster-wide (its commit comes back as onRetained). */
    void setRetained(final DirectBuffer buffer, final int offset, final int length)
    {
        if (!link.setRetained(buffer, offset, length))
        {
            counters.clusterForwardDropped.incrementRelease();
            logDrop("a retained message could not be sent to the registry (no leader or back pressure): it is set " +
                "on this node only");
        }
    }

    /**
     * Finds the other nodes a message published here goes to, and which shared groups were picked elsewhere (so
     * {@link #deliversHere} skips them).
     *
     * @return the number of other nodes.
     */
    int matchRemote(final DirectBuffer topic, final int topicOffset, final int topicLength)
    {
        receiving = false;
        nodeCount = 0;
        groupCount = 0;
        routes.match(topic, topicOffset, topicLength, -1, match);
        final int count = match.size();
        for (int i = 0; i < count; i++)
        {
            final int node = match.sessionId(i);
            if (node == self)
            {
                continue; // the local match delivers here, shared groups picked here included
            }
            addNode(node);
            if (match.isShared(i))
            {
                addGroup(match.sharedGroup(i), node);
            }
        }
        return nodeCount;
    }

    /** Whether this node delivers the current message to a member of {@code group} (a local tree's group). */
    boolean deliversHere(final SharedGroup group)
    {
        if (receiving)
        {
            int position = receivedGroupsOffset;
            for (int i = 0; i < receivedGroupCount; i++)
            {
                final int keyLength = received.getShort(position) & 0xFFFF;
                if (group.hasKey(received, position + SIZE_OF_SHORT, keyLength))
                {
                    return true;
                }
                position += SIZE_OF_SHORT + keyLength;
            }
            return false;
        }
        final byte[] key = group.key();
        for (int i = 0; i < groupCount; i++)
        {
            if (Arrays.equals(key, groupsElsewhere[i].key()))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * Sends the current message (matched by {@link #matchRemote}) once to each of its nodes; {@code
     * expiryDeadlineNs} is when its Message Expiry Interval ends on this node's routing clock (0: none).
     */
    void sendForwards(final DirectBuffer buffer, final int offset, final int length, final long expiryDeadlineNs)
    {
        for (int n = 0; n < nodeCount; n++)
        {
            final int node = nodes[n];
            int position = SIZE_OF_SHORT;
            int groups = 0;
            for (int g = 0; g < groupCount; g++)
            {
                if (groupNodes[g] == node)
                {
                    final byte[] key = groupsElsewhere[g].key();
                    scratch.putShort(position, (short)key.length);
                    scratch.putBytes(position + SIZE_OF_SHORT, key);
                    position += SIZE_OF_SHORT + key.length;
                    groups++;
                }
            }
            scratch.putShort(0, (short)groups);
            scratch.putBytes(position, buffer, offset, length);
            // What is left of the expiry interval now, counting the time the message spent on this node so far.
            MessageExpiry.patchRemaining(scratch, position, expiryDeadlineNs, clock.nanoTime());
            final Backlog backlog = backlog(node);
            if (backlog != null && !backlog.isEmpty())
            {
                queue(node, backlog, position + length, MessageLayout.qos(buffer, offset), expiryDeadlineNs);
            }
            else if (link.send(node, FORWARD, scratch, 0, position + length))
            {
                counters.clusterForwardedOut.incrementRelease();
            }
            else
            {
                queue(node, backlog, position + length, MessageLayout.qos(buffer, offset), expiryDeadlineNs);
            }
        }
        nodeCount = 0;
        groupCount = 0;
    }

    /** Whether a peer's backlog passed its bound and has not drained below half since: QoS 1/2 publishers wait. */
    boolean isBackPressured()
    {
        return backPressured;
    }

    /** Bytes of refused forwards waiting, all peers (tests and status). */
    long backlogBytes()
    {
        return backlogBytes;
    }

    /** Retries the backlogs in order, each until the link refuses again; returns how many went. */
    int drainBacklogs()
    {
        if (backlogBytes == 0)
        {
            return 0;
        }
        int sent = 0;
        final long nowNs = clock.nanoTime();
        for (final Backlog backlog : backlogs)
        {
            final ExpandableArrayBuffer buffer = backlog.buffer;
            while (!backlog.isEmpty())
            {
                final int length = buffer.getInt(backlog.head);
                final long deadlineNs = buffer.getLong(backlog.head + 4);
                final int message = backlog.head + RECORD_HEADER;
                final int layout = message + forwardHeaderLength(buffer, message);
                final boolean expired = MessageExpiry.isExpired(deadlineNs, nowNs);
                if (expired)
                {
                    counters.expired.incrementRelease();
                }
                else
                {
                    MessageExpiry.patchRemaining(buffer, layout, deadlineNs, nowNs);
                    if (!link.send(backlog.node, FORWARD, buffer, message, length))
                    {
                        break;
                    }
                    counters.clusterForwardedOut.incrementRelease();
                    sent++;
                }
                backlog.head = message + length;
                backlog.bytes -= length;
                backlogBytes -= length;
            }
        }
        counters.clusterForwardBacklogBytes.setRelease(backlogBytes);
        if (backPressured && backlogBytes <= BACKLOG_MAX_BYTES / 2)
        {
            backPressured = false;
            LOG.log(Level.INFO, "cluster: forwards to other nodes drained (" + backlogBytes + " bytes waiting): " +
                "publishers resume");
        }
        return sent;
    }

    /** A peer message: a {@link #FORWARD}ed PUBLISH is delivered to this node's subscribers. */
    void onPeerMessage(final int fromNodeId, final int type, final DirectBuffer buffer, final int offset,
        final int length)
    {
        if (type != FORWARD)
        {
            logDrop("unknown peer message type " + type + " from node " + fromNodeId);
            return;
        }
        final int end = offset + length;
        if (length < SIZE_OF_SHORT)
        {
            logDrop("a truncated message from node " + fromNodeId);
            return;
        }
        final int groups = buffer.getShort(offset) & 0xFFFF;
        int position = offset + SIZE_OF_SHORT;
        for (int i = 0; i < groups; i++)
        {
            if (position + SIZE_OF_SHORT > end)
            {
                logDrop("a truncated message from node " + fromNodeId);
                return;
            }
            position += SIZE_OF_SHORT + (buffer.getShort(position) & 0xFFFF);
        }
        if (position + MessageLayout.TOPIC_OFFSET > end ||
            MessageLayout.length(buffer, position) != end - position)
        {
            logDrop("a malformed message from node " + fromNodeId);
            return;
        }
        counters.clusterForwardedIn.incrementRelease();
        receiving = true;
        received = buffer;
        receivedGroupsOffset = offset + SIZE_OF_SHORT;
        receivedGroupCount = groups;
        try
        {
            router.routeForwarded(buffer, position, end - position, this);
        }
        finally
        {
            receiving = false;
            received = null;
        }
    }

    private Backlog backlog(final int node)
    {
        for (final Backlog backlog : backlogs)
        {
            if (backlog.node == node)
            {
                return backlog;
            }
        }
        return null;
    }

    /** The forward in {@link #scratch} waits in {@code node}'s backlog (QoS 0 past the bound is dropped). */
    private void queue(final int node, final Backlog existing, final int length, final int qos, final long deadlineNs)
    {
        Backlog backlog = existing;
        if (qos == 0 && (backlog == null ? 0 : backlog.bytes) + length > BACKLOG_MAX_BYTES)
        {
            counters.clusterForwardDropped.incrementRelease();
            logDrop("a QoS 0 message for node " + node + " was dropped: its backlog is full");
            return;
        }
        if (backlog == null)
        {
            backlog = new Backlog(node);
            backlogs = Arrays.copyOf(backlogs, backlogs.length + 1);
            backlogs[backlogs.length - 1] = backlog;
        }
        backlog.append(scratch, 0, length, deadlineNs);
        backlogBytes += length;
        counters.clusterForwardBacklogBytes.setRelease(backlogBytes);
        if (!backPressured && backlog.bytes > BACKLOG_MAX_BYTES)
        {
            backPressured = true;
            LOG.log(Level.WARNING, "cluster: " + backlog.bytes + " bytes of forwards wait for node " + node +
                ": holding back QoS 1/2 publishers until they drain");
        }
    }

    private static int forwardHeaderLength(final DirectBuffer buffer, final int offset)
    {
        final int groups = buffer.getShort(offset) & 0xFFFF;
        int position = offset + SIZE_OF_SHORT;
        for (int i = 0; i < groups; i++)
        {
            position += SIZE_OF_SHORT + (buffer.getShort(position) & 0xFFFF);
        }
        return position - offset;
    }

    private void addNode(final int node)
    {
        for (int i = 0; i < nodeCount; i++)
        {
            if (nodes[i] == node)
            {
                return;
            }
        }
        if (nodeCount == nodes.length)
        {
            nodes = Arrays.copyOf(nodes, nodeCount * 2);
        }
        nodes[nodeCount++] = node;
    }

    private void addGroup(final SharedGroup group, final int node)
    {
        if (groupCount == groupsElsewhere.length)
        {
            groupsElsewhere = Arrays.copyOf(groupsElsewhere, groupCount * 2);
            groupNodes = Arrays.copyOf(groupNodes, groupCount * 2);
        }
        groupsElsewhere[groupCount] = group;
        groupNodes[groupCount++] = node;
    }

    private void logDrop(final String what)
    {
        final long nowNs = clock.nanoTime();
        if (nowNs - nextLogNs >= 0)
        {
            nextLogNs = nowNs + LOG_INTERVAL_NS;
            LOG.log(Level.WARNING, "cluster: " + what);
        }
    }
}
