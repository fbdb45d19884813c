package dev.skylark.broker.session;

/**
 * The protocol limits one I/O agent enforces and announces, taken from the broker's configuration.
 */
public record SessionLimits(
    int maxPacketSize,
    int receiveMaximum,
    int topicAliasMaximum,
    long connectTimeoutNs,
    int outboundBufferMax)
{
}
