package dev.skylark.broker.routing;

import org.agrona.concurrent.CachedNanoClock;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ObjLongConsumer;

/**
 * What this node does when it is the heir of a dead node ({@link ClusterLink.Events#onNodeDown} naming it): the
 * registry moves the dead node's client ids and routes here (events in the order {@link ClusterLink.Events#onNodeDown}
 * states); this class collects them, and at {@link ClusterLink.Events#onInherited} replays the dead node's journal
 * replica ({@link ClusterLink#replayReplica}) through the {@link JournalReplayAdapter}'s heir mode, which rebuilds
 * the persistent sessions of the moved client ids, offline: subscriptions (into the topic tree, so
 * {@link LocalRoutes} adds their routes), queued and in-flight QoS 1/2 messages with their packet ids and states,
 * inbound QoS 2 state, expiry running from when they went offline. It then journals each as this node's own
 * ({@link CheckpointWriter#writeSession}), so it survives this node's restart and reaches its own buddy; releases
 * the moved client ids that had no persistent session there (clean sessions are not resurrected); removes, once the
 * route adds of the rebuilt subscriptions are queued ahead of them, the inherited route references (one per filter
 * of the dead node); and drops the replica once what it journaled is durable.
 * <p>
 * Every replayed record also goes to {@link ClusterForwarding#onReplicaRecord} (then
 * {@link ClusterForwarding#onReplicaEnd}), which finds there the dead node's forwards it had not had confirmed.
 * <p>
 * A client resuming afterwards on any node finds its session here: on this node it resumes it (session present 1),
 * on another the takeover across nodes ({@link SessionTransfer}) streams it there. The replay runs on the routing
 * agent's thread in one go (a fail-over, not the hot path; about what the start-up replay costs per record). While
 * this node is catching up with the registry after its own start ({@link #caughtUp}), inheritances in the log are
 * history: what this node took over then is in its own journal already. Owned by the routing agent's thread; rare,
 * so it may allocate.
 */
final class HeirTakeover
{
    private static final System.Logger LOG = System.getLogger(HeirTakeover.class.getName());

    /** One dead node's inheritance being collected, then finished. */
    private static final class Inheritance
    {
        final int deadNodeId;
        /** Client ids moved here, with the epoch this node now owns each under (ordered: deterministic logs). */
        final TreeMap<String, Long> clientIds = new TreeMap<>();
        /** The dead node's filters: one inherited route reference each, removed once the rebuild is done. */
        final List<String> filters = new ArrayList<>();

        Inheritance(final int deadNodeId)
        {
            this.deadNodeId = deadNodeId;
        }
    }

    private final ClusterLink link;
    private final int self;
    private final JournalReplayAdapter replay;
    private final CheckpointWriter writer;
    private final DurableLog log;
    private final LocalRoutes localRoutes;
    private final ClusterForwarding forwarding;
    private final SessionRegistry sessions;
    private final CachedNanoClock clock;
    private final ObjLongConsumer<String> release;
    private final Map<Integer, Inheritance> collecting = new HashMap<>();
    /** Inherited route references still to remove (their filters). */
    private final ArrayList<String> routeReleases = new ArrayList<>();
    /** Replicas to drop once this node's journal is durable up to the sequence: dead node id → sequence. */
    private final Map<Integer, Long> replicaDrops = new HashMap<>();
    /**
     * Recent takeovers across nodes, by client id: {new owner, its epoch, previous owner, when (ns)}. A client of a
     * node that dies often reconnects to another node before the registry declares that node down: the claim
     * commits, but the dead node never sends the session. Its heir then rebuilds that session from the replica too
     * and sends it to the new owner ({@link #sendLate}), which waits for it. Kept {@link #RECENT_NS}, bounded.
     */
    private final Map<String, long[]> recentTakeovers = new HashMap<>();
    private static final long RECENT_NS = TimeUnit.SECONDS.toNanos(60);
    private static final int RECENT_MAX = 100_000;
    private long recentPrunedNs;
    /**
     * Sessions rebuilt for another node's waiting CONNECT: kept here (taking what is still on its way to the dead
     * node: the other nodes redirect their unconfirmed forwards to this heir when they apply the same node-down) for
     * {@link #LATE_SETTLE_NS}, then sent there ({@link #sendLate}).
     */
    private final ArrayList<Object[]> lateTransfers = new ArrayList<>();
    /** Client ids of late sessions whose CONNECT waits on this node itself: resumed once forwards are redirected. */
    private final ArrayList<String> lateHere = new ArrayList<>();
    static final long LATE_SETTLE_NS = TimeUnit.SECONDS.toNanos(1);
    private long lateDueNs;
    private SessionTransfer transfer;
    private boolean caughtUp;

    HeirTakeover(
        final ClusterLink link,
        final JournalReplayAdapter replay,
        final CheckpointWriter writer,
        final DurableLog log,
        final LocalRoutes localRoutes,
        final ClusterForwarding forwarding,
        final SessionRegistry sessions,
        final CachedNanoClock clock,
        final ObjLongConsumer<String> release)
    {
        this.link = link;
        this.self = link.nodeId();
        this.replay = replay;
        this.writer = writer;
        this.log = log;
        this.localRoutes = localRoutes;
        this.forwarding = forwarding;
        this.sessions = sessions;
        this.clock = clock;
        this.release = release;
    }

