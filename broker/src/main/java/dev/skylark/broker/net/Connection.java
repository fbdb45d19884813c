package dev.skylark.broker.net;

import dev.skylark.codec.mqtt.MqttFramer;
import dev.skylark.codec.ws.WebSocketCloseCode;
import dev.skylark.codec.ws.WebSocketFrameEncoder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;

/**
 * One client socket, owned by one {@link IoAgent}: framing of the input into MQTT packets, and the outbound buffer
 * that protocol code encodes packets into and the agent flushes at the end of its duty cycle.
 * <p>
 * Input is read into the agent's shared receive buffer and framed in place; only the tail of a packet split across
 * reads (or packets held back by back pressure) is carried over in a per-connection buffer, which grows only to the
 * size of the packet being assembled. An idle connection holds no buffer at all: small pending and outbound buffers
 * go back to the agent's {@link BufferPool} as soon as they are empty, so memory per idle connection stays small.
 * <p>
 * Transport stages sit between the socket and that MQTT framing, per connection: {@link TlsStage} (unwrap after the
 * read, wrap at flush) and {@link WebSocketStage} (HTTP handshake, then in-place deframing before the framer; on the
 * way out, a binary frame header is reserved in front of the MQTT bytes of each flush and filled in when the flush
 * seals it, so one frame carries every packet of a duty cycle and the payload is never copied). A plain TCP
 * connection has neither and reads straight into the framer as before.
 */
public final class Connection
{
    private static final System.Logger LOG = System.getLogger(Connection.class.getName());
    /** Nothing to wrap: lets a TLS flush send records left over from the handshake. Never written to. */
    private static final ByteBuffer NO_BYTES = ByteBuffer.allocateDirect(0);
    /** How long a closed connection's socket may swallow the peer's input before it is closed anyway. */
    static final long LINGER_NS = TimeUnit.SECONDS.toNanos(2);

    private final long id;
    private final SocketChannel channel;
    private final IoAgent agent;
    private String remoteAddress;
    private final int maxPacketSize;
    private final ListenerSpec spec;
    private final TlsStage tls;
    private final WebSocketStage webSocket;
    /** Where the reserved 10-byte header of the open outbound WebSocket frame starts; -1 when none is open. */
    private int frameStart = -1;
    /** Outbound bytes before this are already sent (a sealed frame's header may start after 0). */
    private int outboundStart;
    private boolean webSocketFraming;
    private long requestDeadlineNs;
    private final int outboundLimit;
    private SelectionKey key;
    private ConnectionHandler handler;

    private ByteBuffer pendingByteBuffer;
    private final UnsafeBuffer pending = new UnsafeBuffer(0, 0);
    private int pendingLength;

    private ByteBuffer outboundByteBuffer;
    private final UnsafeBuffer outbound = new UnsafeBuffer(0, 0);
    private int outboundLength;
    private boolean flushQueued;

    /** The peer's address, kept for the connection limits (the channel cannot tell it once closed). */
    java.net.InetAddress peer;
    private boolean readingPaused;
    private boolean closeAfterFlush;
    /** Closed for the broker, but the socket stays open to swallow what the peer still sends (see closeGracefully). */
    private boolean lingering;
    private long lingerDeadlineNs;
    private boolean closed;
    private String closeCause;
    /** This connection's timer in the agent's {@link ConnectionTimers} (at most one). */
    long timerId = ConnectionTimers.NO_TIMER;
    long timerDeadlineNs = Long.MAX_VALUE;
    int timerSpoke;

    Connection(
        final long id,
        final SocketChannel channel,
        final IoAgent agent,
        final int maxPacketSize,
        final int outboundLimit,
        final ListenerSpec spec,
        final long nowNs)
    {
        this.id = id;
        this.spec = spec;
        this.channel = channel;
        this.agent = agent;
        this.maxPacketSize = maxPacketSize;
        this.outboundLimit = outboundLimit;
        String address;
        try
        {
            final InetSocketAddress remote = (InetSocketAddress)channel.getRemoteAddress();
            address = remote.getAddress().getHostAddress() + ":" + remote.getPort();
        }
        catch (final IOException | RuntimeException ex)
        {
            address = "unknown";
        }
        this.remoteAddress = address;
        if (spec.tls() != null)
        {
            final SSLEngine engine = spec.tls().context().createSSLEngine();
            TlsContexts.configureServerEngine(engine, spec.tls().clientAuth());
            this.tls = new TlsStage(engine, agent.tlsBufferPool(TlsStage.recordBufferSize(engine)));
        }
        else
        {
            this.tls = null;
        }
        this.webSocket = spec.webSocket() != null ? new WebSocketStage(this, spec.webSocket(), tls != null) : null;
        if (webSocket != null)
        {
            requestDeadlineNs = nowNs + spec.webSocket().requestTimeoutNs();
        }
    }

