package dev.skylark.broker.session;

import dev.skylark.broker.auth.AuthMethod;
import dev.skylark.broker.auth.AuthMethods;
import dev.skylark.broker.auth.AuthRequest;
import dev.skylark.broker.auth.AuthStep;
import dev.skylark.broker.auth.ClientGrant;
import dev.skylark.broker.hook.PublishHookProxy;
import dev.skylark.broker.net.Connection;
import dev.skylark.broker.net.ConnectionHandler;
import dev.skylark.broker.routing.ConnectRequest;
import dev.skylark.broker.routing.MessageLayout;
import dev.skylark.broker.routing.RouterCommand;
import dev.skylark.broker.routing.SubscriptionOptions;
import dev.skylark.codec.mqtt.AuthDecoder;
import dev.skylark.codec.mqtt.AuthEncoder;
import dev.skylark.codec.mqtt.ConnAckEncoder;
import dev.skylark.codec.mqtt.ConnectDecoder;
import dev.skylark.codec.mqtt.DisconnectDecoder;
import dev.skylark.codec.mqtt.DisconnectEncoder;
import dev.skylark.codec.mqtt.MqttPrimitives;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.PingEncoder;
import dev.skylark.codec.mqtt.Property;
import dev.skylark.codec.mqtt.PropertiesEncoder;
import dev.skylark.codec.mqtt.PropertyFilter;
import dev.skylark.codec.mqtt.PubAckDecoder;
import dev.skylark.codec.mqtt.PubAckEncoder;
import dev.skylark.codec.mqtt.PublishDecoder;
import dev.skylark.codec.mqtt.PublishEncoder;
import dev.skylark.codec.mqtt.ReasonCode;
import dev.skylark.codec.mqtt.SubAckEncoder;
import dev.skylark.codec.mqtt.SubscribeDecoder;
import dev.skylark.codec.mqtt.Topics;
import dev.skylark.codec.mqtt.UnsubscribeDecoder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.routing.RouterCommand.*;

/**
 * One connection's MQTT state machine on its I/O thread: CONNECT handshake, keep-alive, inbound flow control and
 * topic aliases; everything session-wide (subscriptions, queues, packet ids of deliveries) lives in the routing
 * agent, which this talks to through {@link dev.skylark.broker.routing.RouterProxy}.
 */
final class MqttConnectionHandler implements ConnectionHandler
{
    private static final System.Logger LOG = System.getLogger(MqttConnectionHandler.class.getName());
    private static final int CONTROL_PACKET_MAX = 512;
    /** Most aliases the broker uses towards one client, whatever the client allows. */
    private static final int OUTBOUND_ALIASES_MAX = 256;
    private static final byte[] NO_JTI = new byte[0];

    private enum State
    {
        /** Socket accepted, no CONNECT yet. */
        AWAIT_CONNECT,
        /** CONNECT received, an enhanced authentication exchange (AUTH 0x18) under way. */
        AUTHENTICATING,
        /** Authenticated, waiting for the routing agent's answer. */
        CONNECTING,
        CONNECTED,
        CLOSED
    }

    private final MqttProtocol protocol;
    private final Connection connection;
    private final long acceptedNs;
    private State state = State.AWAIT_CONNECT;
    private int version = MqttVersion.V3_1_1;
    private String clientId;
    private String assignedClientId;
    private long keepAliveTimeoutNs;
    private long lastPacketNs;
    private long requestedSessionExpiry;
    private int clientMaxPacketSize = Integer.MAX_VALUE;
    private int inboundInFlight;
    private UnsafeBuffer[] topicAliases;
    private boolean routerKnows;
    private boolean disconnectSent;
    private boolean requestProblemInformation = true;
    /** Server Keep Alive to announce (v5), or -1 when the client's own value stands. */
    private int serverKeepAlive = -1;
    private String responseInformation;
    /** Aliases towards the client, when it accepts any (v5 Topic Alias Maximum > 0). */
    private OutboundTopicAliases outboundAliases;
    private ClientGrant grant = ClientGrant.UNRESTRICTED;
    private String userName;
    /** The CONNECT decoded: its Maximum Packet Size and Request Problem Information are known. */
    private boolean connectDecoded;
    /** The CONNECT's enhanced authentication method; null when the client authenticated with its password. */
    private AuthMethod authMethod;
    /** Authentication Data the method's success returned, for the CONNACK. */
    private byte[] authResponseData;
    /** A CONNECT kept while its exchange continues (the receive buffer moves on), else null. */
    private UnsafeBuffer pendingConnect;
    /** The exchange succeeded but the routing ring was full: the CONNECT goes to the routing agent on the retry. */
    private boolean admitPending;
    /** What the method keeps between the steps of an exchange under way. */
    private Object authState;
    /** A re-authentication exchange (AUTH 0x19, then 0x18s) is under way; packets flow under the current grant. */
    private boolean reauthenticating;
    /** When this subscriber's backlog first went past the outbound limit (0 while it keeps up). */
    private long slowSinceNs;
    /** Rate limit (GCRA): the theoretical arrival time of the next packet. */
    private long rateTatNs;
    /** Publisher identity for the publish hook, encoded on first use (the jti again when the grant changes). */
    private byte[] hookClientId;
    private byte[] hookJti;
    private ClientGrant hookJtiGrant;

    MqttConnectionHandler(final MqttProtocol protocol, final Connection connection)
    {
        this.protocol = protocol;
        this.connection = connection;
        this.acceptedNs = connection.nowNs();
        this.lastPacketNs = acceptedNs;
    }

    @Override
    public boolean onPacket(final DirectBuffer buffer, final int offset, final int length, final long nowNs)
    {
        if (protocol.limits.ratePacketsPerSecond() > 0 && !withinRate(nowNs))
        {
            if (protocol.limits.rateSlowsReader())
            {
                protocol.blocked(connection); // offered again once the rate allows it: TCP slows the client down
                return false;
            }
            protocolError(ReasonCode.MESSAGE_RATE_TOO_HIGH,
                "more than " + protocol.limits.ratePacketsPerSecond() + " packets per second");
            return true;
        }
        lastPacketNs = nowNs;
        final int type = PacketType.of(buffer.getByte(offset));
        if (state == State.AWAIT_CONNECT)
        {
            if (type != PacketType.CONNECT)
            {
                refuse("first packet was " + PacketType.name(type) + ", not CONNECT");
                return true;
            }
            return onConnect(buffer, offset, length);
        }
        if (state == State.AUTHENTICATING)
        {
            return onAuthenticating(type, buffer, offset, length);
        }
        if (state != State.CONNECTED)
        {
            return true; // closing: ignore the rest
        }
        switch (type)
        {
            case PacketType.PUBLISH:
                return onPublish(buffer, offset, length);
            case PacketType.PUBACK:
            case PacketType.PUBREC:
            case PacketType.PUBREL:
            case PacketType.PUBCOMP:
                return onAck(buffer, offset, length);
            case PacketType.SUBSCRIBE:
                return onSubscribe(buffer, offset, length);
            case PacketType.UNSUBSCRIBE:
                return onUnsubscribe(buffer, offset, length);
            case PacketType.PINGREQ:
                if (check(protocol.pingDecoder.wrap(buffer, offset, length, version), "PINGREQ"))
                {
                    connection.ensureOutbound(2);
                    connection.commit(PingEncoder.encodePingResp(connection.outboundBuffer(), connection.outboundPosition()));
                }
                return true;
            case PacketType.DISCONNECT:
                onDisconnect(buffer, offset, length);
                return true;
            case PacketType.CONNECT:
                protocolError(ReasonCode.PROTOCOL_ERROR, "second CONNECT");
                return true;
            case PacketType.AUTH:
                onAuth(buffer, offset, length);
                return true;
            default:
                protocolError(ReasonCode.PROTOCOL_ERROR, "unexpected " + PacketType.name(type));
                return true;
        }
    }

