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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import javax.net.ssl.SSLException;

import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.IdleStrategy;

import static dev.skylark.benchmarks.load.ClientPacketEncoder.CONNACK;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.DISCONNECT;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.INSUFFICIENT_CAPACITY;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.MQTT_5;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PINGREQ;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PINGRESP;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PUBACK;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PUBCOMP;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PUBLISH;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PUBREC;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PUBREL;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.SUBACK;

/**
 * One selector thread's work: drives any mix of publisher and subscriber {@link ClientConnection}s over
 * non-blocking sockets.
 * <p>
 * Duty cycle: one clock read, {@code selectNow} dispatching reads/writes/connects, then each ready publisher (round
 * robin) appends up to {@link #PUBLISH_BATCH} pre-encoded PUBLISH packets to its send buffer and flushes once.
 * Back pressure: a publisher writes only while its send buffer has room and, for QoS &gt; 0, while its in-flight
 * window is open; a full send buffer waits for {@code OP_WRITE}. Subscribers always read; they only stop when their
 * send buffer (acks) is full, and resume on {@code OP_WRITE}. Nothing allocates per message.
 * <p>
 * {@link #doWork()} never blocks; {@link SelectorIdleStrategy} blocks in {@code select} (or parks until the next
 * scheduled send when paced) so idle agents leave the cores to the broker.
 */
final class ClientAgent implements Agent
{
    static final int PUBLISH_BATCH = 64;
    private static final int MIN_TX_SPACE_FOR_READ = 64;
    private static final long TICK_NS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long IDLE_SELECT_NS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long CLOSE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(1);
    static final long HIGHEST_TRACKABLE_NS = TimeUnit.SECONDS.toNanos(60);
    /** Connections between connect() and READY at a time, so a large ramp does not overflow the accept backlog. */
    static final int MAX_HANDSHAKES = 256;
    /**
     * The same over TLS, where each handshake costs both sides milliseconds of CPU: more at once only makes every one
     * of them slower, until the broker's connect timeout (no CONNECT within 10 s) closes them.
     */
    static final int MAX_TLS_HANDSHAKES = 32;
    private static final long OUTSTANDING_RECHECK_NS = TimeUnit.MICROSECONDS.toNanos(50);
    private static final byte[] NORMAL_CLOSURE = { 0x03, (byte)0xE8 };

    private final String name;
    private final LoadConfig config;
    private final LoadControl control;
    private final SingleWriterRecorder recorder;
    private final AgentCounters counters = new AgentCounters();
    private final ClientConnection[] connections;
    private final ClientConnection[] publishers;
    private final ClientPacketDecoder decoder;
    private final Consumer<SelectionKey> selectHandler = this::onSelected;
    private final InetSocketAddress address;
    private final Selector selector;
    private final long intervalNs;
    private final boolean paced;

    private long nowNs;
    private long startNs = Long.MAX_VALUE;
    private long measureStartNs = Long.MAX_VALUE;
    private long measureEndNs = Long.MAX_VALUE;
    private long nextTickNs;
    private long nextDueNs = Long.MAX_VALUE;
    private int roundRobin;
    private boolean closing;
    private int connectIndex;
    private int handshakes;
    private AgentCounters[] allCounters;
    private final long maxOutstanding;
    private final int copies;
    private final int maxHandshakes;

    private long ready;
    private long sentTotal;
    private long sentInWindow;
    private long inflight;
    private long receivedTotal;
    private long receivedInWindow;
    private long arrivedInWindow;
    private long gaps;
    private long outOfOrder;
    private long badAcks;
    private long maxSendLagNs;
    private long readBackPressure;
    private long staleMessages;
    private long outstandingPauses;

    ClientAgent(
        final String name,
        final LoadConfig config,
        final LoadControl control,
        final SingleWriterRecorder recorder,
        final ClientConnection[] connections) throws IOException
    {
        this.name = name;
        this.config = config;
        this.control = control;
        this.recorder = recorder;
        this.connections = connections;
        int publisherCount = 0;
        int maxRx = 0;
        for (final ClientConnection c : connections)
        {
            publisherCount += c.role == ClientConnection.Role.PUBLISHER ? 1 : 0;
            maxRx = Math.max(maxRx, c.rx.capacity());
        }
        this.publishers = new ClientConnection[publisherCount];
        int p = 0;
        for (final ClientConnection c : connections)
        {
            if (c.role == ClientConnection.Role.PUBLISHER)
            {
                publishers[p++] = c;
            }
        }
        this.decoder = new ClientPacketDecoder(maxRx);
        this.address = new InetSocketAddress(config.host, config.port);
        this.intervalNs = config.publisherIntervalNs();
        this.paced = intervalNs > 0;
        this.selector = Selector.open();
        this.maxOutstanding = config.maxOutstanding;
        this.copies = Math.max(1, config.copiesPerMessage());
        this.maxHandshakes = config.tls() ? MAX_TLS_HANDSHAKES : MAX_HANDSHAKES;
    }

