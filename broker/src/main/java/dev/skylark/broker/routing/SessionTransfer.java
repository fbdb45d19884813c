package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.agrona.BitUtil.SIZE_OF_INT;
import static org.agrona.BitUtil.SIZE_OF_LONG;
import static org.agrona.BitUtil.SIZE_OF_SHORT;

/**
 * A session moving between cluster nodes when its client id is claimed on another node. The old owner sends the
 * session as peer messages — {@link #BEGIN} (expiry, version, subscriptions with options and ids), one
 * {@link #MESSAGE} per queued or in-flight QoS 1/2 message (packet id and state kept, so a resumed client sees the
 * same ids with DUP), {@link #END} — then drops it; the new owner holds the CONNECT until END (or a bounded wait)
 * and answers CONNACK with session present 1 once it has the session.
 *
 * <pre>
 * every type: epoch:8 clientIdLength:2 clientId:n, then
 * BEGIN:   expiryInterval:8 version:4 subscriptionCount:4 (packed:8 filterLength:2 filter:n)*
 * MESSAGE: qos:1 state:1 packetId:2 retain:1 expiryLeftMs:8 subscriptionIdCount:2 (subscriptionId:4)* message
 * END:     present:1 appliedForwardId:8
 * </pre>
 * {@code appliedForwardId}: the highest forward id of the new owner the old one had applied when it sent the session;
 * the new owner delivers its later forwards to the old owner, published while the session was on its way, to the
 * session itself ({@link ClusterForwarding#redeliverOwn}), behind the messages that came with it.
 * Messages that came through a shared subscription are not moved (the old node hands them to another member of
 * the group, as on a session's end). Rare, so it may allocate. Owned by the routing agent's thread.
 */
final class SessionTransfer
{
    static final int BEGIN = 2;
    static final int MESSAGE = 3;
    static final int END = 4;
    private static final System.Logger LOG = System.getLogger(SessionTransfer.class.getName());

    /** A CONNECT waiting for the session its previous owner sends. */
    private static final class Awaiting
    {
        /** The CONNECT that waits (a later one of the same client on this node takes the wait over). */
        PendingClaims.Pending pending;
        /** The epoch of the claim that started the wait: the session's messages name it. */
        final long epoch;
        /** The epoch of the latest claim this node made for the client id while it waited ({@link #rejoin}). */
        long ownEpoch;
        /** The hand-over claim that started the wait, if it was one: the leaving node is told when it ends. */
        final PendingClaims.Pending handOver;
        /** The node the session comes from (its heir's copy, if it was declared down meanwhile). */
        final int previousNodeId;
        final long sinceNs;
        long deadlineNs;
        Session session;
        /** Claimed away from this node while it waited: the node to hand the session on to, else NO_NODE. */
        int passTo = ClusterLink.NO_NODE;
        long passEpoch;
        /** The node the session's messages come from (the heir's, for a dead previous owner), once BEGIN came. */
        int fromNodeId = ClusterLink.NO_NODE;
        /** This node's last forward id when BEGIN came: from then on its own publishes reach the session here. */
        long beginForwardId;
        /** The queued messages that came with the session, in order (locally routed ones go behind them). */
        Set<PendingMessage> transferred;

        Awaiting(
            final PendingClaims.Pending pending, final long epoch, final int previousNodeId, final long sinceNs,
            final long deadlineNs)
        {
            this.previousNodeId = previousNodeId;
            this.sinceNs = sinceNs;
            this.pending = pending;
            this.epoch = epoch;
            this.ownEpoch = epoch;
            this.handOver = pending.isHandOver() ? pending : null;
            this.deadlineNs = deadlineNs;
        }
    }

    private final ClusterLink link;
    private final SessionRegistry sessions;
    private final TopicTree tree;
    private final Deliveries deliveries;
    private final MessageStore store;
    private final JournalRecord journal;
    private final DurableIds ids;
    private final CachedNanoClock clock;
    private final PendingClaims claims;
    private final Map<String, Awaiting> awaiting = new HashMap<>();
    /**
     * Transfer messages that came before this node saw the claim they answer (peer messages and registry events
     * travel apart): kept, bounded by {@link #EARLY_BYTES_MAX}, until the claim commits here or {@link #waitNs}.
     */
    private final ArrayList<Early> early = new ArrayList<>();
    private long earlyBytes;
    private static final long EARLY_BYTES_MAX = 64L * 1024 * 1024;

