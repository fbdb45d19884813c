package dev.skylark.broker.session;

import dev.skylark.broker.auth.ClientAccess;
import dev.skylark.broker.auth.AuthMethod;
import dev.skylark.broker.auth.AuthMethods;
import dev.skylark.broker.auth.AuthRequest;
import dev.skylark.broker.auth.AuthStep;
import dev.skylark.broker.auth.ClientGrant;
import dev.skylark.broker.routing.ConnectRequest;
import dev.skylark.broker.session.MqttConnectionHandler.State;
import dev.skylark.codec.LogText;
import dev.skylark.codec.mqtt.AuthDecoder;
import dev.skylark.codec.mqtt.ConnectDecoder;
import dev.skylark.codec.mqtt.MqttPrimitives;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.Property;
import dev.skylark.codec.mqtt.PropertyFilter;
import dev.skylark.codec.mqtt.ReasonCode;
import dev.skylark.codec.mqtt.Topics;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A connection's way in and its identity: decodes and validates the CONNECT, authenticates it (password, or an
 * enhanced authentication exchange of AUTH packets), admits it to the routing agent and answers its CONNACK; later
 * re-authenticates the live connection on AUTH 0x19. Stateless: one instance per I/O thread, held by
 * {@link MqttProtocol}, called by {@link MqttConnectionHandler} with the connection's state; what an exchange keeps
 * between packets lives in the connection's {@link AuthExchange}.
 */
final class ConnectHandshake
{
    /** Most aliases the broker uses towards one client, whatever the client allows. */
    private static final int OUTBOUND_ALIASES_MAX = 256;
    /** MQTT 3.1: a client id is 1 to 23 characters. */
    static final int CLIENT_ID_MAX_CHARACTERS_V3_1 = 23;

    private final MqttProtocol protocol;

    ConnectHandshake(final MqttProtocol protocol)
    {
        this.protocol = protocol;
    }

