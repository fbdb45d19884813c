package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Object2ObjectHashMap;
import org.agrona.collections.ObjectHashSet;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The subscription trie: topic filters split into levels, one node per level, subscribers (small dense
 * {@code int} session ids) held at the node of their filter's last level.
 * <p>
 * Matching rules (MQTT 4.7): levels split on '/', empty levels are levels; '+' matches exactly one level (also an
 * empty one); '#' matches any number of levels including none, so {@code a/#} matches {@code a}; a topic starting
 * with '$' is not matched by a filter starting with '+' or '#', while {@code $SYS/#} matches {@code $SYS/x}.
 * <p>
 * Shared subscriptions ({@code $share/<name>/<filter>}) are kept in a {@link SharedGroup} per name at the node of
 * {@code <filter>}, in a dense array a match walks and a map by name a SUBSCRIBE or UNSUBSCRIBE looks up (no scan
 * over the node's groups); a match picks one member per group with the {@link SharedSubscriptionPolicy}. The
 * routing agent bounds groups per filter and per client at SUBSCRIBE (skylark.shared.groups.per.*.max).
 * <p>
 * {@link #match} is the hot path and allocates nothing: a node's children are found through a {@link LevelMap} that
 * hashes and compares the level bytes straight from the publish buffer, wildcard children sit in fields of their
 * own, and results go to a reused {@link MatchResult}. {@link #subscribe} and {@link #unsubscribe} take
 * {@link String} filters and may allocate. Owned by one thread; nothing here is synchronised.
 * <p>
 * Matching recurses once per level of the deepest matching filter path, so the caller must bound filter depth
 * (the broker's topic depth limit) before subscribing. No-local on a shared subscription is a protocol error
 * (MQTT v5 3.8.3.1) the caller rejects; the tree ignores the flag for shared members.
 */
public final class TopicTree
{
    static final class Node
    {
        final Node parent;
        final byte[] level;
        final int levelHash;
        LevelMap<Node> children;
        Node singleLevelChild;
        Node multiLevelChild;
        final SubscriberList subscribers = new SubscriberList();
        SharedGroup[] groups; // dense, for match to walk without allocating
        int groupCount;
        Object2ObjectHashMap<String, SharedGroup> groupsByName; // the same groups, for SUBSCRIBE to find by name
        int sharedMembers; // members of all the groups, for the per-filter subscriber count without a scan

        Node(final Node parent, final byte[] level)
        {
            this.parent = parent;
            this.level = level;
            this.levelHash = null == level ? 0 : LevelMap.hash(level);
        }

        Node child(final byte[] level)
        {
            if (TopicFilter.isSingleLevelWildcard(level))
            {
                return singleLevelChild;
            }

            if (TopicFilter.isMultiLevelWildcard(level))
            {
                return multiLevelChild;
            }

            return null == children ? null : children.get(level, LevelMap.hash(level));
        }

        Node getOrAddChild(final byte[] level)
        {
            Node child = child(level);
            if (null == child)
            {
                child = new Node(this, level);
                if (TopicFilter.isSingleLevelWildcard(level))
                {
                    singleLevelChild = child;
                }
                else if (TopicFilter.isMultiLevelWildcard(level))
                {
                    multiLevelChild = child;
                }
                else
                {
                    if (null == children)
                    {
                        children = new LevelMap<>();
                    }
                    children.add(level, child.levelHash, child);
                }
            }

            return child;
        }

        void removeChild(final Node child)
        {
            if (child == singleLevelChild)
            {
                singleLevelChild = null;
            }
            else if (child == multiLevelChild)
            {
                multiLevelChild = null;
            }
            else if (null != children)
            {
                children.remove(child.level, child.levelHash);
                if (0 == children.size())
                {
                    children = null;
                }
            }
        }

        void addGroup(final SharedGroup group)
        {
            if (null == groups)
            {
                groups = new SharedGroup[2];
            }
            else if (groupCount == groups.length)
            {
                groups = Arrays.copyOf(groups, groupCount << 1);
            }
            group.slot = groupCount;
            groups[groupCount++] = group;
            if (null == groupsByName)
            {
                groupsByName = new Object2ObjectHashMap<>();
            }
            groupsByName.put(group.name(), group);
        }

        void removeGroup(final SharedGroup group)
        {
            final int slot = group.slot;
            final SharedGroup last = groups[--groupCount];
            groups[slot] = last;
            last.slot = slot;
            groups[groupCount] = null;
            groupsByName.remove(group.name());
            if (0 == groupCount)
            {
                groups = null;
                groupsByName = null;
            }
        }

        boolean isEmpty()
        {
            return 0 == subscribers.count && 0 == groupCount && null == children &&
                null == singleLevelChild && null == multiLevelChild;
        }
    }

    private final Node root = new Node(null, null);
    private final SharedSubscriptionPolicy sharedPolicy;
    /**
     * A session's filters: the filter itself (a String) while it has one, the usual case of a device, else an
     * {@code ObjectHashSet<String>} of them; no set per single-subscription session.
     */
    private final Int2ObjectHashMap<Object> filtersBySession = new Int2ObjectHashMap<>();
    private final Int2IntHashMap sharedBySession = new Int2IntHashMap(0);
    private int subscriptionCount;
    private int nodeCount;
    /** Told of every (filter, session) added or removed; null unless the node is in a cluster. */
    private FilterListener filterListener;
    private long groupsExamined;

    private DirectBuffer matchBuffer;
    private int matchEnd;
    private boolean matchSystemTopic;
    private int matchPublisherSessionId;
    private MatchResult matchResult;
    private SessionAvailability matchAvailability;

    /**
     * A tree that shares messages among group members round robin.
     */
    public TopicTree()
    {
        this(SharedSubscriptionPolicy.ROUND_ROBIN);
    }

    /**
     * @param sharedPolicy choosing the member of a shared subscription group that receives a message.
     */
    public TopicTree(final SharedSubscriptionPolicy sharedPolicy)
    {
        this.sharedPolicy = sharedPolicy;
    }

    /**
     * Told when a session gains a subscription to a filter it did not have, and when it loses one (unsubscribe, or
     * its session ended): a cluster node counts its subscribers per filter from these. Not called while matching.
     */
    public interface FilterListener
    {
        void onFilterAdded(String filter);

        void onFilterRemoved(String filter);
    }

    /** Sets the one {@link FilterListener} (null: none, the single-node default). */
    public void filterListener(final FilterListener listener)
    {
        this.filterListener = listener;
    }

    /**
     * Add a subscription, or replace the session's subscription to exactly this filter (options and subscription
     * id are overwritten). A {@code $share/<name>/<filter>} filter joins the shared group.
     *
     * @param filter         topic filter, validated: see {@link TopicFilter#validate(String)}.
     * @param sessionId      of the subscriber, &gt;= 0.
     * @param options        packed {@link SubscriptionOptions}.
     * @param subscriptionId MQTT v5 subscription identifier, 0 for none.
     * @return true if the session already had a subscription to this filter (it was replaced).
     * @throws IllegalArgumentException if the filter is not valid or the session id negative.
     */
    public boolean subscribe(final String filter, final int sessionId, final int options, final int subscriptionId)
    {
        final String reason = TopicFilter.validate(filter);
        if (null != reason)
        {
            throw new IllegalArgumentException(reason);
        }
        if (sessionId < 0)
        {
            throw new IllegalArgumentException("negative session id: " + sessionId);
        }

        final boolean shared = TopicFilter.isShared(filter);
        final String inner = shared ? TopicFilter.innerFilter(filter) : filter;
        final byte[][] levels = TopicFilter.levels(inner);

        Node node = root;
        for (final byte[] level : levels)
        {
            final Node child = node.child(level);
            if (null == child)
            {
                nodeCount++;
                node = node.getOrAddChild(level);
            }
            else
            {
                node = child;
            }
        }

        final boolean existed;
        if (shared)
        {
            final String name = TopicFilter.shareName(filter);
            SharedGroup group = group(node, name);
            if (null == group)
            {
                group = new SharedGroup(name, inner);
                node.addGroup(group);
            }
            existed = group.members.put(sessionId, options, subscriptionId);
            if (!existed)
            {
                node.sharedMembers++;
            }
        }
        else
        {
            existed = node.subscribers.put(sessionId, options, subscriptionId);
        }

        if (!existed)
        {
            subscriptionCount++;
            if (shared)
            {
                sharedBySession.put(sessionId, sharedBySession.get(sessionId) + 1);
            }
            final Object filters = filtersBySession.get(sessionId);
            if (null == filters)
            {
                filtersBySession.put(sessionId, filter);
            }
            else if (filters instanceof String only)
            {
                final ObjectHashSet<String> set = new ObjectHashSet<>();
                set.add(only);
                set.add(filter);
                filtersBySession.put(sessionId, set);
            }
            else
            {
                filterSet(filters).add(filter);
            }
            if (null != filterListener)
            {
                filterListener.onFilterAdded(filter);
            }
        }

        return existed;
    }

    /**
     * Remove a session's subscription to exactly this filter, pruning nodes left empty.
     *
     * @param filter    as given to {@link #subscribe}.
     * @param sessionId of the subscriber.
     * @return true if the subscription existed.
     */
    public boolean unsubscribe(final String filter, final int sessionId)
    {
        if (null != TopicFilter.validate(filter))
        {
            return false;
        }

        if (remove(filter, sessionId))
        {
            final Object filters = filtersBySession.get(sessionId);
            if (filters instanceof String || (filterSet(filters).remove(filter) && filterSet(filters).isEmpty()))
            {
                filtersBySession.remove(sessionId);
            }
            if (null != filterListener)
            {
                filterListener.onFilterRemoved(filter);
            }
            return true;
        }

        return false;
    }

    /**
     * Drop every subscription of a session, at a cost proportional to its number of subscriptions.
     *
     * @param sessionId whose session ended.
     * @return number of subscriptions removed.
     */
    public int removeSession(final int sessionId)
    {
        final Object filters = filtersBySession.remove(sessionId);
        if (null == filters)
        {
            return 0;
        }
        if (filters instanceof String only)
        {
            if (!remove(only, sessionId))
            {
                return 0;
            }
            if (null != filterListener)
            {
                filterListener.onFilterRemoved(only);
            }
            return 1;
        }

        int removed = 0;
        for (final String filter : filterSet(filters))
        {
            if (remove(filter, sessionId))
            {
                removed++;
                if (null != filterListener)
                {
                    filterListener.onFilterRemoved(filter);
                }
            }
        }

        return removed;
    }

    /**
     * Match a topic with the {@link SessionAvailability#ALL} availability.
     *
     * @see #match(DirectBuffer, int, int, int, MatchResult, SessionAvailability)
     */
    public void match(
        final DirectBuffer topic, final int offset, final int length, final int publisherSessionId,
        final MatchResult result)
    {
        match(topic, offset, length, publisherSessionId, result, SessionAvailability.ALL);
    }

    /**
     * Find every destination for a message published to a topic. Allocation free.
     *
     * @param topic              buffer holding the topic name (UTF-8, no wildcards).
     * @param offset             of the topic in the buffer.
     * @param length             of the topic in bytes.
     * @param publisherSessionId session that published, for no-local; -1 if none (e.g. the broker itself).
     * @param result             reset, then filled with the destinations.
     * @param availability       consulted when choosing a shared subscription group member.
     */
    public void match(
        final DirectBuffer topic,
        final int offset,
        final int length,
        final int publisherSessionId,
        final MatchResult result,
        final SessionAvailability availability)
    {
        result.reset();
        matchBuffer = topic;
        matchEnd = offset + length;
        matchSystemTopic = length > 0 && topic.getByte(offset) == TopicFilter.SYSTEM_PREFIX;
        matchPublisherSessionId = publisherSessionId;
        matchResult = result;
        matchAvailability = availability;

        walk(root, offset, true);
        result.complete();

        matchBuffer = null;
        matchResult = null;
        matchAvailability = null;
    }

    /**
     * @return number of subscriptions, each shared group member counting as one.
     */
    public int subscriptionCount()
    {
        return subscriptionCount;
    }

    /**
     * @param sessionId of a subscriber.
     * @return number of subscriptions the session holds.
     */
    public int subscriptionCount(final int sessionId)
    {
        final Object filters = filtersBySession.get(sessionId);
        return null == filters ? 0 : filters instanceof String ? 1 : filterSet(filters).size();
    }

    /**
     * @return true when the session already has a subscription to exactly this filter (a SUBSCRIBE would replace it).
     */
    public boolean hasSubscription(final String filter, final int sessionId)
    {
        final Object filters = filtersBySession.get(sessionId);
        return null != filters && (filters instanceof String ? filters.equals(filter) : filterSet(filters).contains(filter));
    }

    /**
     * Subscribers of a filter: the sessions subscribed to exactly it plus the members of every shared group on it
     * ({@code a/b}, {@code $share/g1/a/b} and {@code $share/g2/a/b} count together).
     *
     * @param filter a valid filter, with or without a {@code $share/<name>/} prefix.
     * @return the number of subscribers, 0 when the filter has none.
     */
    public int subscriberCount(final String filter)
    {
        final Node node = find(TopicFilter.isShared(filter) ? TopicFilter.innerFilter(filter) : filter);
        return null == node ? 0 : node.subscribers.count + node.sharedMembers;
    }

    /**
     * Shared groups on a filter: {@code $share/g1/a/b} and {@code $share/g2/a/b} are two groups on {@code a/b}.
     *
     * @param filter a valid filter, with or without a {@code $share/<name>/} prefix.
     * @return the number of groups with at least one member on it.
     */
    public int sharedGroupCount(final String filter)
    {
        final Node node = find(TopicFilter.isShared(filter) ? TopicFilter.innerFilter(filter) : filter);
        return null == node ? 0 : node.groupCount;
    }

    /**
     * @param sharedFilter a valid {@code $share/<name>/<filter>} filter.
     * @return true when group {@code <name>} on {@code <filter>} has members (joining it adds no group).
     */
    public boolean hasSharedGroup(final String sharedFilter)
    {
        final Node node = find(TopicFilter.innerFilter(sharedFilter));
        return null != node && null != group(node, TopicFilter.shareName(sharedFilter));
    }

    /**
     * @param sessionId of a subscriber.
     * @return the session's shared subscriptions: the groups it is a member of.
     */
    public int sharedSubscriptionCount(final int sessionId)
    {
        return sharedBySession.get(sessionId);
    }

    /**
     * List a session's filters (as subscribed, with any {@code $share/} prefix) for admin and debugging.
     *
     * @param sessionId of a subscriber.
     * @param consumer  given each filter.
     */
    public void forEachFilter(final int sessionId, final Consumer<String> consumer)
    {
        final Object filters = filtersBySession.get(sessionId);
        if (filters instanceof String only)
        {
            consumer.accept(only);
        }
        else if (null != filters)
        {
            for (final String filter : filterSet(filters))
            {
                consumer.accept(filter);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static ObjectHashSet<String> filterSet(final Object filters)
    {
        return (ObjectHashSet<String>)filters;
    }

    /**
     * @return number of sessions holding at least one subscription.
     */
    public int sessionCount()
    {
        return filtersBySession.size();
    }

    /**
     * @return number of trie nodes below the root, for metrics and pruning tests.
     */
    public int nodeCount()
    {
        return nodeCount;
    }

    /**
     * @return shared groups looked at so far, by a SUBSCRIBE or UNSUBSCRIBE finding its group by name and by
     * {@link #match} choosing a member of each group on a matching filter: what a flood of groups costs the routing
     * thread (tests assert on it).
     */
    public long groupsExamined()
    {
        return groupsExamined;
    }

    private SharedGroup group(final Node node, final String name)
    {
        final SharedGroup group = null == node.groupsByName ? null : node.groupsByName.get(name);
        if (null != group)
        {
            groupsExamined++;
        }
        return group;
    }

    private Node find(final String inner)
    {
        Node node = root;
        for (final byte[] level : TopicFilter.levels(inner))
        {
            node = node.child(level);
            if (null == node)
            {
                return null;
            }
        }
        return node;
    }

    private boolean remove(final String filter, final int sessionId)
    {
        final boolean shared = TopicFilter.isShared(filter);
        final String inner = shared ? TopicFilter.innerFilter(filter) : filter;
        final byte[][] levels = TopicFilter.levels(inner);

        Node node = root;
        for (int i = 0; i < levels.length && null != node; i++)
        {
            node = node.child(levels[i]);
        }
        if (null == node)
        {
            return false;
        }

        final boolean removed;
        if (shared)
        {
            final SharedGroup group = group(node, TopicFilter.shareName(filter));
            removed = null != group && group.members.remove(sessionId);
            if (removed)
            {
                node.sharedMembers--;
            }
            if (removed && 0 == group.memberCount())
            {
                node.removeGroup(group);
            }
        }
        else
        {
            removed = node.subscribers.remove(sessionId);
        }

        if (removed)
        {
            subscriptionCount--;
            if (shared)
            {
                final int left = sharedBySession.get(sessionId) - 1;
                if (0 == left)
                {
                    sharedBySession.remove(sessionId);
                }
                else
                {
                    sharedBySession.put(sessionId, left);
                }
            }
            prune(node);
        }

        return removed;
    }

    private void prune(final Node from)
    {
        Node node = from;
        while (node != root && node.isEmpty())
        {
            final Node parent = node.parent;
            parent.removeChild(node);
            nodeCount--;
            node = parent;
        }
    }

    /**
     * Match the level starting at {@code start} against the children of {@code node}.
     */
    private void walk(final Node node, final int start, final boolean firstLevel)
    {
        final boolean wildcardsMatch = !(firstLevel && matchSystemTopic);
        if (wildcardsMatch && null != node.multiLevelChild)
        {
            collect(node.multiLevelChild);
        }

        final DirectBuffer buffer = matchBuffer;
        final int end = matchEnd;
        int hash = 0;
        int i = start;
        for (; i < end; i++)
        {
            final byte b = buffer.getByte(i);
            if (b == TopicFilter.LEVEL_SEPARATOR)
            {
                break;
            }
            hash = LevelMap.hashStep(hash, b);
        }

        final boolean lastLevel = i >= end;
        if (wildcardsMatch && null != node.singleLevelChild)
        {
            descend(node.singleLevelChild, i, lastLevel);
        }

        final LevelMap<Node> children = node.children;
        if (null != children)
        {
            final Node child = children.get(buffer, start, i - start, hash);
            if (null != child)
            {
                descend(child, i, lastLevel);
            }
        }
    }

    private void descend(final Node child, final int levelEnd, final boolean lastLevel)
    {
        if (lastLevel)
        {
            collect(child);
            if (null != child.multiLevelChild)
            {
                collect(child.multiLevelChild);
            }
        }
        else
        {
            walk(child, levelEnd + 1, false);
        }
    }

    private void collect(final Node node)
    {
        final MatchResult result = matchResult;
        final SubscriberList subscribers = node.subscribers;
        final int count = subscribers.count;
        if (count > 0)
        {
            final int publisher = matchPublisherSessionId;
            final int[] sessionIds = subscribers.sessionIds;
            final int[] options = subscribers.options;
            final int[] subscriptionIds = subscribers.subscriptionIds;
            for (int i = 0; i < count; i++)
            {
                final int sessionId = sessionIds[i];
                final int subscriptionOptions = options[i];
                if (sessionId == publisher && SubscriptionOptions.noLocal(subscriptionOptions))
                {
                    continue;
                }
                result.addSubscriber(sessionId, subscriptionOptions, subscriptionIds[i]);
            }
        }

        final int groupCount = node.groupCount;
        if (groupCount > 0)
        {
            final SharedGroup[] groups = node.groups;
            for (int g = 0; g < groupCount; g++)
            {
                final SharedGroup group = groups[g];
                groupsExamined++;
                final int member = sharedPolicy.select(group, matchAvailability, matchPublisherSessionId);
                if (member >= 0)
                {
                    result.addShared(
                        group,
                        group.memberSessionId(member),
                        group.memberOptions(member),
                        group.memberSubscriptionId(member));
                }
            }
        }
    }
}
