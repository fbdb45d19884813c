package dev.skylark.broker.session;

import dev.skylark.broker.auth.ClientAccess;
import dev.skylark.broker.auth.ClientGrant;
import dev.skylark.broker.net.Connection;
import dev.skylark.broker.net.ConnectionHandler;
import dev.skylark.codec.LogText;
import dev.skylark.codec.mqtt.DisconnectDecoder;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.PubAckDecoder;
import dev.skylark.codec.mqtt.ReasonCode;
import dev.skylark.codec.mqtt.UnsubscribeDecoder;
import org.agrona.DirectBuffer;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.routing.RouterCommand.*;

/**
 * One connection's MQTT state machine on its I/O thread: dispatches each packet by state and type, and holds the
 * connection's state (negotiated values, grant, in-flight count, timers). The work is done by the I/O thread's shared
 * parts, held by {@link MqttProtocol}: {@link ConnectHandshake} (CONNECT, authentication, CONNACK),
 * {@link PublishAdmission} (a client's PUBLISH), {@link SubscriptionAdmission} (a SUBSCRIBE's entries),
 * {@link OutboundPacketWriter} (every packet out) and {@link PacketRateLimiter}; per connection only the lazily made
 * {@link InboundTopicAliases}, {@link OutboundTopicAliases} and {@link AuthExchange}. Everything session-wide
 * (subscriptions, queues, packet ids of deliveries) lives in the routing agent, which this talks to through
 * {@link dev.skylark.broker.routing.RouterProxy}.
 */
final class MqttConnectionHandler implements ConnectionHandler
{
    private static final System.Logger LOG = System.getLogger(MqttConnectionHandler.class.getName());

    enum State
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