    // ------------------------------------------------------------------------------------------------ CONNECT

    private boolean onConnect(final DirectBuffer buffer, final int offset, final int length)
    {
        final ConnectDecoder connect = protocol.connectDecoder;
        final int result = connect.wrap(buffer, offset, length);
        version = connect.protocolVersion() == MqttVersion.V5 ? MqttVersion.V5 : MqttVersion.V3_1_1;
        if (result < 0)
        {
            final int reason = -result;
            if (reason == ReasonCode.UNSUPPORTED_PROTOCOL_VERSION)
            {
                version = MqttVersion.V3_1_1; // a level we do not speak gets the 3.1.1 answer [MQTT-3.1.2-2]
            }
            refuseConnect(reason, "invalid CONNECT: " + ReasonCode.describe(reason));
            return true;
        }
        final boolean v5 = version == MqttVersion.V5;
        if (v5)
        {
            // Known before any answer: how large a packet the client takes, and whether it wants Reason Strings.
            final long maxPacketSize = connect.maximumPacketSize();
            clientMaxPacketSize = maxPacketSize > 0 && maxPacketSize < Integer.MAX_VALUE ? (int)maxPacketSize : Integer.MAX_VALUE;
            requestProblemInformation = connect.requestProblemInformation() != 0;
        }
        connectDecoded = true;

        if (connect.clientIdLength() > protocol.limits.clientIdMaxLength())
        {
            refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID,
                "client ID longer than " + protocol.limits.clientIdMaxLength() + " bytes");
            return true;
        }
        clientId = connect.clientId();
        userName = connect.hasUserName() ? connect.userName() : null;
        if (v5 && connect.authenticationMethodLength() >= 0)
        {
            final String methodName = buffer.getStringWithoutLengthUtf8(
                connect.authenticationMethodOffset(), connect.authenticationMethodLength());
            authMethod = protocol.authMethods.find(methodName);
            if (authMethod == null)
            {
                refuseConnect(ReasonCode.BAD_AUTHENTICATION_METHOD,
                    "authentication method '" + methodName + "' is not supported");
                return true;
            }
            final byte[] data = connect.authenticationDataLength() < 0 ? null :
                MqttPrimitives.bytes(buffer, connect.authenticationDataOffset(), connect.authenticationDataLength());
            return onConnectAuthStep(authMethod.start(authRequest(AuthRequest.Phase.CONNECT), data),
                buffer, offset, length);
        }
        grant = protocol.authenticator.authenticate(clientId, userName,
            connect.hasPassword() ? buffer : null, connect.passwordOffset(), connect.passwordLength());
        if (grant.refused())
        {
            refuseConnect(grant.reasonCode(), grant.why());
            return true;
        }
        return admit(buffer, offset, length);
    }

    private AuthRequest authRequest(final AuthRequest.Phase phase)
    {
        return new AuthRequest(clientId, userName, phase);
    }

    /**
     * One step of the enhanced authentication of a CONNECT: admitted, refused, or continued with AUTH 0x18 — then
     * the CONNECT is kept (copied: the receive buffer moves on) until the exchange ends.
     */
    private boolean onConnectAuthStep(
        final AuthStep step, final DirectBuffer buffer, final int offset, final int length)
    {
        switch (step.kind())
        {
            case SUCCESS:
                authState = null;
                grant = step.grant();
                authResponseData = step.data();
                if (grant.clientId() != null && !clientId.isEmpty() && !clientId.equals(grant.clientId()))
                {
                    refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "authentication method " +
                        authMethod.name() + " granted client id '" + grant.clientId() + "', not '" + clientId + "'");
                    return true;
                }
                if (pendingConnect != null)
                {
                    admitPending = true;
                    return admitPendingConnect();
                }
                return admit(buffer, offset, length);
            case CONTINUE:
                if (pendingConnect == null)
                {
                    pendingConnect = new UnsafeBuffer(MqttPrimitives.bytes(buffer, offset, length));
                }
                authState = step.state();
                state = State.AUTHENTICATING;
                sendAuth(ReasonCode.CONTINUE_AUTHENTICATION, step.data());
                return true;
            default:
                final int reason = ReasonCode.isValidFor(PacketType.CONNACK, step.reasonCode()) ?
                    step.reasonCode() : ReasonCode.NOT_AUTHORIZED;
                refuseConnect(reason, step.why());
                return true;
        }
    }

    /**
     * Admits the CONNECT held during its exchange. When the routing ring is full the AUTH that ended the exchange is
     * offered again, and comes back here rather than to the method.
     */
    private boolean admitPendingConnect()
    {
        final UnsafeBuffer held = pendingConnect;
        protocol.connectDecoder.wrap(held, 0, held.capacity()); // valid: it was decoded before
        if (!admit(held, 0, held.capacity()))
        {
            return false;
        }
        admitPending = false;
        pendingConnect = null;
        return true;
    }

    /** Between CONNECT and CONNACK of an exchange: only AUTH and DISCONNECT may come [MQTT-3.1.2-30]. */
    private boolean onAuthenticating(final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        if (admitPending)
        {
            return admitPendingConnect();
        }
        if (type == PacketType.DISCONNECT)
        {
            state = State.CLOSED;
            connection.closeAfterFlush("client sent DISCONNECT during authentication");
            return true;
        }
        if (type != PacketType.AUTH)
        {
            refuseConnect(ReasonCode.PROTOCOL_ERROR, PacketType.name(type) + " before CONNACK during authentication");
            return true;
        }
        final AuthDecoder auth = protocol.authDecoder;
        final int result = auth.wrap(buffer, offset, length, version);
        if (result < 0)
        {
            refuseConnect(-result, "invalid AUTH");
            return true;
        }
        final String why = authProblem(auth, authMethod);
        if (why != null)
        {
            refuseConnect(ReasonCode.PROTOCOL_ERROR, why);
            return true;
        }
        if (auth.reasonCode() != ReasonCode.CONTINUE_AUTHENTICATION)
        {
            refuseConnect(ReasonCode.PROTOCOL_ERROR, "AUTH " + ReasonCode.describe(auth.reasonCode()) +
                " while authenticating a CONNECT (0x18 expected)");
            return true;
        }
        return onConnectAuthStep(authMethod.next(authRequest(AuthRequest.Phase.CONNECT), authState, authData(auth)),
            buffer, offset, length);
    }

    /** Null when the AUTH names the exchange's method, else why not [MQTT-4.12.0-5], [MQTT-4.12.1-1]. */
    private static String authProblem(final AuthDecoder auth, final AuthMethod method)
    {
        if (auth.authenticationMethodLength() < 0)
        {
            return "AUTH without an Authentication Method";
        }
        final String name = auth.buffer().getStringWithoutLengthUtf8(
            auth.authenticationMethodOffset(), auth.authenticationMethodLength());
        return name.equals(method.name()) ? null :
            "AUTH with method '" + name + "', but this connection authenticates with '" + method.name() + "'";
    }

    private static byte[] authData(final AuthDecoder auth)
    {
        return auth.authenticationDataLength() < 0 ? null :
            MqttPrimitives.bytes(auth.buffer(), auth.authenticationDataOffset(), auth.authenticationDataLength());
    }

    /** The CONNECT is authenticated ({@link #grant} set): checks the rest and hands it to the routing agent. */
    private boolean admit(final DirectBuffer buffer, final int offset, final int length)
    {
        final ConnectDecoder connect = protocol.connectDecoder;
        final boolean v5 = version == MqttVersion.V5;
        if (clientId.isEmpty())
        {
            if (!v5 && !connect.cleanStart())
            {
                refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "empty client id needs clean session");
                return true;
            }
            clientId = grant.clientId() != null ? grant.clientId() : protocol.assignClientId();
            assignedClientId = v5 ? clientId : null;
        }

        final ConnectRequest request = new ConnectRequest();
        request.version = version;
        request.cleanStart = connect.cleanStart();
        request.clientId = clientId.getBytes(StandardCharsets.UTF_8);
        if (v5)
        {
            final long expiry = connect.sessionExpiryInterval();
            request.sessionExpiry = expiry < 0 ? 0 : expiry;
            final int receiveMaximum = connect.receiveMaximum();
            request.receiveMaximum = receiveMaximum > 0 ? receiveMaximum : 65_535;
            request.maxPacketSize = clientMaxPacketSize == Integer.MAX_VALUE ? 0 : clientMaxPacketSize;
            final int clientAliasMaximum = connect.topicAliasMaximum();
            if (clientAliasMaximum > 0)
            {
                outboundAliases = new OutboundTopicAliases(Math.min(clientAliasMaximum, OUTBOUND_ALIASES_MAX));
            }
        }
        else
        {
            request.sessionExpiry = connect.cleanStart() ? 0 : 0xFFFF_FFFFL;
        }
        requestedSessionExpiry = request.sessionExpiry;

        if (connect.hasWill())
        {
            final int topicOffset = connect.willTopicOffset();
            final int topicLength = connect.willTopicLength();
            final int topicResult = Topics.validateTopicName(buffer, topicOffset, topicLength);
            if (topicResult < 0)
            {
                refuseConnect(ReasonCode.TOPIC_NAME_INVALID, "invalid will topic");
                return true;
            }
            if (topicLength > 0 && buffer.getByte(topicOffset) == '$')
            {
                refuseConnect(ReasonCode.NOT_AUTHORIZED, "will topic in the reserved '$' space");
                return true;
            }
            if (connect.willRetain() && !protocol.limits.retainAvailable())
            {
                refuseConnect(ReasonCode.RETAIN_NOT_SUPPORTED, "will retain requested but retain is not available");
                return true;
            }
            if (connect.willQos() > protocol.limits.maximumQos())
            {
                refuseConnect(ReasonCode.QOS_NOT_SUPPORTED, "will QoS above the broker's maximum QoS");
                return true;
            }
            if (!grant.mayPublish(buffer, topicOffset, topicLength))
            {
                refuseConnect(ReasonCode.NOT_AUTHORIZED, "will topic not allowed by the token");
                return true;
            }
            request.hasWill = true;
            request.willQos = connect.willQos();
            request.willRetain = connect.willRetain();
            request.willTopic = MqttPrimitives.bytes(buffer, topicOffset, topicLength);
            request.willPayload = MqttPrimitives.bytes(buffer, connect.willPayloadOffset(), connect.willPayloadLength());
            if (v5)
            {
                final long delay = connect.willDelayInterval();
                request.willDelay = delay < 0 ? 0 : delay;
                final int written = PropertyFilter.copyWithout(buffer, connect.willPropertiesOffset(),
                    connect.willPropertiesLength(), Property.WILL_DELAY_INTERVAL, protocol.scratch, 0);
                request.willProperties = MqttPrimitives.bytes(protocol.scratch, 0, written);
            }
        }

        int keepAlive = connect.keepAlive();
        final int keepAliveMax = protocol.limits.keepAliveMax();
        if (v5 && keepAliveMax > 0 && (keepAlive == 0 || keepAlive > keepAliveMax))
        {
            keepAlive = keepAliveMax; // announced as Server Keep Alive; the client must use it [MQTT-3.2.2-21]
            serverKeepAlive = keepAliveMax;
        }
        keepAliveTimeoutNs = keepAlive == 0 ? 0 : TimeUnit.MILLISECONDS.toNanos(keepAlive * 1500L);
        if (v5 && connect.requestResponseInformation() == 1 && !protocol.limits.responseInformation().isEmpty())
        {
            responseInformation = protocol.limits.responseInformation() + clientId;
        }
        if (!protocol.router.connect(connection.id(), request))
        {
            protocol.blocked(connection);
            return false;
        }
        routerKnows = true;
        state = State.CONNECTING;
        connection.pauseReading(); // until the routing agent answers: packets after CONNECT wait in the socket
        return true;
    }

    void onConnack(final boolean sessionPresent, final int reasonCode, final long grantedExpiry, final int receiveMaximum)
    {
        if (state != State.CONNECTING)
        {
            return;
        }
        final MutableDirectBuffer out = connection.outboundBuffer();
        int propertiesLength = 0;
        if (version == MqttVersion.V5)
        {
            final PropertiesEncoder properties = new PropertiesEncoder().wrap(protocol.propertyScratch, 0);
            if (grantedExpiry != requestedSessionExpiry)
            {
                properties.putFourByteInteger(Property.SESSION_EXPIRY_INTERVAL, grantedExpiry);
            }
            properties.putTwoByteInteger(Property.RECEIVE_MAXIMUM, protocol.limits.receiveMaximum());
            properties.putFourByteInteger(Property.MAXIMUM_PACKET_SIZE, protocol.limits.maxPacketSize());
            properties.putTwoByteInteger(Property.TOPIC_ALIAS_MAXIMUM, protocol.limits.topicAliasMaximum());
            if (assignedClientId != null)
            {
                properties.putString(Property.ASSIGNED_CLIENT_IDENTIFIER, assignedClientId);
            }
            if (serverKeepAlive >= 0)
            {
                properties.putTwoByteInteger(Property.SERVER_KEEP_ALIVE, serverKeepAlive);
            }
            if (responseInformation != null)
            {
                properties.putString(Property.RESPONSE_INFORMATION, responseInformation);
            }
            final SessionLimits limits = protocol.limits;
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
            if (authMethod != null)
            {
                properties.putString(Property.AUTHENTICATION_METHOD, authMethod.name()); // [MQTT-4.12.0-5]
                if (authResponseData != null)
                {
                    properties.putBytes(Property.AUTHENTICATION_DATA, authResponseData);
                }
            }
            propertiesLength = properties.length();
        }
        connection.ensureOutbound(CONTROL_PACKET_MAX + propertiesLength);
        final int written = ConnAckEncoder.encode(out, connection.outboundPosition(), version, sessionPresent,
            version == MqttVersion.V5 ? reasonCode : ReasonCode.toV3ConnackReturnCode(reasonCode),
            protocol.propertyScratch, 0, propertiesLength);
        connection.commit(written);
        if (reasonCode != ReasonCode.SUCCESS)
        {
            state = State.CLOSED;
            connection.closeAfterFlush("CONNECT refused by the router: " + ReasonCode.describe(reasonCode));
            return;
        }
        state = State.CONNECTED;
        connection.scheduleTimer(lastPacketNs); // keep-alive, slow consumer and token checks start now
        logConnection("connected " + clientId + " from " + connection.remoteAddress() + ", MQTT " +
            (version == MqttVersion.V5 ? "5.0" : "3.1.1") + ", session present " + sessionPresent);
        connection.resumeReading();
    }

    // ------------------------------------------------------------------------------------------------ PUBLISH in

    private boolean onPublish(final DirectBuffer buffer, final int offset, final int length)
    {
        final PublishDecoder publish = protocol.publishDecoder;
        final int result = publish.wrap(buffer, offset, length, version);
        if (result < 0)
        {
            protocolError(-result, "invalid PUBLISH");
            return true;
        }
        final int qos = publish.qos();
        if (qos > protocol.limits.maximumQos())
        {
            protocolError(ReasonCode.QOS_NOT_SUPPORTED, "PUBLISH at QoS " + qos + " above the maximum QoS");
            return true;
        }
        if (publish.retain() && !protocol.limits.retainAvailable())
        {
            protocolError(ReasonCode.RETAIN_NOT_SUPPORTED, "retained PUBLISH but retain is not available");
            return true;
        }
        if (publish.hasSubscriptionIdentifier())
        {
            protocolError(ReasonCode.PROTOCOL_ERROR, "PUBLISH from a client carries a Subscription Identifier");
            return true;
        }

        DirectBuffer topicBuffer = buffer;
        int topicOffset = publish.topicOffset();
        int topicLength = publish.topicLength();
        DirectBuffer propertiesBuffer = buffer;
        int propertiesOffset = publish.propertiesOffset();
        int propertiesLength = publish.propertiesLength();
        final int alias = publish.topicAlias();
        if (alias > 0)
        {
            if (alias > protocol.limits.topicAliasMaximum())
            {
                protocolError(ReasonCode.TOPIC_ALIAS_INVALID, "topic alias " + alias + " above the maximum");
                return true;
            }
            if (topicAliases == null)
            {
                topicAliases = new UnsafeBuffer[protocol.limits.topicAliasMaximum() + 1];
            }
            if (topicLength > 0)
            {
                topicAliases[alias] = new UnsafeBuffer(MqttPrimitives.bytes(buffer, topicOffset, topicLength));
            }
            else
            {
                final UnsafeBuffer known = topicAliases[alias];
                if (known == null)
                {
                    protocolError(ReasonCode.PROTOCOL_ERROR, "unknown topic alias " + alias);
                    return true;
                }
                topicBuffer = known;
                topicOffset = 0;
                topicLength = known.capacity();
            }
            propertiesLength = PropertyFilter.copyWithout(
                buffer, propertiesOffset, propertiesLength, Property.TOPIC_ALIAS, protocol.scratch, 0);
            propertiesBuffer = protocol.scratch;
            propertiesOffset = 0;
        }

        if (qos > 0 && !publish.dup() && inboundInFlight >= protocol.limits.receiveMaximum() &&
            version == MqttVersion.V5)
        {
            protocolError(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED, "more than Receive Maximum unacknowledged publishes");
            return true;
        }

        if (!withinTopicLimits(topicBuffer, topicOffset, topicLength))
        {
            if (version != MqttVersion.V5)
            {
                protocolError(ReasonCode.TOPIC_NAME_INVALID, "topic beyond the length or depth limit");
            }
            else if (qos > 0)
            {
                writeAck(qos == 1 ? PacketType.PUBACK : PacketType.PUBREC, publish.packetId(),
                    ReasonCode.TOPIC_NAME_INVALID, ReasonString.TOPIC_BEYOND_LIMITS);
            }
            return true;
        }

        if (protocol.limits.payloadFormatCheck() && publish.validatePayloadFormat() < 0)
        {
            protocol.counters.payloadFormatInvalid.incrementRelease();
            if (qos > 0)
            {
                writeAck(qos == 1 ? PacketType.PUBACK : PacketType.PUBREC, publish.packetId(),
                    version == MqttVersion.V5 ? ReasonCode.PAYLOAD_FORMAT_INVALID : ReasonCode.SUCCESS,
                    ReasonString.PAYLOAD_NOT_UTF8);
            }
            return true;
        }

        if (topicLength > 0 && topicBuffer.getByte(topicOffset) == '$')
        {
            // '$' topics ($SYS/...) belong to the broker: refused, and the publisher told where it can be.
            protocol.counters.reservedTopicPublishes.incrementRelease();
            if (qos > 0)
            {
                final int reason = version == MqttVersion.V5 ? ReasonCode.NOT_AUTHORIZED : ReasonCode.SUCCESS;
                writeAck(qos == 1 ? PacketType.PUBACK : PacketType.PUBREC, publish.packetId(), reason,
                    ReasonString.RESERVED_TOPIC);
            }
            return true;
        }

        if (!grant.mayPublish(topicBuffer, topicOffset, topicLength))
        {
            if (qos > 0)
            {
                final int reason = version == MqttVersion.V5 ? ReasonCode.NOT_AUTHORIZED : ReasonCode.SUCCESS;
                writeAck(qos == 1 ? PacketType.PUBACK : PacketType.PUBREC, publish.packetId(), reason,
                    ReasonString.PUBLISH_NOT_ALLOWED);
            }
            return true;
        }

        final PublishHookProxy hook = protocol.hook;
        if (hook != null && hook.matches(topicBuffer, topicOffset, topicLength))
        {
            // The hook decides first; the routing agent gets what it returns, and answers PUBACK/PUBREC then.
            if (!hook.offer(connection.id(), System.currentTimeMillis(), hookClientId(), hookJti(), qos,
                publish.retain(), publish.packetId(),
                topicBuffer, topicOffset, topicLength,
                propertiesBuffer, propertiesOffset, version == MqttVersion.V5 ? propertiesLength : 0,
                buffer, publish.payloadOffset(), publish.payloadLength()))
            {
                if (qos == 0)
                {
                    hook.droppedQueueFull(); // the hook is behind: QoS 0 is dropped rather than wait
                    return true;
                }
                hook.heldBack();
                protocol.blocked(connection); // offered again later: the publisher waits for the hook
                return false;
            }
        }
        else if (!protocol.router.publish(connection.id(), qos, publish.retain(), publish.packetId(),
            topicBuffer, topicOffset, topicLength,
            propertiesBuffer, propertiesOffset, version == MqttVersion.V5 ? propertiesLength : 0,
            buffer, publish.payloadOffset(), publish.payloadLength()))
        {
            protocol.blocked(connection);
            return false;
        }
        if (qos == 1 || (qos == 2 && !publish.dup()))
        {
            // A resent QoS 2 PUBLISH (DUP) shares the exchange, and the single PUBCOMP, of the first one.
            inboundInFlight++;
        }
        return true;
    }

    /** The client id as the publish hook reports it, encoded once per connection. */
    private byte[] hookClientId()
    {
        if (hookClientId == null)
        {
            hookClientId = clientId.getBytes(StandardCharsets.UTF_8);
        }
        return hookClientId;
    }

    /** The token id as the publish hook reports it (empty without a token), encoded once per grant. */
    private byte[] hookJti()
    {
        if (hookJtiGrant != grant)
        {
            hookJtiGrant = grant;
            hookJti = grant.jti() == null ? NO_JTI : grant.jti().getBytes(StandardCharsets.UTF_8);
        }
        return hookJti;
    }

    private boolean onAck(final DirectBuffer buffer, final int offset, final int length)
    {
        final PubAckDecoder ack = protocol.ackDecoder;
        final int result = ack.wrap(buffer, offset, length, version);
        if (result < 0)
        {
            protocolError(-result, "invalid " + PacketType.name(PacketType.of(buffer.getByte(offset))));
            return true;
        }
        final boolean sent = ack.packetType() == PacketType.PUBREL ?
            protocol.router.pubrel(connection.id(), ack.packetId()) :
            protocol.router.ack(connection.id(), ack.packetType(), ack.reasonCode(), ack.packetId());
        if (!sent)
        {
            protocol.blocked(connection);
            return false;
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------------ SUBSCRIBE

    private boolean onSubscribe(final DirectBuffer buffer, final int offset, final int length)
    {
        final SubscribeDecoder subscribe = protocol.subscribeDecoder;
        final int result = subscribe.wrap(buffer, offset, length, version);
        if (result < 0)
        {
            protocolError(-result, "invalid SUBSCRIBE");
            return true;
        }
        if (subscribe.subscriptionIdentifier() > 0 && !protocol.limits.subscriptionIdentifiersAvailable())
        {
            protocolError(ReasonCode.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED, "subscription identifiers are off");
            return true;
        }
        int count = 0;
        int recordLength = SUBSCRIBE_ENTRIES_OFFSET;
        while (subscribe.nextEntry())
        {
            count++;
            recordLength += 4 + subscribe.filterLength();
        }
        final int index = protocol.router.claim(RouterCommand.SUBSCRIBE, recordLength);
        if (index <= 0)
        {
            protocol.blocked(connection);
            return false;
        }
        final MutableDirectBuffer ring = protocol.router.buffer();
        ring.putLong(index + CONNECTION_ID_OFFSET, connection.id());
        ring.putShort(index + PACKET_ID_OFFSET, (short)subscribe.packetId());
        ring.putShort(index + SUBSCRIBE_COUNT_OFFSET, (short)count);
        ring.putInt(index + SUBSCRIBE_SUBSCRIPTION_ID_OFFSET, Math.max(0, subscribe.subscriptionIdentifier()));
        int position = index + SUBSCRIBE_ENTRIES_OFFSET;
        subscribe.rewind();
        while (subscribe.nextEntry())
        {
            final int filterOffset = subscribe.filterOffset();
            final int filterLength = subscribe.filterLength();
            final boolean shared = Topics.isShared(buffer, filterOffset, filterLength);
            int reason = Topics.validateTopicFilter(buffer, filterOffset, filterLength) < 0 ||
                !withinTopicLimits(buffer, filterOffset, filterLength) ?
                ReasonCode.TOPIC_FILTER_INVALID : ReasonCode.SUCCESS;
            if (reason == ReasonCode.SUCCESS && shared && subscribe.noLocal())
            {
                reason = ReasonCode.PROTOCOL_ERROR; // [MQTT-3.8.3-4]
            }
            if (reason == ReasonCode.SUCCESS && shared && !protocol.limits.sharedSubscriptionsAvailable())
            {
                reason = ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED;
            }
            if (reason == ReasonCode.SUCCESS && !protocol.limits.wildcardSubscriptionsAvailable() &&
                hasWildcard(buffer, filterOffset, filterLength))
            {
                reason = ReasonCode.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED;
            }
            if (reason == ReasonCode.SUCCESS && !grant.maySubscribe(buffer, filterOffset, filterLength))
            {
                reason = ReasonCode.NOT_AUTHORIZED;
            }
            if (version != MqttVersion.V5 && reason != ReasonCode.SUCCESS)
            {
                reason = ReasonCode.V3_SUBACK_FAILURE;
            }
            final int grantedQos = Math.min(subscribe.qos(), protocol.limits.maximumQos());
            final int options = version == MqttVersion.V5 ?
                SubscriptionOptions.pack(grantedQos, subscribe.noLocal(), subscribe.retainAsPublished(),
                    subscribe.retainHandling()) :
                SubscriptionOptions.ofQos(grantedQos);
            ring.putByte(position, (byte)options);
            ring.putByte(position + 1, (byte)reason);
            ring.putShort(position + 2, (short)filterLength);
            ring.putBytes(position + 4, buffer, filterOffset, filterLength);
            position += 4 + filterLength;
        }
        protocol.router.commit(index);
        return true;
    }

    private boolean onUnsubscribe(final DirectBuffer buffer, final int offset, final int length)
    {
        final UnsubscribeDecoder unsubscribe = protocol.unsubscribeDecoder;
        final int result = unsubscribe.wrap(buffer, offset, length, version);
        if (result < 0)
        {
            protocolError(-result, "invalid UNSUBSCRIBE");
            return true;
        }
        int count = 0;
        int recordLength = UNSUBSCRIBE_ENTRIES_OFFSET;
        while (unsubscribe.nextEntry())
        {
            count++;
            recordLength += 2 + unsubscribe.filterLength();
        }
        final int index = protocol.router.claim(RouterCommand.UNSUBSCRIBE, recordLength);
        if (index <= 0)
        {
            protocol.blocked(connection);
            return false;
        }
        final MutableDirectBuffer ring = protocol.router.buffer();
        ring.putLong(index + CONNECTION_ID_OFFSET, connection.id());
        ring.putShort(index + PACKET_ID_OFFSET, (short)unsubscribe.packetId());
        ring.putShort(index + UNSUBSCRIBE_COUNT_OFFSET, (short)count);
        int position = index + UNSUBSCRIBE_ENTRIES_OFFSET;
        unsubscribe.rewind();
        while (unsubscribe.nextEntry())
        {
            ring.putShort(position, (short)unsubscribe.filterLength());
            ring.putBytes(position + 2, buffer, unsubscribe.filterOffset(), unsubscribe.filterLength());
            position += 2 + unsubscribe.filterLength();
        }
        protocol.router.commit(index);
        return true;
    }

    // ------------------------------------------------------------------------------------------------ DISCONNECT

    private void onDisconnect(final DirectBuffer buffer, final int offset, final int length)
    {
        final DisconnectDecoder disconnect = protocol.disconnectDecoder;
        final int result = disconnect.wrap(buffer, offset, length, version);
        if (result < 0)
        {
            protocolError(-result, "invalid DISCONNECT");
            return;
        }
        long sessionExpiry = SESSION_EXPIRY_UNCHANGED;
        if (version == MqttVersion.V5)
        {
            final long requested = disconnect.sessionExpiryInterval();
            if (requested >= 0)
            {
                if (requestedSessionExpiry == 0 && requested != 0)
                {
                    protocolError(ReasonCode.PROTOCOL_ERROR, "DISCONNECT sets session expiry after CONNECT said 0");
                    return;
                }
                sessionExpiry = requested;
            }
        }
        final int kind = disconnect.reasonCode() == ReasonCode.DISCONNECT_WITH_WILL_MESSAGE ?
            DISCONNECT_WITH_WILL : DISCONNECT_NORMAL;
        endWithRouter(kind, sessionExpiry);
        state = State.CLOSED;
        connection.closeAfterFlush("client sent DISCONNECT");
    }

    // ------------------------------------------------------------------------------------------------ AUTH

    /**
     * AUTH on a live connection: re-authentication, AUTH 0x19 then 0x18 steps while the method asks for them, with
     * the CONNECT's method [MQTT-4.12.1-1] — or, a deliberate extension of the specification, with
     * {@link AuthMethods#passwordMethod()} ({@code skylark-jwt} in token mode) for a client that authenticated with
     * its password. Packets keep flowing under the current grant meanwhile; on success AUTH 0x00 answers and the new
     * grant (expiry, ACLs) applies from the next packet on; on failure DISCONNECT [MQTT-4.12.1-2].
     */
    private void onAuth(final DirectBuffer buffer, final int offset, final int length)
    {
        final AuthDecoder auth = protocol.authDecoder;
        final int result = auth.wrap(buffer, offset, length, version);
        if (result < 0)
        {
            protocolError(-result, "invalid AUTH");
            return;
        }
        if (authMethod == null)
        {
            final AuthMethod passwordMethod = protocol.authMethods.passwordMethod();
            if (passwordMethod == null || authProblem(auth, passwordMethod) != null)
            {
                protocolError(ReasonCode.PROTOCOL_ERROR, "AUTH from a client that did not use enhanced " +
                    "authentication" + (passwordMethod == null ? "" : " (or re-authentication with " +
                    passwordMethod.name() + ")") + " [MQTT-4.12.0-7]");
                return;
            }
            authMethod = passwordMethod; // from now on this connection authenticates with it
        }
        final String why = authProblem(auth, authMethod);
        if (why != null)
        {
            protocolError(ReasonCode.PROTOCOL_ERROR, why);
            return;
        }
        switch (auth.reasonCode())
        {
            case ReasonCode.RE_AUTHENTICATE:
                if (reauthenticating)
                {
                    protocolError(ReasonCode.PROTOCOL_ERROR, "AUTH 0x19 while a re-authentication is under way");
                    return;
                }
                reauthenticating = true;
                onReauthenticationStep(authMethod.start(authRequest(AuthRequest.Phase.REAUTHENTICATE), authData(auth)));
                return;
            case ReasonCode.CONTINUE_AUTHENTICATION:
                if (!reauthenticating)
                {
                    protocolError(ReasonCode.PROTOCOL_ERROR, "AUTH 0x18 without an authentication exchange under way");
                    return;
                }
                onReauthenticationStep(
                    authMethod.next(authRequest(AuthRequest.Phase.REAUTHENTICATE), authState, authData(auth)));
                return;
            default:
                protocolError(ReasonCode.PROTOCOL_ERROR, "AUTH 0x00 (Success) is the server's to send");
        }
    }

    private void onReauthenticationStep(final AuthStep step)
    {
        switch (step.kind())
        {
            case SUCCESS:
                final ClientGrant renewed = step.grant();
                if (renewed.clientId() != null && !renewed.clientId().equals(clientId))
                {
                    protocolError(ReasonCode.NOT_AUTHORIZED, "re-authentication refused: it grants client id '" +
                        renewed.clientId() + "', not '" + clientId + "'");
                    return;
                }
                reauthenticating = false;
                authState = null;
                grant = renewed;
                connection.scheduleTimer(lastPacketNs); // the new grant may expire: look at it now
                sendAuth(ReasonCode.SUCCESS, step.data());
                logConnection("re-authenticated " + clientId + " with " + authMethod.name() +
                    (renewed.expiresAtMs() == 0 ? "" : ", now valid until " +
                    java.time.Instant.ofEpochMilli(renewed.expiresAtMs())));
                return;
            case CONTINUE:
                authState = step.state();
                sendAuth(ReasonCode.CONTINUE_AUTHENTICATION, step.data());
                return;
            default:
                // 0x86 and 0x85 are CONNACK-only codes: a DISCONNECT says 0x87 Not authorized, the text says why.
                final int reason = ReasonCode.isValidFor(PacketType.DISCONNECT, step.reasonCode()) ?
                    step.reasonCode() : ReasonCode.NOT_AUTHORIZED;
                protocolError(reason, "re-authentication refused: " + step.why());
        }
    }

    /** The routing agent asks this connection to go (e.g. 0x8E Session taken over). */
    void onServerDisconnect(final int reasonCode)
    {
        routerKnows = false; // the routing agent has already detached this connection
        sendDisconnect(reasonCode, reasonCode == ReasonCode.SESSION_TAKEN_OVER ?
            "another connection with this client id took the session over" : null);
        state = State.CLOSED;
        connection.closeAfterFlush("disconnected by the broker: " + ReasonCode.describe(reasonCode));
    }

    @Override
    public void onFramingError(final int reasonCode)
    {
        protocolError(reasonCode, "cannot frame the byte stream");
    }

    @Override
    public long onTick(final long nowNs)
    {
        final long connectDeadlineNs = acceptedNs + protocol.limits.connectTimeoutNs() + 1;
        if (state == State.AWAIT_CONNECT && nowNs - connectDeadlineNs >= 0)
        {
            state = State.CLOSED;
            connection.close("no CONNECT within the connect timeout");
        }
        else if (state == State.AUTHENTICATING && nowNs - connectDeadlineNs >= 0)
        {
            refuseConnect(ReasonCode.NOT_AUTHORIZED, "authentication exchange not finished within the connect timeout");
        }
        else if (state == State.AWAIT_CONNECT || state == State.AUTHENTICATING)
        {
            return connectDeadlineNs;
        }
        else if (state == State.CONNECTED && keepAliveTimeoutNs > 0 && nowNs - lastPacketNs > keepAliveTimeoutNs)
        {
            protocolError(ReasonCode.KEEP_ALIVE_TIMEOUT, "keep-alive timeout");
        }
        else if (state == State.CONNECTED && slowSinceNs != 0 && isTooSlow(nowNs))
        {
            // It cannot read a DISCONNECT it is not reading: say it if the buffer takes it, then close at once.
            protocol.counters.slowConsumersDisconnected.incrementRelease();
            LOG.log(Level.INFO, () -> "disconnecting slow consumer " + describe() + ": " +
                connection.outboundBacklog() + " bytes behind");
            sendDisconnect(ReasonCode.QUOTA_EXCEEDED, "too slow: more than " + protocol.limits.outboundBufferMax() +
                " bytes behind for longer than the slow consumer timeout");
            endWithRouter(DISCONNECT_WITH_WILL, SESSION_EXPIRY_UNCHANGED);
            state = State.CLOSED;
            connection.close("slow consumer");
        }
        else if (state == State.CONNECTED)
        {
            final int authReason = grant.liveCheck();
            if (authReason != 0)
            {
                protocolError(authReason,
                    authReason == ReasonCode.ADMINISTRATIVE_ACTION ? "token revoked" : "token expired");
                return ConnectionHandler.NO_DEADLINE;
            }
            // Keep-alive is re-armed lazily (it fires at the last packet's deadline, then looks again); a token's
            // expiry is read against the auth wall clock, which can jump, so it is looked at every 100 ms (its
            // revocation comes as a sweep of the I/O agent, not on a timer).
            long nextNs = keepAliveTimeoutNs > 0 ?
                lastPacketNs + keepAliveTimeoutNs + 1 : ConnectionHandler.NO_DEADLINE;
            final long slowTimeoutNs = protocol.limits.slowConsumerTimeoutNs();
            if (slowSinceNs != 0 && slowTimeoutNs > 0)
            {
                nextNs = Math.min(nextNs, slowSinceNs + slowTimeoutNs + 1);
            }
            if (grant.expiresAtMs() != 0)
            {
                nextNs = Math.min(nextNs, nowNs + TimeUnit.MILLISECONDS.toNanos(100));
            }
            return nextNs;
        }
        return ConnectionHandler.NO_DEADLINE;
    }

    @Override
    public void onClosed(final String cause)
    {
        state = State.CLOSED;
        if (routerKnows)
        {
            endWithRouter(DISCONNECT_WITH_WILL, SESSION_EXPIRY_UNCHANGED);
        }
        if (clientId != null)
        {
            logConnection("disconnected " + clientId + " from " + connection.remoteAddress() + ": " + cause);
        }
    }

    /** The broker is stopping: v5 clients are told 0x8B Server shutting down. */
    @Override
    public void onShutdown()
    {
        if (state == State.CONNECTED)
        {
            sendDisconnect(ReasonCode.SERVER_SHUTTING_DOWN, "the broker is shutting down");
        }
    }

    private void endWithRouter(final int kind, final long sessionExpiry)
    {
        if (routerKnows)
        {
            routerKnows = false;
            protocol.disconnect(connection.id(), kind, sessionExpiry);
        }
    }

    // ------------------------------------------------------------------------------------------------ output

    /**
     * Encodes one PUBLISH for this subscriber around the shared message bytes: its own packet id, QoS, DUP,
     * RETAIN and subscription identifiers.
     */
    void deliver(
        final DirectBuffer buffer,
        final int messageOffset,
        final int packetId,
        final int qos,
        final int flags,
        final int subscriptionIdsOffset,
        final int subscriptionIdCount)
    {
        if (state != State.CONNECTED && state != State.CONNECTING)
        {
            return; // QoS 1/2 stay in flight with the routing agent and go again on reconnect
        }
        if (qos == 0 && connection.outboundBacklog() > protocol.limits.outboundBufferMax())
        {
            protocol.counters.qos0Dropped.incrementRelease();
            if (slowSinceNs == 0)
            {
                slowSinceNs = connection.nowNs(); // rare: only when a subscriber starts falling behind
                connection.scheduleTimer(slowSinceNs + protocol.limits.slowConsumerTimeoutNs() + 1);
            }
            return;
        }
        final boolean v5 = version == MqttVersion.V5;
        final int topicOffset = MessageLayout.topicOffset(messageOffset);
        final int topicLength = MessageLayout.topicLength(buffer, messageOffset);
        final int payloadOffset = MessageLayout.payloadOffset(buffer, messageOffset);
        final int payloadLength = MessageLayout.payloadLength(buffer, messageOffset);
        DirectBuffer properties = buffer;
        int propertiesOffset = MessageLayout.propertiesOffset(buffer, messageOffset);
        int propertiesLength = v5 ? MessageLayout.propertiesLength(buffer, messageOffset) : 0;
        int sentTopicLength = topicLength;
        int alias = 0;
        boolean newAlias = false;
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

        final int length = PublishEncoder.encodedLength(version, qos, sentTopicLength, propertiesLength, payloadLength);
        if (length > clientMaxPacketSize)
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
        final int written = PublishEncoder.encode(
            connection.outboundBuffer(),
            connection.outboundPosition(),
            version,
            PublishEncoder.flags(qos, (flags & dev.skylark.broker.routing.Delivery.ENTRY_FLAG_DUP) != 0,
                (flags & dev.skylark.broker.routing.Delivery.ENTRY_FLAG_RETAIN) != 0),
            packetId,
            buffer, topicOffset, sentTopicLength,
            properties, propertiesOffset, propertiesLength,
            buffer, payloadOffset, payloadLength);
        connection.commit(written);
        protocol.counters.messagesOut.incrementRelease();
    }

    /** An acknowledgement from the routing agent: PUBACK/PUBREC/PUBREL/PUBCOMP, or SUBACK/UNSUBACK with a list. */
    void sendAck(
        final int packetType,
        final int packetId,
        final DirectBuffer reasons,
        final int reasonsOffset,
        final int count)
    {
        if (state != State.CONNECTED)
        {
            return;
        }
        final MutableDirectBuffer out = connection.outboundBuffer();
        if (packetType == PacketType.SUBACK || packetType == PacketType.UNSUBACK)
        {
            int propertiesLength = 0;
            final String why = packetType == PacketType.SUBACK && sendsProblemInformation() ?
                ReasonString.forSubAck(reasons, reasonsOffset, count) : null;
            if (why != null)
            {
                propertiesLength = reasonString(why);
                if (SubAckEncoder.encodedLength(version, packetType, propertiesLength, count) > clientMaxPacketSize)
                {
                    propertiesLength = 0; // [MQTT-3.9.2-1]
                }
            }
            connection.ensureOutbound(CONTROL_PACKET_MAX + propertiesLength + count);
            final int written = SubAckEncoder.encode(out, connection.outboundPosition(), version, packetType, packetId,
                protocol.propertyScratch, 0, propertiesLength, reasons, reasonsOffset, count);
            connection.commit(written);
            if (packetType == PacketType.SUBACK)
            {
                for (int i = 0; i < count; i++)
                {
                    if ((reasons.getByte(reasonsOffset + i) & 0xFF) == ReasonCode.PROTOCOL_ERROR)
                    {
                        protocolError(ReasonCode.PROTOCOL_ERROR, "No Local on a shared subscription");
                        break;
                    }
                }
            }
            return;
        }
        final int reason = reasons.getByte(reasonsOffset) & 0xFF;
        if (packetType == PacketType.PUBACK || packetType == PacketType.PUBCOMP ||
            (packetType == PacketType.PUBREC && reason >= ReasonCode.UNSPECIFIED_ERROR))
        {
            inboundInFlight = Math.max(0, inboundInFlight - 1);
        }
        writeAck(packetType, packetId, reason, ReasonString.forRoutedAck(packetType, reason));
    }

    /**
     * PUBACK, PUBREC, PUBREL or PUBCOMP. A refusal (0x80 or above) carries {@code why} as its Reason String when the
     * client asked for problem information and the packet stays within its Maximum Packet Size; the text is
     * pre-encoded, so this allocates nothing.
     */
    private void writeAck(final int packetType, final int packetId, final int reasonCode, final ReasonString why)
    {
        final boolean withReason = why != null && reasonCode >= ReasonCode.UNSPECIFIED_ERROR &&
            sendsProblemInformation() &&
            PubAckEncoder.encodedLength(version, reasonCode, why.length()) <= clientMaxPacketSize; // [MQTT-3.4.2-2]
        connection.ensureOutbound(CONTROL_PACKET_MAX);
        connection.commit(PubAckEncoder.encode(
            connection.outboundBuffer(), connection.outboundPosition(), version, packetType, packetId, reasonCode,
            withReason ? why.buffer() : null, 0, withReason ? why.length() : 0));
    }

    /**
     * Reason Strings (and User Properties) may go on packets other than PUBLISH, CONNACK and DISCONNECT only to a v5
     * client that did not set Request Problem Information to 0 [MQTT-3.1.2-29].
     */
    private boolean sendsProblemInformation()
    {
        return version == MqttVersion.V5 && requestProblemInformation;
    }

    /** v5 only: DISCONNECT with the reason code and {@code why} as its Reason String (left out if too large). */
    private void sendDisconnect(final int reasonCode, final String why)
    {
        if (version == MqttVersion.V5 && !disconnectSent)
        {
            disconnectSent = true;
            int propertiesLength = reasonString(why);
            if (DisconnectEncoder.encodedLength(version, reasonCode, propertiesLength) > clientMaxPacketSize)
            {
                propertiesLength = 0; // [MQTT-3.14.2-3]
            }
            connection.ensureOutbound(CONTROL_PACKET_MAX + propertiesLength);
            connection.commit(DisconnectEncoder.encode(connection.outboundBuffer(), connection.outboundPosition(),
                version, reasonCode, protocol.propertyScratch, 0, propertiesLength));
        }
    }

    /** Puts a Reason String property holding {@code why} at the start of the property scratch: its length. */
    private int reasonString(final String why)
    {
        return why == null || why.isEmpty() ? 0 :
            ReasonString.put(new PropertiesEncoder().wrap(protocol.propertyScratch, 0), why).length();
    }

    /** AUTH with this connection's method, and Authentication Data when the method gave some [MQTT-4.12.0-5]. */
    private void sendAuth(final int reasonCode, final byte[] data)
    {
        final PropertiesEncoder properties = new PropertiesEncoder().wrap(protocol.propertyScratch, 0)
            .putString(Property.AUTHENTICATION_METHOD, authMethod.name());
        if (data != null)
        {
            properties.putBytes(Property.AUTHENTICATION_DATA, data);
        }
        connection.ensureOutbound(CONTROL_PACKET_MAX + properties.length());
        connection.commit(AuthEncoder.encode(connection.outboundBuffer(), connection.outboundPosition(), reasonCode,
            protocol.propertyScratch, 0, properties.length()));
    }

    private boolean check(final int result, final String what)
    {
        if (result < 0)
        {
            protocolError(-result, "invalid " + what);
            return false;
        }
        return true;
    }

    /** A violation after CONNECT: v5 gets DISCONNECT with the reason code; the will is published. */
    private void protocolError(final int reasonCode, final String why)
    {
        if (state == State.CLOSED)
        {
            return;
        }
        protocol.counters.protocolErrors.incrementRelease();
        logError("closing " + describe() + ": " + why + " (" + ReasonCode.describe(reasonCode) + ")");
        sendDisconnect(reasonCode, why);
        endWithRouter(DISCONNECT_WITH_WILL, SESSION_EXPIRY_UNCHANGED);
        state = State.CLOSED;
        connection.closeAfterFlush(why);
    }

    /** A CONNECT that cannot be accepted: CONNACK with the reason (v5) or the nearest 3.1.1 return code. */
    private void refuseConnect(final int reasonCode, final String why)
    {
        protocol.counters.connectsRefused.incrementRelease();
        logError("refusing CONNECT from " + connection.remoteAddress() + ": " + why + " (" +
            ReasonCode.describe(reasonCode) + ")");
        final boolean v5 = version == MqttVersion.V5;
        final boolean answer = v5 || reasonCode == ReasonCode.UNSUPPORTED_PROTOCOL_VERSION ||
            reasonCode == ReasonCode.CLIENT_IDENTIFIER_NOT_VALID || reasonCode == ReasonCode.NOT_AUTHORIZED ||
            reasonCode == ReasonCode.BAD_USER_NAME_OR_PASSWORD;
        if (answer)
        {
            // A CONNECT that did not decode may not have told its Maximum Packet Size: then no Reason String.
            int propertiesLength = v5 && connectDecoded ? reasonString(why) : 0;
            if (ConnAckEncoder.encodedLength(version, propertiesLength) > clientMaxPacketSize)
            {
                propertiesLength = 0; // [MQTT-3.2.2-19]
            }
            connection.ensureOutbound(CONTROL_PACKET_MAX + propertiesLength);
            connection.commit(ConnAckEncoder.encode(connection.outboundBuffer(), connection.outboundPosition(), version,
                false, v5 ? reasonCode : ReasonCode.toV3ConnackReturnCode(reasonCode),
                protocol.propertyScratch, 0, propertiesLength));
        }
        state = State.CLOSED;
        connection.closeAfterFlush(why);
    }

    /** A first packet that is not CONNECT: closed without an answer [MQTT-3.1.0-1]. */
    private void refuse(final String why)
    {
        protocol.counters.connectsRefused.incrementRelease();
        logError("closing " + connection.remoteAddress() + ": " + why);
        state = State.CLOSED;
        connection.close(why);
    }

    /**
     * Generic cell rate algorithm: one packet per {@code 1/rate} seconds on average, with up to {@code burst}
     * packets at once. No floating point, no timer: just the theoretical arrival time of the next packet.
     */
    private boolean withinRate(final long nowNs)
    {
        final long intervalNs = 1_000_000_000L / protocol.limits.ratePacketsPerSecond();
        final long toleranceNs = intervalNs * (protocol.limits.rateBurst() - 1);
        final long tat = Math.max(rateTatNs, nowNs);
        if (tat - nowNs > toleranceNs)
        {
            return false;
        }
        rateTatNs = tat + intervalNs;
        return true;
    }

    /** Behind by more than the outbound limit for longer than the slow-consumer timeout (0 = never disconnect). */
    private boolean isTooSlow(final long nowNs)
    {
        if (connection.outboundBacklog() <= protocol.limits.outboundBufferMax())
        {
            slowSinceNs = 0; // caught up
            return false;
        }
        final long timeoutNs = protocol.limits.slowConsumerTimeoutNs();
        return timeoutNs > 0 && nowNs - slowSinceNs > timeoutNs;
    }

    /** Topic names and filters within the configured length and depth. */
    private boolean withinTopicLimits(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length > protocol.limits.topicMaxLength())
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
        return levels <= protocol.limits.topicMaxDepth();
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

    /** One INFO line per connect and disconnect, rate limited per I/O thread. */
    private void logConnection(final String line)
    {
        if (LOG.isLoggable(Level.INFO))
        {
            final String prefix = protocol.connectionLog.admit(System.nanoTime());
            if (prefix != null)
            {
                LOG.log(Level.INFO, prefix + line);
            }
        }
    }

    /** Why a client was refused or closed, rate limited per I/O thread so a flood of bad clients cannot flood the log. */
    private void logError(final String line)
    {
        if (LOG.isLoggable(Level.INFO))
        {
            final String prefix = protocol.errorLog.admit(System.nanoTime());
            if (prefix != null)
            {
                LOG.log(Level.INFO, prefix + line);
            }
        }
    }

    private String describe()
    {
        return (clientId != null ? "'" + clientId + "' " : "") + connection.remoteAddress();
    }
}
