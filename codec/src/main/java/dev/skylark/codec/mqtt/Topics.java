package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/**
 * Topic names, topic filters and shared subscriptions (specification section 4.7 and 4.8.2), on buffer slices.
 * <p>
 * These checks are structural only; UTF-8 well-formedness (which also excludes U+0000) is checked by the decoders
 * through {@link MqttPrimitives#validateUtf8(DirectBuffer, int, int)} before they get here.
 * <pre>
 * topic name    sport/tennis/player1        no '+' or '#', at least one character
 * topic filter  sport/+/player1, sport/#    '+' fills a whole level, '#' is last and fills a whole level
 * shared        $share/{group}/{filter}     group non-empty without '+', '#', '/'; filter a valid filter
 * </pre>
 */
public final class Topics
{
    /** Prefix of a shared subscription's topic filter. */
    public static final String SHARE_PREFIX = "$share/";
    /** Length of {@link #SHARE_PREFIX} in bytes. */
    public static final int SHARE_PREFIX_LENGTH = 7;

    private static final byte[] SHARE_PREFIX_BYTES = SHARE_PREFIX.getBytes(StandardCharsets.US_ASCII);

    private Topics()
    {
    }

    /**
     * @return 0 for a valid topic name, else {@code -TOPIC_NAME_INVALID} (empty, or contains a wildcard).
     */
    public static int validateTopicName(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length <= 0)
        {
            return -ReasonCode.TOPIC_NAME_INVALID;
        }

        for (int i = offset, end = offset + length; i < end; i++)
        {
            final byte c = buffer.getByte(i);
            if (c == '+' || c == '#')
            {
                return -ReasonCode.TOPIC_NAME_INVALID;
            }
        }

