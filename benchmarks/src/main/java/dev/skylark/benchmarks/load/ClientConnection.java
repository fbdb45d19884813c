/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * State of one load-generator MQTT connection, owned by exactly one {@link ClientAgent}: socket, receive and send
 * buffers, handshake state, and for publishers the schedule and the QoS &gt; 0 in-flight window.
 */
final class ClientConnection
{
    enum Role
    {
        PUBLISHER, SUBSCRIBER
    }

    enum State
    {
        CONNECTING, TLS_HANDSHAKE, WS_UPGRADE, AWAIT_CONNACK, AWAIT_SUBACK, READY, CLOSED
    }

    static final int SUBSCRIBE_PACKET_ID = 1;

    final Role role;
    final int index;
    final String clientId;
    final ByteBuffer rx;
    final ByteBuffer tx;
    final PublishTemplate template;
    final int[] expectedSequence;
    /** Subscribers: the filter to subscribe to. */
    String filter;
    /** Where to bind before connecting (a loopback source address), or null. */
    java.net.InetSocketAddress localAddress;
    /** Where this connection connects: the role's port from {@link LoadConfig#portOf}. */
    java.net.InetSocketAddress remoteAddress;
    /**
     * MQTT 5 persistent subscriber ({@code --persistent-subscribers}): its DISCONNECT sets the Session Expiry Interval
     * to 0, so the broker drops the session at the end of the run instead of queueing (and journaling) a later run's
     * messages for it.
     */
    boolean endSessionOnDisconnect;
    State state = State.CONNECTING;
    SocketChannel channel;
    SelectionKey key;
    int interestOps;
    boolean readBlocked;
    long lastSendNs;
    long keepAliveNs;

    /** TLS transport (tls, wss): the engine and ciphertext buffers, else null. */
    ClientTls tls;

    /** WebSocket transport: raw bytes read from the socket before deframing into {@link #rx}, else null. */
    final ByteBuffer wsIn;
    final WebSocketFraming.Deframer deframer;
    /** WebSocket: the Sec-WebSocket-Key sent with the upgrade request. */
    String wsKey;
    /** WebSocket, after the upgrade: bytes at the start of {@link #tx} that are framed and ready to write. */
    int wsFramed;
    /** WebSocket, after the upgrade: where the open frame's payload starts in {@link #tx}, or -1 when none is open. */
    int wsPayloadStart = -1;

    int window;
    int inflight;
    long nextIntendedNs;
    int sequence;
    private int nextPacketId = 1;
    private final long[] inflightIds;
    /**
     * Send stamps of in-flight packet ids for the acknowledgement latency (PUBACK, PUBCOMP), slot = id &amp; mask:
     * at most {@link #MAX_ACK_SLOTS}, so a wide window tracks the ids that find their slot free (no allocation).
     */
    private final int[] ackIds;
    private final long[] ackSentNs;
    static final int MAX_ACK_SLOTS = 1024;

    ClientConnection(
        final Role role,
        final int index,
        final String clientId,
        final int rxCapacity,
        final int txCapacity,
        final PublishTemplate template,
        final int window,
        final int sequenceTrackedPublishers)
    {
        this(role, index, clientId, rxCapacity, txCapacity, template, window, sequenceTrackedPublishers, false);
    }

    ClientConnection(
        final Role role,
        final int index,
        final String clientId,
        final int rxCapacity,
        final int txCapacity,
        final PublishTemplate template,
        final int window,
        final int sequenceTrackedPublishers,
        final boolean webSocket)
    {
        this.wsIn = webSocket ? ByteBuffer.allocateDirect(rxCapacity) : null;
        this.deframer = webSocket ? new WebSocketFraming.Deframer() : null;
        this.role = role;
        this.index = index;
        this.clientId = clientId;
        this.rx = ByteBuffer.allocateDirect(rxCapacity);
        this.tx = ByteBuffer.allocateDirect(txCapacity);
        this.template = template;
        this.window = window;
        this.inflightIds = null != template && window > 0 ? new long[65536 / 64] : null;
        final int ackSlots = null == inflightIds ? 0 :
            Math.min(MAX_ACK_SLOTS, Integer.highestOneBit(Math.max(1, window - 1)) << 1);
        this.ackIds = null == inflightIds ? null : new int[ackSlots];
        this.ackSentNs = null == inflightIds ? null : new long[ackSlots];
        this.expectedSequence = sequenceTrackedPublishers > 0 ? new int[sequenceTrackedPublishers] : null;
    }

    /**
     * Take the next free packet id and count it in flight. Call only when {@code inflight < window}.
     *
     * @return packet id 1..65535.
     */
    int acquirePacketId()
    {
        int id = nextPacketId;
        while (isInFlight(id))
        {
            id = id == 65535 ? 1 : id + 1;
        }
        inflightIds[id >>> 6] |= 1L << (id & 63);
        nextPacketId = id == 65535 ? 1 : id + 1;
        inflight++;

        return id;
    }

    /**
     * Release a packet id on PUBACK/PUBCOMP (or a failed PUBREC).
     *
     * @param packetId acknowledged.
     * @return false when the id was not in flight.
     */
    boolean releasePacketId(final int packetId)
    {
        if (packetId <= 0 || !isInFlight(packetId))
        {
            return false;
        }
        inflightIds[packetId >>> 6] &= ~(1L << (packetId & 63));
        inflight--;

        return true;
    }

    /**
     * Remember when an in-flight packet id was (meant to be) sent, for {@link #ackedSentNs(int)}; a taken slot
     * leaves this one untracked.
     */
    void trackAck(final int packetId, final long sentNs)
    {
        final int slot = packetId & (ackIds.length - 1);
        if (0 == ackIds[slot])
        {
            ackIds[slot] = packetId;
            ackSentNs[slot] = sentNs;
        }
    }

    /**
     * @return the send stamp of an acknowledged packet id tracked by {@link #trackAck(int, long)} (and forget it),
     * or {@link Long#MIN_VALUE} when it was not tracked.
     */
    long ackedSentNs(final int packetId)
    {
        if (null == ackIds)
        {
            return Long.MIN_VALUE;
        }
        final int slot = packetId & (ackIds.length - 1);
        if (packetId <= 0 || ackIds[slot] != packetId)
        {
            return Long.MIN_VALUE;
        }
        ackIds[slot] = 0;
        return ackSentNs[slot];
    }

    boolean isInFlight(final int packetId)
    {
        return null != inflightIds && (inflightIds[packetId >>> 6] & (1L << (packetId & 63))) != 0;
    }

    boolean hasPendingOutput()
    {
        if (null != tls && tls.hasPendingOutput())
        {
            return true;
        }
        if (wsPayloadStart >= 0)
        {
            return wsFramed > 0 || tx.position() > wsPayloadStart;
        }
        return tx.position() > 0;
    }

    boolean webSocket()
    {
        return null != wsIn;
    }
}