    /** Wires the session transfer the late sessions go by. */
    void transfer(final SessionTransfer transfer)
    {
        this.transfer = transfer;
    }

    /** This node has caught up with the registry's log after its start: inheritances from now on are live. */
    void caughtUp()
    {
        caughtUp = true;
    }

    /** A node went down; when this node is its heir, the events that follow until {@link #onInherited} are collected. */
    void onNodeDown(final int nodeId, final int heirNodeId)
    {
        if (heirNodeId == self && caughtUp)
        {
            collecting.put(nodeId, new Inheritance(nodeId));
        }
    }

    /** A route event: a dead node's route dropped while its inheritance is collected is an inherited reference. */
    void onRoute(final String filter, final int nodeId, final boolean present)
    {
        final Inheritance inheritance = present ? null : collecting.get(nodeId);
        if (inheritance != null)
        {
            inheritance.filters.add(filter);
        }
    }

    /**
     * A claim: true when it is a client id moved here from a dead node whose inheritance is collected (then the
     * caller does nothing else with it).
     */
    boolean onClaimed(final String clientId, final int ownerNodeId, final long epoch, final int previousNodeId)
    {
        final long[] recent = recentTakeovers.get(clientId);
        if (recent != null && previousNodeId == recent[0])
        {
            // Claimed again from the node the session was on its way to (its client came back there, or went on to
            // another node): that node still waits for the session, and resumes it or hands it on
            // (SessionTransfer#rejoin, #passOn); a re-claim there names the latest epoch.
            if (ownerNodeId == recent[0])
            {
                recent[1] = epoch;
            }
        }
        else if (previousNodeId != ClusterLink.NO_NODE && previousNodeId != ownerNodeId &&
            (recentTakeovers.size() < RECENT_MAX || recent != null))
        {
            recentTakeovers.put(clientId, new long[] {ownerNodeId, epoch, previousNodeId, clock.nanoTime()});
        }
        else
        {
            recentTakeovers.remove(clientId);
        }
        final Inheritance inheritance = ownerNodeId == self ? collecting.get(previousNodeId) : null;
        if (inheritance == null)
        {
            return false;
        }
        inheritance.clientIds.put(clientId, epoch);
        return true;
    }

    /** The inheritance of {@code nodeId} is complete: rebuild its sessions here. */
    void onInherited(final int nodeId, final int heirNodeId)
    {
        final Inheritance inheritance = heirNodeId == self ? collecting.remove(nodeId) : null;
        if (inheritance != null)
        {
            takeOver(inheritance);
        }
    }

    private void takeOver(final Inheritance inheritance)
    {
        final int dead = inheritance.deadNodeId;
        final long startNs = System.nanoTime();
        final Map<String, long[]> late = new HashMap<>();
        for (final Map.Entry<String, long[]> entry : recentTakeovers.entrySet())
        {
            final long[] takeover = entry.getValue();
            if (takeover[2] == dead && takeover[0] != dead && !inheritance.clientIds.containsKey(entry.getKey()) &&
                (takeover[0] != self || transfer == null || transfer.awaits(entry.getKey())))
            {
                // (On this node only while a CONNECT here still waits for it: one with Clean Start, or one that
                // connected without it, has a session here that the dead node's must not replace.)
                late.put(entry.getKey(), takeover);
            }
        }
        final java.util.Set<String> rebuilt = new java.util.HashSet<>(inheritance.clientIds.keySet());
        rebuilt.addAll(late.keySet());
        replay.beginInherited(rebuilt);
        final boolean held = link.replayReplica(dead, (buffer, offset, length) ->
        {
            forwarding.onReplicaRecord(dead, buffer, offset, length);
            replay.onRecord(buffer, offset, length);
        });
        final List<Session> restored = replay.finishInherited(clock.nanoTime());
        final long replayedNs = System.nanoTime();
        int messages = 0;
        for (final Session session : restored)
        {
            final long[] takeover = late.get(session.clientId);
            if (takeover != null && takeover[0] == self)
            {
                // Its client reconnected to this node, the heir, before the node-down: the CONNECT waiting here
                // resumes it ({@link #completeHere}); it is this node's own from now on.
                session.clusterEpoch = takeover[1];
                session.takenOverFrom = dead;
                messages += writer.writeSession(session);
                lateHere.add(session.clientId);
                continue;
            }
            if (takeover != null)
            {
                // Another node's CONNECT waits for it: kept here (not journaled) until forwards are redirected.
                session.takenOverFrom = dead;
                lateTransfers.add(new Object[] {session, takeover});
                lateDueNs = clock.nanoTime() + LATE_SETTLE_NS;
                continue;
            }
            final Long epoch = inheritance.clientIds.get(session.clientId);
            session.clusterEpoch = epoch == null ? 0 : epoch;
            session.takenOverFrom = dead; // forwards still meant for the dead node reach it
            messages += writer.writeSession(session);
        }
        forwarding.onReplicaEnd(dead); // after the sessions: re-sent forwards meant for them reach them
        for (final Map.Entry<String, long[]> entry : late.entrySet())
        {
            if (transfer != null && sessions.byClientId(entry.getKey()) == null)
            {
                // No persistent session of it in the replica: the waiting CONNECT goes on at once.
                transfer.sendNone(entry.getKey(), (int)entry.getValue()[0], entry.getValue()[1]);
            }
        }
        int released = 0;
        for (final Map.Entry<String, Long> entry : inheritance.clientIds.entrySet())
        {
            final Session session = sessions.byClientId(entry.getKey());
            if (session == null || session.clusterEpoch != entry.getValue())
            {
                release.accept(entry.getKey(), entry.getValue()); // no persistent session of it: nobody owns it
                released++;
            }
        }
        routeReleases.addAll(inheritance.filters);
        releaseRoutes();
        if (held)
        {
            replicaDrops.put(dead, log.lastSequence());
        }
        final long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
        if (held)
        {
            LOG.log(Level.INFO, "cluster: took over node " + dead + " in " + tookMs + " ms (replica replayed in " +
                TimeUnit.NANOSECONDS.toMillis(replayedNs - startNs) + " ms): " +
                replay.replayRecords() + " replica record(s); " + restored.size() + " persistent session(s), " +
                messages + " owed message(s); " + released + " client id(s) without one released, " +
                inheritance.filters.size() + " inherited route(s)");
        }
        else
        {
            LOG.log(Level.WARNING, "cluster: heir of node " + dead + " but no replica of its journal here: " +
                released + " client id(s) released, its sessions are lost");
        }
    }

