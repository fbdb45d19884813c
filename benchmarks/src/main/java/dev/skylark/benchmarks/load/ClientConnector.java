/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLException;

import static dev.skylark.benchmarks.load.ClientPacketEncoder.MQTT_5;

/**
 * Connection setup for one {@link ClientAgent}: opens the sockets a few at a time and drives each connection
 * through its handshakes until READY: TCP connect, TLS handshake (tls, wss), WebSocket upgrade (ws, wss), MQTT
 * CONNECT/CONNACK and, for subscribers, SUBSCRIBE/SUBACK. Refusals become the run's failure.
 * <p>
 * Called by the agent (opening, {@code OP_CONNECT}, TLS handshake progress) and by the {@link ClientInputAdapter}
 * (upgrade response, CONNACK, SUBACK); none of this is on the per-message path.
 */
final class ClientConnector
{
    /** Connections between connect() and READY at a time, so a large ramp does not overflow the accept backlog. */
    static final int MAX_HANDSHAKES = 256;
    /**
     * The same over TLS, where each handshake costs both sides milliseconds of CPU: more at once only makes every one
     * of them slower, until the broker's connect timeout (no CONNECT within 10 s) closes them.
     */
    static final int MAX_TLS_HANDSHAKES = 32;

    private final LoadConfig config;
    private final LoadControl control;
    private final ClientConnection[] connections;
    private final Selector selector;
    private final InetSocketAddress address;
    private final int maxHandshakes;
    private final ClientSendEndPoint sender;
    private final ClientLifecycle lifecycle;
    private ClientInputAdapter input;
    private int connectIndex;
    private int handshakes;

    ClientConnector(
        final LoadConfig config,
        final LoadControl control,
        final ClientConnection[] connections,
        final Selector selector,
        final ClientSendEndPoint sender,
        final ClientLifecycle lifecycle)
    {
        this.config = config;
        this.control = control;
        this.connections = connections;
        this.selector = selector;
        this.sender = sender;
        this.lifecycle = lifecycle;
        this.address = new InetSocketAddress(config.host, config.port);
        this.maxHandshakes = config.tls() ? MAX_TLS_HANDSHAKES : MAX_HANDSHAKES;
    }

    /**
     * @param input handles the bytes that arrive right behind a completed TLS handshake.
     */
    void inputAdapter(final ClientInputAdapter input)
    {
        this.input = input;
    }

    /**
     * @return true while some connections are not opened yet.
     */
    boolean hasMoreToConnect()
    {
        return connectIndex < connections.length;
    }

    /**
     * Open connections while fewer than {@link #MAX_HANDSHAKES} ({@link #MAX_TLS_HANDSHAKES}) wait for CONNACK/SUBACK.
     *
     * @return connections opened.
     */
    int connectMore()
    {
        int opened = 0;
        while (connectIndex < connections.length && handshakes < maxHandshakes && null == control.failure())
        {
            final ClientConnection c = connections[connectIndex++];
            handshakes++;
            opened++;
            try
            {
                c.channel = SocketChannel.open();
                c.channel.configureBlocking(false);
                c.channel.setOption(StandardSocketOptions.TCP_NODELAY, Boolean.TRUE);
                if (null != c.localAddress)
                {
                    c.channel.bind(c.localAddress);
                }
                final boolean connected = c.channel.connect(null != c.remoteAddress ? c.remoteAddress : address);
                c.interestOps = connected ? 0 : SelectionKey.OP_CONNECT;
                c.key = c.channel.register(selector, c.interestOps, c);
                if (connected)
                {
                    onConnected(c);
                }
            }
            catch (final IOException ex)
            {
                lifecycle.unreachable(c, ex);
                return opened;
            }
        }

        return opened;
    }

    /**
     * {@code OP_CONNECT}: finish the TCP connect and go on with the next handshake.
     */
    void onConnectable(final ClientConnection c) throws IOException
    {
        if (c.channel.finishConnect())
        {
            onConnected(c);
        }
    }

