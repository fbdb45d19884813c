package dev.skylark.broker.session;

import dev.skylark.broker.auth.ClientAccess;
import dev.skylark.broker.hook.PublishHookProxy;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.Property;
import dev.skylark.codec.mqtt.PropertyFilter;
import dev.skylark.codec.mqtt.PublishDecoder;
import dev.skylark.codec.mqtt.PublishView;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/**
 * Decides what becomes of a client's PUBLISH: decodes it, checks it against the broker's policy (maximum QoS, retain
 * available, inbound topic aliases, Receive Maximum, topic length and depth, payload format, the reserved {@code $}
 * space, the token's publish ACL), and hands it to the publish hook or the routing agent — or answers or closes
 * itself. Stateless: one instance per I/O thread, held by {@link MqttProtocol}, called by
 * {@link MqttConnectionHandler#onPacket} with the connection's state; its {@link PublishView} is re-wrapped per
 * message, so an admitted PUBLISH is copied once, straight into the ring.
 */
final class PublishAdmission
{
    private static final byte[] NO_JTI = new byte[0];

    private final MqttProtocol protocol;
    private final PublishView publish = new PublishView();

    PublishAdmission(final MqttProtocol protocol)
    {
        this.protocol = protocol;
    }

    /**
     * @return false when the hook's queue or the routing ring is full: the packet is offered again later (the
     * connection is blocked meanwhile).
     */
    boolean onPublish(
        final MqttConnectionHandler handler, final DirectBuffer buffer, final int offset, final int length)
    {
        final SessionLimits limits = protocol.limits;
        final int version = handler.version;
        final PublishDecoder decoder = protocol.publishDecoder;
        final int result = decoder.wrap(buffer, offset, length, version);
        if (result < 0)
        {
            handler.protocolError(-result, "invalid PUBLISH");
            return true;
        }
        final int qos = decoder.qos();
        if (qos > limits.maximumQos())
        {
            handler.protocolError(ReasonCode.QOS_NOT_SUPPORTED, "PUBLISH at QoS " + qos + " above the maximum QoS");
            return true;
        }
        if (decoder.retain() && !limits.retainAvailable())
        {
            handler.protocolError(ReasonCode.RETAIN_NOT_SUPPORTED, "retained PUBLISH but retain is not available");
            return true;
        }
        if (decoder.hasSubscriptionIdentifier())
        {
            handler.protocolError(ReasonCode.PROTOCOL_ERROR, "PUBLISH from a client carries a Subscription Identifier");
            return true;
        }

        final PublishView publish = this.publish.wrap(decoder);
        final int alias = decoder.topicAlias();
        if (alias > 0 && !resolveAlias(handler, alias, buffer, publish))
        {
            return true;
        }
        if (version != MqttVersion.V5)
        {
            publish.properties(publish.propertiesBuffer(), publish.propertiesOffset(), 0);
        }

        if (qos > 0 && !decoder.dup() && handler.inboundInFlight >= limits.receiveMaximum() &&
            version == MqttVersion.V5)
        {
            handler.protocolError(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED,
                "more than Receive Maximum unacknowledged publishes");
            return true;
        }

        final DirectBuffer topic = publish.topicBuffer();
        final int topicOffset = publish.topicOffset();
        final int topicLength = publish.topicLength();
        if (!limits.withinTopicLimits(topic, topicOffset, topicLength))
        {
            if (version != MqttVersion.V5)
            {
                handler.protocolError(ReasonCode.TOPIC_NAME_INVALID, "topic beyond the length or depth limit");
            }
            else if (qos > 0)
            {
                refuse(handler, qos, decoder.packetId(), ReasonCode.TOPIC_NAME_INVALID,
                    ReasonString.TOPIC_BEYOND_LIMITS);
            }
            return true;
        }

        if (limits.payloadFormatCheck() && decoder.validatePayloadFormat() < 0)
        {
            protocol.counters.payloadFormatInvalid.incrementRelease();
            if (qos > 0)
            {
                refuse(handler, qos, decoder.packetId(),
                    version == MqttVersion.V5 ? ReasonCode.PAYLOAD_FORMAT_INVALID : ReasonCode.SUCCESS,
                    ReasonString.PAYLOAD_NOT_UTF8);
            }
            return true;
        }

        if (topicLength > 0 && topic.getByte(topicOffset) == '$' &&
            protocol.reservedTopic(topic, topicOffset, topicLength))
        {
            // The broker's own '$' prefixes ($SYS/...) are refused; other '$' topics are governed by the rules.
            protocol.counters.reservedTopicPublishes.incrementRelease();
            if (qos > 0)
            {
                refuse(handler, qos, decoder.packetId(), notAuthorized(version), ReasonString.RESERVED_TOPIC);
            }
            return true;
        }

        if (!handler.grant.mayPublish(topic, topicOffset, topicLength))
        {
            if (qos > 0)
            {
                refuse(handler, qos, decoder.packetId(), notAuthorized(version), ReasonString.PUBLISH_NOT_ALLOWED);
            }
            return true;
        }

        final ClientAccess access = protocol.access(handler);
        final int rule = access.publishRule(topic, topicOffset, topicLength);
        if (!access.allowed(rule))
        {
            protocol.counters.aclPublishesDenied.incrementRelease();
            logDenied(handler, access, rule, topic, topicOffset, topicLength);
            if (qos > 0)
            {
                refuse(handler, qos, decoder.packetId(), notAuthorized(version), ReasonString.PUBLISH_DENIED_BY_RULES);
            }
            return true;
        }

        final long connectionId = handler.connection.id();
        final PublishHookProxy hook = protocol.hook;
        if (hook != null && hook.matches(topic, topicOffset, topicLength))
        {
            // The hook decides first; the routing agent gets what it returns, and answers PUBACK/PUBREC then.
            if (!hook.offer(connectionId, protocol.epochClock.time(), hookClientId(handler), hookJti(handler), publish))
            {
                if (qos == 0)
                {
                    hook.droppedQueueFull(); // the hook is behind: QoS 0 is dropped rather than wait
                    return true;
                }
                hook.heldBack();
                protocol.blocked(handler.connection); // offered again later: the publisher waits for the hook
                return false;
            }
        }
        else if (!protocol.router.publish(connectionId, publish))
        {
            protocol.blocked(handler.connection);
            return false;
        }
        if (qos == 1 || (qos == 2 && !decoder.dup()))
        {
            // A resent QoS 2 PUBLISH (DUP) shares the exchange, and the single PUBCOMP, of the first one.
            handler.inboundInFlight++;
        }
        return true;
    }

