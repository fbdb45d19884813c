package dev.skylark.broker.auth;

import dev.skylark.codec.mqtt.Topics;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The topic filters a token allows for one direction (publish or subscribe), compiled once per connection.
 * <p>
 * {@link #ALL} (claim absent) allows everything; an empty list ({@code []}) allows nothing.
 * {@link #allowsTopic} runs on the publish path: it walks pre-built buffers with {@link Topics#matches} and
 * allocates nothing. {@link #allowsFilter} answers whether a requested subscription filter is <em>covered</em> by
 * an allowed filter, i.e. every topic the request can match is matched by one allowed filter.
 */
public final class TopicAcl
{
    /** No restriction. */
    public static final TopicAcl ALL = new TopicAcl(null);

    private final UnsafeBuffer[] filters;
    private final String[][] levels;

    private TopicAcl(final List<String> filters)
    {
        if (filters == null)
        {
            this.filters = null;
            this.levels = null;
            return;
        }
        this.filters = new UnsafeBuffer[filters.size()];
        this.levels = new String[filters.size()][];
        for (int i = 0; i < filters.size(); i++)
        {
            this.filters[i] = new UnsafeBuffer(filters.get(i).getBytes(StandardCharsets.UTF_8));
            this.levels[i] = filters.get(i).split("/", -1);
        }
    }

    /**
     * Compiles a claim's filters.
     *
     * @param filters the claim's topic filters, or null when the claim is absent (everything allowed).
     * @throws IllegalArgumentException when a filter is not a valid MQTT topic filter.
     */
    public static TopicAcl of(final List<String> filters)
    {
        if (filters == null)
        {
            return ALL;
        }
        for (final String filter : filters)
        {
            final UnsafeBuffer buffer = new UnsafeBuffer(filter.getBytes(StandardCharsets.UTF_8));
            if (filter.isEmpty() || Topics.validateTopicFilter(buffer, 0, buffer.capacity()) < 0 ||
                Topics.isShared(buffer, 0, buffer.capacity()))
            {
                throw new IllegalArgumentException("invalid topic filter in token: '" + filter + "'");
            }
        }
        return new TopicAcl(List.copyOf(filters));
    }

    public boolean unrestricted()
    {
        return filters == null;
    }

    /** Publish path: may a message be published to this topic name? Allocation-free. */
    public boolean allowsTopic(final DirectBuffer topic, final int offset, final int length)
    {
        final UnsafeBuffer[] filters = this.filters;
        if (filters == null)
        {
            return true;
        }
        for (final UnsafeBuffer filter : filters)
        {
            if (Topics.matches(filter, 0, filter.capacity(), topic, offset, length))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Subscribe path: is the requested (valid) filter covered by an allowed one? A shared subscription
     * ({@code $share/group/filter}) is judged by its filter.
     */
    public boolean allowsFilter(final DirectBuffer filter, final int offset, final int length)
    {
        if (filters == null)
        {
            return true;
        }
        int start = offset;
        int len = length;
        if (Topics.isShared(filter, offset, length))
        {
            start = Topics.sharedFilterOffset(filter, offset, length);
            len = Topics.sharedFilterLength(filter, offset, length);
        }
        return allowsFilter(filter.getStringWithoutLengthUtf8(start, len));
    }

    /** String form of {@link #allowsFilter(DirectBuffer, int, int)} (no shared-subscription prefix). */
    public boolean allowsFilter(final String requested)
    {
        if (levels == null)
        {
            return true;
        }
        final String[] wanted = requested.split("/", -1);
        for (final String[] allowed : levels)
        {
            if (covers(allowed, wanted))
            {
                return true;
            }
        }
        return false;
    }

    static boolean covers(final String[] allowed, final String[] wanted)
    {
        // A filter starting with a wildcard never matches '$' topics: it cannot cover a request for them.
        if (wanted[0].startsWith("$") && (allowed[0].equals("#") || allowed[0].equals("+")))
        {
            return false;
        }
        int i = 0;
        for (; i < allowed.length; i++)
        {
            final String a = allowed[i];
            if (a.equals("#"))
            {
                return true; // covers the rest, including the parent level ('a/#' matches 'a')
            }
            if (i >= wanted.length)
            {
                return false;
            }
            final String w = wanted[i];
            if (a.equals("+"))
            {
                if (w.equals("#"))
                {
                    return false;
                }
            }
            else if (!a.equals(w))
            {
                return false;
            }
        }
        return i == wanted.length;
    }
}
