package dev.skylark.broker.net;

import dev.skylark.codec.mqtt.MqttFramer;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * One client socket, owned by one {@link IoAgent}: framing of the input into MQTT packets, and the outbound buffer
 * that protocol code encodes packets into and the agent flushes at the end of its duty cycle.
 * <p>
 * Input is read into the agent's shared receive buffer and framed in place; only the tail of a packet split across
 * reads (or packets held back by back pressure) is carried over in a per-connection buffer, which grows only to the
 * size of the packet being assembled. An idle connection holds no buffer at all: small pending and outbound buffers
 * go back to the agent's {@link BufferPool} as soon as they are empty, so memory per idle connection stays small.
 */
public final class Connection
{

    private final long id;
    private final SocketChannel channel;
    private final IoAgent agent;
    private final String remoteAddress;
    private final int maxPacketSize;
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

    private boolean readingPaused;
    private boolean closeAfterFlush;
    private boolean closed;
    private String closeCause;

    Connection(
        final long id,
        final SocketChannel channel,
        final IoAgent agent,
        final int maxPacketSize,
        final int outboundLimit)
    {
        this.id = id;
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
    }

    void init(final SelectionKey key, final ConnectionHandler handler)
    {
        this.key = key;
        this.handler = handler;
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
        return outboundLength;
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
        final int required = outboundLength + length;
        if (outboundByteBuffer == null || required > outbound.capacity())
        {
            outboundByteBuffer = grow(outboundByteBuffer, outboundLength, required);
            outbound.wrap(outboundByteBuffer);
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

    /** Commits bytes encoded at {@link #outboundPosition()}; they are written at the end of the duty cycle. */
    public void commit(final int length)
    {
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
        if (outboundLength > 0)
        {
            final ByteBuffer bb = outboundByteBuffer;
            bb.limit(outboundLength).position(0);
            try
            {
                channel.write(bb);
            }
            catch (final IOException ex)
            {
                close("write failed: " + ex.getMessage());
                return true;
            }
            final int written = bb.position();
            final int remaining = outboundLength - written;
            if (remaining > 0 && written > 0)
            {
                outbound.putBytes(0, outbound, written, remaining);
            }
            outboundLength = remaining;
            bb.clear();
            if (remaining == 0)
            {
                outboundByteBuffer = agent.bufferPool().release(outboundByteBuffer);
            }
            if (remaining > 0)
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
            close(closeCause);
        }
        return true;
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
        if (old == null && required <= BufferPool.BUFFER_SIZE)
        {
            return pool.acquire();
        }
        int capacity = old == null ? BufferPool.BUFFER_SIZE : old.capacity();
        while (capacity < required)
        {
            capacity <<= 1;
        }
        final ByteBuffer grown = BufferUtil.allocateDirectAligned(capacity, 64);
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

    void tick(final long nowNs)
    {
        if (!closed)
        {
            handler.onTick(nowNs);
        }
    }

    /** Closes once everything encoded so far has been written (e.g. after a CONNACK or DISCONNECT). */
    public void closeAfterFlush(final String cause)
    {
        if (closed || closeAfterFlush)
        {
            return;
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
        if (pendingByteBuffer != null)
        {
            pendingByteBuffer = agent.bufferPool().release(pendingByteBuffer);
        }
        if (outboundByteBuffer != null)
        {
            outboundByteBuffer = agent.bufferPool().release(outboundByteBuffer);
        }
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
