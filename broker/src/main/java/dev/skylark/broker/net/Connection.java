package dev.skylark.broker.net;

import dev.skylark.codec.ws.WebSocketCloseCode;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;

/**
 * One client socket, owned by one {@link IoAgent}: its identity, its protocol handler, its timer and its
 * lifecycle (close now, close after the flush, lingering close). The work is done by its parts:
 * {@link ReceiveEndPoint} (read, TLS unwrap, WebSocket deframing, MQTT framing, pause/resume),
 * {@link SendEndPoint} (the outbound buffer that protocol code encodes packets into, WebSocket sealing, TLS wrap,
 * flush) and the agent's {@link LingeringClose}.
 * <p>
 * Transport stages sit between the socket and the MQTT framing, per connection: {@link TlsStage} (unwrap after the
 * read, wrap at flush) and {@link WebSocketStage} (HTTP handshake, then in-place deframing before the framer). A
 * plain TCP connection has neither and reads straight into the framer.
 */
public final class Connection
{
    /** How long a closed connection's socket may swallow the peer's input before it is closed anyway. */
    static final long LINGER_NS = LingeringClose.LINGER_NS;

    private final long id;
    private final SocketChannel channel;
    private final IoAgent agent;
    /** Set only when something else names the client (a proxy's forwarded address); else derived, see {@link #remoteAddress()}. */
    private String remoteAddress;
    /** The peer's port, or -1 when the channel could not tell it. */
    private final int remotePort;
    private final ListenerSpec spec;
    private final TlsStage tls;
    private final WebSocketStage webSocket;
    private final ReceiveEndPoint receiver;
    private final SendEndPoint sender;
    private long requestDeadlineNs;
    private SelectionKey key;
    private ConnectionHandler handler;

