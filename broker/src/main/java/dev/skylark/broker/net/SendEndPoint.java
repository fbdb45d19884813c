package dev.skylark.broker.net;

import dev.skylark.codec.ws.WebSocketFrameEncoder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * The send side of one {@link Connection}: the outbound buffer that protocol code encodes packets into, WebSocket
 * sealing, and the flush (through TLS when there is TLS) that its {@link IoAgent} runs once per duty cycle.
 * <p>
 * The buffer comes from the agent's {@link BufferPool} and goes back as soon as it is empty. With WebSocket framing
 * a binary frame header is reserved in front of the MQTT bytes of each flush and filled in when the flush seals it,
 * so one frame carries every packet of a duty cycle and the payload is never copied. A partial write leaves the
 * rest in place: the backlog is what the reader is behind.
 */
final class SendEndPoint
{
    /** Nothing to wrap: lets a TLS flush send records left over from the handshake. Never written to. */
    private static final ByteBuffer NO_BYTES = ByteBuffer.allocateDirect(0);

    private final Connection connection;
    private final SocketChannel channel;
    private final IoAgent agent;
    private final TlsStage tls;
    private final int outboundLimit;
    /** Where the reserved 10-byte header of the open outbound WebSocket frame starts; -1 when none is open. */
    private int frameStart = -1;
    /** Outbound bytes before this are already sent (a sealed frame's header may start after 0). */
    private int outboundStart;
    private boolean webSocketFraming;
    private ByteBuffer outboundByteBuffer;
    private final UnsafeBuffer outbound = new UnsafeBuffer(0, 0);
    private int outboundLength;
    private boolean flushQueued;

    SendEndPoint(
        final Connection connection,
        final SocketChannel channel,
        final IoAgent agent,
        final TlsStage tls,
        final int outboundLimit)
    {
        this.connection = connection;
        this.channel = channel;
        this.agent = agent;
        this.tls = tls;
        this.outboundLimit = outboundLimit;
    }

    /** From now on MQTT bytes go in binary WebSocket frames. */
    void startWebSocketFraming()
    {
        webSocketFraming = true;
    }

    int backlog()
    {
        return outboundLength - outboundStart;
    }

    int limit()
    {
        return outboundLimit;
    }

    MutableDirectBuffer buffer()
    {
        return outbound;
    }

    int position()
    {
        return outboundLength;
    }

    void ensure(final int length)
    {
        if (webSocketFraming && frameStart < 0)
        {
            ensureRaw(length + WebSocketFrameEncoder.MAX_SERVER_HEADER_LENGTH);
            frameStart = outboundLength;
            outboundLength += WebSocketFrameEncoder.MAX_SERVER_HEADER_LENGTH;
            return;
        }
        ensureRaw(length);
    }

    private void ensureRaw(final int length)
    {
        final int required = outboundLength + length;
        if (outboundByteBuffer == null || required > outbound.capacity())
        {
            makeRoom(length);
        }
    }

    /**
     * The unwritten bytes move to the front, into the same buffer when the written part before them frees at least
     * as much as is moved (so moving stays amortised to a copy per byte), else into a larger one.
     */
    private void makeRoom(final int length)
    {
        final int start = outboundStart;
        final int unwritten = outboundLength - start;
        final ByteBuffer old = outboundByteBuffer;
        if (old != null && start > 0 && start >= unwritten && unwritten + length <= outbound.capacity())
        {
            outbound.putBytes(0, outbound, start, unwritten);
        }
        else
        {
            final ByteBuffer grown = agent.bufferPool().acquire(unwritten + length);
            if (unwritten > 0)
            {
                grown.put(0, old, start, unwritten);
            }
            if (old != null)
            {
                agent.bufferPool().release(old);
            }
            outboundByteBuffer = grown;
            outbound.wrap(grown);
        }
        outboundLength = unwritten;
        outboundStart = 0;
        if (frameStart >= 0)
        {
            frameStart -= start;
        }
    }