    /** A transfer message kept until its claim commits here. */
    private record Early(int from, String clientId, long epoch, int type, byte[] bytes, long keptUntilNs)
    {
    }
    private final ExpandableArrayBuffer scratch = new ExpandableArrayBuffer(1024);
    private final UnsafeBuffer storedView = new UnsafeBuffer(0, 0);
    private final ArrayList<String> filters = new ArrayList<>();
    private long waitNs = TimeUnit.SECONDS.toNanos(3);
    /** Confirms sessions taken over for a leaving node; null until wired. */
    private ClusterLeave leave;
    /** This node's forwards (see {@link ClusterForwarding#redeliverOwn}); null until wired. */
    private ClusterForwarding forwarding;

    SessionTransfer(
        final ClusterLink link,
        final SessionRegistry sessions,
        final TopicTree tree,
        final Deliveries deliveries,
        final MessageStore store,
        final JournalRecord journal,
        final DurableIds ids,
        final CachedNanoClock clock,
        final PendingClaims claims)
    {
        this.link = link;
        this.sessions = sessions;
        this.tree = tree;
        this.deliveries = deliveries;
        this.store = store;
        this.journal = journal;
        this.ids = ids;
        this.clock = clock;
        this.claims = claims;
    }

    /** Wires the forwarding, whose forwards a session on its way here missed on its previous node. */
    void forwarding(final ClusterForwarding forwarding)
    {
        this.forwarding = forwarding;
    }

    /** Wires the leave, which confirms a session installed for a leaving node. */
    void leave(final ClusterLeave leave)
    {
        this.leave = leave;
    }

    /** The longest a CONNECT waits for a previous owner the registry still says is live. */
    static final long LIVE_WAIT_MAX_NS = TimeUnit.SECONDS.toNanos(60);
    /** Whether the registry says a node is live (the previous owner of a waiting CONNECT). */
    private java.util.function.IntPredicate nodeUp = (node) -> false;

    /** Wires the live-node test the waits use. */
    void nodeUp(final java.util.function.IntPredicate nodeUp)
    {
        this.nodeUp = nodeUp;
    }

    /**
     * How long a CONNECT waits for the heir's copy of its session once the previous owner was declared down: the
     * heir's replay of the replica, then {@link HeirTakeover#LATE_SETTLE_NS}.
     */
    static final long HEIR_WAIT_NS = TimeUnit.SECONDS.toNanos(15);

    /** Node {@code nodeId} was declared down: CONNECTs waiting for its session now wait for its heir's. */
    void onNodeDown(final int nodeId)
    {
        final long nowNs = clock.nanoTime();
        for (final Awaiting wait : awaiting.values())
        {
            if (wait.previousNodeId == nodeId)
            {
                wait.deadlineNs = nowNs + Math.max(waitNs, HEIR_WAIT_NS);
            }
        }
    }

    /** How long a CONNECT waits for its session from the previous owner before it goes on without it. */
    void waitNs(final long waitNs)
    {
        this.waitNs = waitNs;
    }

    /**
     * A CONNECT whose claim took the client id from a node the registry says is live: it waits for that node's session
     * — while that node stays live in the registry (it may have died without the cluster knowing yet), up to
     * {@link #LIVE_WAIT_MAX_NS}, and once it is declared down, {@link #waitNs} more for its heir, which rebuilds the
     * session from its replica and sends it here ({@link #onNodeDown}).
     */
    void await(final PendingClaims.Pending pending, final long epoch, final int previousNodeId)
    {
        final long nowNs = clock.nanoTime();
        awaiting.put(pending.clientId, new Awaiting(pending, epoch, previousNodeId, nowNs, nowNs + waitNs));
        if (!early.isEmpty())
        {
            final ArrayList<Early> due = new ArrayList<>();
            early.removeIf((e) -> e.clientId.equals(pending.clientId) && e.epoch == epoch && due.add(e));
            for (final Early e : due)
            {
                earlyBytes -= e.bytes.length;
                final UnsafeBuffer view = new UnsafeBuffer(e.bytes);
                onPeerMessage(e.from, e.type, view, 0, e.bytes.length);
            }
        }
    }