    final MqttProtocol protocol;
    final Connection connection;
    private final long acceptedNs;
    State state = State.AWAIT_CONNECT;
    int version = MqttVersion.V3_1_1;
    /** The CONNECT's protocol level: {@link MqttVersion#V3_1} is spoken as 3.1.1 ({@link #version}) with 3.1's rules. */
    int protocolLevel = MqttVersion.V3_1_1;
    String clientId;
    String assignedClientId;
    long keepAliveTimeoutNs;
    long lastPacketNs;
    long requestedSessionExpiry;
    int clientMaxPacketSize = Integer.MAX_VALUE;
    int inboundInFlight;
    /** Aliases the client set, made on its first aliased PUBLISH. */
    InboundTopicAliases inboundAliases;
    boolean routerKnows;
    boolean disconnectSent;
    boolean requestProblemInformation = true;
    /** Server Keep Alive to announce (v5), or -1 when the client's own value stands. */
    int serverKeepAlive = -1;
    String responseInformation;
    /** Aliases towards the client, when it accepts any (v5 Topic Alias Maximum > 0). */
    OutboundTopicAliases outboundAliases;
    ClientGrant grant = ClientGrant.UNRESTRICTED;
    String userName;
    /** The rules file's rules for this connection's identity; compiled on first use and again after a reload. */
    ClientAccess access;
    /** Its access was handed to the routing agent (withdrawn if the CONNECT never gets there). */
    boolean accessOffered;
    /** The CONNECT decoded: its Maximum Packet Size and Request Problem Information are known. */
    boolean connectDecoded;
    /** The enhanced authentication method and its exchange; null while the client authenticated with its password. */
    AuthExchange auth;
    /** When this subscriber's backlog first went past the outbound limit (0 while it keeps up). */
    private long slowSinceNs;
    /** Rate limit (GCRA): the theoretical arrival time of the next packet. */
    private long rateTatNs;
    /** Publisher identity for the publish hook, encoded on first use (the jti again when the grant changes). */
    byte[] hookClientId;
    byte[] hookJti;
    ClientGrant hookJtiGrant;

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
        protocol.nowNs = nowNs;
        final PacketRateLimiter rateLimiter = protocol.rateLimiter;
        if (rateLimiter.enabled())
        {
            final long nextTatNs = rateLimiter.admit(rateTatNs, nowNs);
            if (nextTatNs == PacketRateLimiter.REFUSED)
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
            rateTatNs = nextTatNs;
        }
        lastPacketNs = nowNs;
        final int type = PacketType.of(buffer.getByte(offset));
        protocol.counters.received(type, length);
        if (state == State.AWAIT_CONNECT)
        {
            if (type != PacketType.CONNECT)
            {
                refuse("first packet was " + PacketType.name(type) + ", not CONNECT");
                return true;
            }
            return protocol.handshake.onConnect(this, buffer, offset, length);
        }
        if (state == State.AUTHENTICATING)
        {
            return protocol.handshake.onAuthenticating(this, type, buffer, offset, length);
        }
        if (state != State.CONNECTED)
        {
            return true; // closing: ignore the rest
        }
        switch (type)
        {
            case PacketType.PUBLISH:
                return protocol.publishAdmission.onPublish(this, buffer, offset, length);
            case PacketType.PUBACK:
            case PacketType.PUBREC:
            case PacketType.PUBREL:
            case PacketType.PUBCOMP:
                return onAck(buffer, offset, length);
            case PacketType.SUBSCRIBE:
                return protocol.subscriptionAdmission.onSubscribe(this, buffer, offset, length);
            case PacketType.UNSUBSCRIBE:
                return onUnsubscribe(buffer, offset, length);
            case PacketType.PINGREQ:
                if (check(protocol.pingDecoder.wrap(buffer, offset, length, version), "PINGREQ"))
                {
                    protocol.writer.pingResp(this);
                }
                return true;
            case PacketType.DISCONNECT:
                onDisconnect(buffer, offset, length);
                return true;
            case PacketType.CONNECT:
                protocolError(ReasonCode.PROTOCOL_ERROR, "second CONNECT");
                return true;
            case PacketType.AUTH:
                protocol.handshake.onAuth(this, buffer, offset, length);
                return true;
            default:
                protocolError(ReasonCode.PROTOCOL_ERROR, "unexpected " + PacketType.name(type));
                return true;
        }
    }

    void onConnack(final boolean sessionPresent, final int reasonCode, final long grantedExpiry, final int receiveMaximum)
    {
        protocol.handshake.onConnack(this, sessionPresent, reasonCode, grantedExpiry);
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

    private boolean onUnsubscribe(final DirectBuffer buffer, final int offset, final int length)
    {
        final UnsubscribeDecoder unsubscribe = protocol.unsubscribeDecoder;
        final int result = unsubscribe.wrap(buffer, offset, length, version);
        if (result < 0)
        {
            protocolError(-result, "invalid UNSUBSCRIBE");
            return true;
        }
        if (version != MqttVersion.V5)
        {
            // 3.1.1 UNSUBACK has no reason codes: an invalid topic filter makes the packet malformed, and the answer
            // is to close [MQTT-4.7.3-1], [MQTT-4.8.0-1]. (v5 answers it 0x8F in the UNSUBACK, as SUBSCRIBE does.)
            unsubscribe.rewind();
            while (unsubscribe.nextEntry())
            {
                if (unsubscribe.filterStatus() < 0)
                {
                    protocolError(ReasonCode.MALFORMED_PACKET, "UNSUBSCRIBE with an invalid topic filter");
                    return true;
                }
            }
        }
        if (!protocol.router.unsubscribe(connection.id(), unsubscribe))
        {
            protocol.blocked(connection);
            return false;
        }
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

    /** The routing agent asks this connection to go (e.g. 0x8E Session taken over). */
    void onServerDisconnect(final int reasonCode)
    {
        routerKnows = false; // the routing agent has already detached this connection
        if (state == State.CLOSED)
        {
            return;
        }
        final String why;
        if (reasonCode == ReasonCode.SESSION_TAKEN_OVER)
        {
            why = "another connection with this client id took the session over";
        }
        else if (reasonCode == ReasonCode.ADMINISTRATIVE_ACTION)
        {
            why = "disconnected by an administrator";
            logError("closing " + describe() + ": " + why);
        }
        else if (reasonCode == ReasonCode.SERVER_SHUTTING_DOWN)
        {
            // This cluster node leaves (the routing agent hands the sessions over): as on a shutdown.
            onShutdown();
            state = State.CLOSED;
            connection.closeAfterFlush("disconnected by the broker: this cluster node is leaving");
            return;
        }
        else if (reasonCode == ReasonCode.USE_ANOTHER_SERVER)
        {
            // This cluster node fenced itself (cut off from the cluster's majority): 0x9C with the node's Server
            // Reference when one is configured, else 0x89 Server busy; 3.1.1 is closed.
            why = "this cluster node is cut off from the cluster";
            if (protocol.leaveServerReference != null)
            {
                protocol.writer.disconnect(this, ReasonCode.USE_ANOTHER_SERVER, why, protocol.leaveServerReference);
            }
            else
            {
                sendDisconnect(ReasonCode.SERVER_BUSY, why);
            }
            state = State.CLOSED;
            connection.closeAfterFlush("disconnected by the broker: " + why);
            return;
        }
        else
        {
            // Only the routing agent sees it: an acknowledgement of the wrong type for the delivery it names.
            why = "acknowledgement of the wrong type for the delivery it names";
            protocol.counters.protocolErrors.incrementRelease();
            logError("closing " + describe() + ": " + why + " (" + ReasonCode.describe(reasonCode) + ")");
        }
        sendDisconnect(reasonCode, why);
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
        protocol.counters.clientConnection(connection.transport(), -1);
        if (routerKnows)
        {
            endWithRouter(DISCONNECT_WITH_WILL, SESSION_EXPIRY_UNCHANGED);
        }
        if (clientId != null)
        {
            logConnection("disconnected " + LogText.of(clientId) + " from " + connection.remoteAddress() + ": " + cause);
        }
    }

    /**
     * The broker is stopping: v5 clients are told 0x8B Server shutting down, or, on a clustered node with a Server
     * Reference configured, 0x9C Use another server with it.
     */
    @Override
    public void onShutdown()
    {
        if (state == State.CONNECTED)
        {
            if (protocol.leaveServerReference != null)
            {
                protocol.writer.disconnect(this, ReasonCode.USE_ANOTHER_SERVER, "this cluster node is leaving",
                    protocol.leaveServerReference);
            }
            else
            {
                sendDisconnect(ReasonCode.SERVER_SHUTTING_DOWN, "the broker is shutting down");
            }
        }
    }

    private void endWithRouter(final int kind, final long sessionExpiry)
    {
        if (routerKnows)
        {
            routerKnows = false;
            protocol.disconnect(connection.id(), kind, sessionExpiry);
        }
        else if (accessOffered && protocol.accessUpdates != null)
        {
            protocol.accessUpdates.withdraw(connection.id());
        }
        accessOffered = false;
    }

    // ------------------------------------------------------------------------------------------------ output

    /**
     * One PUBLISH for this subscriber from the routing agent; QoS 0 is dropped while the subscriber is too far
     * behind, and the time it started falling behind is kept for the slow-consumer check.
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
        protocol.writer.publish(
            this, buffer, messageOffset, packetId, qos, flags, subscriptionIdsOffset, subscriptionIdCount);
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
        if (packetType == PacketType.SUBACK || packetType == PacketType.UNSUBACK)
        {
            protocol.writer.subAck(this, packetType, packetId, reasons, reasonsOffset, count);
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
        protocol.writer.ack(this, packetType, packetId, reason, ReasonString.forRoutedAck(packetType, reason));
    }

    /** v5 only, once: DISCONNECT with the reason code and {@code why} as its Reason String. */
    private void sendDisconnect(final int reasonCode, final String why)
    {
        protocol.writer.disconnect(this, reasonCode, why);
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
    void protocolError(final int reasonCode, final String why)
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
    void refuseConnect(final int reasonCode, final String why)
    {
        protocol.counters.connectsRefused.incrementRelease();
        logError("refusing CONNECT from " + connection.remoteAddress() + ": " + why + " (" +
            ReasonCode.describe(reasonCode) + ")");
        protocol.writer.connAckRefusal(this, reasonCode, why);
        state = State.CLOSED;
        connection.closeAfterFlush(why);
    }

    /**
     * A packet for this client that does not fit its Maximum Packet Size even without what may be left out
     * [MQTT-3.1.2-24]: the connection closes. Before CONNACK without an answer (a DISCONNECT may not come before
     * CONNACK, and a refusing CONNACK would not fit either), and the session the routing agent opened goes offline
     * as after a normal DISCONNECT (the client never learned it was connected: no will); after CONNACK as a protocol
     * error with DISCONNECT 0x95 Packet too large, if that fits.
     */
    void tooLargeForClient(final String packet, final int length)
    {
        final String why = packet + " of " + length + " bytes does not fit the client's Maximum Packet Size of " +
            clientMaxPacketSize;
        switch (state)
        {
            case CONNECTED -> protocolError(ReasonCode.PACKET_TOO_LARGE, why);
            case AWAIT_CONNECT, AUTHENTICATING -> refuseConnect(ReasonCode.PACKET_TOO_LARGE, why);
            case CONNECTING ->
            {
                protocol.counters.connectsRefused.incrementRelease();
                logError("closing " + describe() + ": " + why);
                endWithRouter(DISCONNECT_NORMAL, SESSION_EXPIRY_UNCHANGED);
                state = State.CLOSED;
                connection.closeAfterFlush(why);
            }
            default ->
            {
            }
        }
    }

    /** A first packet that is not CONNECT: closed without an answer [MQTT-3.1.0-1]. */
    private void refuse(final String why)
    {
        protocol.counters.connectsRefused.incrementRelease();
        logError("closing " + connection.remoteAddress() + ": " + why);
        state = State.CLOSED;
        connection.close(why);
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

    /** One INFO line per connect and disconnect, rate limited per I/O thread. */
    void logConnection(final String line)
    {
        if (LOG.isLoggable(Level.INFO))
        {
            final String prefix = protocol.connectionLog.admit(protocol.nowNs);
            if (prefix != null)
            {
                LOG.log(Level.INFO, prefix + LogText.line(line));
            }
        }
    }

    /** Why a client was refused or closed, rate limited per I/O thread so a flood of bad clients cannot flood the log. */
    private void logError(final String line)
    {
        if (LOG.isLoggable(Level.INFO))
        {
            final String prefix = protocol.errorLog.admit(protocol.nowNs);
            if (prefix != null)
            {
                LOG.log(Level.INFO, prefix + LogText.line(line));
            }
        }
    }

    private String describe()
    {
        return (clientId != null ? "'" + LogText.of(clientId) + "' " : "") + connection.remoteAddress();
    }
}
