package dev.skylark.broker.routing;

import java.util.Arrays;

/**
 * Reusable output of {@link TopicTree#match}: one entry per destination.
 * <ul>
 *     <li>a plain entry per distinct subscribing session, its overlapping subscriptions merged: the highest granted
 *     QoS, retain-as-published OR-ed, and the subscription identifiers of all of them;</li>
 *     <li>a shared entry per matching shared subscription group, for the one member chosen by the policy.</li>
 * </ul>
 * A session with a plain and a shared subscription that both match appears twice, as MQTT requires.
 * Entry order is unspecified. Filling it allocates nothing once its arrays have grown to the working set.
 * Single threaded: one instance per routing agent.
 */
public final class MatchResult
{
    private static final int MERGED_OPTIONS_MASK =
        SubscriptionOptions.MAX_QOS_MASK | SubscriptionOptions.RETAIN_AS_PUBLISHED_FLAG;

    private int count;
    private int[] sessionIds = new int[16];
    private int[] options = new int[16];
    private int[] subscriptionIdOffsets = new int[16];
    private int[] subscriptionIdCounts = new int[16];
    private SharedGroup[] groups = new SharedGroup[16];

    private int[] sessionEpochs = new int[64];
    private int[] sessionEntries = new int[64];
    private int epoch;

    private int pendingCount;
    private int[] pendingEntries = new int[16];
    private int[] pendingIds = new int[16];
    private int[] subscriptionIds = new int[16];

    /**
     * @return number of entries.
     */
    public int size()
    {
        return count;
    }

    public boolean isEmpty()
    {
        return 0 == count;
    }

    public int sessionId(final int index)
    {
        return sessionIds[index];
    }

    /**
     * @param index of the entry.
     * @return merged {@link SubscriptionOptions}: max QoS and retain-as-published only.
     */
    public int options(final int index)
    {
        return options[index];
    }

    public int maxQos(final int index)
    {
        return SubscriptionOptions.maxQos(options[index]);
    }

    public boolean retainAsPublished(final int index)
    {
        return SubscriptionOptions.retainAsPublished(options[index]);
    }

    /**
     * @param index of the entry.
     * @return true if the entry is a shared subscription group's chosen member.
     */
    public boolean isShared(final int index)
    {
        return null != groups[index];
    }

    /**
     * @param index of the entry.
     * @return the group of a shared entry, null for a plain entry.
     */
    public SharedGroup sharedGroup(final int index)
    {
        return groups[index];
    }

    public int subscriptionIdCount(final int index)
    {
        return subscriptionIdCounts[index];
    }

    /**
     * @param index of the entry.
     * @param i     in {@code [0, subscriptionIdCount(index))}.
     * @return the i-th subscription identifier of the entry.
     */
    public int subscriptionId(final int index, final int i)
    {
        return subscriptionIds[subscriptionIdOffsets[index] + i];
    }

    /**
     * Subscription identifiers of entry {@code index} are {@code subscriptionIds()[subscriptionIdOffset(index) ...
     * + subscriptionIdCount(index))}. The array is reused by the next match.
     *
     * @return the backing array.
     */
    public int[] subscriptionIds()
    {
        return subscriptionIds;
    }

    public int subscriptionIdOffset(final int index)
    {
        return subscriptionIdOffsets[index];
    }

    /**
     * Clear for reuse. Called by {@link TopicTree#match}.
     */
    public void reset()
    {
        for (int i = 0, count = this.count; i < count; i++)
        {
            groups[i] = null;
        }
        count = 0;
        pendingCount = 0;
        if (++epoch == 0)
        {
            Arrays.fill(sessionEpochs, 0);
            epoch = 1;
        }
    }

