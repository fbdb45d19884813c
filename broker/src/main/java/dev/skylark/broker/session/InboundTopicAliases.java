package dev.skylark.broker.session;

import dev.skylark.codec.mqtt.MqttPrimitives;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Topic aliases one v5 client set on its PUBLISHes, up to the broker's Topic Alias Maximum: alias → topic, each
 * topic copied when the alias is set (the receive buffer moves on). Created on a connection's first aliased PUBLISH,
 * so clients that use no aliases pay nothing; the counterpart of {@link OutboundTopicAliases}. Used by
 * {@link PublishAdmission}.
 */
final class InboundTopicAliases
{
    private final UnsafeBuffer[] topics;

    /** @param maximum the highest alias the broker announced (Topic Alias Maximum). */
    InboundTopicAliases(final int maximum)
    {
        topics = new UnsafeBuffer[maximum + 1];
    }

    /** Points {@code alias} (1..maximum) at this topic, replacing what it meant before. */
    void set(final int alias, final DirectBuffer buffer, final int offset, final int length)
    {
        topics[alias] = new UnsafeBuffer(MqttPrimitives.bytes(buffer, offset, length));
    }

    /** The topic {@code alias} (1..maximum) stands for, the whole buffer; null when the client never set it. */
    UnsafeBuffer topic(final int alias)
    {
        return topics[alias];
    }
}
