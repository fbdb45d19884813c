package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/**
 * Retained messages by exact topic name, kept in a trie of topic levels so that a wildcard filter walks only the
 * branches it can match instead of scanning every retained message. A filter starting with '+' or '#' does not
 * match topics starting with '$' (MQTT 4.7.2).
 * <p>
 * The value is the caller's opaque message handle; {@link #put} and {@link #remove} return the value they displace
 * so the caller can release it. An empty retained payload clears the topic: the caller calls {@link #remove}.
 * Walks recurse once per topic level, so the caller bounds topic depth (the broker's topic depth limit).
 * Owned by one thread; not thread safe.
 *
 * @param <T> the caller's message handle type.
 */
public final class RetainedIndex<T>
{
    static final class Node<T>
    {
        final Node<T> parent;
        final byte[] level;
        final int levelHash;
        LevelMap<Node<T>> children;
        T value;

        Node(final Node<T> parent, final byte[] level)
        {
            this.parent = parent;
            this.level = level;
            this.levelHash = null == level ? 0 : LevelMap.hash(level);
        }

        boolean isEmpty()
        {
            return null == value && null == children;
        }
    }

    private final Node<T> root = new Node<>(null, null);
    private final ExpandableArrayBuffer topicBuffer = new ExpandableArrayBuffer(256);
    private final UnsafeBuffer stringTopic = new UnsafeBuffer(0, 0);
    private int size;

    /**
     * Store or replace the retained message of a topic.
     *
     * @param topic   buffer holding the topic name.
     * @param offset  of the topic.
     * @param length  of the topic in bytes.
     * @param message handle to keep, not null.
     * @return the handle it replaced, or null if the topic had none.
     */
    public T put(final DirectBuffer topic, final int offset, final int length, final T message)
    {
        if (null == message)
        {
            throw new NullPointerException("message");
        }

        Node<T> node = root;
        final int end = offset + length;
        int start = offset;
        while (true)
        {
            int hash = 0;
            int i = start;
            for (; i < end; i++)
            {
                final byte b = topic.getByte(i);
                if (b == TopicFilter.LEVEL_SEPARATOR)
                {
                    break;
                }
                hash = LevelMap.hashStep(hash, b);
            }

            LevelMap<Node<T>> children = node.children;
            Node<T> child = null == children ? null : children.get(topic, start, i - start, hash);
            if (null == child)
            {
                final byte[] level = new byte[i - start];
                topic.getBytes(start, level);
                child = new Node<>(node, level);
                if (null == children)
                {
                    children = new LevelMap<>();
                    node.children = children;
                }
                children.add(level, hash, child);
            }
            node = child;

            if (i >= end)
            {
                break;
            }
            start = i + 1;
        }

        final T previous = node.value;
        node.value = message;
        if (null == previous)
        {
            size++;
        }

        return previous;
    }

    /**
     * @param topic   topic name.
     * @param message handle to keep.
     * @return the handle it replaced, or null.
     * @see #put(DirectBuffer, int, int, Object)
     */
    public T put(final String topic, final T message)
    {
        final byte[] bytes = topic.getBytes(StandardCharsets.UTF_8);
        stringTopic.wrap(bytes);
        return put(stringTopic, 0, bytes.length, message);
    }

    /**
     * @param topic  buffer holding the topic name.
     * @param offset of the topic.
     * @param length of the topic in bytes.
     * @return the retained handle of exactly this topic, or null.
     */
    public T get(final DirectBuffer topic, final int offset, final int length)
    {
        final Node<T> node = find(topic, offset, length);
        return null == node ? null : node.value;
    }

    public T get(final String topic)
    {
        final byte[] bytes = topic.getBytes(StandardCharsets.UTF_8);
        stringTopic.wrap(bytes);
        return get(stringTopic, 0, bytes.length);
    }

    /**
     * Clear the retained message of a topic, pruning empty levels.
     *
     * @param topic  buffer holding the topic name.
     * @param offset of the topic.
     * @param length of the topic in bytes.
     * @return the removed handle, or null if the topic had none.
     */
    public T remove(final DirectBuffer topic, final int offset, final int length)
    {
        final Node<T> node = find(topic, offset, length);
        if (null == node || null == node.value)
        {
            return null;
        }

        final T previous = node.value;
        node.value = null;
        size--;

        Node<T> n = node;
        while (n != root && n.isEmpty())
        {
            final Node<T> parent = n.parent;
            parent.children.remove(n.level, n.levelHash);
            if (0 == parent.children.size())
            {
                parent.children = null;
            }
            n = parent;
        }

        return previous;
    }

