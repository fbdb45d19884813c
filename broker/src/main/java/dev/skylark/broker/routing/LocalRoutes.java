package dev.skylark.broker.routing;

import java.lang.System.Logger.Level;
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
 * in flight, come no later. Owned by the routing agent's thread.
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

    private final ClusterLink link;
    private final Map<String, Route> routes = new HashMap<>();
    /** Filters whose route change could not be queued: retried until the registry matches {@link #routes}. */
    private final ArrayList<String> retry = new ArrayList<>();
    private long lastIssued;
    private long lastCommitted;

    LocalRoutes(final ClusterLink link)
    {
        this.link = link;
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

    private boolean add(final String filter, final Route route)
    {
        if (!link.addRoute(lastIssued + 1, filter))
        {
            LOG.log(Level.DEBUG, "cluster: a route could not be queued (no leader or back pressure)");
            return false;
        }
        lastIssued++;
        route.announced = true;
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
