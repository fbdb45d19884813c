package dev.skylark.broker.routing;

import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.Object2ObjectHashMap;

/**
 * Who holds how much of the retained index: the broker-wide count and stored bytes of retained messages, and the
 * same per client id, so that a retained PUBLISH over a limit is refused to its sender and never holds back anyone
 * else. A change that does not grow what is over a limit (a clear, a smaller replacement) is always admitted.
 * <p>
 * Messages replayed from the journal, wills of sessions that ended and $SYS messages have no owner here and count
 * only broker-wide. Bounds: one {@link Usage} per client id that holds at least one retained message, one owner
 * entry per retained message, both dropped when that message goes. Owned by the routing agent thread only.
 */
final class RetainedQuota
{
    /** One client's share of the retained index. */
    static final class Usage
    {
        final String clientId;
        int count;
        long bytes;

        Usage(final String clientId)
        {
            this.clientId = clientId;
        }
    }

    /** Why {@link #admits} said no, or {@link #ADMITTED}. */
    static final int ADMITTED = 0;
    static final int OVER_BROKER_COUNT = 1;
    static final int OVER_BROKER_BYTES = 2;
    static final int OVER_CLIENT_COUNT = 3;
    static final int OVER_CLIENT_BYTES = 4;

    private final Long2ObjectHashMap<Usage> ownerByHandle = new Long2ObjectHashMap<>();
    private final Object2ObjectHashMap<String, Usage> byClient = new Object2ObjectHashMap<>();
    private int maxMessages;
    private long maxBytes;
    private int clientMaxMessages;
    private long clientMaxBytes;
    private int count;
    private long bytes;

    void limits(final int maxMessages, final long maxBytes, final int clientMaxMessages, final long clientMaxBytes)
    {
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
        this.clientMaxMessages = clientMaxMessages;
        this.clientMaxBytes = clientMaxBytes;
    }

    /**
     * Whether a retained message of {@code length} stored bytes from {@code clientId} (null: nobody's) may replace
     * {@code previousHandle} ({@link MessageStore#NULL_HANDLE} when its topic holds none) of {@code previousLength}.
     *
     * @return {@link #ADMITTED} or the limit it would pass.
     */
    int admits(final String clientId, final int length, final long previousHandle, final int previousLength)
    {
        final boolean replaces = previousHandle != MessageStore.NULL_HANDLE;
        if (maxMessages > 0 && !replaces && count >= maxMessages)
        {
            return OVER_BROKER_COUNT;
        }
        final long grows = (long)length - (replaces ? previousLength : 0);
        if (maxBytes > 0 && grows > 0 && bytes + grows > maxBytes)
        {
            return OVER_BROKER_BYTES;
        }
        if (clientId == null)
        {
            return ADMITTED;
        }
        final Usage usage = byClient.get(clientId);
        final boolean own = replaces && usage != null && ownerByHandle.get(previousHandle) == usage;
        final int clientCount = usage == null ? 0 : usage.count;
        final long clientBytes = usage == null ? 0 : usage.bytes;
        if (clientMaxMessages > 0 && !own && clientCount >= clientMaxMessages)
        {
            return OVER_CLIENT_COUNT;
        }
        final long clientGrows = (long)length - (own ? previousLength : 0);
        if (clientMaxBytes > 0 && clientGrows > 0 && clientBytes + clientGrows > clientMaxBytes)
        {
            return OVER_CLIENT_BYTES;
        }
        return ADMITTED;
    }

    /** A retained message is now in the index, set by {@code clientId} (null: nobody's). */
    void added(final long handle, final int length, final String clientId)
    {
        count++;
        bytes += length;
        if (clientId != null)
        {
            Usage usage = byClient.get(clientId);
            if (usage == null)
            {
                usage = new Usage(clientId);
                byClient.put(clientId, usage);
            }
            usage.count++;
            usage.bytes += length;
            ownerByHandle.put(handle, usage);
        }
    }

    /** A retained message left the index (replaced, cleared, deleted). */
    void removed(final long handle, final int length)
    {
        count--;
        bytes -= length;
        final Usage usage = ownerByHandle.remove(handle);
        if (usage != null)
        {
            usage.count--;
            usage.bytes -= length;
            if (usage.count == 0)
            {
                byClient.remove(usage.clientId);
            }
        }
    }

    /** Stored bytes of every retained message. */
    long bytes()
    {
        return bytes;
    }

    int count()
    {
        return count;
    }

    /** The client id that set the retained message {@code handle}, or null when it has no owner here. */
    String owner(final long handle)
    {
        final Usage usage = ownerByHandle.get(handle);
        return usage == null ? null : usage.clientId;
    }

    /** For tests and status: retained messages {@code clientId} has set. */
    int clientCount(final String clientId)
    {
        final Usage usage = byClient.get(clientId);
        return usage == null ? 0 : usage.count;
    }

    static String describe(final int verdict)
    {
        return switch (verdict)
        {
            case OVER_BROKER_COUNT -> "skylark.retained.max.messages";
            case OVER_BROKER_BYTES -> "skylark.retained.max.bytes";
            case OVER_CLIENT_COUNT -> "skylark.retained.client.max.messages";
            case OVER_CLIENT_BYTES -> "skylark.retained.client.max.bytes";
            default -> "admitted";
        };
    }
}