    void addSubscriber(final int sessionId, final int options, final int subscriptionId)
    {
        if (sessionId >= sessionEpochs.length)
        {
            growSessions(sessionId);
        }

        final int entry;
        if (sessionEpochs[sessionId] == epoch)
        {
            entry = sessionEntries[sessionId];
            final int existing = this.options[entry];
            final int qos = Math.max(SubscriptionOptions.maxQos(existing), SubscriptionOptions.maxQos(options));
            this.options[entry] = qos | ((existing | options) & SubscriptionOptions.RETAIN_AS_PUBLISHED_FLAG);
        }
        else
        {
            entry = newEntry(sessionId, options, null);
            sessionEpochs[sessionId] = epoch;
            sessionEntries[sessionId] = entry;
        }

        if (0 != subscriptionId)
        {
            addPending(entry, subscriptionId);
        }
    }

    void addShared(final SharedGroup group, final int sessionId, final int options, final int subscriptionId)
    {
        final int entry = newEntry(sessionId, options, group);
        if (0 != subscriptionId)
        {
            addPending(entry, subscriptionId);
        }
    }

    /**
     * Lay the subscription identifiers out contiguously per entry (a counting sort of the pending pairs).
     */
    void complete()
    {
        final int pendingCount = this.pendingCount;
        if (0 == pendingCount)
        {
            return;
        }

        if (subscriptionIds.length < pendingCount)
        {
            subscriptionIds = new int[pendingIds.length];
        }

        final int[] offsets = subscriptionIdOffsets;
        final int[] counts = subscriptionIdCounts;
        int end = 0;
        for (int i = 0, count = this.count; i < count; i++)
        {
            end += counts[i];
            offsets[i] = end;
        }

        final int[] pendingEntries = this.pendingEntries;
        final int[] pendingIds = this.pendingIds;
        final int[] subscriptionIds = this.subscriptionIds;
        for (int p = pendingCount - 1; p >= 0; p--)
        {
            subscriptionIds[--offsets[pendingEntries[p]]] = pendingIds[p];
        }
    }

    private int newEntry(final int sessionId, final int options, final SharedGroup group)
    {
        final int entry = count;
        if (entry == sessionIds.length)
        {
            final int newLength = entry << 1;
            sessionIds = Arrays.copyOf(sessionIds, newLength);
            this.options = Arrays.copyOf(this.options, newLength);
            subscriptionIdOffsets = Arrays.copyOf(subscriptionIdOffsets, newLength);
            subscriptionIdCounts = Arrays.copyOf(subscriptionIdCounts, newLength);
            groups = Arrays.copyOf(groups, newLength);
        }

        sessionIds[entry] = sessionId;
        this.options[entry] = options & MERGED_OPTIONS_MASK;
        subscriptionIdOffsets[entry] = 0;
        subscriptionIdCounts[entry] = 0;
        groups[entry] = group;
        count = entry + 1;

        return entry;
    }

    private void addPending(final int entry, final int subscriptionId)
    {
        final int p = pendingCount;
        if (p == pendingIds.length)
        {
            pendingIds = Arrays.copyOf(pendingIds, p << 1);
            pendingEntries = Arrays.copyOf(pendingEntries, p << 1);
        }
        pendingEntries[p] = entry;
        pendingIds[p] = subscriptionId;
        pendingCount = p + 1;
        subscriptionIdCounts[entry]++;
    }

    private void growSessions(final int sessionId)
    {
        int newLength = sessionEpochs.length;
        while (newLength <= sessionId)
        {
            newLength <<= 1;
        }
        sessionEpochs = Arrays.copyOf(sessionEpochs, newLength);
        sessionEntries = Arrays.copyOf(sessionEntries, newLength);
    }

    public String toString()
    {
        final StringBuilder sb = new StringBuilder("MatchResult{");
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.append(", ");
            }
            sb.append(sessionIds[i]).append(":q").append(maxQos(i));
            if (retainAsPublished(i))
            {
                sb.append(":rap");
            }
            if (isShared(i))
            {
                sb.append(":share=").append(groups[i].name());
            }
            if (subscriptionIdCounts[i] > 0)
            {
                sb.append(":ids=[");
                for (int j = 0; j < subscriptionIdCounts[i]; j++)
                {
                    sb.append(j > 0 ? "," : "").append(subscriptionId(i, j));
                }
                sb.append(']');
            }
        }
        return sb.append('}').toString();
    }
}