    /** @param handler the MQTT handler, or null for an HTTP connection (created on the WebSocket upgrade). */
    void init(final SelectionKey key, final ConnectionHandler handler)
    {
        this.key = key;
        this.handler = handler;
    }

    /** The listener this connection came through. */
    public ListenerSpec listener()
    {
        return spec;
    }

    /** The peer's IP address (not the forwarded one). */
    String peerHost()
    {
        try
        {
            return ((InetSocketAddress)channel.getRemoteAddress()).getAddress().getHostAddress();
        }
        catch (final IOException | RuntimeException ex)
        {
            return "unknown";
        }
    }

    /** True when the TCP peer is on this machine. */
    boolean isLoopbackPeer()
    {
        try
        {
            return ((InetSocketAddress)channel.getRemoteAddress()).getAddress().isLoopbackAddress();
        }
        catch (final IOException | RuntimeException ex)
        {
            return false;
        }
    }

    void remoteAddress(final String address)
    {
        this.remoteAddress = address;
    }

    /** The WebSocket handshake succeeded: MQTT starts, and outbound bytes now go in binary frames. */
    void onUpgraded(final long nowNs)
    {
        webSocketFraming = true;
        handler = agent.handlerFactory().newHandler(this);
        agent.timers().schedule(this, handler.onTick(nowNs));
    }

    /** The I/O agent's time for this duty cycle (the clock read once per cycle), for the handler's own stamps. */
    public long nowNs()
    {
        return agent.nowNs();
    }

    /**
     * Asks for {@link ConnectionHandler#onTick(long)} at {@code deadlineNs} (or at the next duty cycle when it has
     * passed), unless the connection's timer already fires no later. For deadlines that move earlier, e.g. when a
     * slow-consumer period starts; a deadline that moves later needs nothing (the handler re-arms when it fires).
     */
    public void scheduleTimer(final long deadlineNs)
    {
        if (!closed)
        {
            agent.timers().scheduleEarlier(this, deadlineNs);
        }
    }

    /** The protocol handler of this connection. */
    public ConnectionHandler handler()
    {
        return handler;
    }

    /** Unique within the broker's lifetime; the low bits name the owning I/O agent. */
    public long id()
    {
        return id;
    }

    public String remoteAddress()
    {
        return remoteAddress;
    }

    public boolean isClosed()
    {
        return closed;
    }

    /** Bytes encoded but not yet written to the socket: how far behind this reader is. */
    public int outboundBacklog()
    {
        return outboundLength - outboundStart;
    }

    /** The configured cap on {@link #outboundBacklog()} for droppable (QoS 0) traffic. */
    public int outboundLimit()
    {
        return outboundLimit;
    }

    // ---------------------------------------------------------------- outbound