    private void onConnected(final ClientConnection c) throws IOException
    {
        if (null != c.tls)
        {
            c.state = ClientConnection.State.TLS_HANDSHAKE;
            c.tls.engine.beginHandshake();
            continueHandshake(c);
            return;
        }

        onTransportReady(c);
    }

    /**
     * TLS: drive the handshake on; once it is complete, go on as over plain TCP.
     */
    void continueHandshake(final ClientConnection c) throws IOException
    {
        final boolean done;
        try
        {
            done = c.tls.handshake(c.channel, null == c.wsIn ? c.rx : c.wsIn);
        }
        catch (final SSLException ex)
        {
            lifecycle.fail(c, LoadControl.EXIT_REFUSED, "TLS handshake with " + config.host + ":" + config.port +
                " failed: " + ex.getMessage() + (config.trustAll || null != config.caFile ? "" :
                " (a self-signed broker certificate needs --cafile cert.pem, or --trust-all when benchmarking)"));
            return;
        }
        if (!done)
        {
            ClientSendEndPoint.updateInterest(c);
            return;
        }

        onTransportReady(c);
        if (c.state != ClientConnection.State.CLOSED && c.tls.netIn.position() > 0)
        {
            input.drainTls(c); // e.g. a TLS 1.3 session ticket right behind the handshake
        }
    }

    /**
     * The byte stream to the broker is open (TCP connected, TLS handshake done): WebSocket upgrade or CONNECT.
     */
    private void onTransportReady(final ClientConnection c) throws IOException
    {
        if (c.webSocket())
        {
            c.wsKey = WebSocketFraming.randomKey();
            final byte[] request = WebSocketFraming.upgradeRequest(
                config.host + ":" + config.port, config.wsPath, c.wsKey);
            if (request.length > c.tx.remaining())
            {
                throw new IllegalStateException("WebSocket upgrade request does not fit the send buffer");
            }
            c.tx.put(request);
            c.state = ClientConnection.State.WS_UPGRADE;
            sender.flush(c);
            ClientSendEndPoint.updateInterest(c);
            return;
        }

        sendConnect(c);
    }

    /**
     * WebSocket: the broker's answer to the upgrade request is (partly) in {@code wsIn}; once its head is complete,
     * check it is {@code 101 Switching Protocols} and start framing, then send CONNECT.
     *
     * @return true when the upgrade is done and bytes behind the response wait in {@code wsIn} to be processed.
     */
    boolean onUpgradeResponse(final ClientConnection c) throws IOException
    {
        final ByteBuffer in = c.wsIn;
        final int end = WebSocketFraming.headEnd(in, in.position());
        if (end < 0)
        {
            if (!in.hasRemaining())
            {
                lifecycle.fail(c, LoadControl.EXIT_REFUSED, "WebSocket upgrade response head from " + config.host +
                    ":" + config.port + " is larger than " + in.capacity() + " bytes");
            }
            return false;
        }

        final byte[] head = new byte[end];
        in.get(0, head);
        final String problem = WebSocketFraming.checkUpgradeResponse(
            new String(head, StandardCharsets.ISO_8859_1), c.wsKey);
        if (null != problem)
        {
            lifecycle.fail(c, LoadControl.EXIT_REFUSED, "broker at " + config.host + ":" + config.port +
                config.wsPath + ": " + problem);
            return false;
        }
        in.limit(in.position()).position(end);
        in.compact();

        // From here on everything written goes out in masked binary frames.
        c.state = ClientConnection.State.AWAIT_CONNACK;
        c.wsFramed = c.tx.position();
        ClientSendEndPoint.reserveFrame(c);
        sendConnect(c);

        return in.position() > 0;
    }

    private void sendConnect(final ClientConnection c)
    {
        if (ClientPacketEncoder.encodeConnect(
            c.tx, config.protocolVersion, c.clientId, config.keepAliveS, config.username, config.password,
            config.sessionExpiryS(c.role)) < 0)
        {
            throw new IllegalStateException("CONNECT does not fit the send buffer");
        }
        c.keepAliveNs = TimeUnit.SECONDS.toNanos(config.keepAliveS);
        c.state = ClientConnection.State.AWAIT_CONNACK;
        sender.flush(c);
        ClientSendEndPoint.updateInterest(c);
    }