    public T remove(final String topic)
    {
        final byte[] bytes = topic.getBytes(StandardCharsets.UTF_8);
        stringTopic.wrap(bytes);
        return remove(stringTopic, 0, bytes.length);
    }

    /**
     * Visit every retained message whose topic matches a filter. The visitor must not modify the index.
     *
     * @param filter  valid topic filter (no {@code $share/} prefix: shared subscriptions get no retained messages).
     * @param visitor given each matching topic and handle.
     * @return number of messages visited.
     */
    public int forEachMatch(final String filter, final RetainedVisitor<T> visitor)
    {
        final byte[][] levels = TopicFilter.levels(filter);
        return walk(root, levels, 0, 0, visitor);
    }

    /**
     * @return number of retained messages.
     */
    public int size()
    {
        return size;
    }

    private Node<T> find(final DirectBuffer topic, final int offset, final int length)
    {
        Node<T> node = root;
        final int end = offset + length;
        int start = offset;
        while (true)
        {
            int hash = 0;
            int i = start;
            for (; i < end; i++)
            {
                final byte b = topic.getByte(i);
                if (b == TopicFilter.LEVEL_SEPARATOR)
                {
                    break;
                }
                hash = LevelMap.hashStep(hash, b);
            }

            final LevelMap<Node<T>> children = node.children;
            node = null == children ? null : children.get(topic, start, i - start, hash);
            if (null == node || i >= end)
            {
                return node;
            }
            start = i + 1;
        }
    }

    private int walk(
        final Node<T> node, final byte[][] levels, final int index, final int pathLength, final RetainedVisitor<T> visitor)
    {
        if (index == levels.length)
        {
            return visit(node, pathLength, visitor);
        }

        final byte[] level = levels[index];
        final LevelMap<Node<T>> children = node.children;
        if (TopicFilter.isMultiLevelWildcard(level))
        {
            return visit(node, pathLength, visitor) + visitSubtree(node, pathLength, 0 == index, visitor);
        }

        if (null == children)
        {
            return 0;
        }

        int visited = 0;
        if (TopicFilter.isSingleLevelWildcard(level))
        {
            for (int slot = 0, capacity = children.capacity(); slot < capacity; slot++)
            {
                final Node<T> child = children.valueAt(slot);
                if (null != child && !(0 == index && isSystem(child.level)))
                {
                    visited += walk(child, levels, index + 1, append(node, pathLength, child.level), visitor);
                }
            }
        }
        else
        {
            final Node<T> child = children.get(level, LevelMap.hash(level));
            if (null != child)
            {
                visited += walk(child, levels, index + 1, append(node, pathLength, child.level), visitor);
            }
        }

        return visited;
    }

    private int visitSubtree(
        final Node<T> node, final int pathLength, final boolean skipSystem, final RetainedVisitor<T> visitor)
    {
        final LevelMap<Node<T>> children = node.children;
        if (null == children)
        {
            return 0;
        }

        int visited = 0;
        for (int slot = 0, capacity = children.capacity(); slot < capacity; slot++)
        {
            final Node<T> child = children.valueAt(slot);
            if (null != child && !(skipSystem && isSystem(child.level)))
            {
                final int childPathLength = append(node, pathLength, child.level);
                visited += visit(child, childPathLength, visitor);
                visited += visitSubtree(child, childPathLength, false, visitor);
            }
        }

        return visited;
    }

    private int visit(final Node<T> node, final int pathLength, final RetainedVisitor<T> visitor)
    {
        if (null != node.value && node != root)
        {
            visitor.onRetained(topicBuffer, 0, pathLength, node.value);
            return 1;
        }

        return 0;
    }

    /**
     * Write a child's level after its parent's path: a separator first unless the parent is the root.
     */
    private int append(final Node<T> parent, final int pathLength, final byte[] level)
    {
        int length = pathLength;
        if (parent != root)
        {
            topicBuffer.putByte(length++, TopicFilter.LEVEL_SEPARATOR);
        }
        topicBuffer.putBytes(length, level);

        return length + level.length;
    }

    private static boolean isSystem(final byte[] level)
    {
        return level.length > 0 && level[0] == TopicFilter.SYSTEM_PREFIX;
    }
}
