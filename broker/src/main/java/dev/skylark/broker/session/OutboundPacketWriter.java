package dev.skylark.broker.session;

import dev.skylark.broker.net.Connection;
import dev.skylark.broker.routing.Delivery;
import dev.skylark.broker.routing.MessageLayout;
import dev.skylark.codec.mqtt.AuthEncoder;
import dev.skylark.codec.mqtt.ConnAckEncoder;
import dev.skylark.codec.mqtt.DisconnectEncoder;
import dev.skylark.codec.mqtt.MqttPrimitives;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.PingEncoder;
import dev.skylark.codec.mqtt.PropertiesEncoder;
import dev.skylark.codec.mqtt.Property;
import dev.skylark.codec.mqtt.PubAckEncoder;
import dev.skylark.codec.mqtt.PublishEncoder;
import dev.skylark.codec.mqtt.PublishView;
import dev.skylark.codec.mqtt.ReasonCode;
import dev.skylark.codec.mqtt.SubAckEncoder;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Encodes every packet the broker sends a client into its connection's outbound buffer: PUBLISH deliveries (with
 * per-subscriber properties and outbound topic aliases), acknowledgements, SUBACK/UNSUBACK, CONNACK, DISCONNECT,
 * AUTH and PINGRESP, and applies the rules on what may go with them: Reason Strings only when the client did not
 * refuse problem information, and never past its Maximum Packet Size. Stateless: one instance per I/O thread, held by
 * {@link MqttProtocol}, reading the connection's negotiated values from its {@link MqttConnectionHandler}.
 * <p>
 * Maximum Packet Size [MQTT-3.1.2-24] is applied to every packet, by type: what the specification lets a server leave
 * out goes first (the Reason String; the broker sends no User Properties of its own); a PUBLISH that still does not
 * fit is not sent and counts as delivered [MQTT-3.1.2-25]; any other packet that still does not fit closes the
 * connection ({@link MqttConnectionHandler#tooLargeForClient}): a CONNACK closes it without an answer; an AUTH of a
 * CONNECT's exchange refuses the CONNECT with CONNACK 0x95 Packet too large where that fits; SUBACK, UNSUBACK,
 * PUBACK/PUBREC/PUBREL/PUBCOMP, AUTH and PINGRESP on a live connection close it with DISCONNECT 0x95 where that
 * fits; a DISCONNECT that does not fit is not sent. The table is in docs/conformance.md.
 */
final class OutboundPacketWriter
{
    /** Room reserved for a control packet besides its properties and reason codes. */
    static final int CONTROL_PACKET_MAX = 512;

    private final MqttProtocol protocol;
    /** Property blocks of CONNACK, DISCONNECT, SUBACK and AUTH, built in {@link MqttProtocol#propertyScratch}. */
    private final PropertiesEncoder properties = new PropertiesEncoder();
    /** The PUBLISH being delivered, re-wrapped per subscriber. */
    private final PublishView publish = new PublishView();

    OutboundPacketWriter(final MqttProtocol protocol)
    {
        this.protocol = protocol;
    }

    /**
     * One PUBLISH for this subscriber around the shared message bytes: its own packet id, QoS, DUP, RETAIN,
     * subscription identifiers and topic alias. Too large for the client: not sent, and treated as delivered.
     */
    void publish(
        final MqttConnectionHandler handler,
        final DirectBuffer buffer,
        final int messageOffset,
        final int packetId,
        final int qos,
        final int flags,
        final int subscriptionIdsOffset,
        final int subscriptionIdCount)
    {
        final Connection connection = handler.connection;
        final int version = handler.version;
        final boolean v5 = version == MqttVersion.V5;
        final int topicOffset = MessageLayout.topicOffset(messageOffset);
        final int topicLength = MessageLayout.topicLength(buffer, messageOffset);
        DirectBuffer properties = buffer;
        int propertiesOffset = MessageLayout.propertiesOffset(buffer, messageOffset);
        int propertiesLength = v5 ? MessageLayout.propertiesLength(buffer, messageOffset) : 0;
        int sentTopicLength = topicLength;
        int alias = 0;
        boolean newAlias = false;
        final OutboundTopicAliases outboundAliases = handler.outboundAliases;
        if (outboundAliases != null)
        {
            alias = outboundAliases.lookup(buffer, topicOffset, topicLength);
            if (alias != 0)
            {
                sentTopicLength = 0; // the client knows this alias: the topic is not repeated
            }
            else
            {
                alias = outboundAliases.nextFree(); // taken only once the packet is really sent
                newAlias = alias != 0;
            }
        }
        if (v5 && (subscriptionIdCount > 0 || alias != 0))
        {
            // Per-subscriber properties first (subscription identifiers, topic alias), then the forwarded ones.
            final MutableDirectBuffer scratch = protocol.scratch;
            int position = 0;
            for (int i = 0; i < subscriptionIdCount; i++)
            {
                scratch.putByte(position++, (byte)Property.SUBSCRIPTION_IDENTIFIER);
                position += MqttPrimitives.putVarInt(scratch, position, buffer.getInt(subscriptionIdsOffset + i * 4));
            }
            if (alias != 0)
            {
                scratch.putByte(position++, (byte)Property.TOPIC_ALIAS);
                MqttPrimitives.putUint16(scratch, position, alias);
                position += 2;
            }
            scratch.putBytes(position, buffer, propertiesOffset, propertiesLength);
            properties = scratch;
            propertiesOffset = 0;
            propertiesLength += position;
        }

        final PublishView publish = this.publish
            .flags(qos, (flags & Delivery.ENTRY_FLAG_DUP) != 0, (flags & Delivery.ENTRY_FLAG_RETAIN) != 0)
            .packetId(packetId)
            .topic(buffer, topicOffset, sentTopicLength)
            .properties(properties, propertiesOffset, propertiesLength)
            .payload(buffer, MessageLayout.payloadOffset(buffer, messageOffset),
                MessageLayout.payloadLength(buffer, messageOffset));
        final int length = PublishEncoder.encodedLength(version, publish);
        if (length > handler.clientMaxPacketSize)
        {
            // [MQTT-3.1.2-25]: not sent, and treated as if it had been delivered.
            protocol.counters.tooLargeForClient.incrementRelease();
            if (qos > 0)
            {
                protocol.router.ack(connection.id(), qos == 1 ? PacketType.PUBACK : PacketType.PUBREC,
                    ReasonCode.PACKET_TOO_LARGE, packetId);
            }
            return;
        }
        if (newAlias)
        {
            outboundAliases.assign(buffer, topicOffset, topicLength);
        }
        connection.ensureOutbound(length);
        commit(connection, PublishEncoder.encode(connection.outboundBuffer(), connection.outboundPosition(), version,
            publish));
        protocol.counters.messagesOut.incrementRelease();
    }

    void pingResp(final MqttConnectionHandler handler)
    {
        if (!fits(handler, 2, "PINGRESP"))
        {
            return;
        }
        final Connection connection = handler.connection;
        connection.ensureOutbound(2);
        commit(connection, PingEncoder.encodePingResp(connection.outboundBuffer(), connection.outboundPosition()));
    }

    /**
     * PUBACK, PUBREC, PUBREL or PUBCOMP. A refusal (0x80 or above) carries {@code why} as its Reason String when the
     * client asked for problem information and the packet stays within its Maximum Packet Size; the text is
     * pre-encoded, so this allocates nothing.
     */
    void ack(
        final MqttConnectionHandler handler,
        final int packetType,
        final int packetId,
        final int reasonCode,
        final ReasonString why)
    {
        final Connection connection = handler.connection;
        final int version = handler.version;
        final boolean withReason = why != null && reasonCode >= ReasonCode.UNSPECIFIED_ERROR &&
            sendsProblemInformation(handler) &&
            // [MQTT-3.4.2-2]
            PubAckEncoder.encodedLength(version, reasonCode, why.length()) <= handler.clientMaxPacketSize;
        if (!fits(handler, PubAckEncoder.encodedLength(version, reasonCode, 0), PacketType.name(packetType)))
        {
            return;
        }
        connection.ensureOutbound(CONTROL_PACKET_MAX);
        commit(connection, PubAckEncoder.encode(
            connection.outboundBuffer(), connection.outboundPosition(), version, packetType, packetId, reasonCode,
            withReason ? why.buffer() : null, 0, withReason ? why.length() : 0));
    }

    /** SUBACK or UNSUBACK with the routing agent's reason codes; a SUBACK says why entries were refused. */
    void subAck(
        final MqttConnectionHandler handler,
        final int packetType,
        final int packetId,
        final DirectBuffer reasons,
        final int reasonsOffset,
        final int count)
    {
        final Connection connection = handler.connection;
        final int version = handler.version;
        int propertiesLength = 0;
        final String why = packetType == PacketType.SUBACK && sendsProblemInformation(handler) ?
            ReasonString.forSubAck(reasons, reasonsOffset, count) : null;
        if (why != null)
        {
            propertiesLength = reasonString(why);
            if (SubAckEncoder.encodedLength(version, packetType, propertiesLength, count) > handler.clientMaxPacketSize)
            {
                propertiesLength = 0; // [MQTT-3.9.2-1]
            }
        }
        if (!fits(handler, SubAckEncoder.encodedLength(version, packetType, propertiesLength, count),
            PacketType.name(packetType)))
        {
            return;
        }
        connection.ensureOutbound(CONTROL_PACKET_MAX + propertiesLength + count);
        commit(connection, SubAckEncoder.encode(connection.outboundBuffer(), connection.outboundPosition(), version,
            packetType, packetId, protocol.propertyScratch, 0, propertiesLength, reasons, reasonsOffset, count));
    }

    /** v5 only, once: DISCONNECT with the reason code and {@code why} as its Reason String (left out if too large). */
    void disconnect(final MqttConnectionHandler handler, final int reasonCode, final String why)
    {
        disconnect(handler, reasonCode, why, null);
    }

    /**
     * DISCONNECT (v5 only) with a Reason String and, when not null, a Server Reference. Over the client's Maximum
     * Packet Size the Reason String goes first [MQTT-3.14.2-3], then the reference.
     */
    void disconnect(final MqttConnectionHandler handler, final int reasonCode, final String why,
        final String serverReference)
    {
        final int version = handler.version;
        if (version == MqttVersion.V5 && !handler.disconnectSent)
        {
            handler.disconnectSent = true;
            final Connection connection = handler.connection;
            int propertiesLength = reasonString(why);
            if (serverReference != null)
            {
                final int withReason = propertiesLength;
                propertiesLength = properties.wrap(protocol.propertyScratch, 0).putString(Property.SERVER_REFERENCE,
                    serverReference).length();
                if (DisconnectEncoder.encodedLength(version, reasonCode, propertiesLength + withReason) <=
                    handler.clientMaxPacketSize && withReason > 0)
                {
                    propertiesLength = ReasonString.put(properties, why).length();
                }
            }
            if (DisconnectEncoder.encodedLength(version, reasonCode, propertiesLength) > handler.clientMaxPacketSize)
            {
                propertiesLength = 0; // [MQTT-3.14.2-3]
            }
            if (DisconnectEncoder.encodedLength(version, reasonCode, 0) > handler.clientMaxPacketSize)
            {
                protocol.counters.tooLargeForClient.incrementRelease();
                return; // the connection closes without it
            }
            connection.ensureOutbound(CONTROL_PACKET_MAX + propertiesLength);
            commit(connection, DisconnectEncoder.encode(connection.outboundBuffer(), connection.outboundPosition(),
                version, reasonCode, protocol.propertyScratch, 0, propertiesLength));
        }
    }

    /** AUTH with this connection's method, and Authentication Data when the method gave some [MQTT-4.12.0-5]. */
    void auth(final MqttConnectionHandler handler, final int reasonCode, final byte[] data)
    {
        final Connection connection = handler.connection;
        properties.wrap(protocol.propertyScratch, 0)
            .putString(Property.AUTHENTICATION_METHOD, handler.auth.method.name());
        if (data != null)
        {
            properties.putBytes(Property.AUTHENTICATION_DATA, data);
        }
        // Method and data are the exchange itself: nothing to leave out.
        if (!fits(handler, AuthEncoder.encodedLength(reasonCode, properties.length()), "AUTH"))
        {
            return;
        }
        connection.ensureOutbound(CONTROL_PACKET_MAX + properties.length());
        commit(connection, AuthEncoder.encode(connection.outboundBuffer(), connection.outboundPosition(), reasonCode,
            protocol.propertyScratch, 0, properties.length()));
    }

    /**
     * The routing agent's answer to a CONNECT: in v5 with what the broker announces (limits, capabilities, assigned
     * client id, server keep alive, response information, authentication method and data).
     */
    boolean connAck(
        final MqttConnectionHandler handler,
        final boolean sessionPresent,
        final int reasonCode,
        final long grantedExpiry)
    {
        final Connection connection = handler.connection;
        final int version = handler.version;
        int propertiesLength = 0;
        if (version == MqttVersion.V5)
        {
            final SessionLimits limits = protocol.limits;
            final PropertiesEncoder properties = this.properties.wrap(protocol.propertyScratch, 0);
            if (grantedExpiry != handler.requestedSessionExpiry)
            {
                properties.putFourByteInteger(Property.SESSION_EXPIRY_INTERVAL, grantedExpiry);
            }
            properties.putTwoByteInteger(Property.RECEIVE_MAXIMUM, limits.receiveMaximum());
            properties.putFourByteInteger(Property.MAXIMUM_PACKET_SIZE, limits.maxPacketSize());
            properties.putTwoByteInteger(Property.TOPIC_ALIAS_MAXIMUM, limits.topicAliasMaximum());
            if (handler.assignedClientId != null)
            {
                properties.putString(Property.ASSIGNED_CLIENT_IDENTIFIER, handler.assignedClientId);
            }
            if (handler.serverKeepAlive >= 0)
            {
                properties.putTwoByteInteger(Property.SERVER_KEEP_ALIVE, handler.serverKeepAlive);
            }
            if (handler.responseInformation != null)
            {
                properties.putString(Property.RESPONSE_INFORMATION, handler.responseInformation);
            }
            if (limits.maximumQos() < 2)
            {
                properties.putByte(Property.MAXIMUM_QOS, limits.maximumQos());
            }
            if (!limits.retainAvailable())
            {
                properties.putByte(Property.RETAIN_AVAILABLE, 0);
            }
            if (!limits.wildcardSubscriptionsAvailable())
            {
                properties.putByte(Property.WILDCARD_SUBSCRIPTION_AVAILABLE, 0);
            }
            if (!limits.subscriptionIdentifiersAvailable())
            {
                properties.putByte(Property.SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0);
            }
            if (!limits.sharedSubscriptionsAvailable())
            {
                properties.putByte(Property.SHARED_SUBSCRIPTION_AVAILABLE, 0);
            }
            final AuthExchange auth = handler.auth;
            if (auth != null)
            {
                properties.putString(Property.AUTHENTICATION_METHOD, auth.method.name()); // [MQTT-4.12.0-5]
                if (auth.responseData != null)
                {
                    properties.putBytes(Property.AUTHENTICATION_DATA, auth.responseData);
                }
            }
            propertiesLength = properties.length();
        }
        // Every property here is an announcement the client must not miss (none is a Reason String or User
        // Property): a CONNACK that does not fit is not sent, and the connection closes.
        if (!fits(handler, ConnAckEncoder.encodedLength(version, propertiesLength), "CONNACK"))
        {
            return false;
        }
        connection.ensureOutbound(CONTROL_PACKET_MAX + propertiesLength);
        commit(connection, ConnAckEncoder.encode(connection.outboundBuffer(), connection.outboundPosition(), version,
            sessionPresent && handler.protocolLevel != MqttVersion.V3_1, // 3.1: the byte is reserved, 0
            version == MqttVersion.V5 ? reasonCode : ReasonCode.toV3ConnackReturnCode(reasonCode),
            protocol.propertyScratch, 0, propertiesLength));
        return true;
    }

    /**
     * A CONNECT refused before it reached the routing agent: CONNACK with the reason (v5) or the nearest 3.1.1 return
     * code — in 3.1.1 only for the refusals that have one; the others are closed without an answer.
     */
    void connAckRefusal(final MqttConnectionHandler handler, final int reasonCode, final String why)
    {
        final Connection connection = handler.connection;
        final int version = handler.version;
        final boolean v5 = version == MqttVersion.V5;
        final boolean answer = v5 || reasonCode == ReasonCode.UNSUPPORTED_PROTOCOL_VERSION ||
            reasonCode == ReasonCode.CLIENT_IDENTIFIER_NOT_VALID || reasonCode == ReasonCode.NOT_AUTHORIZED ||
            reasonCode == ReasonCode.BAD_USER_NAME_OR_PASSWORD ||
            reasonCode == ReasonCode.QUOTA_EXCEEDED; // 3.1.1: 0x03 Server unavailable (a will over the limit)
        if (answer)
        {
            // A CONNECT that did not decode may not have told its Maximum Packet Size: then no Reason String.
            int propertiesLength = v5 && handler.connectDecoded ? reasonString(why) : 0;
            if (ConnAckEncoder.encodedLength(version, propertiesLength) > handler.clientMaxPacketSize)
            {
                propertiesLength = 0; // [MQTT-3.2.2-19]
            }
            if (ConnAckEncoder.encodedLength(version, propertiesLength) > handler.clientMaxPacketSize)
            {
                protocol.counters.tooLargeForClient.incrementRelease();
                return; // [MQTT-3.1.2-24]: not even the bare refusal fits; the connection closes without it
            }
            connection.ensureOutbound(CONTROL_PACKET_MAX + propertiesLength);
            commit(connection, ConnAckEncoder.encode(connection.outboundBuffer(), connection.outboundPosition(), version,
                false, v5 ? reasonCode : ReasonCode.toV3ConnackReturnCode(reasonCode),
                protocol.propertyScratch, 0, propertiesLength));
        }
    }

    /**
     * [MQTT-3.1.2-24]: true when a packet of {@code length} bytes is within the client's Maximum Packet Size; else
     * the connection is closed ({@link MqttConnectionHandler#tooLargeForClient}) and nothing is sent.
     */
    private boolean fits(final MqttConnectionHandler handler, final int length, final String packet)
    {
        if (length <= handler.clientMaxPacketSize)
        {
            return true;
        }
        protocol.counters.tooLargeForClient.incrementRelease();
        handler.tooLargeForClient(packet, length);
        return false;
    }

    /**
     * Reason Strings (and User Properties) may go on packets other than PUBLISH, CONNACK and DISCONNECT only to a v5
     * client that did not set Request Problem Information to 0 [MQTT-3.1.2-29].
     */
    private static boolean sendsProblemInformation(final MqttConnectionHandler handler)
    {
        return handler.version == MqttVersion.V5 && handler.requestProblemInformation;
    }

    /** Puts a Reason String property holding {@code why} at the start of the property scratch: its length. */
    private int reasonString(final String why)
    {
        return why == null || why.isEmpty() ? 0 :
            ReasonString.put(properties.wrap(protocol.propertyScratch, 0), why).length();
    }

    /** Hands an encoded packet to the connection and counts it by type (read back from its first byte). */
    private void commit(final Connection connection, final int length)
    {
        if (length > 0)
        {
            protocol.counters.sent(PacketType.of(connection.outboundBuffer().getByte(connection.outboundPosition())),
                length);
        }
        connection.commit(length);
    }
}