    /**
     * A CONNECT of {@code pending}'s client id whose claim committed with this node as the previous owner, while this
     * node still waits for the session of an earlier CONNECT from its previous owner (that CONNECT's connection was
     * lost, or this node fenced itself, before the session came; the client came back here): the new CONNECT takes
     * the wait over (the earlier one, if its connection is still open, gets CONNACK 0x88), and gets the session when
     * it comes. With Clean Start the wait ends instead (the session that comes is not wanted). False when nothing
     * waits here for that client id, or with Clean Start: the caller connects it as usual.
     */
    boolean rejoin(final PendingClaims.Pending pending, final long epoch, final boolean cleanStart)
    {
        final Awaiting wait = awaiting.get(pending.clientId);
        if (wait == null || wait.passTo != ClusterLink.NO_NODE)
        {
            return false;
        }
        claims.supersede(wait.pending);
        if (cleanStart)
        {
            awaiting.remove(pending.clientId);
            if (wait.session != null)
            {
                wait.session.clusterEpoch = 0;
                sessions.endSession(wait.session, true);
            }
            return false;
        }
        wait.pending = pending;
        wait.ownEpoch = epoch;
        LOG.log(Level.DEBUG, () -> "cluster: a CONNECT of " + dev.skylark.codec.LogText.of(pending.clientId) +
            " came again while its session is on its way here: it waits for it");
        return true;
    }

    /** Whether a CONNECT of {@code clientId} waits here for its session (its connection may be gone). */
    boolean awaits(final String clientId)
    {
        return awaiting.containsKey(clientId);
    }

    /** Whether a CONNECT waits here. */
    int awaitingCount()
    {
        return awaiting.size();
    }

    /**
     * {@code clientId} was claimed by {@code ownerNodeId} while this node still waits for its session from the
     * previous owner (a takeover right after a takeover, e.g. a client reconnecting while its leaving node hands the
     * session to this one): the session is handed on once it is here. False when nothing waits for it here.
     */
    boolean passOn(final String clientId, final int ownerNodeId, final long epoch)
    {
        final Awaiting wait = awaiting.get(clientId);
        if (wait == null)
        {
            return false;
        }
        wait.passTo = ownerNodeId;
        wait.passEpoch = epoch;
        return true;
    }

    /** CONNECTs whose wait ran out go on with what has arrived (session present 0 when nothing did). */
    int poll()
    {
        if (!early.isEmpty())
        {
            final long nowNs = clock.nanoTime();
            early.removeIf((e) -> nowNs - e.keptUntilNs >= 0 && (earlyBytes -= e.bytes.length) >= 0);
        }
        if (awaiting.isEmpty())
        {
            return 0;
        }
        final long nowNs = clock.nanoTime();
        int done = 0;
        final Iterator<Awaiting> it = awaiting.values().iterator();
        while (it.hasNext())
        {
            final Awaiting wait = it.next();
            if (nowNs - wait.deadlineNs >= 0 && nodeUp.test(wait.previousNodeId) &&
                nowNs - wait.sinceNs < LIVE_WAIT_MAX_NS)
            {
                wait.deadlineNs = nowNs + waitNs; // still live to the registry: it may be dead, not yet declared
            }
            else if (nowNs - wait.deadlineNs >= 0)
            {
                it.remove();
                LOG.log(Level.INFO, "cluster: the previous owner did not send the session in time; connecting " +
                    "without it");
                connect(wait);
                done++;
            }
        }
        return done;
    }