    /**
     * The counters of every agent of the run, read to bound flat-out publishing by {@code --max-outstanding}.
     *
     * @param allCounters of all agents, this one included.
     */
    void allCounters(final AgentCounters[] allCounters)
    {
        this.allCounters = allCounters;
    }

    public String roleName()
    {
        return "skylark-load-" + name;
    }

    AgentCounters counters()
    {
        return counters;
    }

    /**
     * Wake the selector from another thread, e.g. after the schedule was published.
     */
    void wakeup()
    {
        selector.wakeup();
    }

    public void onStart()
    {
        connectMore();
    }

    /**
     * Open connections while fewer than {@link #MAX_HANDSHAKES} ({@link #MAX_TLS_HANDSHAKES}) wait for CONNACK/SUBACK.
     *
     * @return connections opened.
     */
    private int connectMore()
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
                final boolean connected = c.channel.connect(address);
                c.interestOps = connected ? 0 : SelectionKey.OP_CONNECT;
                c.key = c.channel.register(selector, c.interestOps, c);
                if (connected)
                {
                    onConnected(c);
                }
            }
            catch (final IOException ex)
            {
                unreachable(c, ex);
                return opened;
            }
        }

        return opened;
    }

    public int doWork()
    {
        final long nowNs = System.nanoTime();
        this.nowNs = nowNs;
        startNs = control.startNs();
        measureStartNs = control.measureStartNs();
        measureEndNs = control.measureEndNs();

        int workCount = 0;
        if (connectIndex < connections.length)
        {
            workCount += connectMore();
        }
        try
        {
            workCount += selector.selectNow(selectHandler);
        }
        catch (final IOException ex)
        {
            control.fail(LoadControl.EXIT_PROTOCOL, "selector failed: " + ex);
        }

        if (publishers.length > 0)
        {
            workCount += publish(nowNs);
        }

        if (nowNs - nextTickNs >= 0)
        {
            nextTickNs = nowNs + TICK_NS;
            keepAlive(nowNs);
        }

        publishCounters();

        return workCount;
    }

    public void onClose()
    {
        closing = true;
        for (final ClientConnection c : connections)
        {
            if (c.role == ClientConnection.Role.PUBLISHER)
            {
                disconnect(c);
            }
        }
        for (final ClientConnection c : connections)
        {
            if (c.role == ClientConnection.Role.SUBSCRIBER)
            {
                disconnect(c);
            }
        }
        try
        {
            selector.close();
        }
        catch (final IOException ignore)
        {
        }
        publishCounters();
    }

    /**
     * Block until there may be work: in {@code select} for I/O, bounded by the next scheduled send when paced.
     */
    void idle()
    {
        long timeoutNs = IDLE_SELECT_NS;
        final long now = System.nanoTime();
        if (startNs != Long.MAX_VALUE && startNs - now > 0)
        {
            timeoutNs = Math.min(timeoutNs, startNs - now);
        }
        if (nextDueNs != Long.MAX_VALUE)
        {
            timeoutNs = Math.min(timeoutNs, nextDueNs - now);
        }
        if (timeoutNs <= 0)
        {
            return;
        }

        try
        {
            if (timeoutNs >= 1_000_000)
            {
                selector.select(selectHandler, timeoutNs / 1_000_000);
            }
            else if (0 == selector.selectNow(selectHandler))
            {
                LockSupport.parkNanos(timeoutNs);
            }
        }
        catch (final IOException ex)
        {
            control.fail(LoadControl.EXIT_PROTOCOL, "selector failed: " + ex);
        }
    }

    private int publish(final long nowNs)
    {
        final ClientConnection[] publishers = this.publishers;
        final int count = publishers.length;
        final boolean started = nowNs - startNs >= 0 && startNs != Long.MAX_VALUE;
        final boolean flatOutActive = started && !paced && nowNs - measureEndNs < 0;
        long nextDueNs = Long.MAX_VALUE;
        long inflight = 0;
        int workCount = 0;
        long allowed = Long.MAX_VALUE;
        if (flatOutActive && maxOutstanding > 0 && null != allCounters)
        {
            final long received = AgentCounters.sum(allCounters, AgentCounters.RECEIVED_TOTAL);
            allowed = (maxOutstanding - (sentTotal * copies - received)) / copies;
            if (allowed <= 0)
            {
                outstandingPauses++;
                this.nextDueNs = nowNs + OUTSTANDING_RECHECK_NS;
                for (final ClientConnection c : publishers)
                {
                    inflight += c.inflight;
                }
                this.inflight = inflight;
                return 0;
            }
        }

        int i = roundRobin;
        for (int n = 0; n < count; n++)
        {
            final ClientConnection c = publishers[i];
            if (++i == count)
            {
                i = 0;
            }

            if (c.state == ClientConnection.State.READY && (flatOutActive || (paced && started)))
            {
                final int sent = publishBatch(c, nowNs, allowed);
                allowed -= sent;
                workCount += sent;
                if (paced && c.nextIntendedNs - measureEndNs < 0 && (0 == config.qos || c.inflight < c.window) &&
                    c.tx.remaining() >= c.template.length())
                {
                    nextDueNs = Math.min(nextDueNs, c.nextIntendedNs);
                }
            }
            inflight += c.inflight;
        }

        if (++roundRobin >= count)
        {
            roundRobin = 0;
        }
        this.nextDueNs = nextDueNs;
        this.inflight = inflight;

        return workCount;
    }

    private int publishBatch(final ClientConnection c, final long nowNs, final long allowed)
    {
        final PublishTemplate template = c.template;
        final ByteBuffer tx = c.tx;
        final int qos = config.qos;
        if (paced && 0 == c.nextIntendedNs)
        {
            c.nextIntendedNs = startNs + (c.index * intervalNs) / config.publishers;
        }

        int sent = 0;
        final long limit = Math.min(PUBLISH_BATCH, allowed);
        while (sent < limit && tx.remaining() >= template.length() && (0 == qos || c.inflight < c.window))
        {
            final long stampNs;
            if (paced)
            {
                stampNs = c.nextIntendedNs;
                if (stampNs - nowNs > 0 || stampNs - measureEndNs >= 0)
                {
                    break;
                }
                c.nextIntendedNs = stampNs + intervalNs;
                if (stampNs - measureStartNs >= 0)
                {
                    maxSendLagNs = Math.max(maxSendLagNs, nowNs - stampNs);
                }
            }
            else
            {
                stampNs = nowNs;
            }

            final int packetId = 0 == qos ? 0 : c.acquirePacketId();
            template.writeTo(tx, packetId, stampNs, c.index, c.sequence++);
            sentTotal++;
            if (stampNs - measureStartNs >= 0 && stampNs - measureEndNs < 0)
            {
                sentInWindow++;
            }
            sent++;
        }

        if (sent > 0)
        {
            flush(c);
        }

        return sent;
    }

    private void keepAlive(final long nowNs)
    {
        for (final ClientConnection c : connections)
        {
            if (c.state == ClientConnection.State.READY && nowNs - c.lastSendNs > c.keepAliveNs / 2)
            {
                if (ClientPacketEncoder.encodeEmpty(c.tx, PINGREQ) != INSUFFICIENT_CAPACITY)
                {
                    flush(c);
                }
            }
        }
    }

    private void onSelected(final SelectionKey key)
    {
        final ClientConnection c = (ClientConnection)key.attachment();
        try
        {
            final int readyOps = key.readyOps();
            if ((readyOps & SelectionKey.OP_CONNECT) != 0)
            {
                if (c.channel.finishConnect())
                {
                    onConnected(c);
                }
                return;
            }
            if (c.state == ClientConnection.State.TLS_HANDSHAKE)
            {
                continueHandshake(c);
                return;
            }
            if ((readyOps & SelectionKey.OP_WRITE) != 0)
            {
                flush(c);
                if (c.readBlocked && c.state != ClientConnection.State.CLOSED)
                {
                    processInput(c);
                    if (null != c.tls && !c.readBlocked)
                    {
                        drainTls(c); // records left in netIn while reading was blocked
                    }
                }
            }
            if ((readyOps & SelectionKey.OP_READ) != 0 && c.state != ClientConnection.State.CLOSED)
            {
                final int bytes = c.channel.read(null != c.tls ? c.tls.netIn : null == c.wsIn ? c.rx : c.wsIn);
                if (bytes < 0)
                {
                    connectionLost(c, "broker closed the connection");
                }
                else if (null != c.tls)
                {
                    drainTls(c);
                }
                else if (bytes > 0)
                {
                    onInput(c);
                }
            }
        }
        catch (final IOException ex)
        {
            if (c.state == ClientConnection.State.CONNECTING)
            {
                unreachable(c, ex);
            }
            else
            {
                connectionLost(c, ex.toString());
            }
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
    private void continueHandshake(final ClientConnection c) throws IOException
    {
        final boolean done;
        try
        {
            done = c.tls.handshake(c.channel, null == c.wsIn ? c.rx : c.wsIn);
        }
        catch (final SSLException ex)
        {
            control.fail(LoadControl.EXIT_REFUSED, "TLS handshake with " + config.host + ":" + config.port +
                " failed: " + ex.getMessage() + (config.trustAll || null != config.caFile ? "" :
                " (a self-signed broker certificate needs --cafile cert.pem, or --trust-all when benchmarking)"));
            close(c);
            return;
        }
        if (!done)
        {
            updateInterest(c);
            return;
        }

        onTransportReady(c);
        if (c.state != ClientConnection.State.CLOSED && c.tls.netIn.position() > 0)
        {
            drainTls(c); // e.g. a TLS 1.3 session ticket right behind the handshake
        }
    }

    /**
     * TLS: unwrap the complete records of {@code netIn} and handle them, until none is left, the receive buffer is
     * full and cannot be drained, or reading is blocked by a full send buffer (resumed on {@code OP_WRITE}).
     */
    private void drainTls(final ClientConnection c) throws IOException
    {
        final ByteBuffer plaintext = null == c.wsIn ? c.rx : c.wsIn;
        while (c.state != ClientConnection.State.CLOSED && !c.readBlocked)
        {
            final int produced = c.tls.unwrap(plaintext);
            if (produced < 0)
            {
                connectionLost(c, "broker closed the TLS session");
                return;
            }
            if (0 == produced)
            {
                break;
            }
            onInput(c);
        }
        if (c.state != ClientConnection.State.CLOSED && c.tls.hasPendingOutput())
        {
            flush(c); // a record the engine wants to send back (post-handshake message)
        }
    }

    /**
     * Bytes arrived in the receive buffer ({@code wsIn} for WebSocket).
     */
    private void onInput(final ClientConnection c) throws IOException
    {
        if (c.state == ClientConnection.State.WS_UPGRADE)
        {
            onUpgradeResponse(c);
        }
        else
        {
            processInput(c);
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
            flush(c);
            updateInterest(c);
            return;
        }

        sendConnect(c);
    }

    /**
     * WebSocket: the broker's answer to the upgrade request is (partly) in {@code wsIn}; once its head is complete,
     * check it is {@code 101 Switching Protocols} and start framing, then send CONNECT.
     */
    private void onUpgradeResponse(final ClientConnection c) throws IOException
    {
        final ByteBuffer in = c.wsIn;
        final int end = WebSocketFraming.headEnd(in, in.position());
        if (end < 0)
        {
            if (!in.hasRemaining())
            {
                control.fail(LoadControl.EXIT_REFUSED, "WebSocket upgrade response head from " + config.host + ":" +
                    config.port + " is larger than " + in.capacity() + " bytes");
                close(c);
            }
            return;
        }

        final byte[] head = new byte[end];
        in.get(0, head);
        final String problem = WebSocketFraming.checkUpgradeResponse(
            new String(head, java.nio.charset.StandardCharsets.ISO_8859_1), c.wsKey);
        if (null != problem)
        {
            control.fail(LoadControl.EXIT_REFUSED, "broker at " + config.host + ":" + config.port + config.wsPath +
                ": " + problem);
            close(c);
            return;
        }
        in.limit(in.position()).position(end);
        in.compact();

        // From here on everything written goes out in masked binary frames.
        c.state = ClientConnection.State.AWAIT_CONNACK;
        c.wsFramed = c.tx.position();
        reserveFrame(c);
        sendConnect(c);
        if (in.position() > 0)
        {
            processInput(c);
        }
    }

    private void sendConnect(final ClientConnection c) throws IOException
    {
        if (ClientPacketEncoder.encodeConnect(
            c.tx, config.protocolVersion, c.clientId, config.keepAliveS, config.username, config.password) < 0)
        {
            throw new IllegalStateException("CONNECT does not fit the send buffer");
        }
        c.keepAliveNs = TimeUnit.SECONDS.toNanos(config.keepAliveS);
        c.state = ClientConnection.State.AWAIT_CONNACK;
        flush(c);
        updateInterest(c);
    }

    private void processInput(final ClientConnection c) throws IOException
    {
        c.readBlocked = false;
        if (null == c.wsIn)
        {
            if (!decodePackets(c))
            {
                return;
            }
        }
        else
        {
            final WebSocketFraming.Deframer deframer = c.deframer;
            while (true)
            {
                final int status = deframer.unwrap(c.wsIn, c.rx);
                if (WebSocketFraming.Deframer.ERROR == status)
                {
                    protocolError(c, "WebSocket: " + deframer.error);
                    return;
                }
                if (WebSocketFraming.Deframer.CLOSE == status)
                {
                    if (decodePackets(c) && !closing)
                    {
                        control.fail(LoadControl.EXIT_PROTOCOL, "broker closed the WebSocket of " + c.clientId +
                            " (close code " + deframer.closeCode() + ")");
                    }
                    close(c);
                    return;
                }
                if (WebSocketFraming.Deframer.PING == status)
                {
                    writeControlFrame(c, WebSocketFraming.OPCODE_PONG, deframer.control, deframer.controlLength);
                }
                if (!decodePackets(c))
                {
                    return;
                }
                if (c.readBlocked || (0 == deframer.consumed && WebSocketFraming.Deframer.DATA == status))
                {
                    break;
                }
            }
        }

        flush(c);
        updateInterest(c);
    }

    /**
     * Decode and handle the complete packets in {@code rx}, compacting it.
     *
     * @return false when the connection was closed.
     */
    private boolean decodePackets(final ClientConnection c)
    {
        final ByteBuffer rx = c.rx;
        final int limit = rx.position();
        final long receivedNs = System.nanoTime();
        int offset = 0;

        while (offset < limit)
        {
            if (c.tx.remaining() < MIN_TX_SPACE_FOR_READ)
            {
                c.readBlocked = true;
                readBackPressure++;
                break;
            }

            final int length = decoder.wrap(rx, offset, limit);
            if (ClientPacketDecoder.INCOMPLETE == length)
            {
                break;
            }
            if (length < 0)
            {
                protocolError(c, "malformed or oversized packet from broker");
                return false;
            }
            if (!onPacket(c, receivedNs))
            {
                return false;
            }
            offset += length;
        }

        if (offset > 0)
        {
            rx.limit(limit).position(offset);
            rx.compact();
        }

        return true;
    }

    private boolean onPacket(final ClientConnection c, final long receivedNs)
    {
        final ClientPacketDecoder decoder = this.decoder;
        switch (decoder.type())
        {
            case PUBLISH:
                return onPublish(c, receivedNs);

            case PUBACK:
            case PUBCOMP:
                if (decoder.ackReasonCode() >= 0x80 | !c.releasePacketId(decoder.packetId()))
                {
                    badAcks++;
                }
                return true;

            case PUBREC:
                if (decoder.ackReasonCode() >= 0x80)
                {
                    c.releasePacketId(decoder.packetId());
                    badAcks++;
                }
                else if (c.isInFlight(decoder.packetId()))
                {
                    ClientPacketEncoder.encodeAck(c.tx, PUBREL, decoder.packetId());
                }
                else
                {
                    badAcks++;
                }
                return true;

            case PUBREL & 0xF0:
                ClientPacketEncoder.encodeAck(c.tx, PUBCOMP, decoder.packetId());
                return true;

            case PINGRESP:
                return true;

            case CONNACK:
                return onConnack(c);

            case SUBACK:
                return onSuback(c);

            case DISCONNECT:
                control.fail(LoadControl.EXIT_PROTOCOL, "broker sent DISCONNECT to " + c.clientId +
                    " with reason code 0x" + Integer.toHexString(decoder.ackReasonCode()));
                close(c);
                return false;

            default:
                protocolError(c, "unexpected packet type 0x" + Integer.toHexString(decoder.type()));
                return false;
        }
    }

    private boolean onPublish(final ClientConnection c, final long receivedNs)
    {
        final ClientPacketDecoder decoder = this.decoder;
        final int payload = decoder.publishPayloadOffset(config.protocolVersion);
        if (payload < 0 || decoder.endOffset() - payload < PayloadDescriptor.HEADER_LENGTH)
        {
            protocolError(c, "PUBLISH without a load-generator payload header");
            return false;
        }

        final ByteBuffer rx = c.rx;
        final long stampNs = rx.getLong(payload + PayloadDescriptor.TIMESTAMP_OFFSET);
        final int publisher = rx.getInt(payload + PayloadDescriptor.PUBLISHER_OFFSET);
        final int sequence = rx.getInt(payload + PayloadDescriptor.SEQUENCE_OFFSET);

        receivedTotal++;
        if (stampNs - measureStartNs >= 0 && stampNs - measureEndNs < 0)
        {
            receivedInWindow++;
            final long latencyNs = receivedNs - stampNs;
            recorder.recordValue(latencyNs < 1 ? 1 : Math.min(latencyNs, HIGHEST_TRACKABLE_NS));
        }
        if (receivedNs - measureStartNs >= 0 && receivedNs - measureEndNs < 0)
        {
            arrivedInWindow++;
        }

        if (stampNs - startNs < 0)
        {
            // Sent before this run started (same monotonic clock): a backlog an earlier run left in the broker.
            staleMessages++;
        }
        final int[] expectedSequence = c.expectedSequence;
        if (null != expectedSequence && publisher >= 0 && publisher < expectedSequence.length &&
            stampNs - startNs >= 0)
        {
            final int expected = expectedSequence[publisher];
            if (sequence - expected >= 0)
            {
                gaps += sequence - expected;
                expectedSequence[publisher] = sequence + 1;
            }
            else
            {
                outOfOrder++;
            }
        }

        final int qos = decoder.publishQos();
        if (qos > 0)
        {
            ClientPacketEncoder.encodeAck(c.tx, 1 == qos ? PUBACK : PUBREC, decoder.publishPacketId());
        }

        return true;
    }

    private boolean onConnack(final ClientConnection c)
    {
        final ClientPacketDecoder decoder = this.decoder;
        if (c.state != ClientConnection.State.AWAIT_CONNACK)
        {
            protocolError(c, "unexpected CONNACK");
            return false;
        }

        final int code = decoder.connackReasonCode();
        if (0 != code)
        {
            control.fail(LoadControl.EXIT_REFUSED, "broker at " + config.host + ":" + config.port +
                " refused CONNECT of " + c.clientId + ": " + connackReason(code));
            close(c);
            return false;
        }

        if (MQTT_5 == config.protocolVersion)
        {
            final int receiveMaximum = decoder.connackReceiveMaximum(65535);
            final int keepAliveS = decoder.connackServerKeepAlive(config.keepAliveS);
            if (receiveMaximum <= 0 || keepAliveS < 0)
            {
                protocolError(c, "malformed CONNACK properties");
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
            c.state = ClientConnection.State.READY;
            ready++;
            handshakes--;
        }

        return true;
    }

    private boolean onSuback(final ClientConnection c)
    {
        if (c.state != ClientConnection.State.AWAIT_SUBACK ||
            decoder.packetId() != ClientConnection.SUBSCRIBE_PACKET_ID)
        {
            protocolError(c, "unexpected SUBACK");
            return false;
        }

        final int code = decoder.subackReasonCode(config.protocolVersion);
        if (code < 0 || code >= 0x80 || code < config.qos)
        {
            control.fail(LoadControl.EXIT_REFUSED, "broker refused SUBSCRIBE of " + c.clientId + " to " +
                c.filter + " at QoS " + config.qos + ": SUBACK code 0x" + Integer.toHexString(code));
            close(c);
            return false;
        }

        c.state = ClientConnection.State.READY;
        ready++;
        handshakes--;

        return true;
    }

    private void flush(final ClientConnection c)
    {
        final ByteBuffer tx = c.tx;
        if (c.state == ClientConnection.State.CLOSED)
        {
            return;
        }
        final boolean framing = isFraming(c);
        final boolean tlsPending = null != c.tls && c.tls.hasPendingOutput();
        if (framing)
        {
            closeFrame(c);
            if (0 == c.wsFramed && !tlsPending)
            {
                reserveFrame(c);
                return;
            }
        }
        else if (0 == tx.position() && !tlsPending)
        {
            return;
        }

        tx.flip();
        try
        {
            final int bytes = null == c.tls ? c.channel.write(tx) : c.tls.write(c.channel, tx);
            if (bytes > 0)
            {
                c.lastSendNs = nowNs;
            }
        }
        catch (final IOException ex)
        {
            tx.clear();
            c.wsFramed = 0;
            c.wsPayloadStart = -1;
            connectionLost(c, ex.toString());
            return;
        }
        tx.compact();
        if (framing)
        {
            c.wsFramed = tx.position();
            reserveFrame(c);
        }
        updateInterest(c);
    }

    /**
     * @return true when what is written to this connection's {@code tx} must be framed (WebSocket, upgraded).
     */
    private static boolean isFraming(final ClientConnection c)
    {
        return null != c.wsIn && c.state != ClientConnection.State.CONNECTING &&
            c.state != ClientConnection.State.TLS_HANDSHAKE && c.state != ClientConnection.State.WS_UPGRADE;
    }

    /**
     * WebSocket: turn the bytes written since the open frame's header room into one masked binary frame; tx's
     * position ends after the framed bytes and no frame is open.
     */
    private static void closeFrame(final ClientConnection c)
    {
        final ByteBuffer tx = c.tx;
        final int payloadStart = c.wsPayloadStart;
        if (payloadStart >= 0)
        {
            final int end = tx.position();
            if (end > payloadStart)
            {
                c.wsFramed = WebSocketFraming.frameInPlace(
                    tx, c.wsFramed, payloadStart, end, WebSocketFraming.OPCODE_BINARY, WebSocketFraming.randomMask());
            }
            c.wsPayloadStart = -1;
        }
        tx.limit(tx.capacity()).position(c.wsFramed);
    }

    /**
     * WebSocket: open a frame after the framed bytes by reserving header room, so packets are encoded straight into
     * its payload. Without room, leave no space at all (limit = position) until a write makes some.
     */
    private static void reserveFrame(final ClientConnection c)
    {
        final ByteBuffer tx = c.tx;
        if (tx.capacity() - c.wsFramed > WebSocketFraming.MAX_CLIENT_HEADER)
        {
            c.wsPayloadStart = c.wsFramed + WebSocketFraming.MAX_CLIENT_HEADER;
            tx.limit(tx.capacity()).position(c.wsPayloadStart);
        }
        else
        {
            c.wsPayloadStart = -1;
            tx.position(c.wsFramed).limit(c.wsFramed);
        }
    }

    /**
     * WebSocket: queue a control frame (pong, close) after what is pending; dropped when the send buffer is full.
     */
    private static void writeControlFrame(final ClientConnection c, final int opcode, final byte[] payload, final int length)
    {
        final ByteBuffer tx = c.tx;
        closeFrame(c);
        final int start = c.wsFramed;
        if (tx.capacity() - start >= WebSocketFraming.clientHeaderLength(length) + length)
        {
            final int payloadStart = start + WebSocketFraming.clientHeaderLength(length);
            tx.put(payloadStart, payload, 0, length);
            c.wsFramed = WebSocketFraming.frameInPlace(
                tx, start, payloadStart, payloadStart + length, opcode, WebSocketFraming.randomMask());
        }
        reserveFrame(c);
    }

    private void updateInterest(final ClientConnection c)
    {
        if (c.state == ClientConnection.State.CLOSED || c.state == ClientConnection.State.CONNECTING)
        {
            return;
        }

        final int ops = (c.readBlocked ? 0 : SelectionKey.OP_READ) | (c.hasPendingOutput() ? SelectionKey.OP_WRITE : 0);
        if (ops != c.interestOps)
        {
            c.key.interestOps(ops);
            c.interestOps = ops;
        }
    }

    private void disconnect(final ClientConnection c)
    {
        if (c.state == ClientConnection.State.CLOSED || null == c.channel)
        {
            return;
        }

        if (c.state != ClientConnection.State.CONNECTING && c.state != ClientConnection.State.TLS_HANDSHAKE &&
            c.state != ClientConnection.State.WS_UPGRADE && c.channel.isConnected())
        {
            c.readBlocked = false;
            if (ClientPacketEncoder.encodeEmpty(c.tx, DISCONNECT) == INSUFFICIENT_CAPACITY)
            {
                final long deadlineNs = System.nanoTime() + CLOSE_TIMEOUT_NS;
                while (c.tx.remaining() < 2 && System.nanoTime() - deadlineNs < 0 && c.state != ClientConnection.State.CLOSED)
                {
                    flush(c);
                    LockSupport.parkNanos(100_000);
                }
                ClientPacketEncoder.encodeEmpty(c.tx, DISCONNECT);
            }
            if (isFraming(c))
            {
                writeControlFrame(c, WebSocketFraming.OPCODE_CLOSE, NORMAL_CLOSURE, NORMAL_CLOSURE.length);
            }

            final long deadlineNs = System.nanoTime() + CLOSE_TIMEOUT_NS;
            flushBefore(c, deadlineNs);
            if (null != c.tls && c.state != ClientConnection.State.CLOSED)
            {
                c.tls.closeOutbound(); // close_notify, after the last application bytes
                flushBefore(c, deadlineNs);
            }
        }

        close(c);
    }

    private void flushBefore(final ClientConnection c, final long deadlineNs)
    {
        while (c.hasPendingOutput() && System.nanoTime() - deadlineNs < 0 && c.state != ClientConnection.State.CLOSED)
        {
            flush(c);
            if (c.hasPendingOutput())
            {
                LockSupport.parkNanos(100_000);
            }
        }
    }

    private void close(final ClientConnection c)
    {
        if (c.state == ClientConnection.State.READY)
        {
            ready--;
        }
        c.state = ClientConnection.State.CLOSED;
        if (null != c.key)
        {
            c.key.cancel();
        }
        try
        {
            c.channel.close();
        }
        catch (final IOException ignore)
        {
        }
    }

    private void unreachable(final ClientConnection c, final IOException ex)
    {
        control.fail(LoadControl.EXIT_UNREACHABLE,
            "cannot connect to broker at " + config.host + ":" + config.port +
            (null == c.localAddress ? "" : " from " + c.localAddress.getAddress().getHostAddress()) +
            " (connection " + (c.index + 1) + "): " + ex);
    }

    private void connectionLost(final ClientConnection c, final String reason)
    {
        if (!closing)
        {
            control.fail(c.state == ClientConnection.State.AWAIT_CONNACK ||
                c.state == ClientConnection.State.TLS_HANDSHAKE || c.state == ClientConnection.State.WS_UPGRADE ?
                LoadControl.EXIT_REFUSED : LoadControl.EXIT_PROTOCOL,
                "connection " + c.clientId + " lost (" + c.state + "): " + reason);
        }
        close(c);
    }

    private void protocolError(final ClientConnection c, final String message)
    {
        control.fail(LoadControl.EXIT_PROTOCOL, "protocol error on " + c.clientId + ": " + message);
        close(c);
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

    private void publishCounters()
    {
        final AgentCounters counters = this.counters;
        counters.set(AgentCounters.READY, ready);
        counters.set(AgentCounters.SENT_TOTAL, sentTotal);
        counters.set(AgentCounters.SENT_IN_WINDOW, sentInWindow);
        counters.set(AgentCounters.INFLIGHT, inflight);
        counters.set(AgentCounters.RECEIVED_TOTAL, receivedTotal);
        counters.set(AgentCounters.RECEIVED_IN_WINDOW, receivedInWindow);
        counters.set(AgentCounters.ARRIVED_IN_WINDOW, arrivedInWindow);
        counters.set(AgentCounters.GAPS, gaps);
        counters.set(AgentCounters.OUT_OF_ORDER, outOfOrder);
        counters.set(AgentCounters.BAD_ACKS, badAcks);
        counters.set(AgentCounters.MAX_SEND_LAG_NS, maxSendLagNs);
        counters.set(AgentCounters.READ_BACK_PRESSURE, readBackPressure);
        counters.set(AgentCounters.STALE, staleMessages);
        counters.set(AgentCounters.OUTSTANDING_PAUSES, outstandingPauses);
    }

    /**
     * Idle strategy that hands idle time back to its agent's selector.
     */
    static final class SelectorIdleStrategy implements IdleStrategy
    {
        private final ClientAgent agent;

        SelectorIdleStrategy(final ClientAgent agent)
        {
            this.agent = agent;
        }

        public void idle(final int workCount)
        {
            if (workCount <= 0)
            {
                agent.idle();
            }
        }

        public void idle()
        {
            agent.idle();
        }

        public void reset()
        {
        }
    }
}
