package dev.skylark.broker.routing;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import static dev.skylark.broker.routing.SubscriptionOptions.ofQos;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shared groups on a filter are found by name through an index, not a scan, and a publish looks only at the groups
 * on the filters it matches (issue #15): counted with {@link TopicTree#groupsExamined()}, not timed.
 */
class SharedGroupIndexTest
{
    private static final int GROUPS = 10_000;

    private final TopicTree tree = new TopicTree();
    private final MatchResult result = new MatchResult();

    @Test
    void tenThousandGroupsOnOneFilterDeliverOneCopyPerGroupAndAreFoundWithoutAScan()
    {
        for (int g = 0; g < GROUPS; g++)
        {
            tree.subscribe("$share/g" + g + "/a/b", g, ofQos(1), 0);
        }
        tree.subscribe("$share/g0/a/b", GROUPS, ofQos(1), 0); // a second member of group g0
        tree.subscribe("$share/other/a/c", GROUPS + 1, ofQos(1), 0);
        assertEquals(GROUPS, tree.sharedGroupCount("a/b"));
        assertEquals(1, tree.sharedGroupCount("$share/x/a/c"));
        assertEquals(0, tree.sharedGroupCount("x/y"));
        assertEquals(GROUPS + 1, tree.subscriberCount("a/b"), "members of every group on a/b, kept as a count");

        long before = tree.groupsExamined();
        assertFalse(tree.subscribe("$share/late/a/b", GROUPS + 2, ofQos(1), 0));
        assertTrue(tree.subscribe("$share/g" + (GROUPS - 1) + "/a/b", GROUPS - 1, ofQos(0), 0), "re-subscribe");
        assertTrue(tree.unsubscribe("$share/late/a/b", GROUPS + 2));
        assertTrue(tree.hasSharedGroup("$share/g123/a/b"));
        assertFalse(tree.hasSharedGroup("$share/late/a/b"));
        assertEquals(GROUPS + 1, tree.subscriberCount("$share/any/a/b"));
        assertTrue(tree.groupsExamined() - before <= 3,
            "join, re-join and leave among " + GROUPS + " groups looked at " + (tree.groupsExamined() - before));

        before = tree.groupsExamined();
        match("a/b");
        assertEquals(GROUPS, tree.groupsExamined() - before, "a publish to a/b looks at each of its groups once");
        assertEquals(GROUPS, result.size(), "one copy per group");
        final Set<String> groups = new HashSet<>();
        for (int i = 0; i < result.size(); i++)
        {
            assertTrue(result.isShared(i));
            assertTrue(groups.add(result.sharedGroup(i).name()), "group twice: " + result.sharedGroup(i).name());
        }

        before = tree.groupsExamined();
        match("a/c");
        assertEquals(1, tree.groupsExamined() - before, "a publish to a/c looks only at a/c's group");
        assertEquals(1, result.size());
        assertEquals(GROUPS + 1, result.sessionId(0));

        before = tree.groupsExamined();
        match("x/y");
        assertEquals(0, tree.groupsExamined() - before, "a publish matching no shared filter looks at no group");
        assertTrue(result.isEmpty());
    }

    @Test
    void groupsLeftEmptyAreRemovedFromTheIndex()
    {
        for (int g = 0; g < 100; g++)
        {
            tree.subscribe("$share/g" + g + "/a/b", g, ofQos(1), 0);
        }
        for (int g = 0; g < 100; g += 2)
        {
            assertTrue(tree.unsubscribe("$share/g" + g + "/a/b", g));
        }
        assertEquals(50, tree.sharedGroupCount("a/b"));
        assertEquals(50, tree.subscriberCount("a/b"));
        match("a/b");
        assertEquals(50, result.size());
        for (int g = 1; g < 100; g += 2)
        {
            assertTrue(tree.hasSharedGroup("$share/g" + g + "/a/b"));
            assertFalse(tree.hasSharedGroup("$share/g" + (g - 1) + "/a/b"));
        }
        for (int g = 1; g < 100; g += 2)
        {
            assertEquals(1, tree.removeSession(g));
        }
        assertEquals(0, tree.sharedGroupCount("a/b"));
        assertEquals(0, tree.nodeCount());
    }

    @Test
    void sharedSubscriptionsAreCountedPerSession()
    {
        tree.subscribe("$share/g1/a", 7, ofQos(1), 0);
        tree.subscribe("$share/g2/a", 7, ofQos(1), 0);
        tree.subscribe("$share/g1/b", 7, ofQos(1), 0);
        tree.subscribe("$share/g1/b", 7, ofQos(0), 0); // replaces: not a fourth
        tree.subscribe("a", 7, ofQos(1), 0);
        assertEquals(3, tree.sharedSubscriptionCount(7));
        assertEquals(0, tree.sharedSubscriptionCount(8));
        tree.unsubscribe("$share/g2/a", 7);
        assertEquals(2, tree.sharedSubscriptionCount(7));
        tree.removeSession(7);
        assertEquals(0, tree.sharedSubscriptionCount(7));
    }

    private void match(final String topic)
    {
        final byte[] bytes = topic.getBytes(StandardCharsets.UTF_8);
        tree.match(new UnsafeBuffer(bytes), 0, bytes.length, -1, result);
    }
}