    /** Takes {@code length} bytes encoded at {@link #position()}; the caller checked the connection is open. */
    void commit(final int length)
    {
        outboundLength += length;
        requestFlush();
    }

    void write(final DirectBuffer src, final int offset, final int length)
    {
        ensure(length);
        outbound.putBytes(outboundLength, src, offset, length);
    }

    /** Bytes put as they are, outside any WebSocket frame (HTTP responses, control frames); not yet committed. */
    void writeRaw(final DirectBuffer src, final int offset, final int length)
    {
        sealFrame();
        ensureRaw(length);
        outbound.putBytes(outboundLength, src, offset, length);
    }

    /** Queues this connection for the flush at the end of the duty cycle (once). */
    void requestFlush()
    {
        if (!flushQueued)
        {
            flushQueued = true;
            agent.queueFlush(connection);
        }
    }

    /** Fills in the header of the open outbound WebSocket frame, closing the gap left by a shorter header. */
    private void sealFrame()
    {
        if (frameStart < 0)
        {
            return;
        }
        final int reserved = WebSocketFrameEncoder.MAX_SERVER_HEADER_LENGTH;
        final int payloadLength = outboundLength - frameStart - reserved;
        if (payloadLength == 0)
        {
            outboundLength = frameStart;
        }
        else
        {
            final int headerLength = WebSocketFrameEncoder.headerLength(payloadLength);
            final int headerStart = frameStart + reserved - headerLength;
            WebSocketFrameEncoder.encodeBinaryHeader(outbound, headerStart, payloadLength);
            if (frameStart == outboundStart)
            {
                outboundStart = headerStart; // nothing before it: start the write at the header, no copy
            }
            else
            {
                outbound.putBytes(frameStart, outbound, headerStart, headerLength + payloadLength);
                outboundLength -= reserved - headerLength;
            }
        }
        frameStart = -1;
    }

    /**
     * Writes what is buffered. Returns true when everything went; otherwise OP_WRITE is armed. A connection
     * closing after its flush is closed gracefully once everything went.
     */
    boolean flush(final SelectionKey key)
    {
        flushQueued = false;
        if (connection.isClosed())
        {
            return true;
        }
        sealFrame();
        if (outboundLength > outboundStart || (tls != null && tls.hasPendingOutput()))
        {
            final ByteBuffer bb = outboundByteBuffer;
            final int written;
            boolean complete;
            try
            {
                if (bb == null)
                {
                    written = 0;
                    complete = tls.write(channel, NO_BYTES);
                }
                else
                {
                    bb.limit(outboundLength).position(outboundStart);
                    if (tls != null)
                    {
                        complete = tls.write(channel, bb);
                    }
                    else
                    {
                        channel.write(bb);
                        complete = !bb.hasRemaining();
                    }
                    written = bb.position();
                }
            }
            catch (final IOException ex)
            {
                connection.close("write failed: " + ex.getMessage());
                return true;
            }
            // A partial write leaves the rest where it is (no copy per write: a slow reader's backlog may be
            // megabytes); it moves to the front only when room is needed (makeRoom).
            final int remaining = outboundLength - written;
            outboundStart = remaining == 0 ? 0 : written;
            outboundLength = remaining == 0 ? 0 : outboundLength;
            if (bb != null)
            {
                bb.clear();
                if (remaining == 0)
                {
                    outboundByteBuffer = agent.bufferPool().release(outboundByteBuffer);
                }
            }
            connection.onOutboundWritten();
            if (!complete)
            {
                key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
                return false;
            }
            if ((key.interestOps() & SelectionKey.OP_WRITE) != 0)
            {
                key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
            }
        }
        if (connection.isClosing())
        {
            connection.closeGracefully();
        }
        return true;
    }

    /** Drops unwritten output and gives the buffer back (the connection closed). */
    void close()
    {
        outboundLength = 0;
        outboundStart = 0;
        frameStart = -1;
        if (outboundByteBuffer != null)
        {
            outboundByteBuffer = agent.bufferPool().release(outboundByteBuffer);
        }
    }
}