    /** The first packet, a CONNECT: false when the routing ring is full (offered again later). */
    boolean onConnect(
        final MqttConnectionHandler handler, final DirectBuffer buffer, final int offset, final int length)
    {
        final ConnectDecoder connect = protocol.connectDecoder;
        final int result = connect.wrap(buffer, offset, length);
        handler.version = connect.protocolVersion() == MqttVersion.V5 ? MqttVersion.V5 : MqttVersion.V3_1_1;
        handler.protocolLevel = connect.protocolVersion() == MqttVersion.V3_1 ? MqttVersion.V3_1 : handler.version;
        if (result < 0)
        {
            final int reason = -result;
            if (reason == ReasonCode.UNSUPPORTED_PROTOCOL_VERSION)
            {
                handler.version = MqttVersion.V3_1_1; // a level we do not speak gets the 3.1.1 answer [MQTT-3.1.2-2]
            }
            handler.refuseConnect(reason, "invalid CONNECT: " + ReasonCode.describe(reason));
            return true;
        }
        final boolean v5 = handler.version == MqttVersion.V5;
        if (v5)
        {
            // Known before any answer: how large a packet the client takes, and whether it wants Reason Strings.
            final long maxPacketSize = connect.maximumPacketSize();
            handler.clientMaxPacketSize = maxPacketSize > 0 && maxPacketSize < Integer.MAX_VALUE ?
                (int)maxPacketSize : Integer.MAX_VALUE;
            handler.requestProblemInformation = connect.requestProblemInformation() != 0;
        }
        handler.connectDecoded = true;

        if (connect.clientIdLength() > protocol.limits.clientIdMaxLength())
        {
            handler.refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID,
                "client ID longer than " + protocol.limits.clientIdMaxLength() + " bytes");
            return true;
        }
        handler.clientId = connect.clientId();
        if (handler.protocolLevel == MqttVersion.V3_1)
        {
            // MQTT 3.1 (MQIsdp): "The Client Identifier (Client ID) is between 1 and 23 characters long ... If the
            // Client ID contains more than 23 characters, the server responds to the CONNECT message with a CONNACK
            // return code 2: Identifier Rejected." 3.1 has no empty id and no assigned one.
            final int characters = handler.clientId.codePointCount(0, handler.clientId.length());
            if (characters < 1 || characters > CLIENT_ID_MAX_CHARACTERS_V3_1)
            {
                handler.refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID,
                    "MQTT 3.1 client id of " + characters + " characters (1 to 23 allowed)");
                return true;
            }
        }
        handler.userName = connect.hasUserName() ? connect.userName() : null;
        if (v5 && connect.authenticationMethodLength() >= 0)
        {
            final String methodName = buffer.getStringWithoutLengthUtf8(
                connect.authenticationMethodOffset(), connect.authenticationMethodLength());
            final AuthMethod method = protocol.authMethods.find(methodName);
            if (method == null)
            {
                handler.refuseConnect(ReasonCode.BAD_AUTHENTICATION_METHOD,
                    "authentication method '" + methodName + "' is not supported");
                return true;
            }
            handler.auth = new AuthExchange(method);
            final byte[] data = connect.authenticationDataLength() < 0 ? null :
                MqttPrimitives.bytes(buffer, connect.authenticationDataOffset(), connect.authenticationDataLength());
            return onConnectAuthStep(handler, method.start(authRequest(handler, AuthRequest.Phase.CONNECT), data),
                buffer, offset, length);
        }
        handler.grant = protocol.authenticator.authenticate(handler.clientId, handler.userName,
            handler.connection.peerIdentity(), connect.hasPassword() ? buffer : null, connect.passwordOffset(),
            connect.passwordLength());
        if (handler.grant.refused())
        {
            handler.refuseConnect(handler.grant.reasonCode(), handler.grant.why());
            return true;
        }
        handler.userName = handler.grant.userName(); // the identity the modes vouched for (null: anonymous)
        return admit(handler, buffer, offset, length);
    }

    /** Between CONNECT and CONNACK of an exchange: only AUTH and DISCONNECT may come [MQTT-3.1.2-30]. */
    boolean onAuthenticating(
        final MqttConnectionHandler handler,
        final int type,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        final AuthExchange exchange = handler.auth;
        if (exchange.admitPending)
        {
            return admitPendingConnect(handler);
        }
        if (type == PacketType.DISCONNECT)
        {
            handler.state = State.CLOSED;
            handler.connection.closeAfterFlush("client sent DISCONNECT during authentication");
            return true;
        }
        if (type != PacketType.AUTH)
        {
            handler.refuseConnect(ReasonCode.PROTOCOL_ERROR,
                PacketType.name(type) + " before CONNACK during authentication");
            return true;
        }
        final AuthDecoder auth = protocol.authDecoder;
        final int result = auth.wrap(buffer, offset, length, handler.version);
        if (result < 0)
        {
            handler.refuseConnect(-result, "invalid AUTH");
            return true;
        }
        final String why = authProblem(auth, exchange.method);
        if (why != null)
        {
            handler.refuseConnect(ReasonCode.PROTOCOL_ERROR, why);
            return true;
        }
        if (auth.reasonCode() != ReasonCode.CONTINUE_AUTHENTICATION)
        {
            handler.refuseConnect(ReasonCode.PROTOCOL_ERROR, "AUTH " + ReasonCode.describe(auth.reasonCode()) +
                " while authenticating a CONNECT (0x18 expected)");
            return true;
        }
        return onConnectAuthStep(handler,
            exchange.method.next(authRequest(handler, AuthRequest.Phase.CONNECT), exchange.state, authData(auth)),
            buffer, offset, length);
    }

    /** The routing agent's answer to the CONNECT: CONNACK, then the connection is live (or closed). */
    void onConnack(
        final MqttConnectionHandler handler,
        final boolean sessionPresent,
        final int reasonCode,
        final long grantedExpiry)
    {
        if (handler.state != State.CONNECTING)
        {
            return;
        }
        if (!protocol.writer.connAck(handler, sessionPresent, reasonCode, grantedExpiry))
        {
            return; // too large for the client: closed
        }
        if (reasonCode != ReasonCode.SUCCESS)
        {
            handler.state = State.CLOSED;
            handler.connection.closeAfterFlush("CONNECT refused by the router: " + ReasonCode.describe(reasonCode));
            return;
        }
        handler.state = State.CONNECTED;
        handler.connection.scheduleTimer(handler.lastPacketNs); // keep-alive, slow consumer and token checks start now
        handler.logConnection("connected " + LogText.of(handler.clientId) + " from " +
            handler.connection.remoteAddress() + ", MQTT " + (handler.version == MqttVersion.V5 ? "5.0" :
            handler.protocolLevel == MqttVersion.V3_1 ? "3.1" : "3.1.1") + ", session present " + sessionPresent);
        handler.connection.resumeReading();
    }

    /**
     * AUTH on a live connection: re-authentication, AUTH 0x19 then 0x18 steps while the method asks for them, with
     * the CONNECT's method [MQTT-4.12.1-1] — or, a deliberate extension of the specification, with
     * {@link AuthMethods#passwordMethod()} ({@code skylark-jwt} in token mode) for a client that authenticated with
     * its password. Packets keep flowing under the current grant meanwhile; on success AUTH 0x00 answers and the new
     * grant (expiry, ACLs) applies from the next packet on; on failure DISCONNECT [MQTT-4.12.1-2].
     */
    void onAuth(final MqttConnectionHandler handler, final DirectBuffer buffer, final int offset, final int length)
    {
        final AuthDecoder auth = protocol.authDecoder;
        final int result = auth.wrap(buffer, offset, length, handler.version);
        if (result < 0)
        {
            handler.protocolError(-result, "invalid AUTH");
            return;
        }
        if (handler.auth == null)
        {
            final AuthMethod passwordMethod = protocol.authMethods.passwordMethod();
            if (passwordMethod == null || authProblem(auth, passwordMethod) != null)
            {
                handler.protocolError(ReasonCode.PROTOCOL_ERROR, "AUTH from a client that did not use enhanced " +
                    "authentication" + (passwordMethod == null ? "" : " (or re-authentication with " +
                    passwordMethod.name() + ")") + " [MQTT-4.12.0-7]");
                return;
            }
            handler.auth = new AuthExchange(passwordMethod); // from now on this connection authenticates with it
        }
        final AuthExchange exchange = handler.auth;
        final String why = authProblem(auth, exchange.method);
        if (why != null)
        {
            handler.protocolError(ReasonCode.PROTOCOL_ERROR, why);
            return;
        }
        switch (auth.reasonCode())
        {
            case ReasonCode.RE_AUTHENTICATE:
                if (exchange.reauthenticating)
                {
                    handler.protocolError(ReasonCode.PROTOCOL_ERROR,
                        "AUTH 0x19 while a re-authentication is under way");
                    return;
                }
                exchange.reauthenticating = true;
                onReauthenticationStep(handler,
                    exchange.method.start(authRequest(handler, AuthRequest.Phase.REAUTHENTICATE), authData(auth)));
                return;
            case ReasonCode.CONTINUE_AUTHENTICATION:
                if (!exchange.reauthenticating)
                {
                    handler.protocolError(ReasonCode.PROTOCOL_ERROR,
                        "AUTH 0x18 without an authentication exchange under way");
                    return;
                }
                onReauthenticationStep(handler, exchange.method.next(
                    authRequest(handler, AuthRequest.Phase.REAUTHENTICATE), exchange.state, authData(auth)));
                return;
            default:
                handler.protocolError(ReasonCode.PROTOCOL_ERROR, "AUTH 0x00 (Success) is the server's to send");
        }
    }

    /**
     * One step of the enhanced authentication of a CONNECT: admitted, refused, or continued with AUTH 0x18 — then
     * the CONNECT is kept (copied: the receive buffer moves on) until the exchange ends.
     */
    private boolean onConnectAuthStep(
        final MqttConnectionHandler handler,
        final AuthStep step,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        final AuthExchange exchange = handler.auth;
        switch (step.kind())
        {
            case SUCCESS:
                exchange.state = null;
                handler.grant = step.grant();
                exchange.responseData = step.data();
                final String certificateIdentity = handler.connection.peerIdentity();
                if (certificateIdentity != null || handler.grant.userName() != null)
                {
                    // the client certificate names the connection; else the method's grant, else the CONNECT's
                    handler.userName = certificateIdentity != null ? certificateIdentity : handler.grant.userName();
                }
                final ClientGrant grant = handler.grant;
                final String clientId = handler.clientId;
                if (grant.clientId() != null && !clientId.isEmpty() && !clientId.equals(grant.clientId()))
                {
                    handler.refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "authentication method " +
                        exchange.method.name() + " granted client id '" + grant.clientId() + "', not '" +
                        clientId + "'");
                    return true;
                }
                if (exchange.pendingConnect != null)
                {
                    exchange.admitPending = true;
                    return admitPendingConnect(handler);
                }
                return admit(handler, buffer, offset, length);
            case CONTINUE:
                if (exchange.pendingConnect == null)
                {
                    exchange.pendingConnect = new UnsafeBuffer(MqttPrimitives.bytes(buffer, offset, length));
                }
                exchange.state = step.state();
                handler.state = State.AUTHENTICATING;
                protocol.writer.auth(handler, ReasonCode.CONTINUE_AUTHENTICATION, step.data());
                return true;
            default:
                final int reason = ReasonCode.isValidFor(PacketType.CONNACK, step.reasonCode()) ?
                    step.reasonCode() : ReasonCode.NOT_AUTHORIZED;
                handler.refuseConnect(reason, step.why());
                return true;
        }
    }

    /**
     * Admits the CONNECT held during its exchange. When the routing ring is full the AUTH that ended the exchange is
     * offered again, and comes back here rather than to the method.
     */
    private boolean admitPendingConnect(final MqttConnectionHandler handler)
    {
        final AuthExchange exchange = handler.auth;
        final UnsafeBuffer held = exchange.pendingConnect;
        protocol.connectDecoder.wrap(held, 0, held.capacity()); // valid: it was decoded before
        if (!admit(handler, held, 0, held.capacity()))
        {
            return false;
        }
        exchange.admitPending = false;
        exchange.pendingConnect = null;
        return true;
    }

    private void onReauthenticationStep(final MqttConnectionHandler handler, final AuthStep step)
    {
        final AuthExchange exchange = handler.auth;
        switch (step.kind())
        {
            case SUCCESS:
                final ClientGrant renewed = step.grant();
                if (renewed.clientId() != null && !renewed.clientId().equals(handler.clientId))
                {
                    handler.protocolError(ReasonCode.NOT_AUTHORIZED, "re-authentication refused: it grants " +
                        "client id '" + renewed.clientId() + "', not '" + handler.clientId + "'");
                    return;
                }
                exchange.reauthenticating = false;
                exchange.state = null;
                handler.grant = renewed;
                protocol.offerAccess(handler); // the routing agent re-checks the session's subscriptions and queue
                handler.connection.scheduleTimer(handler.lastPacketNs); // the new grant may expire: look at it now
                protocol.writer.auth(handler, ReasonCode.SUCCESS, step.data());
                handler.logConnection("re-authenticated " + LogText.of(handler.clientId) + " with " + exchange.method.name() +
                    (renewed.expiresAtMs() == 0 ? "" : ", now valid until " +
                    java.time.Instant.ofEpochMilli(renewed.expiresAtMs())));
                return;
            case CONTINUE:
                exchange.state = step.state();
                protocol.writer.auth(handler, ReasonCode.CONTINUE_AUTHENTICATION, step.data());
                return;
            default:
                // 0x86 and 0x85 are CONNACK-only codes: a DISCONNECT says 0x87 Not authorized, the text says why.
                final int reason = ReasonCode.isValidFor(PacketType.DISCONNECT, step.reasonCode()) ?
                    step.reasonCode() : ReasonCode.NOT_AUTHORIZED;
                handler.protocolError(reason, "re-authentication refused: " + step.why());
        }
    }

    /**
     * The CONNECT is authenticated ({@code handler.grant} set): checks the rest and hands it to the routing agent.
     *
     * @return false when the routing ring is full.
     */
    private boolean admit(
        final MqttConnectionHandler handler, final DirectBuffer buffer, final int offset, final int length)
    {
        final ConnectDecoder connect = protocol.connectDecoder;
        final SessionLimits limits = protocol.limits;
        final int version = handler.version;
        final boolean v5 = version == MqttVersion.V5;
        final ClientGrant grant = handler.grant;
        if (handler.clientId.isEmpty())
        {
            if (!v5 && !connect.cleanStart())
            {
                handler.refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "empty client id needs clean session");
                return true;
            }
            handler.clientId = grant.clientId() != null ? grant.clientId() : protocol.assignClientId();
            handler.assignedClientId = v5 ? handler.clientId : null;
        }

        final ConnectRequest request = new ConnectRequest();
        request.version = version;
        request.cleanStart = connect.cleanStart();
        request.clientId = handler.clientId.getBytes(StandardCharsets.UTF_8);
        if (v5)
        {
            final long expiry = connect.sessionExpiryInterval();
            request.sessionExpiry = expiry < 0 ? 0 : expiry;
            final int receiveMaximum = connect.receiveMaximum();
            request.receiveMaximum = receiveMaximum > 0 ? receiveMaximum : 65_535;
            request.maxPacketSize = handler.clientMaxPacketSize == Integer.MAX_VALUE ? 0 : handler.clientMaxPacketSize;
            final int clientAliasMaximum = connect.topicAliasMaximum();
            if (clientAliasMaximum > 0)
            {
                handler.outboundAliases =
                    new OutboundTopicAliases(Math.min(clientAliasMaximum, OUTBOUND_ALIASES_MAX));
            }
        }
        else
        {
            request.sessionExpiry = connect.cleanStart() ? 0 : 0xFFFF_FFFFL;
        }
        handler.requestedSessionExpiry = request.sessionExpiry;

        if (connect.hasWill() && !admitWill(handler, connect, buffer, request))
        {
            return true;
        }

        int keepAlive = connect.keepAlive();
        final int keepAliveMax = limits.keepAliveMax();
        if (v5 && keepAliveMax > 0 && (keepAlive == 0 || keepAlive > keepAliveMax))
        {
            keepAlive = keepAliveMax; // announced as Server Keep Alive; the client must use it [MQTT-3.2.2-21]
            handler.serverKeepAlive = keepAliveMax;
        }
        handler.keepAliveTimeoutNs = keepAlive == 0 ? 0 : TimeUnit.MILLISECONDS.toNanos(keepAlive * 1500L);
        if (v5 && connect.requestResponseInformation() == 1 && !limits.responseInformation().isEmpty())
        {
            handler.responseInformation = limits.responseInformation() + handler.clientId;
        }
        protocol.access(handler); // the rules for this identity, compiled once here rather than on the first PUBLISH
        protocol.offerAccess(handler); // before the CONNECT: a resumed session is re-checked before it gets anything
        if (!protocol.router.connect(handler.connection.id(), request))
        {
            protocol.blocked(handler.connection);
            return false;
        }
        handler.routerKnows = true;
        handler.state = State.CONNECTING;
        handler.connection.pauseReading(); // until the routing agent answers: packets after CONNECT wait in the socket
        return true;
    }

    /** Checks the CONNECT's will and copies it into the request: false when it is refused (CONNACK sent). */
    private boolean admitWill(
        final MqttConnectionHandler handler,
        final ConnectDecoder connect,
        final DirectBuffer buffer,
        final ConnectRequest request)
    {
        final SessionLimits limits = protocol.limits;
        final int topicOffset = connect.willTopicOffset();
        final int topicLength = connect.willTopicLength();
        final int topicResult = Topics.validateTopicName(buffer, topicOffset, topicLength);
        if (topicResult < 0)
        {
            handler.refuseConnect(ReasonCode.TOPIC_NAME_INVALID, "invalid will topic");
            return false;
        }
        if (!limits.withinTopicLimits(buffer, topicOffset, topicLength))
        {
            // Held to the same limits as a PUBLISH's topic: refused now rather than published past them later.
            handler.refuseConnect(ReasonCode.TOPIC_NAME_INVALID, "will topic beyond the length or depth limit");
            return false;
        }
        if (protocol.reservedTopic(buffer, topicOffset, topicLength))
        {
            handler.refuseConnect(ReasonCode.NOT_AUTHORIZED, "will topic under a prefix the broker owns");
            return false;
        }
        if (connect.willRetain() && !limits.retainAvailable())
        {
            handler.refuseConnect(ReasonCode.RETAIN_NOT_SUPPORTED, "will retain requested but retain is not available");
            return false;
        }
        if (connect.willQos() > limits.maximumQos())
        {
            handler.refuseConnect(ReasonCode.QOS_NOT_SUPPORTED, "will QoS above the broker's maximum QoS");
            return false;
        }
        if (!handler.grant.mayPublish(buffer, topicOffset, topicLength))
        {
            handler.refuseConnect(ReasonCode.NOT_AUTHORIZED, "will topic not allowed by the token");
            return false;
        }
        final ClientAccess access = protocol.access(handler);
        final int rule = access.publishRule(buffer, topicOffset, topicLength);
        if (!access.allowed(rule))
        {
            handler.refuseConnect(ReasonCode.NOT_AUTHORIZED, "will topic denied by " + access.describe(rule));
            return false;
        }
        request.hasWill = true;
        request.willQos = connect.willQos();
        request.willRetain = connect.willRetain();
        request.willTopic = MqttPrimitives.bytes(buffer, topicOffset, topicLength);
        request.willPayload = MqttPrimitives.bytes(buffer, connect.willPayloadOffset(), connect.willPayloadLength());
        if (handler.version == MqttVersion.V5)
        {
            final long delay = connect.willDelayInterval();
            request.willDelay = delay < 0 ? 0 : delay;
            final int written = PropertyFilter.copyWithout(buffer, connect.willPropertiesOffset(),
                connect.willPropertiesLength(), Property.WILL_DELAY_INTERVAL, protocol.scratch, 0);
            request.willProperties = MqttPrimitives.bytes(protocol.scratch, 0, written);
        }
        // Wills are stored for as long as the session lasts: bounded per connection (3.1.1: 0x03 Server unavailable).
        final long willBytes = (long)request.willTopic.length + request.willProperties.length + request.willPayload.length;
        if (limits.willMaxBytes() > 0 && willBytes > limits.willMaxBytes())
        {
            request.hasWill = false;
            handler.refuseConnect(ReasonCode.QUOTA_EXCEEDED, "will of " + willBytes + " bytes is over the broker's " +
                limits.willMaxBytes() + " (skylark.will.max.bytes)");
            return false;
        }
        return true;
    }

    private static AuthRequest authRequest(final MqttConnectionHandler handler, final AuthRequest.Phase phase)
    {
        return new AuthRequest(handler.clientId, handler.userName, phase);
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
}
