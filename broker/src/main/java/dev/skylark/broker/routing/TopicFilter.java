package dev.skylark.broker.routing;

import java.nio.charset.StandardCharsets;

/**
 * Parsing and validation of topic filters (MQTT 4.7.1) and shared subscription filters (MQTT v5 4.8.2).
 * Off the hot path: works on {@link String}s.
 */
public final class TopicFilter
{
    /** Prefix of a shared subscription filter, {@code $share/<group>/<filter>}. */
    public static final String SHARE_PREFIX = "$share/";

    static final byte LEVEL_SEPARATOR = '/';
    static final byte SINGLE_LEVEL_WILDCARD = '+';
    static final byte MULTI_LEVEL_WILDCARD = '#';
    static final byte SYSTEM_PREFIX = '$';

    private TopicFilter()
    {
    }

    /**
     * @param filter a topic filter.
     * @return true if it is a shared subscription filter ({@code $share/...}).
     */
    public static boolean isShared(final String filter)
    {
        return filter.startsWith(SHARE_PREFIX);
    }

    /**
     * @param filter a shared subscription filter.
     * @return the share name.
     */
    public static String shareName(final String filter)
    {
        final int end = filter.indexOf('/', SHARE_PREFIX.length());
        return filter.substring(SHARE_PREFIX.length(), end);
    }

    /**
     * @param filter a shared subscription filter.
     * @return the filter without {@code $share/<name>/}.
     */
    public static String innerFilter(final String filter)
    {
        final int end = filter.indexOf('/', SHARE_PREFIX.length());
        return filter.substring(end + 1);
    }

    /**
     * Validate a topic filter, shared or not.
     *
     * @param filter to check.
     * @return null if valid, else the reason it is not.
     */
    public static String validate(final String filter)
    {
        if (null == filter || filter.isEmpty())
        {
            return "empty topic filter";
        }

        String inner = filter;
        if (isShared(filter))
        {
            final int end = filter.indexOf('/', SHARE_PREFIX.length());
            if (end < 0)
            {
                return "shared subscription without a topic filter: " + filter;
            }

            final String name = filter.substring(SHARE_PREFIX.length(), end);
            if (name.isEmpty() || name.indexOf('+') >= 0 || name.indexOf('#') >= 0)
            {
                return "invalid share name: " + filter;
            }

            inner = filter.substring(end + 1);
            if (inner.isEmpty())
            {
                return "shared subscription without a topic filter: " + filter;
            }
        }

        final int length = inner.length();
        for (int i = 0; i < length; i++)
        {
            final char c = inner.charAt(i);
            if (c == '+')
            {
                if ((i > 0 && inner.charAt(i - 1) != '/') || (i < length - 1 && inner.charAt(i + 1) != '/'))
                {
                    return "'+' must occupy an entire level: " + filter;
                }
            }
            else if (c == '#')
            {
                if ((i > 0 && inner.charAt(i - 1) != '/') || i != length - 1)
                {
                    return "'#' must be the last level on its own: " + filter;
                }
            }
            else if (c == 0)
            {
                return "NUL character in topic filter";
            }
        }

        return null;
    }

    /**
     * @param filter a topic filter.
     * @return true if it contains a '+' or '#' wildcard.
     */
    public static boolean hasWildcard(final String filter)
    {
        return filter.indexOf('+') >= 0 || filter.indexOf('#') >= 0;
    }

    /**
     * Split a filter or topic into its levels, keeping empty levels ({@code "/a/"} has three).
     *
     * @param filter to split.
     * @return UTF-8 bytes of each level.
     */
    static byte[][] levels(final String filter)
    {
        int count = 1;
        for (int i = 0; i < filter.length(); i++)
        {
            if (filter.charAt(i) == '/')
            {
                count++;
            }
        }

        final byte[][] levels = new byte[count][];
        int start = 0;
        for (int i = 0; i < count; i++)
        {
            int end = filter.indexOf('/', start);
            if (end < 0)
            {
                end = filter.length();
            }
            levels[i] = filter.substring(start, end).getBytes(StandardCharsets.UTF_8);
            start = end + 1;
        }

        return levels;
    }

    static boolean isSingleLevelWildcard(final byte[] level)
    {
        return level.length == 1 && level[0] == SINGLE_LEVEL_WILDCARD;
    }

    static boolean isMultiLevelWildcard(final byte[] level)
    {
        return level.length == 1 && level[0] == MULTI_LEVEL_WILDCARD;
    }
}
