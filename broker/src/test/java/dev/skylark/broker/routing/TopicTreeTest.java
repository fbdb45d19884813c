package dev.skylark.broker.routing;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.skylark.broker.routing.SubscriptionOptions.ofQos;
import static dev.skylark.broker.routing.SubscriptionOptions.pack;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopicTreeTest
{
    private static final int NO_PUBLISHER = -1;

    private final TopicTree tree = new TopicTree();
    private final MatchResult result = new MatchResult();

    private static UnsafeBuffer buffer(final String topic)
    {
        return new UnsafeBuffer(topic.getBytes(StandardCharsets.UTF_8));
    }

    private MatchResult match(final String topic)
    {
        return match(topic, NO_PUBLISHER);
    }

    private MatchResult match(final String topic, final int publisher)
    {
        // Embed the topic at an offset in a larger buffer to check offset handling.
        final byte[] bytes = ("xx" + topic + "/yy").getBytes(StandardCharsets.UTF_8);
        final int length = topic.getBytes(StandardCharsets.UTF_8).length;
        tree.match(new UnsafeBuffer(bytes), 2, length, publisher, result);
        return result;
    }

    private Set<Integer> sessions(final String topic)
    {
        final MatchResult r = match(topic);
        final Set<Integer> sessions = new TreeSet<>();
        for (int i = 0; i < r.size(); i++)
        {
            assertTrue(sessions.add(r.sessionId(i)), "duplicate entry for session " + r.sessionId(i));
        }
        return sessions;
    }

    private boolean matches(final String filter, final String topic)
    {
        final TopicTree t = new TopicTree();
        t.subscribe(filter, 1, 0, 0);
        final byte[] bytes = topic.getBytes(StandardCharsets.UTF_8);
        t.match(new UnsafeBuffer(bytes), 0, bytes.length, NO_PUBLISHER, result);
        assertEquals(ReferenceMatcher.matches(filter, topic), result.size() == 1, "reference disagrees");
        return result.size() == 1;
    }

    @Test
    void specExamplesMultiLevelWildcard()
    {
        assertTrue(matches("sport/tennis/player1/#", "sport/tennis/player1"));
        assertTrue(matches("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
        assertTrue(matches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
        assertFalse(matches("sport/tennis/player1/#", "sport/tennis/player2"));
        assertFalse(matches("sport/tennis/player1/#", "sport/tennis"));
        assertTrue(matches("sport/#", "sport"));
        assertTrue(matches("#", "sport"));
        assertTrue(matches("#", "/"));
        assertTrue(matches("#", "a/b/c"));
    }

    @Test
    void specExamplesSingleLevelWildcard()
    {
        assertTrue(matches("sport/tennis/+", "sport/tennis/player1"));
        assertTrue(matches("sport/tennis/+", "sport/tennis/player2"));
        assertFalse(matches("sport/tennis/+", "sport/tennis/player1/ranking"));
        assertFalse(matches("sport/+", "sport"));
        assertTrue(matches("sport/+", "sport/"));
        assertTrue(matches("+/+", "/finance"));
        assertTrue(matches("/+", "/finance"));
        assertFalse(matches("+", "/finance"));
        assertTrue(matches("+", "finance"));
        assertTrue(matches("+/tennis/#", "sport/tennis"));
        assertTrue(matches("+/tennis/#", "sport/tennis/player1/ranking"));
        assertFalse(matches("+/tennis/#", "sport/golf"));
        assertTrue(matches("sport/+/player1", "sport/tennis/player1"));
        assertTrue(matches("+/+/+", "a//c"));
        assertFalse(matches("a/b", "a/b/"));
        assertFalse(matches("a/b", "a"));
        assertTrue(matches("a//b", "a//b"));
    }

    @Test
    void systemTopicsAreNotMatchedByLeadingWildcards()
    {
        assertFalse(matches("#", "$SYS/broker/clients"));
        assertFalse(matches("+/monitor/Clients", "$SYS/monitor/Clients"));
        assertFalse(matches("+", "$SYS"));
        assertFalse(matches("+/#", "$SYS"));
        assertTrue(matches("$SYS/#", "$SYS/monitor/Clients"));
        assertTrue(matches("$SYS/#", "$SYS"));
        assertTrue(matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
        assertTrue(matches("$SYS/+/Clients", "$SYS/monitor/Clients"));
        assertTrue(matches("a/+", "a/$b"));
        assertTrue(matches("a/#", "a/$b"));
    }

    @Test
    void shouldRejectInvalidFilters()
    {
        for (final String filter : List.of(
            "", "a/#/b", "a#", "a/b#", "+a", "a/+b", "$share/", "$share/g", "$share//a", "$share/g/", "$share/g+/a"))
        {
            assertThrows(IllegalArgumentException.class, () -> tree.subscribe(filter, 1, 0, 0), filter);
        }
        assertEquals(0, tree.subscriptionCount());
        assertEquals(0, tree.nodeCount());
    }

    @Test
    void shouldReportReplaceVersusNew()
    {
        assertFalse(tree.subscribe("a/b", 1, ofQos(0), 0));
        assertTrue(tree.subscribe("a/b", 1, ofQos(2), 7));
        assertFalse(tree.subscribe("a/b", 2, ofQos(1), 0));
        assertEquals(2, tree.subscriptionCount());

        final MatchResult r = match("a/b");
        assertEquals(2, r.size());
        final int e1 = r.sessionId(0) == 1 ? 0 : 1;
        assertEquals(2, r.maxQos(e1));
        assertEquals(1, r.subscriptionIdCount(e1));
        assertEquals(7, r.subscriptionId(e1, 0));
        assertEquals(0, r.subscriptionIdCount(1 - e1));
    }

    @Test
    void shouldMergeOverlappingSubscriptionsOfOneSession()
    {
        tree.subscribe("a/b/c", 1, ofQos(0), 11);
        tree.subscribe("a/+/c", 1, ofQos(2), 12);
        tree.subscribe("a/#", 1, pack(1, false, true, 0), 13);
        tree.subscribe("#", 1, ofQos(0), 0);
        tree.subscribe("a/b/c", 2, ofQos(1), 0);
        tree.subscribe("x/#", 1, ofQos(2), 14);

        final MatchResult r = match("a/b/c");
        assertEquals(2, r.size());
        final int e1 = r.sessionId(0) == 1 ? 0 : 1;
        assertEquals(1, r.sessionId(e1));
        assertEquals(2, r.maxQos(e1));
        assertTrue(r.retainAsPublished(e1));
        assertFalse(r.isShared(e1));
        final Set<Integer> ids = new TreeSet<>();
        for (int j = 0; j < r.subscriptionIdCount(e1); j++)
        {
            ids.add(r.subscriptionId(e1, j));
        }
        assertEquals(Set.of(11, 12, 13), ids);
        assertEquals(3, r.subscriptionIdCount(e1));
        assertEquals(2, r.sessionId(1 - e1));
        assertEquals(1, r.maxQos(1 - e1));
        assertFalse(r.retainAsPublished(1 - e1));
        assertEquals(0, r.subscriptionIdCount(1 - e1));
    }

    @Test
    void shouldSkipNoLocalSubscriptionsOfThePublisher()
    {
        tree.subscribe("chat/room", 1, pack(1, true, false, 0), 0);
        tree.subscribe("chat/#", 2, pack(1, true, false, 0), 0);
        tree.subscribe("chat/+", 1, ofQos(0), 5);

        assertEquals(Set.of(1, 2), sessions("chat/room"));

        final MatchResult fromOne = match("chat/room", 1);
        assertEquals(2, fromOne.size());
        for (int i = 0; i < fromOne.size(); i++)
        {
            if (fromOne.sessionId(i) == 1)
            {
                // the noLocal subscription is skipped, the plain one still delivers
                assertEquals(0, fromOne.maxQos(i));
                assertEquals(5, fromOne.subscriptionId(i, 0));
            }
        }

        final MatchResult fromTwo = match("chat/room", 2);
        assertEquals(1, fromTwo.size());
        assertEquals(1, fromTwo.sessionId(0));
        assertEquals(1, fromTwo.maxQos(0));
    }

    @Test
    void shouldUnsubscribeAndPrune()
    {
        tree.subscribe("a/b/c/d", 1, 0, 0);
        tree.subscribe("a/+/c", 1, 0, 0);
        tree.subscribe("a/#", 2, 0, 0);
        assertEquals(7, tree.nodeCount());

        assertFalse(tree.unsubscribe("a/b/c/d", 2));
        assertFalse(tree.unsubscribe("a/b/c", 1));
        assertFalse(tree.unsubscribe("a/b/x/y/z", 1));
        assertTrue(tree.unsubscribe("a/b/c/d", 1));
        assertFalse(tree.unsubscribe("a/b/c/d", 1));
        assertEquals(4, tree.nodeCount());
        assertEquals(Set.of(2), sessions("a/b/c/d"));
        assertEquals(Set.of(1, 2), sessions("a/b/c"));

        assertTrue(tree.unsubscribe("a/+/c", 1));
        assertTrue(tree.unsubscribe("a/#", 2));
        assertEquals(0, tree.nodeCount());
        assertEquals(0, tree.subscriptionCount());
        assertEquals(0, tree.sessionCount());
        assertEquals(Set.of(), sessions("a/b/c"));

        tree.subscribe("a/b", 1, 0, 0);
        assertEquals(Set.of(1), sessions("a/b"));
    }

    @Test
    void shouldTrackOneThenManyThenOneFilterOfASession()
    {
        // a session's only filter is kept without a set (issue #21); a second one makes the set, and back
        tree.subscribe("idle/1", 1, 0, 0);
        assertEquals(1, tree.subscriptionCount(1));
        assertTrue(tree.hasSubscription("idle/1", 1));
        assertFalse(tree.hasSubscription("idle/2", 1));
        assertTrue(tree.subscribe("idle/1", 1, 1, 0), "the same filter again replaces it");
        assertEquals(1, tree.subscriptionCount(1));

        tree.subscribe("idle/2", 1, 0, 0);
        assertEquals(2, tree.subscriptionCount(1));
        assertTrue(tree.unsubscribe("idle/1", 1));
        assertEquals(1, tree.subscriptionCount(1));
        final List<String> filters = new ArrayList<>();
        tree.forEachFilter(1, filters::add);
        assertEquals(List.of("idle/2"), filters);
        assertEquals(1, tree.sessionCount());

        assertFalse(tree.unsubscribe("idle/1", 1));
        assertTrue(tree.unsubscribe("idle/2", 1));
        assertEquals(0, tree.subscriptionCount(1));
        assertEquals(0, tree.sessionCount());
        assertEquals(0, tree.nodeCount());

        tree.subscribe("idle/3", 2, 0, 0);
        assertEquals(1, tree.removeSession(2));
        assertEquals(0, tree.removeSession(2));
        assertEquals(Set.of(), sessions("idle/3"));
        assertEquals(0, tree.sessionCount());
    }

    @Test
    void shouldRemoveSession()
    {
        tree.subscribe("a/b", 1, 0, 0);
        tree.subscribe("a/#", 1, 0, 0);
        tree.subscribe("$share/g/a/b", 1, 0, 0);
        tree.subscribe("x", 1, 0, 0);
        tree.subscribe("a/b", 2, 0, 0);
        assertEquals(4, tree.subscriptionCount(1));

        final List<String> filters = new ArrayList<>();
        tree.forEachFilter(1, filters::add);
        assertEquals(Set.of("a/b", "a/#", "$share/g/a/b", "x"), new HashSet<>(filters));

        assertEquals(4, tree.removeSession(1));
        assertEquals(0, tree.removeSession(1));
        assertEquals(1, tree.subscriptionCount());
        assertEquals(0, tree.subscriptionCount(1));
        assertEquals(Set.of(2), sessions("a/b"));
        assertEquals(Set.of(), sessions("x"));
        assertEquals(2, tree.nodeCount());
    }

    @Test
    void shouldHandleManySubscribersOnOneNode()
    {
        final int count = 1000;
        for (int s = 0; s < count; s++)
        {
            assertFalse(tree.subscribe("devices/+/telemetry", s, ofQos(1), 0));
        }
        for (int s = 0; s < count; s += 2)
        {
            assertTrue(tree.unsubscribe("devices/+/telemetry", s));
        }
        for (int s = 1; s < count; s += 2)
        {
            assertTrue(tree.subscribe("devices/+/telemetry", s, ofQos(2), 0));
        }
        assertEquals(count / 2, tree.subscriptionCount());
        final MatchResult r = match("devices/42/telemetry");
        assertEquals(count / 2, r.size());
        for (int i = 0; i < r.size(); i++)
        {
            assertEquals(1, r.sessionId(i) & 1);
            assertEquals(2, r.maxQos(i));
        }
    }

    @Test
    void shouldShareRoundRobinAcrossMembers()
    {
        tree.subscribe("$share/g/jobs/+", 1, ofQos(1), 0);
        tree.subscribe("$share/g/jobs/+", 2, ofQos(1), 0);
        assertFalse(tree.subscribe("$share/g/jobs/+", 3, ofQos(0), 9));
        assertTrue(tree.subscribe("$share/g/jobs/+", 3, ofQos(1), 9));
        tree.subscribe("$share/h/jobs/+", 4, ofQos(2), 0);
        tree.subscribe("jobs/+", 5, ofQos(0), 0);
        tree.subscribe("jobs/+", 1, ofQos(0), 0);
        assertEquals(6, tree.subscriptionCount());

        final Map<Integer, Integer> counts = new TreeMap<>();
        for (int n = 0; n < 30; n++)
        {
            final MatchResult r = match("jobs/x");
            assertEquals(4, r.size(), r.toString());
            int groupG = 0;
            int groupH = 0;
            for (int i = 0; i < r.size(); i++)
            {
                if (r.isShared(i))
                {
                    if (r.sharedGroup(i).name().equals("g"))
                    {
                        groupG++;
                        counts.merge(r.sessionId(i), 1, Integer::sum);
                        if (r.sessionId(i) == 3)
                        {
                            assertEquals(9, r.subscriptionId(i, 0));
                        }
                    }
                    else
                    {
                        groupH++;
                        assertEquals(4, r.sessionId(i));
                        assertEquals(2, r.maxQos(i));
                        assertEquals("jobs/+", r.sharedGroup(i).filter());
                    }
                }
            }
            assertEquals(1, groupG);
            assertEquals(1, groupH);
        }
        assertEquals(Map.of(1, 10, 2, 10, 3, 10), counts);

        assertTrue(tree.unsubscribe("$share/g/jobs/+", 2));
        assertFalse(tree.unsubscribe("$share/g/jobs/+", 2));
        assertFalse(tree.unsubscribe("$share/zz/jobs/+", 1));
        counts.clear();
        for (int n = 0; n < 10; n++)
        {
            final MatchResult r = match("jobs/x");
            for (int i = 0; i < r.size(); i++)
            {
                if (r.isShared(i) && r.sharedGroup(i).name().equals("g"))
                {
                    counts.merge(r.sessionId(i), 1, Integer::sum);
                }
            }
        }
        assertEquals(Map.of(1, 5, 3, 5), counts);
    }

    @Test
    void shouldSkipUnavailableSharedMembersWhileOneIsAvailable()
    {
        for (int s = 1; s <= 4; s++)
        {
            tree.subscribe("$share/workers/q", s, ofQos(1), 0);
        }

        final Set<Integer> online = new HashSet<>(Set.of(2, 4));
        final SessionAvailability availability = online::contains;
        final Map<Integer, Integer> counts = new TreeMap<>();
        final UnsafeBuffer topic = buffer("q");
        for (int n = 0; n < 20; n++)
        {
            tree.match(topic, 0, 1, NO_PUBLISHER, result, availability);
            assertEquals(1, result.size());
            counts.merge(result.sessionId(0), 1, Integer::sum);
        }
        assertEquals(Map.of(2, 10, 4, 10), counts);

        online.clear();
        counts.clear();
        for (int n = 0; n < 8; n++)
        {
            tree.match(topic, 0, 1, NO_PUBLISHER, result, availability);
            assertEquals(1, result.size(), "nobody online: still delivered to one member to queue");
            counts.merge(result.sessionId(0), 1, Integer::sum);
        }
        assertEquals(Map.of(1, 2, 2, 2, 3, 2, 4, 2), counts);
    }

    @Test
    void sharedAndPlainSubscriptionOfOneSessionAreSeparateEntries()
    {
        tree.subscribe("$share/g/t", 1, ofQos(1), 0);
        tree.subscribe("t", 1, ofQos(0), 0);
        final MatchResult r = match("t");
        assertEquals(2, r.size());
        assertEquals(1, r.sessionId(0));
        assertEquals(1, r.sessionId(1));
        assertTrue(r.isShared(0) != r.isShared(1));
    }

    @Test
    void subscriberCountOfAFilterIncludesEveryGroupOnIt()
    {
        assertEquals(0, tree.subscriberCount("a/b"));
        tree.subscribe("a/b", 1, ofQos(0), 0);
        tree.subscribe("$share/g/a/b", 2, ofQos(0), 0);
        tree.subscribe("$share/g/a/b", 3, ofQos(0), 0);
        tree.subscribe("$share/h/a/b", 1, ofQos(0), 0);
        tree.subscribe("a/+", 4, ofQos(0), 0);
        tree.subscribe("a/b/c", 5, ofQos(0), 0);
        assertEquals(4, tree.subscriberCount("a/b"));
        assertEquals(4, tree.subscriberCount("$share/x/a/b"), "the same filter, whatever the group");
        assertEquals(1, tree.subscriberCount("a/+"));
        assertEquals(0, tree.subscriberCount("a"), "an inner node without subscribers of its own");
        assertEquals(0, tree.subscriberCount("z/#"));
        tree.unsubscribe("$share/g/a/b", 2);
        assertEquals(3, tree.subscriberCount("a/b"));
    }

    @Test
    void matchShouldNotAllocate()
    {
        for (int s = 0; s < 200; s++)
        {
            tree.subscribe("devices/" + s + "/telemetry", s, ofQos(1), s + 1);
            tree.subscribe("devices/" + s + "/#", s, ofQos(0), 0);
        }
        tree.subscribe("devices/+/telemetry", 500, ofQos(2), 3);
        tree.subscribe("#", 501, ofQos(0), 0);
        tree.subscribe("$share/g/devices/+/telemetry", 502, ofQos(0), 0);
        tree.subscribe("$share/g/devices/+/telemetry", 503, ofQos(0), 0);

        final UnsafeBuffer[] topics = new UnsafeBuffer[200];
        for (int s = 0; s < topics.length; s++)
        {
            topics[s] = buffer("devices/" + s + "/telemetry");
        }

        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long threadId = Thread.currentThread().getId();
        long total = 0;
        for (int round = 0; round < 3; round++)
        {
            final long before = threads.getThreadAllocatedBytes(threadId);
            for (int n = 0; n < 20_000; n++)
            {
                final UnsafeBuffer topic = topics[n % topics.length];
                tree.match(topic, 0, topic.capacity(), NO_PUBLISHER, result);
                total += result.size();
            }
            final long allocated = threads.getThreadAllocatedBytes(threadId) - before;
            if (round == 2)
            {
                assertTrue(allocated < 1024, "match allocated " + allocated + " bytes");
            }
        }
        assertEquals(3 * 20_000 * 4, total);
    }

    @Test
    void randomizedAgainstReferenceMatcher()
    {
        final Random random = new Random(0x5EED);
        final String[] alphabet = { "a", "b", "c", "" };
        final Reference reference = new Reference();
        final int sessions = 12;

        for (int op = 0; op < 6000; op++)
        {
            final int action = random.nextInt(10);
            final int session = random.nextInt(sessions);
            if (action < 5)
            {
                String filter = randomFilter(random, alphabet);
                if (random.nextInt(8) == 0)
                {
                    filter = "$share/" + (random.nextBoolean() ? "g1" : "g2") + "/" + filter;
                }
                final int options = pack(random.nextInt(3), random.nextInt(4) == 0, random.nextBoolean(), 0);
                final int subscriptionId = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(100);
                assertEquals(reference.subscribe(filter, session, options, subscriptionId),
                    tree.subscribe(filter, session, options, subscriptionId), filter);
            }
            else if (action < 7)
            {
                final List<String> filters = reference.filtersOf(session);
                final String filter = filters.isEmpty() || random.nextInt(4) == 0 ?
                    randomFilter(random, alphabet) : filters.get(random.nextInt(filters.size()));
                assertEquals(reference.unsubscribe(filter, session), tree.unsubscribe(filter, session), filter);
            }
            else if (action < 8 && random.nextInt(10) == 0)
            {
                assertEquals(reference.removeSession(session), tree.removeSession(session));
            }
            else
            {
                final String topic = randomTopic(random, alphabet);
                final int publisher = random.nextInt(sessions + 1) - 1;
                match(topic, publisher);
                assertEquals(reference.expected(topic, publisher), actual(result), topic);
            }
            assertEquals(reference.size(), tree.subscriptionCount());
        }

        for (int s = 0; s < sessions; s++)
        {
            tree.removeSession(s);
        }
        assertEquals(0, tree.subscriptionCount());
        assertEquals(0, tree.nodeCount());
    }

    private static String randomFilter(final Random random, final String[] alphabet)
    {
        final int depth = 1 + random.nextInt(4);
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depth; i++)
        {
            if (i > 0)
            {
                sb.append('/');
            }
            final int r = random.nextInt(10);
            if (i == 0 && r == 0)
            {
                sb.append("$s");
            }
            else if (r < 3)
            {
                sb.append('+');
            }
            else if (r < 4 && i == depth - 1)
            {
                sb.append('#');
            }
            else
            {
                sb.append(alphabet[random.nextInt(alphabet.length)]);
            }
        }
        final String filter = sb.toString();
        return filter.isEmpty() ? "a" : filter;
    }

    private static String randomTopic(final Random random, final String[] alphabet)
    {
        final int depth = 1 + random.nextInt(4);
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depth; i++)
        {
            if (i > 0)
            {
                sb.append('/');
            }
            sb.append(i == 0 && random.nextInt(8) == 0 ? "$s" : alphabet[random.nextInt(alphabet.length)]);
        }
        return sb.toString();
    }

    /**
     * Canonical form of a match: plain entries as "session:qos:rap:sortedIds", shared ones as "share:filter".
     */
    private static Set<String> actual(final MatchResult r)
    {
        final Set<String> entries = new TreeSet<>();
        for (int i = 0; i < r.size(); i++)
        {
            if (r.isShared(i))
            {
                final SharedGroup group = r.sharedGroup(i);
                boolean member = false;
                for (int m = 0; m < group.memberCount(); m++)
                {
                    member |= group.memberSessionId(m) == r.sessionId(i);
                }
                assertTrue(member);
                assertTrue(entries.add("$share/" + group.name() + "/" + group.filter()));
            }
            else
            {
                final List<Integer> ids = new ArrayList<>();
                for (int j = 0; j < r.subscriptionIdCount(i); j++)
                {
                    ids.add(r.subscriptionId(i, j));
                }
                ids.sort(null);
                assertTrue(entries.add(r.sessionId(i) + ":" + r.maxQos(i) + ":" + r.retainAsPublished(i) + ":" + ids));
            }
        }
        return entries;
    }

    /**
     * Naive model: a map per session of filter to (options, subscription id), matched by brute force.
     */
    static final class Reference
    {
        private final Map<Integer, Map<String, int[]>> subscriptions = new HashMap<>();

        boolean subscribe(final String filter, final int session, final int options, final int subscriptionId)
        {
            return null != subscriptions.computeIfAbsent(session, (k) -> new HashMap<>())
                .put(filter, new int[]{ options, subscriptionId });
        }

        boolean unsubscribe(final String filter, final int session)
        {
            final Map<String, int[]> filters = subscriptions.get(session);
            return null != filters && null != filters.remove(filter);
        }

        int removeSession(final int session)
        {
            final Map<String, int[]> filters = subscriptions.remove(session);
            return null == filters ? 0 : filters.size();
        }

        List<String> filtersOf(final int session)
        {
            return new ArrayList<>(subscriptions.getOrDefault(session, Map.of()).keySet());
        }

        int size()
        {
            return subscriptions.values().stream().mapToInt(Map::size).sum();
        }

        Set<String> expected(final String topic, final int publisher)
        {
            final Set<String> entries = new TreeSet<>();
            for (final Map.Entry<Integer, Map<String, int[]>> e : subscriptions.entrySet())
            {
                final int session = e.getKey();
                int qos = -1;
                boolean rap = false;
                final List<Integer> ids = new ArrayList<>();
                for (final Map.Entry<String, int[]> sub : e.getValue().entrySet())
                {
                    final String filter = sub.getKey();
                    final int options = sub.getValue()[0];
                    if (TopicFilter.isShared(filter))
                    {
                        if (ReferenceMatcher.matches(TopicFilter.innerFilter(filter), topic))
                        {
                            entries.add(filter);
                        }
                        continue;
                    }
                    if (!ReferenceMatcher.matches(filter, topic) ||
                        (session == publisher && SubscriptionOptions.noLocal(options)))
                    {
                        continue;
                    }
                    qos = Math.max(qos, SubscriptionOptions.maxQos(options));
                    rap |= SubscriptionOptions.retainAsPublished(options);
                    if (sub.getValue()[1] != 0)
                    {
                        ids.add(sub.getValue()[1]);
                    }
                }
                if (qos >= 0)
                {
                    ids.sort(null);
                    entries.add(session + ":" + qos + ":" + rap + ":" + ids);
                }
            }
            return entries;
        }
    }
}
