package dev.skylark.broker.session;

import org.agrona.DirectBuffer;

/**
 * The protocol limits and capabilities one I/O agent enforces and announces, taken from the broker's configuration.
 *
 * @param keepAliveMax         seconds; 0 = clients choose. Above it (or 0) a v5 client is told Server Keep Alive.
 * @param responseInformation  prefix of the Response Information sent to v5 clients that request it; empty = none.
 * @param maximumQos           highest QoS accepted and granted (announced when below 2).
 * @param payloadFormatCheck   whether payloads flagged as UTF-8 (payload format indicator 1) are checked (0x99).
 * @param ratePacketsPerSecond token bucket refill per client; 0 = unlimited.
 * @param rateSlowsReader      over the rate: stop reading the socket (true) or disconnect with 0x96 (false).
 * @param willMaxBytes         largest will (topic, properties and payload) a CONNECT may carry; 0 = unlimited.
 */
public record SessionLimits(
    int maxPacketSize,
    int receiveMaximum,
    int topicAliasMaximum,
    long connectTimeoutNs,
    int outboundBufferMax,
    int keepAliveMax,
    String responseInformation,
    int maximumQos,
    boolean retainAvailable,
    boolean wildcardSubscriptionsAvailable,
    boolean sharedSubscriptionsAvailable,
    boolean subscriptionIdentifiersAvailable,
    boolean payloadFormatCheck,
    int topicMaxLength,
    int topicMaxDepth,
    int clientIdMaxLength,
    int ratePacketsPerSecond,
    int rateBurst,
    boolean rateSlowsReader,
    long slowConsumerTimeoutNs,
    int willMaxBytes)
{
    /** Topic names and filters within the configured length and depth (levels). */
    public boolean withinTopicLimits(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length > topicMaxLength)
        {
            return false;
        }
        int levels = 1;
        for (int i = offset, end = offset + length; i < end; i++)
        {
            if (buffer.getByte(i) == '/')
            {
                levels++;
            }
        }
        return levels <= topicMaxDepth;
    }
}
