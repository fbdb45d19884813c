package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** This node's subscribers per filter: only a filter's first and last reach the registry; refused changes retry. */
class LocalRoutesTest
{
    /** Records route commands; refuses them while {@link #refuse} is set. */
    private static final class RecordingLink implements ClusterLink
    {
        final List<String> commands = new ArrayList<>();
        boolean refuse;

        public int nodeId()
        {
            return 1;
        }

        public boolean claim(final long correlationId, final String clientId)
        {
            return true;
        }

        public boolean release(final String clientId, final long epoch)
        {
            return true;
        }

        public boolean addRoute(final long correlationId, final String filter)
        {
            return !refuse && commands.add("+" + filter + "#" + correlationId);
        }

        public boolean removeRoute(final long correlationId, final String filter)
        {
            return !refuse && commands.add("-" + filter + "#" + correlationId);
        }

        public boolean setRetained(final DirectBuffer message, final int offset, final int length)
        {
            return true;
        }

        public boolean send(final int nodeId, final int type, final DirectBuffer buffer, final int offset,
            final int length)
        {
            return true;
        }

        public boolean hasWork()
        {
            return false;
        }

        public int poll(final Events events, final int limit)
        {
            return 0;
        }
    }

    @Test
    void onlyTheFirstAndLastSubscriberOfAFilterReachTheRegistry()
    {
        final RecordingLink link = new RecordingLink();
        final LocalRoutes routes = new LocalRoutes(link);
        final TopicTree tree = new TopicTree();
        tree.filterListener(routes);
        tree.subscribe("a/+", 1, 1, 0);
        tree.subscribe("a/+", 2, 1, 0);
        tree.subscribe("a/+", 2, 2, 0); // replaces: no change
        tree.subscribe("$share/g/a/+", 3, 1, 0);
        assertEquals(List.of("+a/+#1", "+$share/g/a/+#2"), link.commands);
        tree.unsubscribe("a/+", 1);
        assertEquals(2, link.commands.size(), "one subscriber left: nothing to tell");
        tree.removeSession(2);
        tree.removeSession(3);
        assertEquals(List.of("+a/+#1", "+$share/g/a/+#2", "-a/+#3", "-$share/g/a/+#4"), link.commands);
        assertEquals(0, routes.size());
        assertFalse(routes.isCommitted(routes.lastIssued()));
        routes.onRouteCommitted(4);
        assertTrue(routes.isCommitted(routes.lastIssued()));
    }

    @Test
    void aChangeTheLinkRefusesIsRetriedAndARejoinAddsEveryRouteAgain()
    {
        final RecordingLink link = new RecordingLink();
        final LocalRoutes routes = new LocalRoutes(link);
        final TopicTree tree = new TopicTree();
        tree.filterListener(routes);
        link.refuse = true;
        assertFalse(routes.announce("x"), "a SUBSCRIBE entry is refused when the route cannot be queued");
        tree.subscribe("y", 1, 1, 0); // e.g. the journal's replay: retried later
        assertEquals(0, routes.retry(), "still refused");
        link.refuse = false;
        assertEquals(1, routes.retry());
        assertEquals(List.of("+y#1"), link.commands);
        assertTrue(routes.announce("z"));
        tree.subscribe("z", 1, 1, 0);
        assertEquals(List.of("+y#1", "+z#2"), link.commands, "announced once, not again by the tree");
        routes.onNodeUp();
        assertEquals(java.util.Set.of("+y", "+z"), java.util.Set.of(
            link.commands.get(2).split("#")[0], link.commands.get(3).split("#")[0]),
            "both filters added again after the registry dropped them");
        assertEquals(4, link.commands.size());
    }

    @Test
    void aNewRouteSettlesOnceEveryNodeLiveAtItsCommitAcknowledgedItEarlyOrLateOrWentDown()
    {
        final RecordingLink link = new RecordingLink();
        final LocalRoutes routes = new LocalRoutes(link);
        final org.agrona.collections.IntHashSet up = new org.agrona.collections.IntHashSet();
        up.add(1);
        up.add(2);
        up.add(3);
        up.add(4);
        final org.agrona.concurrent.CachedNanoClock clock = new org.agrona.concurrent.CachedNanoClock();
        final org.agrona.concurrent.status.AtomicCounter timeouts = new org.agrona.concurrent.status.AtomicCounter(
            new org.agrona.concurrent.UnsafeBuffer(new byte[64]), 0);
        routes.awaitAcks(up, clock, timeouts);
        assertTrue(routes.announce("a"));
        final long add = routes.lastIssued();
        routes.onRouteAck(2, "a"); // node 2 applied the commit before this node saw it
        routes.onRoute("a", 1, true);
        routes.onRouteCommitted(add);
        assertTrue(routes.isCommitted(add));
        assertFalse(routes.isSettled(add), "nodes 3 and 4 have not acknowledged");
        routes.onRouteAck(3, "a");
        assertFalse(routes.isSettled(add), "node 4 has not acknowledged");
        routes.onNodeDown(4);
        assertTrue(routes.isSettled(add), "node 4 went down");

        // An add that did not make the route appear (no onRoute of this node) waits for nothing more.
        assertTrue(routes.announce("b"));
        routes.onRouteCommitted(routes.lastIssued());
        assertTrue(routes.isSettled(routes.lastIssued()));

        // A node that never answers is waited for at most ROUTE_ACK_WAIT_MS, counted.
        assertTrue(routes.announce("c"));
        routes.onRoute("c", 1, true);
        routes.onRouteCommitted(routes.lastIssued());
        clock.update(clock.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(
            LocalRoutes.ROUTE_ACK_WAIT_MS) - 1);
        assertFalse(routes.isSettled(routes.lastIssued()), "1 ns before the bound");
        assertEquals(0, timeouts.get());
        clock.update(clock.nanoTime() + 1);
        assertTrue(routes.isSettled(routes.lastIssued()), "at the bound");
        assertEquals(1, timeouts.get());
    }
}
