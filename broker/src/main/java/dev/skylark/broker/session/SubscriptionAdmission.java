package dev.skylark.broker.session;

import dev.skylark.broker.auth.ClientAccess;
import dev.skylark.broker.routing.SubscriptionOptions;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.ReasonCode;
import dev.skylark.codec.mqtt.SubscribeDecoder;
import dev.skylark.codec.mqtt.Topics;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Decides what the I/O side can about a client's SUBSCRIBE: decodes it, refuses it whole when it needs a capability
 * that is off, and gives each entry its granted options and a verdict (invalid filter, beyond the topic limits,
 * No Local on a shared subscription, shared or wildcard subscriptions off, not in the token's grant); then hands
 * it to the routing agent, which subscribes the accepted entries and answers the SUBACK. Stateless: one instance
 * per I/O thread, held by {@link MqttProtocol}, called by {@link MqttConnectionHandler#onPacket}.
 */
final class SubscriptionAdmission
{
    private final MqttProtocol protocol;

    SubscriptionAdmission(final MqttProtocol protocol)
    {
        this.protocol = protocol;
    }

    /**
     * @return false when the routing ring is full: the packet is offered again later (the connection is blocked
     * meanwhile).
     */
    boolean onSubscribe(
        final MqttConnectionHandler handler, final DirectBuffer buffer, final int offset, final int length)
    {
        final SubscribeDecoder subscribe = protocol.subscribeDecoder;
        final SessionLimits limits = protocol.limits;
        final int version = handler.version;
        final int result = subscribe.wrap(buffer, offset, length, version);
        if (result < 0)
        {
            handler.protocolError(-result, result == -ReasonCode.QUOTA_EXCEEDED ?
                "more than " + SubscribeDecoder.MAX_ENTRIES + " topic filters in one SUBSCRIBE" : "invalid SUBSCRIBE");
            return true;
        }
        if (subscribe.subscriptionIdentifier() > 0 && !limits.subscriptionIdentifiersAvailable())
        {
            handler.protocolError(ReasonCode.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
                "subscription identifiers are off");
            return true;
        }
        final MutableDirectBuffer optionsAndReasons = protocol.subscriptionScratch;
        int entry = 0;
        while (subscribe.nextEntry())
        {
            final int grantedQos = Math.min(subscribe.qos(), limits.maximumQos());
            final int options = version == MqttVersion.V5 ?
                SubscriptionOptions.pack(grantedQos, subscribe.noLocal(), subscribe.retainAsPublished(),
                    subscribe.retainHandling()) :
                SubscriptionOptions.ofQos(grantedQos);
            optionsAndReasons.putByte(entry, (byte)options);
            optionsAndReasons.putByte(entry + 1, (byte)verdict(handler, subscribe, buffer));
            entry += 2;
        }
        if (!protocol.router.subscribe(handler.connection.id(), subscribe, optionsAndReasons))
        {
            protocol.blocked(handler.connection);
            return false;
        }
        return true;
    }

    /** Success, or the reason code the routing agent puts in the SUBACK for the decoder's current entry. */
    private int verdict(
        final MqttConnectionHandler handler, final SubscribeDecoder subscribe, final DirectBuffer buffer)
    {
        final SessionLimits limits = protocol.limits;
        final int filterOffset = subscribe.filterOffset();
        final int filterLength = subscribe.filterLength();
        final boolean shared = Topics.isShared(buffer, filterOffset, filterLength);
        int reason = Topics.validateTopicFilter(buffer, filterOffset, filterLength) < 0 ||
            !limits.withinTopicLimits(buffer, filterOffset, filterLength) ?
            ReasonCode.TOPIC_FILTER_INVALID : ReasonCode.SUCCESS;
        if (reason == ReasonCode.SUCCESS && shared && subscribe.noLocal())
        {
            reason = ReasonCode.PROTOCOL_ERROR; // [MQTT-3.8.3-4]
        }
        if (reason == ReasonCode.SUCCESS && shared && !limits.sharedSubscriptionsAvailable())
        {
            reason = ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED;
        }
        if (reason == ReasonCode.SUCCESS && !limits.wildcardSubscriptionsAvailable() &&
            hasWildcard(buffer, filterOffset, filterLength))
        {
            reason = ReasonCode.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED;
        }
        if (reason == ReasonCode.SUCCESS && !handler.grant.maySubscribe(buffer, filterOffset, filterLength))
        {
            reason = ReasonCode.NOT_AUTHORIZED;
        }
        if (reason == ReasonCode.SUCCESS && protocol.accessControl.enabled())
        {
            final ClientAccess access = protocol.access(handler);
            final String filter = buffer.getStringWithoutLengthUtf8(filterOffset, filterLength);
            final int rule = access.subscribeRule(filter);
            if (!access.allowed(rule))
            {
                reason = ReasonCode.NOT_AUTHORIZED;
                protocol.counters.aclSubscriptionsDenied.incrementRelease();
                if (protocol.accessLogAdmits())
                {
                    protocol.logAccess("SUBSCRIBE from '" + handler.clientId + "' to '" + filter + "' denied by " +
                        access.describe(rule));
                }
            }
        }
        if (handler.version != MqttVersion.V5 && reason != ReasonCode.SUCCESS)
        {
            reason = ReasonCode.V3_SUBACK_FAILURE;
        }
        return reason;
    }

    private static boolean hasWildcard(final DirectBuffer buffer, final int offset, final int length)
    {
        for (int i = offset, end = offset + length; i < end; i++)
        {
            final byte b = buffer.getByte(i);
            if (b == '+' || b == '#')
            {
                return true;
            }
        }
        return false;
    }
}