    /**
     * Sets or applies the PUBLISH's topic alias: the view then names the full topic, and its properties are the
     * forwarded ones (the Topic Alias left out, in the protocol's scratch).
     *
     * @return false when the alias is invalid or unknown (the connection is closed).
     */
    private boolean resolveAlias(
        final MqttConnectionHandler handler, final int alias, final DirectBuffer buffer, final PublishView publish)
    {
        final int maximum = protocol.limits.topicAliasMaximum();
        if (alias > maximum)
        {
            handler.protocolError(ReasonCode.TOPIC_ALIAS_INVALID, "topic alias " + alias + " above the maximum");
            return false;
        }
        if (handler.inboundAliases == null)
        {
            handler.inboundAliases = new InboundTopicAliases(maximum);
        }
        if (publish.topicLength() > 0)
        {
            // Only a topic within the limits is kept: the caller refuses a longer one, and an alias must not pin
            // what the broker would not accept (up to 64 KB per alias otherwise).
            if (protocol.limits.withinTopicLimits(buffer, publish.topicOffset(), publish.topicLength()))
            {
                handler.inboundAliases.set(alias, buffer, publish.topicOffset(), publish.topicLength());
            }
        }
        else
        {
            final UnsafeBuffer known = handler.inboundAliases.topic(alias);
            if (known == null)
            {
                handler.protocolError(ReasonCode.PROTOCOL_ERROR, "unknown topic alias " + alias);
                return false;
            }
            publish.topic(known, 0, known.capacity());
        }
        final int propertiesLength = PropertyFilter.copyWithout(buffer, publish.propertiesOffset(),
            publish.propertiesLength(), Property.TOPIC_ALIAS, protocol.scratch, 0);
        publish.properties(protocol.scratch, 0, propertiesLength);
        return true;
    }

    /** A rate-limited line naming the rule that refused a PUBLISH (allocates, only when it is written). */
    private void logDenied(
        final MqttConnectionHandler handler, final ClientAccess access, final int rule, final DirectBuffer topic,
        final int offset, final int length)
    {
        if (protocol.accessLogAdmits())
        {
            protocol.logAccess("PUBLISH from '" + handler.clientId + "' to '" +
                topic.getStringWithoutLengthUtf8(offset, length) + "' denied by " + access.describe(rule));
        }
    }

    /** PUBACK or PUBREC refusing the message (or, in 3.1.1, acknowledging it as if it went through). */
    private void refuse(
        final MqttConnectionHandler handler, final int qos, final int packetId, final int reasonCode,
        final ReasonString why)
    {
        protocol.writer.ack(handler, qos == 1 ? PacketType.PUBACK : PacketType.PUBREC, packetId, reasonCode, why);
    }

    private static int notAuthorized(final int version)
    {
        return version == MqttVersion.V5 ? ReasonCode.NOT_AUTHORIZED : ReasonCode.SUCCESS;
    }

    /** The client id as the publish hook reports it, encoded once per connection. */
    private static byte[] hookClientId(final MqttConnectionHandler handler)
    {
        if (handler.hookClientId == null)
        {
            handler.hookClientId = handler.clientId.getBytes(StandardCharsets.UTF_8);
        }
        return handler.hookClientId;
    }

    /** The token id as the publish hook reports it (empty without a token), encoded once per grant. */
    private static byte[] hookJti(final MqttConnectionHandler handler)
    {
        if (handler.hookJtiGrant != handler.grant)
        {
            handler.hookJtiGrant = handler.grant;
            final String jti = handler.grant.jti();
            handler.hookJti = jti == null ? NO_JTI : jti.getBytes(StandardCharsets.UTF_8);
        }
        return handler.hookJti;
    }
}
