package dev.skylark.broker.routing;

import org.agrona.collections.IntHashSet;

import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * This node's subscribers per topic filter, as the cluster registry must know them: only a filter's first
 * subscriber here ({@link ClusterLink#addRoute}) and its last ({@link ClusterLink#removeRoute}) reach the registry.
 * Told of every subscription added or removed by the {@link TopicTree} ({@link TopicTree.FilterListener}); a
 * SUBSCRIBE {@link #announce announces} a filter new to this node before it subscribes, so a route that cannot be
 * queued refuses that entry. Changes that could not be queued otherwise (journal replay, a re-add after the node
 * rejoined) are retried on later duty cycles.
 * <p>
 * Route changes are correlated with increasing ids and committed in the order they were issued, so a SUBACK waits
 * for {@link #lastIssued()} to be {@link #isCommitted committed}: its own adds, and any add of the same filter still
 * in flight, come no later.
 * <p>
 * A route change that commits is not yet applied by every node: a publisher on another node would miss the
 * subscriber until that node's routing agent has taken the {@link ClusterLink.Events#onRoute onRoute} in. So an
 * add that makes this node's route appear (0 to 1 in the registry) also waits until every node that was live when it
 * committed has acknowledged applying it ({@link #onRouteAck}, a {@link #ROUTE_ACK} peer message each node sends
 * after applying another node's route) or has gone down ({@link #onNodeDown}); a node that does not answer is waited
 * for at most {@link #ROUTE_ACK_WAIT_MS} (logged, counted). {@link #isSettled} is what a SUBACK waits for. Owned by
 * the routing agent's thread.
 */
final class LocalRoutes implements TopicTree.FilterListener
{
    private static final System.Logger LOG = System.getLogger(LocalRoutes.class.getName());

    /** One filter with subscribers here (or being announced). */
    private static final class Route
    {
        int count;
        /** Whether the registry has (or will have, once committed) this node's route. */
        boolean announced;
    }

    /** Peer message type: "I have applied your route of this filter" (the filter's UTF-8 bytes). */
    static final int ROUTE_ACK = 5;
    /** The longest a committed route add waits for a live node's acknowledgement. */
    static final long ROUTE_ACK_WAIT_MS = 3_000;

    /** A route add whose commit, and the acknowledgements of the nodes live then, a SUBACK waits for. */
    private static final class Wait
    {
        final String filter;
        final long correlationId;
        /** Nodes whose acknowledgement is still awaited (after the commit). */
        final IntHashSet awaiting = new IntHashSet();
        /** Nodes that acknowledged before this node saw its own commit. */
        final IntHashSet ackedEarly = new IntHashSet();
        boolean committed;
        boolean done;
        long deadlineNs;

        Wait(final String filter, final long correlationId)
        {
            this.filter = filter;
            this.correlationId = correlationId;
        }
    }

    private final ClusterLink link;
    private final int self;
    private final Map<String, Route> routes = new HashMap<>();
    /** Route adds not yet settled, in the order they were issued; the same ones by filter (the latest). */
    private final ArrayDeque<Wait> waits = new ArrayDeque<>();
    private final Map<String, Wait> waitsByFilter = new HashMap<>();
    private IntHashSet nodesUp = new IntHashSet();
    private org.agrona.concurrent.CachedNanoClock clock;
    private org.agrona.concurrent.status.AtomicCounter ackTimeouts;
    /** Filters whose route change could not be queued: retried until the registry matches {@link #routes}. */
    private final ArrayList<String> retry = new ArrayList<>();
    private long lastIssued;
    private long lastCommitted;

    LocalRoutes(final ClusterLink link)
    {
        this.link = link;
        this.self = link.nodeId();
    }

    /**
     * Waits for other nodes' acknowledgements of this node's new routes: {@code nodesUp} are the nodes the registry
     * says are up (kept by the caller), {@code ackTimeouts} counts nodes that did not answer in time.
     */
    void awaitAcks(
        final IntHashSet nodesUp,
        final org.agrona.concurrent.CachedNanoClock clock,
        final org.agrona.concurrent.status.AtomicCounter ackTimeouts)
    {
        this.nodesUp = nodesUp;
        this.clock = clock;
        this.ackTimeouts = ackTimeouts;
    }

    /**
     * Before a SUBSCRIBE adds {@code filter}: makes sure the registry will route it here.
     *
     * @return false when the route change cannot be queued now (the entry is refused).
     */
    boolean announce(final String filter)
    {
        Route route = routes.get(filter);
        if (route != null && route.announced)
        {
            return true;
        }
        if (route == null)
        {
            route = new Route();
            if (!add(filter, route))
            {
                return false;
            }
            routes.put(filter, route);
            return true;
        }
        return add(filter, route);
    }

    public void onFilterAdded(final String filter)
    {
        Route route = routes.get(filter);
        if (route == null)
        {
            route = new Route();
            routes.put(filter, route);
        }
        if (++route.count == 1 && !route.announced && !add(filter, route))
        {
            retry.add(filter);
        }
    }

    public void onFilterRemoved(final String filter)
    {
        final Route route = routes.get(filter);
        if (route == null)
        {
            return;
        }
        if (--route.count <= 0)
        {
            if (!route.announced)
            {
                routes.remove(filter);
            }
            else if (remove(filter, route))
            {
                routes.remove(filter);
            }
            else
            {
                retry.add(filter);
            }
        }
    }

    /**
     * This node (re)joined: the registry dropped every route it held for it, so each filter with subscribers here
     * is added again.
     */
    void onNodeUp()
    {
        for (final Map.Entry<String, Route> entry : routes.entrySet())
        {
            final Route route = entry.getValue();
            route.announced = false;
            if (route.count > 0 && !add(entry.getKey(), route))
            {
                retry.add(entry.getKey());
            }
        }
    }

    void onRouteCommitted(final long correlationId)
    {
        if (correlationId > lastCommitted)
        {
            lastCommitted = correlationId;
        }
        // An add committed with no onRoute of this node first did not make the route appear: nothing to wait for.
        for (final Wait wait : waits)
        {
            if (wait.correlationId > correlationId)
            {
                break;
            }
            if (!wait.committed)
            {
                finish(wait);
            }
        }
        pollWaits();
    }

    /**
     * The registry committed {@code nodeId}'s route of {@code filter} (0 to 1 when {@code present}). For this node's
     * own: the nodes live now must acknowledge it before the SUBACK.
     */
    void onRoute(final String filter, final int nodeId, final boolean present)
    {
        if (nodeId != self || !present || clock == null)
        {
            return;
        }
        final Wait wait = waitsByFilter.get(filter);
        if (wait == null || wait.committed)
        {
            return;
        }
        wait.committed = true;
        wait.deadlineNs = clock.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(ROUTE_ACK_WAIT_MS);
        for (final IntHashSet.IntIterator it = nodesUp.iterator(); it.hasNext(); )
        {
            final int node = it.nextValue();
            if (node != self && !wait.ackedEarly.contains(node))
            {
                wait.awaiting.add(node);
            }
        }
        if (wait.awaiting.isEmpty())
        {
            finish(wait);
        }
    }

    /** {@code fromNodeId} has applied this node's route of {@code filter}. */
    void onRouteAck(final int fromNodeId, final String filter)
    {
        final Wait wait = waitsByFilter.get(filter);
        if (wait == null)
        {
            return; // late (the wait timed out, or the node went down and came back): nothing waits for it
        }
        if (!wait.committed)
        {
            wait.ackedEarly.add(fromNodeId); // the peer applied the commit before this node saw it
        }
        else if (wait.awaiting.remove(fromNodeId) && wait.awaiting.isEmpty())
        {
            finish(wait);
        }
    }

    /** A node left: no route add waits for it any more. */
    void onNodeDown(final int nodeId)
    {
        for (final Wait wait : waits)
        {
            if (wait.committed && !wait.done && wait.awaiting.remove(nodeId) && wait.awaiting.isEmpty())
            {
                finish(wait);
            }
        }
    }

    /** Whether a SUBACK issued after route change {@code correlationId} may go: committed and acknowledged. */
    boolean isSettled(final long correlationId)
    {
        pollWaits();
        final Wait oldest = waits.peekFirst();
        return isCommitted(correlationId) && (oldest == null || oldest.correlationId > correlationId);
    }

    /** Drops the settled waits at the head, and gives up on nodes that did not answer in time. */
    private void pollWaits()
    {
        Wait wait;
        while ((wait = waits.peekFirst()) != null)
        {
            if (!wait.done && wait.committed && clock.nanoTime() - wait.deadlineNs >= 0)
            {
                ackTimeouts.incrementRelease();
                LOG.log(Level.WARNING, "cluster: node(s) " + wait.awaiting + " did not acknowledge a new route within " +
                    ROUTE_ACK_WAIT_MS + " ms; acknowledging the subscription anyway");
                finish(wait);
            }
            if (!wait.done)
            {
                return;
            }
            waits.pollFirst();
        }
    }

    private void finish(final Wait wait)
    {
        wait.done = true;
        wait.awaiting.clear();
        if (waitsByFilter.get(wait.filter) == wait)
        {
            waitsByFilter.remove(wait.filter);
        }
    }

    /** The last route change issued; a SUBACK or UNSUBACK waits for it to commit. */
    long lastIssued()
    {
        return lastIssued;
    }

    boolean isCommitted(final long correlationId)
    {
        return correlationId <= lastCommitted;
    }

    /** Filters with subscribers here. */
    int size()
    {
        return routes.size();
    }

    /** Retries route changes that could not be queued; returns how many went. */
    int retry()
    {
        if (retry.isEmpty())
        {
            return 0;
        }
        int done = 0;
        for (int i = retry.size() - 1; i >= 0; i--)
        {
            final String filter = retry.get(i);
            final Route route = routes.get(filter);
            boolean settled = true;
            if (route != null)
            {
                if (route.count > 0 && !route.announced)
                {
                    settled = add(filter, route);
                }
                else if (route.count <= 0 && route.announced)
                {
                    settled = remove(filter, route);
                    if (settled)
                    {
                        routes.remove(filter);
                    }
                }
                else if (route.count <= 0)
                {
                    routes.remove(filter);
                }
            }
            if (!settled)
            {
                return done; // still no room: try again on a later duty cycle
            }
            retry.remove(i);
            done++;
        }
        return done;
    }

    /**
     * Removes one route reference of {@code filter} this node inherited from a dead node ({@link HeirTakeover}): the
     * registry counts it beside this node's own subscribers, whose route adds (queued before, or retried) must go
     * first so the count never touches 0 on the way.
     *
     * @return false when it cannot go now (an add of this node waits for a retry, or no room): try again later.
     */
    boolean releaseInherited(final String filter)
    {
        if (!retry.isEmpty() || !link.removeRoute(lastIssued + 1, filter))
        {
            return false;
        }
        lastIssued++;
        return true;
    }

    private boolean add(final String filter, final Route route)
    {
        if (!link.addRoute(lastIssued + 1, filter))
        {
            LOG.log(Level.DEBUG, "cluster: a route could not be queued (no leader or back pressure)");
            return false;
        }
        lastIssued++;
        route.announced = true;
        if (clock != null)
        {
            final Wait wait = new Wait(filter, lastIssued);
            final Wait previous = waitsByFilter.put(filter, wait);
            if (previous != null && !previous.done)
            {
                previous.done = true; // an earlier add of the filter is superseded: this one's acknowledgements count
            }
            waits.addLast(wait);
        }
        return true;
    }

    private boolean remove(final String filter, final Route route)
    {
        if (!link.removeRoute(lastIssued + 1, filter))
        {
            return false;
        }
        lastIssued++;
        route.announced = false;
        return true;
    }
}