        return 0;
    }

    /**
     * Validates a topic filter, including the shared subscription form {@code $share/{group}/{filter}}.
     *
     * @return 0 for a valid filter, else {@code -TOPIC_FILTER_INVALID}.
     */
    public static int validateTopicFilter(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length <= 0)
        {
            return -ReasonCode.TOPIC_FILTER_INVALID;
        }

        if (isShared(buffer, offset, length))
        {
            final int groupLength = sharedGroupLength(buffer, offset, length);
            if (groupLength <= 0)
            {
                return -ReasonCode.TOPIC_FILTER_INVALID;
            }

            final int groupOffset = offset + SHARE_PREFIX_LENGTH;
            for (int i = groupOffset, end = groupOffset + groupLength; i < end; i++)
            {
                final byte c = buffer.getByte(i);
                if (c == '+' || c == '#')
                {
                    return -ReasonCode.TOPIC_FILTER_INVALID;
                }
            }

            final int filterOffset = groupOffset + groupLength + 1;
            return validatePlainFilter(buffer, filterOffset, offset + length - filterOffset);
        }

        return validatePlainFilter(buffer, offset, length);
    }

    private static int validatePlainFilter(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length <= 0)
        {
            return -ReasonCode.TOPIC_FILTER_INVALID;
        }

        final int end = offset + length;
        for (int i = offset; i < end; i++)
        {
            final byte c = buffer.getByte(i);
            if (c == '+')
            {
                if ((i > offset && buffer.getByte(i - 1) != '/') || (i + 1 < end && buffer.getByte(i + 1) != '/'))
                {
                    return -ReasonCode.TOPIC_FILTER_INVALID;
                }
            }
            else if (c == '#')
            {
                if (i != end - 1 || (i > offset && buffer.getByte(i - 1) != '/'))
                {
                    return -ReasonCode.TOPIC_FILTER_INVALID;
                }
            }
        }

        return 0;
    }

    /** True if the filter starts with {@code $share/}. */
    public static boolean isShared(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < SHARE_PREFIX_LENGTH)
        {
            return false;
        }

        for (int i = 0; i < SHARE_PREFIX_LENGTH; i++)
        {
            if (buffer.getByte(offset + i) != SHARE_PREFIX_BYTES[i])
            {
                return false;
            }
        }

        return true;
    }

    /** Offset of the share group name in a shared filter. */
    public static int sharedGroupOffset(final int offset)
    {
        return offset + SHARE_PREFIX_LENGTH;
    }

    /**
     * Length of the share group name of a shared filter, or -1 if there is no '/' after the group.
     */
    public static int sharedGroupLength(final DirectBuffer buffer, final int offset, final int length)
    {
        final int groupOffset = offset + SHARE_PREFIX_LENGTH;
        for (int i = groupOffset, end = offset + length; i < end; i++)
        {
            if (buffer.getByte(i) == '/')
            {
                return i - groupOffset;
            }
        }
        return -1;
    }

    /** Offset of the inner topic filter of a shared filter whose group is valid. */
    public static int sharedFilterOffset(final DirectBuffer buffer, final int offset, final int length)
    {
        return offset + SHARE_PREFIX_LENGTH + sharedGroupLength(buffer, offset, length) + 1;
    }

    /** Length of the inner topic filter of a shared filter whose group is valid. */
    public static int sharedFilterLength(final DirectBuffer buffer, final int offset, final int length)
    {
        return offset + length - sharedFilterOffset(buffer, offset, length);
    }

    /**
     * Reference matcher: does a (non-shared, valid) topic filter match a topic name? Topics starting with '$' are
     * not matched by a filter starting with a wildcard. {@code a/#} matches {@code a}.
     */
    public static boolean matches(
        final DirectBuffer filter,
        final int filterOffset,
        final int filterLength,
        final DirectBuffer topic,
        final int topicOffset,
        final int topicLength)
    {
        final int fEnd = filterOffset + filterLength;
        final int tEnd = topicOffset + topicLength;

        if (topicLength > 0 && topic.getByte(topicOffset) == '$' && filterLength > 0)
        {
            final byte f0 = filter.getByte(filterOffset);
            if (f0 == '+' || f0 == '#')
            {
                return false;
            }
        }

        int f = filterOffset;
        int t = topicOffset;
        while (true)
        {
            final int fLevelEnd = indexOfSlash(filter, f, fEnd);
            final int fLevelLength = fLevelEnd - f;
            if (fLevelLength == 1 && filter.getByte(f) == '#')
            {
                return true;
            }

            if (t > tEnd)
            {
                return false;
            }

            final int tLevelEnd = indexOfSlash(topic, t, tEnd);
            final boolean plus = fLevelLength == 1 && filter.getByte(f) == '+';
            if (!plus && !levelEquals(filter, f, fLevelLength, topic, t, tLevelEnd - t))
            {
                return false;
            }

            final boolean fLast = fLevelEnd == fEnd;
            final boolean tLast = tLevelEnd == tEnd;
            if (fLast)
            {
                return tLast;
            }

            f = fLevelEnd + 1;
            t = tLast ? tEnd + 1 : tLevelEnd + 1;
        }
    }

    /** Allocating convenience for tests. */
    public static boolean matches(final String filter, final String topic)
    {
        final UnsafeBuffer f = new UnsafeBuffer(filter.getBytes(StandardCharsets.UTF_8));
        final UnsafeBuffer t = new UnsafeBuffer(topic.getBytes(StandardCharsets.UTF_8));
        return matches(f, 0, f.capacity(), t, 0, t.capacity());
    }

    private static int indexOfSlash(final DirectBuffer buffer, final int from, final int end)
    {
        for (int i = from; i < end; i++)
        {
            if (buffer.getByte(i) == '/')
            {
                return i;
            }
        }
        return end;
    }

    private static boolean levelEquals(
        final DirectBuffer a, final int aOffset, final int aLength, final DirectBuffer b, final int bOffset, final int bLength)
    {
        if (aLength != bLength)
        {
            return false;
        }

        for (int i = 0; i < aLength; i++)
        {
            if (a.getByte(aOffset + i) != b.getByte(bOffset + i))
            {
                return false;
            }
        }
        return true;
    }
}
