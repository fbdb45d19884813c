package dev.skylark.broker.it;

import dev.skylark.broker.routing.ClusterLink;
import dev.skylark.broker.routing.MessageLayout;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
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
    /** Peer messages sent, per "from>to", route acknowledgements apart. */
    final Map<String, AtomicInteger> peerMessages = new java.util.concurrent.ConcurrentHashMap<>();

    volatile boolean refuseCommands;
    private final Map<Integer, Consumer<dev.skylark.broker.routing.DurableLog.Replayer>> replicas =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Set<Integer> droppedReplicas = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private boolean holdCommits;

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

        public boolean claim(final long correlationId, final String clientId)
        {
            return command(this, () ->
            {
                claims.incrementAndGet();
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

        public boolean release(final String clientId, final long epoch)
        {
            return command(this, () ->
            {
                final long[] owner = owners.get(clientId);
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
                if (type != ROUTE_ACK)
                {
                    peerMessages.computeIfAbsent(nodeId + ">" + toNodeId, (k) -> new AtomicInteger())
                        .incrementAndGet();
                }
                to.enqueue((events) -> events.onPeerMessage(nodeId, type, new UnsafeBuffer(copy), 0, copy.length));
                return true;
            }
        }

        public boolean replayReplica(final int nodeId, final dev.skylark.broker.routing.DurableLog.Replayer replayer)
        {
            final Consumer<dev.skylark.broker.routing.DurableLog.Replayer> source = replicas.get(nodeId);
            if (source == null)
            {
                return false;
            }
            source.accept(replayer);
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