    /** The peer's address, kept for the connection limits (the channel cannot tell it once closed). */
    java.net.InetAddress peer;
    private boolean closeAfterFlush;
    /** Closed for the broker, but the socket stays open to swallow what the peer still sends (see closeGracefully). */
    private boolean lingering;
    /** Reading held: the peer is more than the outbound limit behind (see {@link #read}). */
    private boolean heldForOutbound;
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
        int port;
        try
        {
            final InetSocketAddress remote = (InetSocketAddress)channel.getRemoteAddress();
            port = remote.getPort();
            peer = remote.getAddress();
        }
        catch (final IOException | RuntimeException ex)
        {
            port = -1;
        }
        this.remotePort = port; // the "address:port" text is made when a log line asks (no String per idle connection)
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
        this.receiver = new ReceiveEndPoint(this, channel, agent, tls, maxPacketSize);
        this.sender = new SendEndPoint(this, channel, agent, tls, outboundLimit);
        this.webSocket = spec.webSocket() != null ? new WebSocketStage(this, spec.webSocket(), tls != null) : null;
        if (webSocket != null)
        {
            receiver.webSocket(webSocket);
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

    /**
     * The verified TLS client certificate's name ({@link ListenerSpec.TlsSettings#identity()}), or null: plain TCP,
     * no client certificate, identity {@code none}, or a certificate without that name. Meant for the CONNECT, which
     * only comes after the handshake; reads the session, so it is not for a hot path.
     */
    public String peerIdentity()
    {
        return tls == null ? null : TlsContexts.identityOf(tls.peerCertificate(), spec.tls().identity());
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
        sender.startWebSocketFraming();
        handler = agent.handlerFactory().newHandler(this);
        agent.timers().schedule(this, handler.onTick(nowNs));
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
        final String address = remoteAddress;
        if (null != address)
        {
            return address;
        }
        final java.net.InetAddress peerAddress = peer;
        return null == peerAddress || remotePort < 0 ? "unknown" : peerAddress.getHostAddress() + ":" + remotePort;
    }

    /** The transport this connection came in on, as metrics label it: {@link #TRANSPORTS} by index. */
    public int transport()
    {
        return (tls != null ? 1 : 0) + (webSocket != null ? 2 : 0);
    }

    /** Transport names by {@link #transport()}: plain TCP, TLS, WebSocket, WebSocket over TLS. */
    public static final String[] TRANSPORTS = {"tcp", "tls", "ws", "wss"};

    public boolean isClosed()
    {
        return closed;
    }

    /** Closing once the output is flushed: nothing more is taken or read. */
    boolean isClosing()
    {
        return closeAfterFlush;
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

    // ---------------------------------------------------------------- outbound

    /** Bytes encoded but not yet written to the socket: how far behind this reader is. */
    public int outboundBacklog()
    {
        return sender.backlog();
    }

    /** The configured cap on {@link #outboundBacklog()} for droppable (QoS 0) traffic. */
    public int outboundLimit()
    {
        return sender.limit();
    }

    /**
     * Makes room for {@code length} more outbound bytes, which the caller then encodes at
     * {@link #outboundBuffer()} from {@link #outboundPosition()} and commits with {@link #commit(int)}.
     */
    public void ensureOutbound(final int length)
    {
        sender.ensure(length);
    }

    public MutableDirectBuffer outboundBuffer()
    {
        return sender.buffer();
    }

    public int outboundPosition()
    {
        return sender.position();
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
        sender.commit(length);
    }

    /** Convenience for small control packets: copy bytes into the outbound buffer. */
    public void write(final DirectBuffer src, final int offset, final int length)
    {
        sender.write(src, offset, length);
        commit(length);
    }

    /** Bytes written as they are, outside any WebSocket frame (HTTP responses, control frames). */
    void writeRaw(final DirectBuffer src, final int offset, final int length)
    {
        sender.writeRaw(src, offset, length);
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

    /** Flushed at the end of this duty cycle (e.g. TLS records to send after a read). */
    void requestFlush()
    {
        if (!closed)
        {
            sender.requestFlush();
        }
    }

    /** Writes what is buffered. Returns true when everything went; otherwise OP_WRITE is armed. */
    boolean flush()
    {
        return sender.flush(key);
    }

    // ---------------------------------------------------------------- inbound

    /** Stops reading from the socket: the next packet was refused by back pressure. */
    public void pauseReading()
    {
        receiver.pause(key);
    }

    /** Offers held-back packets again and resumes reading the socket. */
    public void resumeReading()
    {
        receiver.resume(key);
    }

    boolean isReadingPaused()
    {
        return receiver.isPaused();
    }

    /**
     * Reads once from the socket and dispatches whole packets; a lingering socket's input is swallowed.
     *
     * @return bytes read, or -1 when the connection ended.
     */
    int read(final ByteBuffer shared, final UnsafeBuffer sharedView, final long nowNs)
    {
        if (lingering)
        {
            return LingeringClose.drain(this, channel, shared);
        }
        if (sender.backlog() > sender.limit())
        {
            holdReadsForOutbound();
            return 0;
        }
        try
        {
            return receiver.read(shared, sharedView, nowNs);
        }
        catch (final RuntimeException ex)
        {
            throw closeOnBug(ex);
        }
    }

    /**
     * A bug met while this connection's input was handled: the connection is closed (it would otherwise hang, neither
     * answered nor closed), and the error goes on to the agent's error handler, which logs and counts it.
     */
    private RuntimeException closeOnBug(final RuntimeException ex)
    {
        close("internal error: " + ex);
        return ex;
    }

    /**
     * A peer more than the outbound limit behind is not read from until it catches up: every request read could add
     * a reply it does not read (PINGRESP, PUBACK, SUBACK, WebSocket pong), so its requests stay in the kernel and the
     * memory the broker holds for it stays near the limit. Its keep-alive then runs out (it is not heard from), or
     * it reads and is read again. Deliveries are bounded where they are made (QoS 0 dropped past the same limit).
     */
    private void holdReadsForOutbound()
    {
        if (!heldForOutbound && key != null && key.isValid())
        {
            heldForOutbound = true;
            key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
        }
    }

    /** After a write: reading resumes once the peer is within the outbound limit again. */
    void onOutboundWritten()
    {
        if (heldForOutbound && sender.backlog() <= sender.limit() && !closed)
        {
            heldForOutbound = false;
            if (key != null && key.isValid() && !receiver.isPaused())
            {
                key.interestOps(key.interestOps() | SelectionKey.OP_READ);
            }
        }
    }

    boolean isHeldForOutbound()
    {
        return heldForOutbound;
    }

    /** MQTT stream bytes after the WebSocket stage. */
    void onStreamBytes(final UnsafeBuffer buffer, final int offset, final int length, final long nowNs)
    {
        receiver.onStreamBytes(buffer, offset, length, nowNs);
    }

    /** Dispatches packets already carried over, e.g. after back pressure lifts. */
    void drainPending(final long nowNs)
    {
        try
        {
            receiver.drain(nowNs);
        }
        catch (final RuntimeException ex)
        {
            throw closeOnBug(ex);
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
        if (heldForOutbound)
        {
            close(cause); // it does not read: the last packet would never go, and the connection would stay forever
            return;
        }
        if (webSocket != null)
        {
            webSocket.onClosing(); // a WebSocket gets its close frame (1000) after the last MQTT bytes
        }
        closeAfterFlush = true;
        closeCause = cause;
        pauseReading();
        sender.requestFlush();
    }

    /**
     * Closes after the last packet was flushed, lingering ({@link LingeringClose}) when it can: not with TLS, and not
     * beyond the agent's bound.
     */
    void closeGracefully()
    {
        if (tls == null && !closed && key != null && agent.lingeringClose().start(channel))
        {
            lingering = true;
            lingerDeadlineNs = agent.nowNs() + LINGER_NS;
        }
        close(closeCause);
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

    /** Closes at once, dropping unwritten output. */
    public void close(final String cause)
    {
        if (closed)
        {
            return;
        }
        closed = true;
        receiver.close();
        sender.close();
        if (lingering)
        {
            receiver.unpause();
            key.interestOps(SelectionKey.OP_READ);
            agent.lingeringClose().add(this);
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