    /** Resumes, for the CONNECTs waiting on this node, the late sessions rebuilt here for them. */
    void completeHere(final SessionTransfer transfer)
    {
        for (final String clientId : lateHere)
        {
            transfer.completeHere(clientId);
        }
        lateHere.clear();
    }

    /**
     * Sends the sessions rebuilt for other nodes' waiting CONNECTs (a client that reconnected elsewhere before its
     * node was declared down) to those nodes, then drops them here: called once the forwards still meant for the
     * dead node have been delivered here. The new owner takes one only while it still waits for it (same epoch).
     */
    void sendLate(final SessionTransfer transfer)
    {
        this.transfer = transfer;
        if (lateTransfers.isEmpty() || clock.nanoTime() - lateDueNs < 0)
        {
            return;
        }
        for (final Object[] late : lateTransfers)
        {
            final Session session = (Session)late[0];
            final long[] takeover = (long[])late[1];
            transfer.send(session, (int)takeover[0], takeover[1]);
            session.durableId = 0; // never journaled here: no end to journal either
            sessions.onTakenOverElsewhere(session);
        }
        if (!lateTransfers.isEmpty())
        {
            LOG.log(Level.INFO, "cluster: sent " + lateTransfers.size() + " session(s) of a dead node to the nodes " +
                "their clients reconnected to before it was declared down");
        }
        lateTransfers.clear();
    }

    /** Retries: inherited route references to remove, replicas to drop. */
    int doWork()
    {
        int work = 0;
        final long nowNs = clock.nanoTime();
        if (!lateTransfers.isEmpty() && transfer != null && nowNs - lateDueNs >= 0)
        {
            sendLate(transfer);
            work++;
        }
        if (nowNs - recentPrunedNs > TimeUnit.SECONDS.toNanos(1) && !recentTakeovers.isEmpty())
        {
            recentPrunedNs = nowNs;
            recentTakeovers.values().removeIf((takeover) -> nowNs - takeover[3] > RECENT_NS);
        }
        if (!routeReleases.isEmpty())
        {
            work += releaseRoutes();
        }
        if (!replicaDrops.isEmpty())
        {
            final long durable = log.durableSequence();
            final Iterator<Map.Entry<Integer, Long>> it = replicaDrops.entrySet().iterator();
            while (it.hasNext())
            {
                final Map.Entry<Integer, Long> entry = it.next();
                if (durable >= entry.getValue())
                {
                    it.remove();
                    link.dropReplica(entry.getKey());
                    work++;
                }
            }
        }
        return work;
    }

    /** Whether work is left: route references to remove or replicas to drop (tests). */
    boolean isBusy()
    {
        return !routeReleases.isEmpty() || !replicaDrops.isEmpty() || !collecting.isEmpty();
    }

    private int releaseRoutes()
    {
        int done = 0;
        while (!routeReleases.isEmpty())
        {
            final String filter = routeReleases.get(routeReleases.size() - 1);
            if (!localRoutes.releaseInherited(filter))
            {
                break; // the rebuilt subscriptions' own adds go first, or no room now: a later duty cycle
            }
            routeReleases.remove(routeReleases.size() - 1);
            done++;
        }
        return done;
    }
}