    /**
     * CONNACK decoded: a publisher is READY, a subscriber sends SUBSCRIBE.
     *
     * @return false when the connection was closed.
     */
    boolean onConnack(final ClientConnection c, final ClientPacketDecoder decoder)
    {
        if (c.state != ClientConnection.State.AWAIT_CONNACK)
        {
            lifecycle.protocolError(c, "unexpected CONNACK");
            return false;
        }

        final int code = decoder.connackReasonCode();
        if (0 != code)
        {
            lifecycle.fail(c, LoadControl.EXIT_REFUSED, "broker at " + config.host + ":" + config.port +
                " refused CONNECT of " + c.clientId + ": " + connackReason(code));
            return false;
        }

        if (MQTT_5 == config.protocolVersion)
        {
            final int receiveMaximum = decoder.connackReceiveMaximum(65535);
            final int keepAliveS = decoder.connackServerKeepAlive(config.keepAliveS);
            if (receiveMaximum <= 0 || keepAliveS < 0)
            {
                lifecycle.protocolError(c, "malformed CONNACK properties");
                return false;
            }
            c.window = Math.min(c.window, receiveMaximum);
            c.keepAliveNs = TimeUnit.SECONDS.toNanos(0 == keepAliveS ? 3600 : keepAliveS);
        }

        if (c.role == ClientConnection.Role.SUBSCRIBER)
        {
            ClientPacketEncoder.encodeSubscribe(
                c.tx, config.protocolVersion, ClientConnection.SUBSCRIBE_PACKET_ID, c.filter,
                config.qos);
            c.state = ClientConnection.State.AWAIT_SUBACK;
        }
        else
        {
            lifecycle.onReady(c);
            handshakes--;
        }

        return true;
    }

    /**
     * SUBACK decoded: the subscriber is READY unless the broker refused the filter or granted a lower QoS.
     *
     * @return false when the connection was closed.
     */
    boolean onSuback(final ClientConnection c, final ClientPacketDecoder decoder)
    {
        if (c.state != ClientConnection.State.AWAIT_SUBACK ||
            decoder.packetId() != ClientConnection.SUBSCRIBE_PACKET_ID)
        {
            lifecycle.protocolError(c, "unexpected SUBACK");
            return false;
        }

        final int code = decoder.subackReasonCode(config.protocolVersion);
        if (code < 0 || code >= 0x80 || code < config.qos)
        {
            lifecycle.fail(c, LoadControl.EXIT_REFUSED, "broker refused SUBSCRIBE of " + c.clientId + " to " +
                c.filter + " at QoS " + config.qos + ": SUBACK code 0x" + Integer.toHexString(code));
            return false;
        }

        lifecycle.onReady(c);
        handshakes--;

        return true;
    }

    private String connackReason(final int code)
    {
        final String text;
        if (MQTT_5 == config.protocolVersion)
        {
            switch (code)
            {
                case 0x80: text = "unspecified error"; break;
                case 0x84: text = "unsupported protocol version"; break;
                case 0x85: text = "client identifier not valid"; break;
                case 0x86: text = "bad user name or password"; break;
                case 0x87: text = "not authorized"; break;
                case 0x88: text = "server unavailable"; break;
                case 0x89: text = "server busy"; break;
                case 0x8A: text = "banned"; break;
                case 0x8C: text = "bad authentication method"; break;
                default: text = "reason code"; break;
            }
        }
        else
        {
            switch (code)
            {
                case 1: text = "unacceptable protocol version"; break;
                case 2: text = "identifier rejected"; break;
                case 3: text = "server unavailable"; break;
                case 4: text = "bad user name or password"; break;
                case 5: text = "not authorized"; break;
                default: text = "return code"; break;
            }
        }

        return text + " (0x" + Integer.toHexString(code) + ")";
    }
}