    /**
     * This node lost {@code session}'s client id to {@code ownerNodeId} under {@code epoch}: sends the session
     * (nothing but END when it does not outlive its connection). The caller then drops it here.
     */
    void send(final Session session, final int ownerNodeId, final long epoch)
    {
        final boolean persistent = session.expiryInterval > 0;
        if (persistent)
        {
            int position = header(epoch, session.clientId);
            scratch.putLong(position, session.expiryInterval);
            scratch.putInt(position + SIZE_OF_LONG, session.version);
            final int countOffset = position + SIZE_OF_LONG + SIZE_OF_INT;
            position = countOffset + SIZE_OF_INT;
            filters.clear();
            tree.forEachFilter(session.sessionId, filters::add);
            int count = 0;
            for (final String filter : filters)
            {
                final Long packed = session.durableSubscriptions().get(filter);
                scratch.putLong(position, packed == null ? Session.packSubscription(SubscriptionOptions.ofQos(1), 0) :
                    packed);
                final int length = scratch.putStringWithoutLengthUtf8(position + SIZE_OF_LONG + SIZE_OF_SHORT, filter);
                scratch.putShort(position + SIZE_OF_LONG, (short)length);
                position += SIZE_OF_LONG + SIZE_OF_SHORT + length;
                count++;
            }
            scratch.putInt(countOffset, count);
            send(ownerNodeId, BEGIN, position);
            final long nowNs = clock.nanoTime();
            for (final PendingMessage pending : session.window.inFlightOrder())
            {
                sendMessage(session, pending, ownerNodeId, epoch, nowNs);
            }
            for (final PendingMessage pending : session.window.queue)
            {
                sendMessage(session, pending, ownerNodeId, epoch, nowNs);
            }
        }
        final int position = header(epoch, session.clientId);
        scratch.putByte(position, (byte)(persistent ? 1 : 0));
        // What of the new owner's own forwards the session had here: it delivers the later ones itself.
        scratch.putLong(position + 1, forwarding == null ? 0 : forwarding.appliedFrom(ownerNodeId));
        send(ownerNodeId, END, position + 1 + SIZE_OF_LONG);
    }

    private void sendMessage(
        final Session session, final PendingMessage pending, final int ownerNodeId, final long epoch, final long nowNs)
    {
        if (pending.sharedGroup != null || pending.isExpired(nowNs))
        {
            return;
        }
        int position = header(epoch, session.clientId);
        scratch.putByte(position, (byte)pending.qos);
        scratch.putByte(position + 1, (byte)pending.state);
        scratch.putShort(position + 2, (short)pending.packetId);
        scratch.putByte(position + 4, (byte)(pending.retain ? 1 : 0));
        scratch.putLong(position + 5, pending.expiryDeadlineNs == 0 ? 0 :
            Math.max(1, TimeUnit.NANOSECONDS.toMillis(pending.expiryDeadlineNs - nowNs)));
        scratch.putShort(position + 13, (short)pending.subscriptionIdCount);
        position += 15;
        for (int i = 0; i < pending.subscriptionIdCount; i++)
        {
            scratch.putInt(position, pending.subscriptionIds[i]);
            position += SIZE_OF_INT;
        }
        if (pending.handle != MessageStore.NULL_HANDLE)
        {
            store.wrap(pending.handle, storedView);
            MessageExpiry.patchRemaining(storedView, 0, pending.expiryDeadlineNs, nowNs);
            scratch.putBytes(position, storedView, 0, storedView.capacity());
            position += storedView.capacity();
        }
        send(ownerNodeId, MESSAGE, position);
    }

    /** This node lost the client id but has no session of it: the new owner need not wait. */
    void sendNone(final String clientId, final int ownerNodeId, final long epoch)
    {
        final int position = header(epoch, clientId);
        scratch.putByte(position, (byte)0);
        send(ownerNodeId, END, position + 1);
    }

    /** A peer message of the transfer, for a CONNECT waiting here. */
    void onPeerMessage(final int fromNodeId, final int type, final DirectBuffer buffer, final int offset,
        final int length)
    {
        final long epoch = buffer.getLong(offset);
        final int idLength = buffer.getShort(offset + SIZE_OF_LONG) & 0xFFFF;
        final String clientId = buffer.getStringWithoutLengthUtf8(offset + SIZE_OF_LONG + SIZE_OF_SHORT, idLength);
        int position = offset + SIZE_OF_LONG + SIZE_OF_SHORT + idLength;
        final Awaiting wait = awaiting.get(clientId);
        if (wait == null || (wait.epoch != epoch && wait.ownEpoch != epoch))
        {
            if (wait == null && earlyBytes + length <= EARLY_BYTES_MAX)
            {
                // Perhaps ahead of the claim's commit here: kept a while (else the CONNECT went on without it).
                final byte[] bytes = new byte[length];
                buffer.getBytes(offset, bytes);
                earlyBytes += length;
                early.add(new Early(fromNodeId, clientId, epoch, type, bytes, clock.nanoTime() + waitNs));
            }
            return;
        }
        switch (type)
        {
            case BEGIN ->
            {
                wait.session = begin(clientId, buffer, position);
                wait.fromNodeId = fromNodeId;
                wait.beginForwardId = forwarding == null ? 0 : forwarding.lastForwardId();
                wait.transferred = Collections.newSetFromMap(new IdentityHashMap<>());
            }
            case MESSAGE -> message(wait, buffer, position, offset + length);
            case END ->
            {
                if (wait.session != null)
                {
                    final boolean withApplied = position + 1 + SIZE_OF_LONG <= offset + length;
                    end(wait, withApplied ? buffer.getLong(position + 1) : Long.MAX_VALUE);
                }
                awaiting.remove(clientId);
                connect(wait);
            }
            default ->
            {
            }
        }
    }

