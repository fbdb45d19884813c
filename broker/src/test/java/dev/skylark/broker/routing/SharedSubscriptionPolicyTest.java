package dev.skylark.broker.routing;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SharedSubscriptionPolicyTest
{
    private static final UnsafeBuffer TOPIC = new UnsafeBuffer("t/x".getBytes(StandardCharsets.UTF_8));

    private static TopicTree treeWithMembers(final SharedSubscriptionPolicy policy, final int members)
    {
        final TopicTree tree = new TopicTree(policy);
        for (int sessionId = 1; sessionId <= members; sessionId++)
        {
            tree.subscribe("$share/g/t/#", sessionId, SubscriptionOptions.ofQos(1), 0);
        }
        return tree;
    }

    private static int chosen(final TopicTree tree, final int publisher, final SessionAvailability availability)
    {
        final MatchResult result = new MatchResult();
        tree.match(TOPIC, 0, TOPIC.capacity(), publisher, result, availability);
        assertEquals(1, result.size());
        return result.sessionId(0);
    }

    @Test
    void stickyKeepsEachPublisherOnOneMemberAndSpreadsPublishers()
    {
        final TopicTree tree = treeWithMembers(SharedSubscriptionPolicy.STICKY_BY_PUBLISHER, 3);
        final Map<Integer, Integer> memberOfPublisher = new HashMap<>();
        for (int round = 0; round < 5; round++)
        {
            for (int publisher = 100; publisher < 120; publisher++)
            {
                final int member = chosen(tree, publisher, SessionAvailability.ALL);
                final Integer previous = memberOfPublisher.put(publisher, member);
                assertTrue(previous == null || previous == member, "publisher " + publisher + " moved");
            }
        }
        assertEquals(3, new HashSet<>(memberOfPublisher.values()).size(), "publishers spread over all members");
    }

    @Test
    void stickyMovesToAnotherMemberWhenItsMemberIsUnavailable()
    {
        final TopicTree tree = treeWithMembers(SharedSubscriptionPolicy.STICKY_BY_PUBLISHER, 3);
        final int usual = chosen(tree, 7, SessionAvailability.ALL);
        final int other = chosen(tree, 7, (sessionId) -> sessionId != usual);
        assertTrue(other != usual);
        assertEquals(usual, chosen(tree, 7, SessionAvailability.ALL), "and back once it is available again");
    }

    @Test
    void leastInFlightPicksTheMemberWithTheSmallestBacklog()
    {
        final TopicTree tree = treeWithMembers(SharedSubscriptionPolicy.LEAST_IN_FLIGHT, 3);
        final Map<Integer, Integer> backlog = new HashMap<>(Map.of(1, 5, 2, 0, 3, 9));
        final SessionAvailability availability = new SessionAvailability()
        {
            public boolean isAvailable(final int sessionId)
            {
                return true;
            }

            public int backlog(final int sessionId)
            {
                return backlog.get(sessionId);
            }
        };
        assertEquals(2, chosen(tree, 1, availability));
        backlog.put(2, 10);
        assertEquals(1, chosen(tree, 1, availability));

        // Equal backlogs: turns are taken.
        backlog.replaceAll((k, v) -> 0);
        final Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 3; i++)
        {
            seen.add(chosen(tree, 1, availability));
        }
        assertEquals(Set.of(1, 2, 3), seen);
    }

    @Test
    void policiesAreNamedInConfiguration()
    {
        assertEquals(SharedSubscriptionPolicy.ROUND_ROBIN, SharedSubscriptionPolicy.named("round-robin"));
        assertEquals(SharedSubscriptionPolicy.STICKY_BY_PUBLISHER, SharedSubscriptionPolicy.named("sticky"));
        assertEquals(SharedSubscriptionPolicy.LEAST_IN_FLIGHT, SharedSubscriptionPolicy.named("least-in-flight"));
    }
}
