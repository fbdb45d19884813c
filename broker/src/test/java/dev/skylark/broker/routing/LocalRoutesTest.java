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
}
