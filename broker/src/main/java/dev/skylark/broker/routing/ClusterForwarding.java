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
 * FORWARD: origin:4 target:4 forwardId:8 nodesMask:8 groupCount:2 (keyLength:2 key:n)* message ({@link MessageLayout})
 * CONFIRM: origin:4 target:4 upToForwardId:8                                  ({@link ForwardReceipts#CONFIRM})
 * </pre>
 * <b>Durable forwards (QoS 1/2).</b> Each such message gets a forward id (increasing per node, across restarts: a
 * hybrid of the wall clock in microseconds and a counter) and, per destination node, a FORWARD journal record
 * ({@link JournalRecord}) written before the publisher's PUBACK/PUBREC, even when no local session takes it.
 * {@code origin} is the node that published it, {@code target} the node it was meant for (the receiver, or a dead
 * node whose sessions the receiver took over), {@code nodesMask} the nodes (ids 0-63) it went to directly. The sender
 * keeps every forward until the receiver confirms it ({@link ForwardReceipts}): the per-peer backlog
 * ({@link ForwardBacklog}) holds, in order, the forwards sent but not yet confirmed and those not yet sent, and a
 * checkpoint rewrites the unconfirmed ones. The
 * receiver drops a forward at or below the highest id it applied for (origin, target), journals what it applied
 * (FORWARD_APPLIED) and confirms once its records are durable. QoS 0 forwards carry id 0: kept only until sent.
 * <p>
 * When a receiver R goes down with heir H, its unconfirmed and unsent forwards go to H (target still R; to the local
 * subscribers when H is this node), and H delivers them to the sessions it took over from R. When a sender A goes
 * down, its heir reads A's FORWARD records from the replica ({@link #onReplicaRecord}, {@link #onReplicaEnd}), drops
 * those A saw confirmed (FORWARD_CONFIRMED), and re-sends the rest, origin A, to their nodes (or those nodes' heirs);
 * each receiver drops what it already applied.
 * <p>
 * A forward the link refuses (back pressure, a peer not reachable yet) is never dropped at QoS 1/2: it waits in
 * that peer's backlog (in order; once a peer has unsent forwards, later forwards to it queue behind them, so one
 * publisher's messages stay in order) and is retried on every duty cycle ({@link #drainBacklogs}). A backlog (sent
 * but unconfirmed, plus unsent) past {@link #BACKLOG_MAX_BYTES} holds QoS 1/2 publishers back
 * ({@link #isBackPressured}, the publish gate) until all backlogs are below half of it; QoS 0 past the bound is
 * dropped and counted. A waiting message's Message Expiry Interval is rewritten to what is left when it is finally
 * sent, and one that expired meanwhile is dropped (counted as expired).
 * <p>
 * Owned by the routing agent's thread; matching and sending allocate nothing (a backlog grows to its bound once).
 */
final class ClusterForwarding
{
    /** Peer message type: a PUBLISH routed on the sending node, for the receiver's local subscribers. */
    static final int FORWARD = 1;
    static final int ORIGIN_OFFSET = 0;
    static final int TARGET_OFFSET = 4;
    static final int ID_OFFSET = 8;
    static final int NODES_OFFSET = 16;
    static final int GROUPS_OFFSET = 24;
    private static final System.Logger LOG = System.getLogger(ClusterForwarding.class.getName());
    private static final int ROUTE_OPTIONS = SubscriptionOptions.ofQos(2);
    private static final long LOG_INTERVAL_NS = 1_000_000_000L;
    /** The bytes of forwards a peer's backlog holds (sent unconfirmed, and unsent) before publishers are held back. */
    static final long BACKLOG_MAX_BYTES = 4L << 20;
    /** Forwards for a node not yet known down held here (they arrived before its onNodeDown); past it, dropped. */
    static final long HELD_MAX_BYTES = 16L << 20;
    private static final int MAX_HEIR_HOPS = 64;

    /** A dead node's forwards read from its replica, until {@link #onReplicaEnd}. */
    private static final class ReplicaForwards
    {
        /** Records: node:4 length:4 forward peer message. */
        final ExpandableArrayBuffer records = new ExpandableArrayBuffer(4096);
        int length;
        /** (origin, target) → highest id the dead node saw confirmed. */
        final org.agrona.collections.Long2LongHashMap confirmed = new org.agrona.collections.Long2LongHashMap(0);
    }

    private final ClusterLink link;
    private final int self;
    private final TopicTree routes = new TopicTree();
    private final MatchResult match = new MatchResult();
    private final RoutingCounters counters;
    private final org.agrona.concurrent.CachedNanoClock clock;
    private MessageRouter router;
    private final ExpandableArrayBuffer scratch = new ExpandableArrayBuffer(1024);
    private final ForwardReceipts receipts = new ForwardReceipts();
    private DurableLog log = DurableLog.NONE;
    private JournalRecord journal;

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
    /** While a forwarded message is routed here: only sessions taken over from {@link #receivedTarget} get it. */
    private boolean receivedForTakenOver;
    private int receivedTarget;
    /** While {@link #redeliverOwn} runs: the only session its messages go to. */
    private Session redeliverTo;
    private long nextLogNs;
    private ForwardBacklog[] backlogs = new ForwardBacklog[0];
    private long backlogBytes;
    private boolean backPressured;

    /** The last forward id handed out; the next is above it and at least the wall clock in microseconds. */
    private long lastForwardId;
    private final long epochMicrosAtNanoZero;
    /** Dead nodes and their heirs, while they are down. */
    private final org.agrona.collections.Int2IntHashMap heirs =
        new org.agrona.collections.Int2IntHashMap(ClusterLink.NO_NODE);
    /** Forwards for a target not yet known down: from:4 length:4 message, until its onNodeDown. */
    private ExpandableArrayBuffer held = new ExpandableArrayBuffer(0);
    private ExpandableArrayBuffer heldSpare = new ExpandableArrayBuffer(0);
    private int heldLength;
    private final org.agrona.collections.Int2ObjectHashMap<ReplicaForwards> replicas =
        new org.agrona.collections.Int2ObjectHashMap<>();

    ClusterForwarding(
        final ClusterLink link, final RoutingCounters counters, final org.agrona.concurrent.CachedNanoClock clock)
    {
        this.link = link;
        this.self = link.nodeId();
        this.counters = counters;
        this.clock = clock;
        this.epochMicrosAtNanoZero = System.currentTimeMillis() * 1000 - clock.nanoTime() / 1000;
    }

    void router(final MessageRouter router)
    {
        this.router = router;
    }

    /** Where forwards are journaled and confirmations wait for durability. */
    void durable(final DurableLog log, final JournalRecord journal)
    {
        this.log = log;
        this.journal = journal;
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

    /** A node (re)joined: it is no longer represented by an heir. */
    void onNodeUp(final int nodeId)
    {
        heirs.remove(nodeId);
    }

    /**
     * A node left: whatever routes of it are left go (the registry sent an {@link #onRoute} for each first); the
     * forwards it had not confirmed, and those not yet sent to it, go to its heir (to this node's own subscribers
     * when the heir is this node), still meant for it.
     */
    void onNodeDown(final int nodeId, final int heirNodeId)
    {
        if (nodeId == self)
        {
            return;
        }
        heirs.put(nodeId, heirNodeId);
        receipts.forgetSender(nodeId);
        final ForwardBacklog backlog = backlog(nodeId);
        if (backlog != null && !backlog.isEmpty())
        {
            int moved = 0;
            final long nowNs = clock.nanoTime();
            for (int record = backlog.head; record < backlog.tail; record = backlog.next(record))
            {
                final boolean unsent = record >= backlog.sendHead;
                if (unsent || !backlog.isDone(record))
                {
                    final long deadlineNs = backlog.deadlineNs(record);
                    if (MessageExpiry.isExpired(deadlineNs, nowNs))
                    {
                        counters.expired.incrementRelease();
                        continue;
                    }
                    redirect(nodeId, backlog.buffer, backlog.message(record), backlog.length(record), deadlineNs);
                    moved++;
                }
            }
            LOG.log(Level.INFO, "cluster: node " + nodeId + " went down: " + moved + " forward(s) it had not " +
                "confirmed go to its heir, node " + heirNodeId);
            backlogBytes -= backlog.bytes;
            backlog.clear();
            counters.clusterForwardBacklogBytes.setRelease(backlogBytes);
            releaseBackPressure();
        }
        if (routes.removeSession(nodeId) > 0)
        {
            counters.clusterRoutes.setRelease(routes.subscriptionCount());
        }
        if (heldLength > 0)
        {
            retryHeld();
        }
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
     * Whether the message being received goes to {@code session}: a forward meant for a dead node that was also sent
     * to this node directly goes only to the sessions taken over from that node (the others had it already).
     */
    boolean deliversTo(final Session session)
    {
        if (redeliverTo != null)
        {
            return session == redeliverTo;
        }
        return !receiving || !receivedForTakenOver || session.takenOverFrom == receivedTarget;
    }

    /** The last forward id this node handed out (a session arriving here notes it: see {@link #redeliverOwn}). */
    long lastForwardId()
    {
        return lastForwardId;
    }

    /**
     * The highest forward id of {@code origin} this node applied, whatever node it was meant for: sent with a
     * session that moves to {@code origin} ({@link SessionTransfer}), which then knows which of its own forwards here
     * the session had.
     */
    long appliedFrom(final int origin)
    {
        long highest = 0;
        final org.agrona.collections.Long2LongHashMap marks = receipts.marks();
        final org.agrona.collections.Long2LongHashMap.KeyIterator keys = marks.keySet().iterator();
        while (keys.hasNext())
        {
            final long key = keys.nextValue();
            if (ForwardReceipts.origin(key) == origin)
            {
                highest = Math.max(highest, marks.get(key));
            }
        }
        return highest;
    }

    /**
     * A session arrived here from {@code peer}, which had applied this node's forwards up to {@code appliedId} when
     * it sent it: this node's forwards to that peer above it, up to {@code upToId} (the last id handed out when the
     * session was installed here: later messages were routed to it here), published while the session was on its way,
     * never reached it there. They are still kept here (their confirmations come behind the session on the same
     * link), and are delivered to {@code session} alone, in order.
     *
     * @return how many were delivered.
     */
    int redeliverOwn(final int peer, final Session session, final long appliedId, final long upToId)
    {
        final ForwardBacklog backlog = backlog(peer);
        if (backlog == null || router == null)
        {
            return 0;
        }
        int delivered = 0;
        final long nowNs = clock.nanoTime();
        redeliverTo = session;
        receiving = true;
        receivedGroupCount = 0; // a shared group's pick was made for the peer: not redone here
        receivedForTakenOver = false;
        try
        {
            for (int record = backlog.head; record < backlog.tail; record = backlog.next(record))
            {
                final int message = backlog.message(record);
                final long forwardId = backlog.forwardId(record);
                if (backlog.buffer.getInt(message + ORIGIN_OFFSET) != self || forwardId <= appliedId ||
                    forwardId > upToId || MessageExpiry.isExpired(backlog.deadlineNs(record), nowNs))
                {
                    continue;
                }
                final int layout = message + forwardHeaderLength(backlog.buffer, message);
                received = backlog.buffer;
                router.routeForwarded(backlog.buffer, layout, message + backlog.length(record) - layout, this);
                delivered++;
            }
        }
        finally
        {
            redeliverTo = null;
            receiving = false;
            received = null;
        }
        return delivered;
    }

    /**
     * Sends the current message (matched by {@link #matchRemote}) once to each of its nodes; {@code
     * expiryDeadlineNs} is when its Message Expiry Interval ends on this node's routing clock (0: none). A QoS 1/2
     * message is journaled per node (a FORWARD record) and kept until its node confirms it.
     */
    void sendForwards(final DirectBuffer buffer, final int offset, final int length, final long expiryDeadlineNs)
    {
        final int qos = MessageLayout.qos(buffer, offset);
        final long forwardId = qos == 0 ? 0 : nextForwardId();
        long mask = 0;
        for (int n = 0; n < nodeCount; n++)
        {
            mask |= nodes[n] >= 0 && nodes[n] < 64 ? 1L << nodes[n] : 0;
        }
        for (int n = 0; n < nodeCount; n++)
        {
            final int node = nodes[n];
            int position = GROUPS_OFFSET + SIZE_OF_SHORT;
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
            scratch.putInt(ORIGIN_OFFSET, self);
            scratch.putInt(TARGET_OFFSET, node);
            scratch.putLong(ID_OFFSET, forwardId);
            scratch.putLong(NODES_OFFSET, mask);
            scratch.putShort(GROUPS_OFFSET, (short)groups);
            scratch.putBytes(position, buffer, offset, length);
            // What is left of the expiry interval now, counting the time the message spent on this node so far.
            MessageExpiry.patchRemaining(scratch, position, expiryDeadlineNs, clock.nanoTime());
            final int forwardLength = position + length;
            if (forwardId != 0 && journal != null && journal.forward(node, scratch, 0, forwardLength) < 0)
            {
                logDrop("a forward to node " + node + " is too long for a journal record: kept in memory only");
            }
            final ForwardBacklog backlog = backlog(node);
            if (backlog != null && backlog.hasUnsent())
            {
                queue(node, backlog, forwardLength, qos, expiryDeadlineNs);
            }
            else if (link.send(node, FORWARD, scratch, 0, forwardLength))
            {
                counters.clusterForwardedOut.incrementRelease();
                if (forwardId != 0)
                {
                    keep(node, backlog, scratch, 0, forwardLength, expiryDeadlineNs, true);
                }
            }
            else
            {
                queue(node, backlog, forwardLength, qos, expiryDeadlineNs);
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

    /** Bytes of forwards waiting to be sent or confirmed, all peers (tests and status). */
    long backlogBytes()
    {
        return backlogBytes;
    }

    /** Retries the backlogs' unsent forwards in order, each until the link refuses again; returns how many went. */
    int drainBacklogs()
    {
        if (backlogBytes == 0)
        {
            return 0;
        }
        int sent = 0;
        final long nowNs = clock.nanoTime();
        for (final ForwardBacklog backlog : backlogs)
        {
            final ExpandableArrayBuffer buffer = backlog.buffer;
            while (backlog.hasUnsent())
            {
                final int record = backlog.sendHead;
                final int length = backlog.length(record);
                final long deadlineNs = backlog.deadlineNs(record);
                final int message = backlog.message(record);
                if (MessageExpiry.isExpired(deadlineNs, nowNs))
                {
                    counters.expired.incrementRelease();
                    backlog.markDone(record);
                }
                else
                {
                    final int layout = message + forwardHeaderLength(buffer, message);
                    MessageExpiry.patchRemaining(buffer, layout, deadlineNs, nowNs);
                    if (!link.send(backlog.node, FORWARD, buffer, message, length))
                    {
                        break;
                    }
                    counters.clusterForwardedOut.incrementRelease();
                    sent++;
                }
                backlog.sendHead = backlog.next(record);
            }
            backlogBytes -= backlog.trim();
        }
        counters.clusterForwardBacklogBytes.setRelease(backlogBytes);
        releaseBackPressure();
        return sent;
    }

    /** Confirmations owed to senders whose forwards' records are now durable; returns how many went. */
    int confirmDurable()
    {
        final int marks = journal != null ? receipts.writeMarks(journal) : 0;
        return marks + receipts.confirm(link, log.durableSequence());
    }

    /** Whether a confirmation could go now. */
    boolean hasConfirmsReady()
    {
        return receipts.hasReady(log.durableSequence());
    }

    /** A peer message: a {@link #FORWARD}ed PUBLISH is delivered to this node's subscribers; a confirmation. */
    void onPeerMessage(final int fromNodeId, final int type, final DirectBuffer buffer, final int offset,
        final int length)
    {
        if (type == FORWARD)
        {
            receive(fromNodeId, buffer, offset, length);
        }
        else if (type == ForwardReceipts.CONFIRM)
        {
            onConfirm(fromNodeId, buffer, offset, length);
        }
        else
        {
            logDrop("unknown peer message type " + type + " from node " + fromNodeId);
        }
    }

    /**
     * One record of the replica of {@code deadNodeId}'s journal, oldest first (called by the heir while it replays
     * it): its forwards, what it saw confirmed, and what it applied of others' forwards are collected.
     */
    void onReplicaRecord(final int deadNodeId, final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < 1)
        {
            return;
        }
        final int type = buffer.getByte(offset + JournalRecord.TYPE_OFFSET);
        if (type == JournalRecord.FORWARD)
        {
            final int forwardLength = length - JournalRecord.FORWARD_MESSAGE_OFFSET;
            if (forwardLength < GROUPS_OFFSET + SIZE_OF_SHORT)
            {
                return;
            }
            final ReplicaForwards replica = replicas.computeIfAbsent(deadNodeId, (k) -> new ReplicaForwards());
            replica.records.putInt(replica.length, buffer.getInt(offset + JournalRecord.FORWARD_NODE_OFFSET));
            replica.records.putInt(replica.length + 4, forwardLength);
            replica.records.putBytes(replica.length + 8, buffer, offset + JournalRecord.FORWARD_MESSAGE_OFFSET,
                forwardLength);
            replica.length += 8 + forwardLength;
        }
        else if (type == JournalRecord.FORWARD_CONFIRMED && length >= JournalRecord.FORWARD_MARK_LENGTH)
        {
            final ReplicaForwards replica = replicas.computeIfAbsent(deadNodeId, (k) -> new ReplicaForwards());
            final long key = ForwardReceipts.key(buffer.getInt(offset + JournalRecord.FORWARD_MARK_ORIGIN_OFFSET),
                buffer.getInt(offset + JournalRecord.FORWARD_MARK_TARGET_OFFSET));
            final long upTo = buffer.getLong(offset + JournalRecord.FORWARD_MARK_ID_OFFSET);
            if (upTo > replica.confirmed.get(key))
            {
                replica.confirmed.put(key, upTo);
            }
        }
        else if (type == JournalRecord.FORWARD_APPLIED && length >= JournalRecord.FORWARD_MARK_LENGTH)
        {
            // What the dead node applied of forwards meant for it: re-sends of those are dropped here.
            receipts.seen(buffer.getInt(offset + JournalRecord.FORWARD_MARK_ORIGIN_OFFSET),
                buffer.getInt(offset + JournalRecord.FORWARD_MARK_TARGET_OFFSET),
                buffer.getLong(offset + JournalRecord.FORWARD_MARK_ID_OFFSET));
        }
    }

    /**
     * The last record of {@code deadNodeId}'s replica was read: its forwards it had not seen confirmed are re-sent,
     * origin unchanged, to their nodes (or those nodes' heirs; this node's own subscribers, and the sessions it took
     * over, when that is this node), journaled here until confirmed. Call it once the dead node's sessions are
     * restored here.
     */
    void onReplicaEnd(final int deadNodeId)
    {
        final ReplicaForwards replica = replicas.remove(deadNodeId);
        if (replica == null)
        {
            return;
        }
        int resent = 0;
        for (int record = 0; record < replica.length; )
        {
            final int node = replica.records.getInt(record);
            final int length = replica.records.getInt(record + 4);
            final int message = record + 8;
            record = message + length;
            final long forwardId = replica.records.getLong(message + ID_OFFSET);
            final long key = ForwardReceipts.key(replica.records.getInt(message + ORIGIN_OFFSET),
                replica.records.getInt(message + TARGET_OFFSET));
            if (forwardId == 0 || forwardId <= replica.confirmed.get(key))
            {
                continue;
            }
            redirect(node, replica.records, message, length, 0);
            resent++;
        }
        LOG.log(Level.INFO, "cluster: re-sent " + resent + " forward(s) of node " + deadNodeId +
            " it had not seen confirmed");
    }

    /**
     * A record of this node's own journal at start-up: the marks of what it applied come back, and the forwards it
     * had not seen confirmed are collected as a dead node's would be ({@link #onReplicaRecord}); they are re-sent
     * once this node has caught up with the registry ({@link #onRejoined}). If the node was declared down while it
     * was away, its heir re-sent them already and the receivers drop these as duplicates; if it restarted within the
     * session timeout, nobody else has them.
     */
    void onOwnRecord(final DirectBuffer buffer, final int offset, final int length)
    {
        final int type = buffer.getByte(offset + JournalRecord.TYPE_OFFSET);
        if (type == JournalRecord.FORWARD_APPLIED && length >= JournalRecord.FORWARD_MARK_LENGTH &&
            buffer.getInt(offset + JournalRecord.FORWARD_MARK_ORIGIN_OFFSET) == self &&
            buffer.getInt(offset + JournalRecord.FORWARD_MARK_TARGET_OFFSET) == self)
        {
            lastForwardId = Math.max(lastForwardId, buffer.getLong(offset + JournalRecord.FORWARD_MARK_ID_OFFSET));
        }
        else if (type == JournalRecord.FORWARD_APPLIED && length >= JournalRecord.FORWARD_MARK_LENGTH)
        {
            receipts.seen(buffer.getInt(offset + JournalRecord.FORWARD_MARK_ORIGIN_OFFSET),
                buffer.getInt(offset + JournalRecord.FORWARD_MARK_TARGET_OFFSET),
                buffer.getLong(offset + JournalRecord.FORWARD_MARK_ID_OFFSET));
        }
        else if (type == JournalRecord.FORWARD &&
            length >= JournalRecord.FORWARD_MESSAGE_OFFSET + GROUPS_OFFSET + SIZE_OF_SHORT)
        {
            if (buffer.getInt(offset + JournalRecord.FORWARD_MESSAGE_OFFSET + ORIGIN_OFFSET) == self)
            {
                lastForwardId = Math.max(lastForwardId,
                    buffer.getLong(offset + JournalRecord.FORWARD_MESSAGE_OFFSET + ID_OFFSET));
            }
            onReplicaRecord(self, buffer, offset, length);
        }
        else if (type == JournalRecord.FORWARD_CONFIRMED)
        {
            onReplicaRecord(self, buffer, offset, length);
        }
    }

    /** This node has caught up with the registry after its start: its unconfirmed forwards go out again. */
    void onRejoined()
    {
        onReplicaEnd(self);
    }

    /** Writes, in a checkpoint, the forwards not yet confirmed and the marks of what this node applied. */
    void checkpoint(final JournalRecord journal)
    {
        journal.forwardMark(false, self, self, lastForwardId); // the ids carry on above it after a restart
        final org.agrona.collections.Long2LongHashMap.KeyIterator keys = receipts.marks().keySet().iterator();
        while (keys.hasNext())
        {
            final long key = keys.nextValue();
            journal.forwardMark(false, ForwardReceipts.origin(key), ForwardReceipts.target(key),
                receipts.marks().get(key));
        }
        for (final ForwardBacklog backlog : backlogs)
        {
            for (int record = backlog.head; record < backlog.tail; record = backlog.next(record))
            {
                if (!backlog.isDone(record))
                {
                    journal.forward(backlog.node, backlog.buffer, backlog.message(record), backlog.length(record));
                }
            }
        }
    }

    /** Forwards kept for {@code node} (sent unconfirmed and unsent) with a forward id, in order (tests). */
    int keptForwards(final int node)
    {
        final ForwardBacklog backlog = backlog(node);
        int count = 0;
        if (backlog != null)
        {
            for (int record = backlog.head; record < backlog.tail; record = backlog.next(record))
            {
                count += backlog.isDone(record) ? 0 : 1;
            }
        }
        return count;
    }

    private void receive(final int from, final DirectBuffer buffer, final int offset, final int length)
    {
        final int end = offset + length;
        if (length < GROUPS_OFFSET + SIZE_OF_SHORT)
        {
            logDrop("a truncated message from node " + from);
            return;
        }
        final int origin = buffer.getInt(offset + ORIGIN_OFFSET);
        final int target = buffer.getInt(offset + TARGET_OFFSET);
        final long forwardId = buffer.getLong(offset + ID_OFFSET);
        final long mask = buffer.getLong(offset + NODES_OFFSET);
        final int groups = buffer.getShort(offset + GROUPS_OFFSET) & 0xFFFF;
        int position = offset + GROUPS_OFFSET + SIZE_OF_SHORT;
        for (int i = 0; i < groups; i++)
        {
            if (position + SIZE_OF_SHORT > end)
            {
                logDrop("a truncated message from node " + from);
                return;
            }
            position += SIZE_OF_SHORT + (buffer.getShort(position) & 0xFFFF);
        }
        if (position + MessageLayout.TOPIC_OFFSET > end ||
            MessageLayout.length(buffer, position) != end - position)
        {
            logDrop("a malformed message from node " + from);
            return;
        }
        if (from != self && origin != from && origin != self && !heirs.containsKey(origin) &&
            receipts.applied(origin, target) == 0)
        {
            // Only a node's own forwards, or a dead node's re-sent by its heir: a peer cannot grow the marks at will.
            // (This node's own re-sends are trusted: as the heir it re-sends the dead node's forwards from the
            // replica before its onNodeDown is applied here, see ClusterAdapter#onInherited.)
            logDrop("a forward from node " + from + " naming node " + origin + ", neither it nor down, as its origin");
            return;
        }
        if (target != self && !heirs.containsKey(target))
        {
            hold(from, buffer, offset, length); // meant for a node this one does not know is down yet
            return;
        }
        if (forwardId != 0 && forwardId <= receipts.applied(origin, target))
        {
            // Applied already (a re-send after a failover): confirmed again once what was written is durable.
            if (from != self)
            {
                receipts.owe(from, origin, target, forwardId, log.lastSequence());
            }
            return;
        }
        counters.clusterForwardedIn.incrementRelease();
        receiving = true;
        received = buffer;
        receivedGroupsOffset = offset + GROUPS_OFFSET + SIZE_OF_SHORT;
        receivedGroupCount = groups;
        receivedTarget = target;
        // A forward meant for a dead node goes only to the sessions taken over from it when this node's own sessions
        // had the message already: published here, or also sent here directly.
        receivedForTakenOver = target != self &&
            (origin == self || self < 0 || self >= 64 || (mask & (1L << self)) != 0);
        try
        {
            router.routeForwarded(buffer, position, end - position, this);
        }
        finally
        {
            receiving = false;
            received = null;
        }
        if (forwardId != 0)
        {
            if (journal != null)
            {
                receipts.applied(origin, target, forwardId); // its mark is journaled before the next confirmation
            }
            else
            {
                receipts.seen(origin, target, forwardId);
            }
            if (from != self)
            {
                receipts.owe(from, origin, target, forwardId, log.lastSequence());
            }
        }
    }

    private void onConfirm(final int from, final DirectBuffer buffer, final int offset, final int length)
    {
        if (length != ForwardReceipts.CONFIRM_LENGTH)
        {
            logDrop("a malformed confirmation from node " + from);
            return;
        }
        final int origin = buffer.getInt(offset + ForwardReceipts.CONFIRM_ORIGIN_OFFSET);
        final int target = buffer.getInt(offset + ForwardReceipts.CONFIRM_TARGET_OFFSET);
        final long upTo = buffer.getLong(offset + ForwardReceipts.CONFIRM_ID_OFFSET);
        final ForwardBacklog backlog = backlog(from);
        if (backlog == null)
        {
            return;
        }
        if (journal != null)
        {
            journal.forwardMark(true, origin, target, upTo); // this node's heir re-sends none of these
        }
        backlog.confirm(origin, target, upTo, origin == self);
        backlogBytes -= backlog.trim();
        counters.clusterForwardBacklogBytes.setRelease(backlogBytes);
        releaseBackPressure();
    }

    /** A forward meant for {@code node} goes to it, or to its heir when it is down, or here when that is this node. */
    private void redirect(
        final int node, final DirectBuffer buffer, final int offset, final int length, final long deadlineNs)
    {
        int destination = node;
        for (int hops = 0; destination != self && heirs.containsKey(destination) && hops < MAX_HEIR_HOPS; hops++)
        {
            destination = heirs.get(destination);
        }
        if (destination == self)
        {
            receive(self, buffer, offset, length);
        }
        else if (destination == ClusterLink.NO_NODE || heirs.containsKey(destination))
        {
            counters.clusterForwardDropped.incrementRelease();
            logDrop("a forward for node " + node + " was dropped: it is down with no live heir");
        }
        else
        {
            if (buffer.getLong(offset + ID_OFFSET) != 0 && journal != null)
            {
                journal.forward(destination, buffer, offset, length); // kept here until confirmed, in case of a crash
            }
            keep(destination, backlog(destination), buffer, offset, length, deadlineNs, false);
        }
    }

    private void hold(final int from, final DirectBuffer buffer, final int offset, final int length)
    {
        if (heldLength + 8L + length > HELD_MAX_BYTES)
        {
            counters.clusterForwardDropped.incrementRelease();
            logDrop("a forward from node " + from + " for node " + buffer.getInt(offset + TARGET_OFFSET) +
                ", not known down here, was dropped: too many wait");
            return;
        }
        held.putInt(heldLength, from);
        held.putInt(heldLength + 4, length);
        held.putBytes(heldLength + 8, buffer, offset, length);
        heldLength += 8 + length;
    }

    private void retryHeld()
    {
        final ExpandableArrayBuffer retry = held;
        final int retryLength = heldLength;
        held = heldSpare;
        heldSpare = retry;
        heldLength = 0;
        for (int position = 0; position < retryLength; )
        {
            final int from = retry.getInt(position);
            final int length = retry.getInt(position + 4);
            receive(from, retry, position + 8, length);
            position += 8 + length;
        }
    }

    private long nextForwardId()
    {
        final long nowMicros = epochMicrosAtNanoZero + clock.nanoTime() / 1000;
        lastForwardId = Math.max(lastForwardId + 1, nowMicros);
        return lastForwardId;
    }

    private ForwardBacklog backlog(final int node)
    {
        for (final ForwardBacklog backlog : backlogs)
        {
            if (backlog.node == node)
            {
                return backlog;
            }
        }
        return null;
    }

    /** The forward in {@link #scratch} waits in {@code node}'s backlog (QoS 0 past the bound is dropped). */
    private void queue(
        final int node, final ForwardBacklog existing, final int length, final int qos, final long deadlineNs)
    {
        if (qos == 0 && (existing == null ? 0 : existing.bytes) + length > BACKLOG_MAX_BYTES)
        {
            counters.clusterForwardDropped.incrementRelease();
            logDrop("a QoS 0 message for node " + node + " was dropped: its backlog is full");
            return;
        }
        keep(node, existing, scratch, 0, length, deadlineNs, false);
    }

    private void keep(
        final int node,
        final ForwardBacklog existing,
        final DirectBuffer message,
        final int offset,
        final int length,
        final long deadlineNs,
        final boolean sent)
    {
        ForwardBacklog backlog = existing;
        if (backlog == null)
        {
            backlog = new ForwardBacklog(node);
            backlogs = Arrays.copyOf(backlogs, backlogs.length + 1);
            backlogs[backlogs.length - 1] = backlog;
        }
        backlog.append(message, offset, length, deadlineNs, sent);
        backlogBytes += length;
        counters.clusterForwardBacklogBytes.setRelease(backlogBytes);
        if (!backPressured && backlog.bytes > BACKLOG_MAX_BYTES)
        {
            backPressured = true;
            LOG.log(Level.WARNING, "cluster: " + backlog.bytes + " bytes of forwards wait for node " + node +
                " (unsent or unconfirmed): holding back QoS 1/2 publishers until they drain");
        }
    }

    private void releaseBackPressure()
    {
        if (backPressured && backlogBytes <= BACKLOG_MAX_BYTES / 2)
        {
            backPressured = false;
            LOG.log(Level.INFO, "cluster: forwards to other nodes drained (" + backlogBytes + " bytes waiting): " +
                "publishers resume");
        }
    }

    private static int forwardHeaderLength(final DirectBuffer buffer, final int offset)
    {
        final int groups = buffer.getShort(offset + GROUPS_OFFSET) & 0xFFFF;
        int position = offset + GROUPS_OFFSET + SIZE_OF_SHORT;
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
