package dev.skylark.broker.hook;

import dev.skylark.codec.mqtt.Topics;
import org.agrona.concurrent.UnsafeBuffer;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The publish hook's configuration, checked: where to POST, which topics go through it, how long to wait, what to
 * do on failure, how large a batch may grow and how many bytes may wait for the hook.
 *
 * @param url              http or https URL the batches are POSTed to.
 * @param topics           topic filters whose messages go through the hook ({@code #}: all but {@code $} topics).
 * @param timeoutMs        how long one request may take before the policy applies.
 * @param policy           what a failed request means for its messages.
 * @param batchMaxMessages most messages in one request.
 * @param batchMaxBytes    most message bytes (topic, properties, payload) in one request; one larger message still
 *                         goes alone.
 * @param queueBytes       capacity of the ring between the I/O threads and the hook agent (a power of two): what
 *                         the hook may fall behind by before QoS 0 is dropped and QoS 1/2 publishers are held back.
 */
public record HookSettings(
    URI url,
    List<String> topics,
    long timeoutMs,
    HookPolicy policy,
    int batchMaxMessages,
    int batchMaxBytes,
    int queueBytes)
{
    public HookSettings
    {
        topics = List.copyOf(topics);
    }

    /** Why the URL cannot be used, or null when it can. */
    public static String checkUrl(final String url)
    {
        try
        {
            final URI uri = new URI(url);
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()))
            {
                return "must be an http:// or https:// URL";
            }
            if (uri.getHost() == null || uri.getHost().isEmpty())
            {
                return "has no host";
            }
            return null;
        }
        catch (final java.net.URISyntaxException ex)
        {
            return "is not a URL: " + ex.getMessage();
        }
    }

    /** Why one of the filters is not usable, or null when all are (shared-subscription filters are not). */
    public static String checkTopics(final List<String> filters)
    {
        if (filters.isEmpty())
        {
            return "needs at least one topic filter";
        }
        for (final String filter : filters)
        {
            final UnsafeBuffer buffer = new UnsafeBuffer(filter.getBytes(StandardCharsets.UTF_8));
            if (filter.isEmpty() || Topics.validateTopicFilter(buffer, 0, buffer.capacity()) < 0 ||
                Topics.isShared(buffer, 0, buffer.capacity()))
            {
                return "'" + filter + "' is not a topic filter";
            }
        }
        return null;
    }

    /** Splits a comma-separated list of filters, dropping blanks. */
    public static List<String> parseTopics(final String value)
    {
        final List<String> filters = new ArrayList<>();
        for (final String item : value.split(","))
        {
            if (!item.isBlank())
            {
                filters.add(item.trim());
            }
        }
        return filters;
    }
}
