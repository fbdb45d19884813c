/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static dev.skylark.benchmarks.load.ClientPacketEncoder.DISCONNECT;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.INSUFFICIENT_CAPACITY;

/**
 * The output side of one {@link ClientAgent}'s connections: writes a connection's send buffer to its socket (in
 * masked WebSocket frames after the upgrade, wrapped when TLS), keeps {@code OP_READ}/{@code OP_WRITE} interest in
 * step with back pressure, and sends the orderly DISCONNECT (WebSocket close, TLS close_notify) on shutdown.
 * <p>
 * Packets are encoded straight into {@code tx}; with WebSocket an open frame reserves header room ahead of them and
 * {@link #flush(ClientConnection)} closes it in place, so nothing is copied. Called by the agent, the
 * {@link PublishPacer} once per batch, the {@link ClientConnector} and the {@link ClientInputAdapter}.
 */
final class ClientSendEndPoint
{
    private static final long CLOSE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(1);
    private static final byte[] NORMAL_CLOSURE = { 0x03, (byte)0xE8 };

    private final ClientLifecycle lifecycle;
    private long nowNs;

    ClientSendEndPoint(final ClientLifecycle lifecycle)
    {
        this.lifecycle = lifecycle;
    }

    /**
     * @param nowNs the agent's clock read of this duty cycle, stamped as a connection's last send time.
     */
    void nowNs(final long nowNs)
    {
        this.nowNs = nowNs;
    }

    void flush(final ClientConnection c)
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
            lifecycle.connectionLost(c, ex.toString());
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
    static boolean isFraming(final ClientConnection c)
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
    static void reserveFrame(final ClientConnection c)
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
    static void writeControlFrame(final ClientConnection c, final int opcode, final byte[] payload, final int length)
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

    /**
     * Read unless reading is blocked by a full send buffer; ask for {@code OP_WRITE} while output is pending.
     */
    static void updateInterest(final ClientConnection c)
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

    /**
     * Shutdown: send DISCONNECT (and a WebSocket close frame, then TLS close_notify) within a bounded wait, then close.
     */
    void disconnect(final ClientConnection c)
    {
        if (c.state == ClientConnection.State.CLOSED || null == c.channel)
        {
            return;
        }

        if (c.state != ClientConnection.State.CONNECTING && c.state != ClientConnection.State.TLS_HANDSHAKE &&
            c.state != ClientConnection.State.WS_UPGRADE && c.channel.isConnected())
        {
            c.readBlocked = false;
            if (encodeDisconnect(c) == INSUFFICIENT_CAPACITY)
            {
                final long deadlineNs = System.nanoTime() + CLOSE_TIMEOUT_NS;
                while (c.tx.remaining() < ClientPacketEncoder.DISCONNECT_END_SESSION_LENGTH &&
                    System.nanoTime() - deadlineNs < 0 && c.state != ClientConnection.State.CLOSED)
                {
                    flush(c);
                    LockSupport.parkNanos(100_000);
                }
                encodeDisconnect(c);
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

        lifecycle.close(c);
    }

    private static int encodeDisconnect(final ClientConnection c)
    {
        return c.endSessionOnDisconnect ?
            ClientPacketEncoder.encodeDisconnectEndingSession(c.tx) : ClientPacketEncoder.encodeEmpty(c.tx, DISCONNECT);
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
}