    private Session begin(final String clientId, final DirectBuffer buffer, final int offset)
    {
        final Session existing = sessions.byClientId(clientId);
        if (existing != null)
        {
            existing.clusterEpoch = 0; // an older session of ours: the one from the previous owner replaces it
            sessions.endSession(existing, true);
        }
        final Session session = sessions.add(clientId);
        session.expiryInterval = buffer.getLong(offset);
        session.version = buffer.getInt(offset + SIZE_OF_LONG);
        session.offline = true;
        session.durableId = ids.newDurableId();
        journal.session(session);
        final int count = buffer.getInt(offset + SIZE_OF_LONG + SIZE_OF_INT);
        int position = offset + SIZE_OF_LONG + 2 * SIZE_OF_INT;
        for (int i = 0; i < count; i++)
        {
            final long packed = buffer.getLong(position);
            final int filterLength = buffer.getShort(position + SIZE_OF_LONG) & 0xFFFF;
            final String filter = buffer.getStringWithoutLengthUtf8(position + SIZE_OF_LONG + SIZE_OF_SHORT,
                filterLength);
            position += SIZE_OF_LONG + SIZE_OF_SHORT + filterLength;
            if (TopicFilter.validate(filter) != null)
            {
                continue;
            }
            final int options = Session.packedOptions(packed);
            final int subscriptionId = Session.packedSubscriptionId(packed);
            tree.subscribe(filter, session.sessionId, options, subscriptionId);
            session.putDurableSubscription(filter, packed);
            journal.subscribe(session.durableId, filter, options, subscriptionId);
        }
        return session;
    }

    /**
     * The whole session is here: this node's own publishes that its previous node took in after sending it (above
     * {@code appliedId}, up to when it arrived here) are delivered to it, behind the messages that came with it, and
     * the messages routed to it here meanwhile go behind those: the order each publisher gave them.
     */
    private void end(final Awaiting wait, final long appliedId)
    {
        final Session session = wait.session;
        final Set<PendingMessage> before = Collections.newSetFromMap(new IdentityHashMap<>());
        for (final PendingMessage pending : session.window.queue)
        {
            before.add(pending);
        }
        if (forwarding != null && wait.fromNodeId != ClusterLink.NO_NODE && appliedId != Long.MAX_VALUE)
        {
            forwarding.redeliverOwn(wait.fromNodeId, session, appliedId, wait.beginForwardId);
        }
        if (session.window.queue.size() == before.size() && wait.transferred.containsAll(before))
        {
            return; // nothing routed here meanwhile
        }
        final ArrayList<PendingMessage> all = new ArrayList<>(session.window.queue.size());
        for (PendingMessage pending = session.window.queue.pollFirst(); pending != null;
            pending = session.window.queue.pollFirst())
        {
            all.add(pending);
        }
        for (final PendingMessage pending : all)
        {
            if (wait.transferred.contains(pending))
            {
                session.window.queue.addLast(pending);
            }
        }
        for (final PendingMessage pending : all)
        {
            if (!before.contains(pending))
            {
                session.window.queue.addLast(pending); // published here while the session was on its way
            }
        }
        for (final PendingMessage pending : all)
        {
            if (before.contains(pending) && !wait.transferred.contains(pending))
            {
                session.window.queue.addLast(pending); // routed here since the session arrived
            }
        }
    }

