package dev.skylark.broker.routing;

/**
 * One shared subscription: the members of share group {@link #name()} subscribed to one filter
 * ({@code $share/<name>/<filter>}). Exactly one member receives each matching message, chosen by a
 * {@link SharedSubscriptionPolicy}. Owned by the {@link TopicTree}; policies may read members and move the cursor.
 */
public final class SharedGroup
{
    private final String name;
    private final String filter;
    final SubscriberList members = new SubscriberList();
    private int cursor;
    int slot; // index in the node's group array, for removal without a scan
    /** {@code <name>/<filter>} in UTF-8, made on first use: how a group is named between cluster nodes. */
    private byte[] key;

    SharedGroup(final String name, final String filter)
    {
        this.name = name;
        this.filter = filter;
    }

    /**
     * @return share name, the {@code <name>} of {@code $share/<name>/<filter>}.
     */
    public String name()
    {
        return name;
    }

    /**
     * @return the topic filter the group subscribes to, without the {@code $share/<name>/} prefix.
     */
    public String filter()
    {
        return filter;
    }

    /** The group's name between cluster nodes, {@code <name>/<filter>} in UTF-8 (made once, then reused). */
    byte[] key()
    {
        if (key == null)
        {
            key = (name + '/' + filter).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        return key;
    }

    /** Whether {@code length} bytes at {@code offset} are this group's {@link #key()}. */
    boolean hasKey(final org.agrona.DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] bytes = key();
        if (bytes.length != length)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (buffer.getByte(offset + i) != bytes[i])
            {
                return false;
            }
        }
        return true;
    }

    public int memberCount()
    {
        return members.count;
    }

    public int memberSessionId(final int index)
    {
        return members.sessionIds[index];
    }

    public int memberOptions(final int index)
    {
        return members.options[index];
    }

    public int memberSubscriptionId(final int index)
    {
        return members.subscriptionIds[index];
    }

    /**
     * @return policy state, for round robin the index to try first next time.
     */
    public int cursor()
    {
        return cursor;
    }

    public void cursor(final int cursor)
    {
        this.cursor = cursor;
    }

    public String toString()
    {
        return "SharedGroup{name=" + name + ", filter=" + filter + ", members=" + members.count + "}";
    }
}