    /**
     * Makes room for {@code length} more outbound bytes, which the caller then encodes at
     * {@link #outboundBuffer()} from {@link #outboundPosition()} and commits with {@link #commit(int)}.
     */
    public void ensureOutbound(final int length)
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
            makeOutboundRoom(length);
        }
    }

    /**
     * The unwritten bytes move to the front, into the same buffer when the written part before them frees at least
     * as much as is moved (so moving stays amortised to a copy per byte), else into a larger one.
     */
    private void makeOutboundRoom(final int length)
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

    public MutableDirectBuffer outboundBuffer()
    {
        return outbound;
    }

    public int outboundPosition()
    {
        return outboundLength;
    }

    /**
     * Commits bytes encoded at {@link #outboundPosition()}; they are written at the end of the duty cycle. Once the
     * connection is closing nothing more is taken: the DISCONNECT (or refusing CONNACK, or WebSocket close frame)
     * already committed is the last thing the peer gets [MQTT-3.14.4-1, RFC 6455 5.5.1], even when a delivery for
     * the connection arrives in the same duty cycle.
     */
    public void commit(final int length)
    {
        if (closeAfterFlush || closed)
        {
            return;
        }
        outboundLength += length;
        if (!flushQueued && !closed)
        {
            flushQueued = true;
            agent.queueFlush(this);
        }
    }

    /** Convenience for small control packets: copy bytes into the outbound buffer. */
    public void write(final DirectBuffer src, final int offset, final int length)
    {
        ensureOutbound(length);
        outbound.putBytes(outboundLength, src, offset, length);
        commit(length);
    }

    /** Bytes written as they are, outside any WebSocket frame (HTTP responses, control frames). */
    void writeRaw(final DirectBuffer src, final int offset, final int length)
    {
        sealFrame();
        ensureRaw(length);
        outbound.putBytes(outboundLength, src, offset, length);
        commit(length);
    }

    /** A WebSocket control frame, after the MQTT bytes encoded so far. */
    void writeControl(final DirectBuffer src, final int offset, final int length)
    {
        if (!closed && !closeAfterFlush)
        {
            writeRaw(src, offset, length);
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
     * Writes what is buffered. Returns true when everything went; otherwise OP_WRITE is armed.
     */
    boolean flush()
    {
        flushQueued = false;
        if (closed)
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
                close("write failed: " + ex.getMessage());
                return true;
            }
            // A partial write leaves the rest where it is (no copy per write: a slow reader's backlog may be
            // megabytes); it moves to the front only when room is needed (makeOutboundRoom).
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
        if (closeAfterFlush)
        {
            closeGracefully();
        }
        return true;
    }

    /**
     * Closes after the last packet (a refusing CONNACK, a DISCONNECT with its reason code) so the peer can read it:
     * closing a socket with unread input makes the kernel send a reset, which can destroy that last packet in the
     * peer's receive buffer, or fail the peer's next write before it reads it. So the output is shut down (FIN after
     * the last byte) and what the peer still sends is read and discarded until it closes or {@link #LINGER_NS}
     * passes. The broker is done with the connection at once (handler told, counts released); only the socket waits.
     */
    private void closeGracefully()
    {
        if (tls == null && !closed && key != null && agent.mayLinger())
        {
            try
            {
                channel.shutdownOutput();
                lingering = true;
                lingerDeadlineNs = agent.nowNs() + LINGER_NS;
            }
            catch (final IOException ignore)
            {
                lingering = false; // already reset by the peer: just close
            }
        }
        close(closeCause);
    }

    /** A lingering socket's input: discarded; the end of it (or an error) closes the socket. */
    private int drainLingering(final ByteBuffer shared)
    {
        try
        {
            shared.clear();
            final int read = channel.read(shared);
            if (read < 0)
            {
                endLinger();
            }
            return read;
        }
        catch (final IOException ex)
        {
            endLinger();
            return -1;
        }
    }

    boolean isLingering()
    {
        return lingering;
    }

    long lingerDeadlineNs()
    {
        return lingerDeadlineNs;
    }

    /** Closes the socket of a lingering connection (the peer closed, or the linger time is up). */
    void endLinger()
    {
        if (!lingering)
        {
            return;
        }
        lingering = false;
        if (key != null)
        {
            key.cancel();
        }
        try
        {
            channel.close();
        }
        catch (final IOException ignore)
        {
            // closing anyway
        }
    }

    // ---------------------------------------------------------------- inbound

    /** Stops reading from the socket: the next packet was refused by back pressure. */
    public void pauseReading()
    {
        if (!readingPaused && !closed)
        {
            readingPaused = true;
            key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
        }
    }

    /** Offers held-back packets again and resumes reading the socket. */
    public void resumeReading()
    {
        if (readingPaused && !closed)
        {
            readingPaused = false;
            key.interestOps(key.interestOps() | SelectionKey.OP_READ);
            agent.queueResume(this);
        }
    }

    boolean isReadingPaused()
    {
        return readingPaused;
    }

    /**
     * Reads once from the socket into the shared receive buffer (or the pending buffer when a packet is being
     * assembled) and dispatches whole packets.
     *
     * @return bytes read, or -1 when the connection ended.
     */
    int read(final ByteBuffer shared, final UnsafeBuffer sharedView, final long nowNs)
    {
        if (lingering)
        {
            return drainLingering(shared);
        }
        if (tls != null || webSocket != null)
        {
            return readThroughStages(shared, sharedView, nowNs);
        }
        try
        {
            if (pendingLength == 0)
            {
                shared.clear();
                final int read = channel.read(shared);
                if (read < 0)
                {
                    close("closed by peer");
                    return -1;
                }
                if (read > 0)
                {
                    final int consumed = dispatch(sharedView, 0, read, nowNs);
                    if (consumed >= 0 && consumed < read && !closed)
                    {
                        appendPending(sharedView, consumed, read - consumed);
                    }
                }
                return read;
            }

            // Room for at least 1 KiB more: a packet larger than the buffer makes it double, a few times at most.
            ensurePendingCapacity(pendingLength + 1024);
            pendingByteBuffer.limit(pendingByteBuffer.capacity()).position(pendingLength);
            final int read = channel.read(pendingByteBuffer);
            if (read < 0)
            {
                close("closed by peer");
                return -1;
            }
            pendingLength += read;
            drainPending(nowNs);
            return read;
        }
        catch (final IOException ex)
        {
            close("read failed: " + ex.getMessage());
            return -1;
        }
    }

    private int readThroughStages(final ByteBuffer shared, final UnsafeBuffer sharedView, final long nowNs)
    {
        final int start = WebSocketStage.HEADROOM;
        shared.clear().position(start);
        final int read;
        try
        {
            read = tls != null ? tls.read(channel, shared) : channel.read(shared);
        }
        catch (final javax.net.ssl.SSLException ex)
        {
            LOG.log(System.Logger.Level.INFO, "TLS failed on " + spec.name() + " from " + remoteAddress + ": " +
                ex.getMessage());
            close("TLS failed: " + ex.getMessage());
            return -1;
        }
        catch (final IOException ex)
        {
            close("read failed: " + ex.getMessage());
            return -1;
        }
        if (read < 0)
        {
            close("closed by peer");
            return -1;
        }
        if (read > 0)
        {
            if (webSocket != null)
            {
                webSocket.onBytes(sharedView, start, read, nowNs);
            }
            else
            {
                onStreamBytes(sharedView, start, read, nowNs);
            }
        }
        if (tls != null && tls.hasPendingOutput() && !flushQueued)
        {
            flushQueued = true;
            agent.queueFlush(this);
        }
        return read;
    }

    /** MQTT stream bytes (after TLS and WebSocket): framed in place, any incomplete tail carried in pending. */
    void onStreamBytes(final UnsafeBuffer buffer, final int offset, final int length, final long nowNs)
    {
        if (closed || handler == null)
        {
            return;
        }
        if (pendingLength > 0)
        {
            appendPending(buffer, offset, length);
            drainPending(nowNs);
            return;
        }
        final int consumed = dispatch(buffer, offset, length, nowNs);
        if (consumed >= 0 && consumed < length && !closed)
        {
            appendPending(buffer, offset + consumed, length - consumed);
        }
    }

    /** Dispatches packets already held in the pending buffer, e.g. after back pressure lifts. */
    void drainPending(final long nowNs)
    {
        if (pendingLength == 0 || closed)
        {
            return;
        }
        final int consumed = dispatch(pending, 0, pendingLength, nowNs);
        if (consumed > 0 && !closed)
        {
            final int remaining = pendingLength - consumed;
            if (remaining > 0)
            {
                pending.putBytes(0, pending, consumed, remaining);
            }
            pendingLength = remaining;
            releasePendingIfEmpty();
        }
    }

    /**
     * Frames and hands over whole packets. Returns bytes consumed, or -1 after a framing error closed the
     * connection.
     */
    private int dispatch(final UnsafeBuffer buffer, final int offset, final int length, final long nowNs)
    {
        int position = offset;
        final int end = offset + length;
        while (position < end && !closed && !readingPaused && !closeAfterFlush)
        {
            final int frameLength = MqttFramer.frameLength(buffer, position, end - position, maxPacketSize);
            if (frameLength == 0)
            {
                break;
            }
            if (frameLength < 0)
            {
                handler.onFramingError(-frameLength);
                closeAfterFlush("framing error " + (-frameLength));
                return -1;
            }
            if (!handler.onPacket(buffer, position, frameLength, nowNs))
            {
                pauseReading();
                break;
            }
            position += frameLength;
        }
        return position - offset;
    }

    private void appendPending(final DirectBuffer src, final int offset, final int length)
    {
        ensurePendingCapacity(pendingLength + length);
        pending.putBytes(pendingLength, src, offset, length);
        pendingLength += length;
    }

    private void ensurePendingCapacity(final int required)
    {
        if (pendingByteBuffer == null || pendingByteBuffer.capacity() < required)
        {
            pendingByteBuffer = grow(pendingByteBuffer, pendingLength, required);
            pending.wrap(pendingByteBuffer);
        }
    }

    /** A buffer of at least {@code required} bytes holding the first {@code used} bytes of {@code old}. */
    private ByteBuffer grow(final ByteBuffer old, final int used, final int required)
    {
        final BufferPool pool = agent.bufferPool();
        final ByteBuffer grown = pool.acquire(required);
        if (used > 0)
        {
            grown.put(0, old, 0, used);
        }
        if (old != null)
        {
            pool.release(old);
        }
        return grown;
    }

    private void releasePendingIfEmpty()
    {
        if (pendingLength == 0 && pendingByteBuffer != null)
        {
            pendingByteBuffer = agent.bufferPool().release(pendingByteBuffer);
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * The connection's timer fired (or a sweep): the handler's timeouts, or before a WebSocket upgrade the HTTP
     * request timeout.
     *
     * @return the next deadline, or {@link ConnectionHandler#NO_DEADLINE}.
     */
    long onTimer(final long nowNs)
    {
        if (closed)
        {
            return ConnectionHandler.NO_DEADLINE;
        }
        if (handler != null)
        {
            return handler.onTick(nowNs);
        }
        if (!closeAfterFlush && nowNs - requestDeadlineNs > 0)
        {
            close("no complete HTTP request within the request timeout");
            return ConnectionHandler.NO_DEADLINE;
        }
        return closeAfterFlush ? ConnectionHandler.NO_DEADLINE : requestDeadlineNs + 1;
    }

    /** The broker is stopping: the handler says goodbye, and a WebSocket gets close 1001 after it. */
    void onShutdown()
    {
        if (webSocket != null)
        {
            webSocket.onShutdown();
        }
        if (handler != null)
        {
            handler.onShutdown();
        }
        if (webSocket != null && webSocket.isUpgraded())
        {
            webSocket.sendClose(WebSocketCloseCode.GOING_AWAY);
        }
    }

    /** Closes once everything encoded so far has been written (e.g. after a CONNACK or DISCONNECT). */
    public void closeAfterFlush(final String cause)
    {
        if (closed || closeAfterFlush)
        {
            return;
        }
        if (webSocket != null)
        {
            webSocket.onClosing(); // a WebSocket gets its close frame (1000) after the last MQTT bytes
        }
        closeAfterFlush = true;
        closeCause = cause;
        pauseReading();
        if (!flushQueued)
        {
            flushQueued = true;
            agent.queueFlush(this);
        }
    }

    /** Closes at once, dropping unwritten output. */
    public void close(final String cause)
    {
        if (closed)
        {
            return;
        }
        closed = true;
        pendingLength = 0;
        outboundLength = 0;
        outboundStart = 0;
        frameStart = -1;
        if (pendingByteBuffer != null)
        {
            pendingByteBuffer = agent.bufferPool().release(pendingByteBuffer);
        }
        if (outboundByteBuffer != null)
        {
            outboundByteBuffer = agent.bufferPool().release(outboundByteBuffer);
        }
        if (lingering)
        {
            readingPaused = false;
            key.interestOps(SelectionKey.OP_READ);
            agent.linger(this);
        }
        else
        {
            if (key != null)
            {
                key.cancel();
            }
            if (tls != null)
            {
                tls.closeOutbound(channel);
            }
            try
            {
                channel.close();
            }
            catch (final IOException ignore)
            {
                // closing anyway
            }
        }
        agent.onConnectionClosed(this);
        if (handler != null)
        {
            handler.onClosed(cause);
        }
    }

    @Override
    public String toString()
    {
        return "Connection{id=" + id + ", remote=" + remoteAddress + "}";
    }
}