    private void message(final Awaiting wait, final DirectBuffer buffer, final int offset, final int end)
    {
        final Session session = wait.session;
        if (session == null)
        {
            return;
        }
        final int qos = buffer.getByte(offset);
        final int state = buffer.getByte(offset + 1);
        final int packetId = buffer.getShort(offset + 2) & 0xFFFF;
        final boolean retain = buffer.getByte(offset + 4) != 0;
        final long expiryLeftMs = buffer.getLong(offset + 5);
        final int idCount = buffer.getShort(offset + 13) & 0xFFFF;
        int position = offset + 15;
        final int[] subscriptionIds = new int[idCount];
        for (int i = 0; i < idCount; i++)
        {
            subscriptionIds[i] = buffer.getInt(position);
            position += SIZE_OF_INT;
        }
        final long deadlineNs = expiryLeftMs == 0 ? 0 :
            clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(expiryLeftMs) | 1;
        final long handle = position < end ? store.store(buffer, position, end - position) : MessageStore.NULL_HANDLE;
        final PendingMessage pending =
            deliveries.newPending(deadlineNs, handle, qos, retain, subscriptionIds, 0, idCount);
        if (handle != MessageStore.NULL_HANDLE)
        {
            pending.messageId = ids.newMessageId();
            journal.beginMessage(pending.messageId, 0);
            journal.addTarget(session.durableId, qos, retain ? Delivery.ENTRY_FLAG_RETAIN : 0, subscriptionIds, 0,
                idCount);
            journal.endMessage(buffer, position, end - position);
        }
        if (state != PendingMessage.QUEUED && packetId != 0)
        {
            pending.packetId = packetId;
            pending.state = state;
            pending.redelivery = true;
            session.window.restoreInFlight(pending, deliveries);
        }
        else if (handle != MessageStore.NULL_HANDLE)
        {
            deliveries.enqueue(session, pending);
            wait.transferred.add(pending);
        }
        else
        {
            deliveries.recycle(pending);
        }
    }

    /**
     * The session a CONNECT here waits for is here already (this node, the heir of its silent previous owner,
     * rebuilt it from the replica): the CONNECT resumes it now.
     */
    void completeHere(final String clientId)
    {
        final Awaiting wait = awaiting.remove(clientId);
        if (wait != null)
        {
            connect(wait);
        }
    }

    private void connect(final Awaiting wait)
    {
        final PendingClaims.Pending pending = wait.pending;
        if (claims.connected(pending))
        {
            sessions.onConnect(pending.connectionId, claims.decode(pending));
        }
        final Session session = sessions.byClientId(pending.clientId);
        if (session != null)
        {
            session.clusterEpoch = wait.ownEpoch;
            if (!session.isOnline() && session.expiryInterval != Session.NEVER)
            {
                // Its connection went while it waited (or, handed over by a leaving node, it never had one): the
                // session stays here, offline, until it expires.
                sessions.expireAt(session, clock.nanoTime() + TimeUnit.SECONDS.toNanos(session.expiryInterval));
            }
        }
        else
        {
            link.release(pending.clientId, wait.ownEpoch);
        }
        if (wait.handOver != null && leave != null)
        {
            leave.confirm(pending.clientId, wait.handOver.handedOverFrom, wait.epoch);
        }
        if (wait.passTo != ClusterLink.NO_NODE)
        {
            final Session here = sessions.byClientId(pending.clientId);
            if (here != null)
            {
                send(here, wait.passTo, wait.passEpoch);
                sessions.onTakenOverElsewhere(here);
            }
            else
            {
                sendNone(pending.clientId, wait.passTo, wait.passEpoch);
            }
        }
    }

    private int header(final long epoch, final String clientId)
    {
        scratch.putLong(0, epoch);
        final int length = scratch.putStringWithoutLengthUtf8(SIZE_OF_LONG + SIZE_OF_SHORT, clientId);
        scratch.putShort(SIZE_OF_LONG, (short)length);
        return SIZE_OF_LONG + SIZE_OF_SHORT + length;
    }

    private void send(final int nodeId, final int type, final int length)
    {
        if (!link.send(nodeId, type, scratch, 0, length))
        {
            LOG.log(Level.WARNING, "cluster: part of a session could not be sent to node " + nodeId +
                " (unreachable or back pressure); the new owner goes on without it");
        }
    }
}
