package dev.skylark.broker.it;

import dev.skylark.broker.journal.ChronicleJournal;
import dev.skylark.broker.routing.ClusterLink;
import dev.skylark.broker.routing.DurableLog;
import dev.skylark.broker.routing.MessageLayout;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A test double of the cluster for N brokers in one JVM: their {@link ClusterLink}s share one sequencer that applies
 * the link's contract in one total order — a minimal registry (client-id owners with a global epoch counter, route
 * counts per (filter, node), the latest retained message per topic, node up/down) — and passes peer messages in
 * order. Every committed event goes to every link (the origin included) in log order, peer messages to their node.
 * <p>
 * A node is up from its link's first {@link ClusterLink#poll} (its "session" connects then); before that, and while
 * {@link #refuseCommands} is set (no leader), commands return false. {@link #holdCommits} keeps accepted commands
 * uncommitted until released, to see what waits for a commit; {@link Link#paused} holds back one node's delivery.
 * Wills (issue 19) are held as the registry holds them; a node down makes its clients' wills due after their delay
 * on a will clock the test drives ({@link #advanceWillClock}), as the registry's cluster timer would.
 */
final class InJvmCluster
{
    private final Object lock = new Object();
    private final List<Link> links = new ArrayList<>();
    private final List<Runnable> held = new ArrayList<>();
    /** Every committed event, for a link that joins later: it hears the whole log, as a real member would. */
    private final List<Consumer<ClusterLink.Events>> history = new ArrayList<>();
    private long epochs;
    private final Map<String, long[]> owners = new HashMap<>(); // client id -> {node, epoch}
    private final Map<String, Map<Integer, Integer>> routes = new HashMap<>();
    private final Map<String, byte[]> retained = new HashMap<>();
    /** Commands accepted (tests): claims, and route adds per "filter@node". */
    final AtomicInteger claims = new AtomicInteger();
    final Map<String, AtomicInteger> routeAdds = new java.util.concurrent.ConcurrentHashMap<>();
    /** Peer message type of a route acknowledgement (LocalRoutes.ROUTE_ACK): not counted in {@link #peerMessages}. */
    static final int ROUTE_ACK = 5;
    /** Peer message type of a forward confirmation (ForwardReceipts.CONFIRM): not counted in {@link #peerMessages}. */
    static final int FORWARD_CONFIRM = 6;
    /** Peer messages sent, per "from>to", route acknowledgements apart. */
    final Map<String, AtomicInteger> peerMessages = new java.util.concurrent.ConcurrentHashMap<>();

    volatile boolean refuseCommands;
    /**
     * Journal directories of nodes, by node id: {@link Link#replayReplica} replays a dead node's journal from there,
     * as its buddy's replica would hold it (the node must be stopped first).
     */
    final Map<Integer, java.nio.file.Path> journals = new java.util.concurrent.ConcurrentHashMap<>();
    /** Replays of a replica made, per node replayed. */
    final Map<Integer, AtomicInteger> replicaReplays = new java.util.concurrent.ConcurrentHashMap<>();
    private boolean holdCommits;

    /** A client's will as the registry holds it (issue 19): due {@link #dueMs} after its node went down. */
    private static final class Will
    {
        final int node;
        final long epoch;
        final long delayMs;
        final byte[] message;
        long dueMs = Long.MAX_VALUE;
        int heir = ClusterLink.NO_NODE;

        Will(final int node, final long epoch, final long delayMs, final byte[] message)
        {
            this.node = node;
            this.epoch = epoch;
            this.delayMs = delayMs;
            this.message = message;
        }
    }

    private final Map<String, Will> wills = new java.util.TreeMap<>();
    /** The registry's log time for wills, driven by the test ({@link #advanceWillClock}). */
    private long willClockMs;
    /** Wills set and due wills told, for tests. */
    final AtomicInteger willsSet = new AtomicInteger();
    final AtomicInteger willsDue = new AtomicInteger();

    /** The wills the registry holds (due or not). */
    int willCount()
    {
        synchronized (lock)
        {
            return wills.size();
        }
    }

    /** Moves the registry's will clock on: the wills due by then are told (the cluster timer firing). */
    void advanceWillClock(final long ms)
    {
        synchronized (lock)
        {
            willClockMs += ms;
            publishDueWills();
        }
    }

    private void publishDueWills()
    {
        for (final java.util.Iterator<Map.Entry<String, Will>> it = wills.entrySet().iterator(); it.hasNext(); )
        {
            final Map.Entry<String, Will> entry = it.next();
            final Will will = entry.getValue();
            if (will.dueMs <= willClockMs)
            {
                it.remove();
                final String clientId = entry.getKey();
                final int publisher = will.heir == ClusterLink.NO_NODE || linkOf(will.heir).up ? will.heir :
                    buddyOf(will.heir);
                willsDue.incrementAndGet();
                // not kept in the history: a link that joins later is a later run, which publishes nothing again
                for (final Link link : links)
                {
                    link.enqueue((events) -> events.onWillDue(clientId, publisher, new UnsafeBuffer(will.message), 0,
                        will.message.length));
                }
            }
        }
    }

    private final Map<Integer, Consumer<dev.skylark.broker.routing.DurableLog.Replayer>> replicas =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Set<Integer> droppedReplicas = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A node's link; a node that went down may come back with a new link (a restart), which replaces its old one. */
    Link link(final int nodeId)
    {
        synchronized (lock)
        {
            links.removeIf((old) -> old.nodeId == nodeId && !old.up);
            final Link link = new Link(nodeId);
            history.forEach(link::enqueue);
            links.add(link);
            return link;
        }
    }

    /** Accepted commands wait (uncommitted) until {@link #releaseCommits()}. */
    void holdCommits()
    {
        synchronized (lock)
        {
            holdCommits = true;
        }
    }

    void releaseCommits()
    {
        synchronized (lock)
        {
            holdCommits = false;
            for (final Runnable command : held)
            {
                command.run();
            }
            held.clear();
        }
    }

    int heldCommands()
    {
        synchronized (lock)
        {
            return held.size();
        }
    }

    int peerMessages(final int from, final int to)
    {
        final AtomicInteger count = peerMessages.get(from + ">" + to);
        return count == null ? 0 : count.get();
    }

    int routeAdds(final String filter, final int node)
    {
        final AtomicInteger count = routeAdds.get(filter + "@" + node);
        return count == null ? 0 : count.get();
    }

    /** The owner of {@code clientId} in the registry, or NO_NODE. */
    int owner(final String clientId)
    {
        synchronized (lock)
        {
            final long[] owner = owners.get(clientId);
            return owner == null ? ClusterLink.NO_NODE : (int)owner[0];
        }
    }

    /**
     * The node left or timed out. Without an heir (no other node up) its routes go, then everyone hears it; with one,
     * as the registry does: the heir's new routes, the node down, the dead node's routes dropped, its client ids moved
     * to the heir (new epochs), then the end of the inheritance.
     */
    void nodeDown(final int nodeId)
    {
        synchronized (lock)
        {
            final int heir = buddyOf(nodeId);
            linkOf(nodeId).up = false;
            if (heir == ClusterLink.NO_NODE)
            {
                dropRoutes(nodeId);
                broadcast((events) -> events.onNodeDown(nodeId, heir));
                return;
            }
            final java.util.TreeSet<String> filters = new java.util.TreeSet<>();
            routes.forEach((filter, counts) ->
            {
                if (counts.getOrDefault(nodeId, 0) > 0)
                {
                    filters.add(filter);
                }
            });
            for (final String filter : filters)
            {
                if (routes.get(filter).merge(heir, 1, Integer::sum) == 1)
                {
                    broadcast((events) -> events.onRoute(filter, heir, true));
                }
            }
            broadcast((events) -> events.onNodeDown(nodeId, heir));
            dropRoutes(nodeId);
            final java.util.TreeMap<String, long[]> sorted = new java.util.TreeMap<>(owners);
            for (final Map.Entry<String, long[]> entry : sorted.entrySet())
            {
                if (entry.getValue()[0] == nodeId)
                {
                    final String clientId = entry.getKey();
                    final long previousEpoch = entry.getValue()[1];
                    final long epoch = ++epochs;
                    owners.put(clientId, new long[] {heir, epoch});
                    broadcast((events) -> events.onClaimed(0, clientId, heir, epoch, nodeId, previousEpoch));
                }
            }
            broadcast((events) -> events.onInherited(nodeId, heir));
            for (final Will will : wills.values())
            {
                if (will.node == nodeId && will.dueMs == Long.MAX_VALUE)
                {
                    will.dueMs = willClockMs + will.delayMs;
                    will.heir = heir;
                }
            }
            publishDueWills();
        }
    }

    /**
     * Where {@link ClusterLink#replayReplica} of {@code nodeId} reads from on any node (the test plays the buddy):
     * {@code source} replays records, e.g. the dead node's own journal read with the journal classes.
     */
    void replica(final int nodeId, final Consumer<dev.skylark.broker.routing.DurableLog.Replayer> source)
    {
        replicas.put(nodeId, source);
    }

    /** Whether {@link ClusterLink#dropReplica} was called for {@code nodeId} (by its heir). */
    boolean replicaDropped(final int nodeId)
    {
        return droppedReplicas.contains(nodeId);
    }

    /** The owner's epoch of {@code clientId} in the registry, or 0. */
    long epoch(final String clientId)
    {
        synchronized (lock)
        {
            final long[] owner = owners.get(clientId);
            return owner == null ? 0 : owner[1];
        }
    }

    /** The count of {@code filter} on {@code nodeId} in the registry. */
    int routeCount(final String filter, final int nodeId)
    {
        synchronized (lock)
        {
            final Map<Integer, Integer> counts = routes.get(filter);
            return counts == null ? 0 : counts.getOrDefault(nodeId, 0);
        }
    }

    private boolean command(final Link link, final Runnable command)
    {
        synchronized (lock)
        {
            if (refuseCommands || !link.up)
            {
                return false;
            }
            if (holdCommits)
            {
                held.add(command);
            }
            else
            {
                command.run();
            }
            return true;
        }
    }

    private void broadcast(final Consumer<ClusterLink.Events> event)
    {
        history.add(event);
        for (final Link link : links)
        {
            link.enqueue(event);
        }
    }

    /** As the registry: the next live node id above {@code nodeId}, wrapping round; NO_NODE when none. */
    int buddyOf(final int nodeId)
    {
        synchronized (lock)
        {
            int above = Integer.MAX_VALUE;
            int lowest = Integer.MAX_VALUE;
            for (final Link link : links)
            {
                if (link.up && link.nodeId() != nodeId)
                {
                    lowest = Math.min(lowest, link.nodeId());
                    if (link.nodeId() > nodeId)
                    {
                        above = Math.min(above, link.nodeId());
                    }
                }
            }
            return above != Integer.MAX_VALUE ? above : lowest != Integer.MAX_VALUE ? lowest : ClusterLink.NO_NODE;
        }
    }

    private Link linkOf(final int nodeId)
    {
        for (final Link link : links)
        {
            if (link.nodeId == nodeId)
            {
                return link;
            }
        }
        throw new IllegalArgumentException("no node " + nodeId);
    }

    private void dropRoutes(final int nodeId)
    {
        for (final Map.Entry<String, Map<Integer, Integer>> entry : routes.entrySet())
        {
            final Integer count = entry.getValue().remove(nodeId);
            if (count != null && count > 0)
            {
                final String filter = entry.getKey();
                broadcast((events) -> events.onRoute(filter, nodeId, false));
            }
        }
    }

    final class Link implements ClusterLink
    {
        final int nodeId;
        final ConcurrentLinkedQueue<Consumer<Events>> inbox = new ConcurrentLinkedQueue<>();
        volatile boolean up;
        /** While set, this node takes nothing in (committed events and peer messages wait): a node that lags. */
        volatile boolean paused;
        /** While set, {@link #send} refuses every peer message (back pressure, as Aeron's offer says). */
        volatile boolean refuseSends;
        /** While set, peer messages sent TO this node are lost in flight (the sender's send still succeeds). */
        volatile boolean losePeerMessages;
        /** What {@link #isFenced} says: a test fences the node by hand (FencingTest). */
        volatile boolean fenced;
        /** Calls of {@link #poll}: one per duty cycle of the node's routing agent. */
        final AtomicInteger polls = new AtomicInteger();
        private volatile boolean started;
        /** Events taken off {@link #inbox} and fully handled. */
        private final AtomicInteger handled = new AtomicInteger();
        private final AtomicInteger queued = new AtomicInteger();

        /** Whether the node has handled everything committed or sent to it so far. */
        boolean caughtUp()
        {
            return handled.get() == queued.get();
        }

        void enqueue(final Consumer<Events> event)
        {
            queued.incrementAndGet();
            inbox.add(event);
        }

        Link(final int nodeId)
        {
            this.nodeId = nodeId;
        }

        public int nodeId()
        {
            return nodeId;
        }

        @Override
        public boolean isFenced()
        {
            return fenced;
        }

        public boolean claim(final long correlationId, final String clientId)
        {
            return command(this, () ->
            {
                claims.incrementAndGet();
                wills.remove(clientId); // the client connected again: its old will never goes from the registry
                final long epoch = ++epochs;
                final long[] previous = owners.put(clientId, new long[] {nodeId, epoch});
                final int previousNode = previous == null ? NO_NODE : (int)previous[0];
                final long previousEpoch = previous == null ? 0 : previous[1];
                history.add((events) ->
                    events.onClaimed(0, clientId, nodeId, epoch, previousNode, previousEpoch));
                for (final Link link : links)
                {
                    final long correlation = link == this ? correlationId : 0;
                    link.enqueue((events) ->
                        events.onClaimed(correlation, clientId, nodeId, epoch, previousNode, previousEpoch));
                }
            });
        }

        public boolean claimIf(final String clientId, final long expectedEpoch)
        {
            return command(this, () ->
            {
                final long[] current = owners.get(clientId);
                if (current == null || current[1] != expectedEpoch)
                {
                    return; // the owner changed: nothing commits
                }
                claims.incrementAndGet();
                final long epoch = ++epochs;
                owners.put(clientId, new long[] {nodeId, epoch});
                final int previousNode = (int)current[0];
                final long previousEpoch = current[1];
                broadcast((events) -> events.onClaimed(0, clientId, nodeId, epoch, previousNode, previousEpoch));
            });
        }

        public boolean release(final String clientId, final long epoch)
        {
            return command(this, () ->
            {
                final long[] owner = owners.get(clientId);
                final Will will = wills.get(clientId);
                if (will != null && will.epoch == epoch && will.node == nodeId && will.dueMs == Long.MAX_VALUE)
                {
                    wills.remove(clientId);
                }
                if (owner != null && owner[1] == epoch && owner[0] == nodeId)
                {
                    owners.remove(clientId);
                    broadcast((events) -> events.onReleased(clientId, nodeId, epoch));
                }
            });
        }

        public boolean addRoute(final long correlationId, final String filter)
        {
            return command(this, () ->
            {
                routeAdds.computeIfAbsent(filter + "@" + nodeId, (k) -> new AtomicInteger()).incrementAndGet();
                final int count = routes.computeIfAbsent(filter, (k) -> new HashMap<>()).merge(nodeId, 1, Integer::sum);
                if (count == 1)
                {
                    broadcast((events) -> events.onRoute(filter, nodeId, true));
                }
                enqueue((events) -> events.onRouteCommitted(correlationId));
            });
        }

        public boolean removeRoute(final long correlationId, final String filter)
        {
            return command(this, () ->
            {
                final Map<Integer, Integer> counts = routes.get(filter);
                final Integer count = counts == null ? null : counts.get(nodeId);
                if (count != null && count > 0)
                {
                    if (count == 1)
                    {
                        counts.remove(nodeId);
                        broadcast((events) -> events.onRoute(filter, nodeId, false));
                    }
                    else
                    {
                        counts.put(nodeId, count - 1);
                    }
                }
                enqueue((events) -> events.onRouteCommitted(correlationId));
            });
        }

        public boolean setRetained(final DirectBuffer message, final int offset, final int length)
        {
            final byte[] copy = new byte[length];
            message.getBytes(offset, copy);
            return command(this, () ->
            {
                final UnsafeBuffer view = new UnsafeBuffer(copy);
                final String topic = view.getStringWithoutLengthUtf8(
                    MessageLayout.topicOffset(0), MessageLayout.topicLength(view, 0));
                if (MessageLayout.payloadLength(view, 0) == 0)
                {
                    retained.remove(topic);
                }
                else
                {
                    retained.put(topic, copy);
                }
                broadcast((events) -> events.onRetained(nodeId, view, 0, copy.length));
            });
        }

        public boolean setWill(
            final String clientId, final long epoch, final long willDelaySeconds, final long sessionExpirySeconds,
            final DirectBuffer message, final int offset, final int length)
        {
            final byte[] copy = new byte[length];
            message.getBytes(offset, copy);
            return command(this, () ->
            {
                final long[] owner = owners.get(clientId);
                final Will old = wills.get(clientId);
                if (length == 0)
                {
                    if (old != null && old.node == nodeId && old.epoch == epoch && old.dueMs == Long.MAX_VALUE)
                    {
                        wills.remove(clientId);
                    }
                }
                else if (owner != null && owner[0] == nodeId && owner[1] == epoch)
                {
                    willsSet.incrementAndGet();
                    wills.put(clientId, new Will(nodeId, epoch,
                        TimeUnit.SECONDS.toMillis(Math.min(willDelaySeconds, sessionExpirySeconds)), copy));
                }
            });
        }

        public boolean send(final int toNodeId, final int type, final DirectBuffer buffer, final int offset,
            final int length)
        {
            final byte[] copy = new byte[length];
            buffer.getBytes(offset, copy);
            synchronized (lock)
            {
                final Link to = linkOf(toNodeId);
                if (!up || !to.up || toNodeId == nodeId || refuseSends)
                {
                    return false;
                }
                if (to.losePeerMessages)
                {
                    return true;
                }
                if (type != ROUTE_ACK && type != FORWARD_CONFIRM)
                {
                    peerMessages.computeIfAbsent(nodeId + ">" + toNodeId, (k) -> new AtomicInteger())
                        .incrementAndGet();
                }
                to.enqueue((events) -> events.onPeerMessage(nodeId, type, new UnsafeBuffer(copy), 0, copy.length));
                return true;
            }
        }

        public boolean replayReplica(final int deadNodeId, final DurableLog.Replayer replayer)
        {
            final Consumer<DurableLog.Replayer> source = replicas.get(deadNodeId);
            if (source != null)
            {
                source.accept(replayer);
                return true;
            }
            final java.nio.file.Path journal = journals.get(deadNodeId);
            if (journal == null)
            {
                return false;
            }
            replicaReplays.computeIfAbsent(deadNodeId, (k) -> new AtomicInteger()).incrementAndGet();
            final ChronicleJournal replica = new ChronicleJournal(journal, false);
            try
            {
                replica.replay(replayer::onRecord);
            }
            finally
            {
                replica.close();
            }
            return true;
        }

        public void dropReplica(final int nodeId)
        {
            droppedReplicas.add(nodeId);
        }

        public boolean hasWork()
        {
            return !started || (!paused && !inbox.isEmpty());
        }

        public int poll(final Events events, final int limit)
        {
            polls.incrementAndGet();
            if (!started)
            {
                synchronized (lock)
                {
                    if (!started)
                    {
                        started = true;
                        dropRoutes(nodeId);
                        up = true;
                        broadcast((e) -> e.onNodeUp(nodeId));
                    }
                }
            }
            int count = 0;
            Consumer<Events> event;
            while (count < limit && !paused && (event = inbox.poll()) != null)
            {
                event.accept(events);
                handled.incrementAndGet();
                count++;
            }
            return count;
        }
    }
}
