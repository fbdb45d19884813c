package dev.skylark.broker.net;

import dev.skylark.codec.mqtt.MqttFramer;
import dev.skylark.codec.mqtt.MqttPacketHandler;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * The receive side of one {@link Connection}: read the socket, unwrap TLS, deframe WebSocket, frame MQTT packets
 * with the codec's {@link MqttFramer} and hand them to the {@link ConnectionHandler}; pause and resume reading for
 * back pressure. Called by its {@link IoAgent} when the socket is readable or reading resumes.
 * <p>
 * Input is read into the agent's shared receive buffer and framed in place; only what is not taken (the tail of a
 * packet split across reads, or packets held back by back pressure) is carried over by the framer, in a buffer
 * from the agent's {@link BufferPool} that the socket is then read into directly, and that goes back to the pool
 * as soon as it is empty. A refused packet pauses reading: the bytes stay in the kernel until
 * {@link Connection#resumeReading()}.
 */
final class ReceiveEndPoint implements MqttPacketHandler
{
    private static final System.Logger LOG = System.getLogger(ReceiveEndPoint.class.getName());
    /** Room read into the carry-over at least: a packet larger than the buffer makes it double, a few times. */
    private static final int CARRY_OVER_READ_MIN = 1024;

    private final Connection connection;
    private final SocketChannel channel;
    private final IoAgent agent;
    private final TlsStage tls;
    private final MqttFramer framer;
    private WebSocketStage webSocket;
    private boolean readingPaused;
    /** The duty cycle's time, for the handler while the framer delivers. */
    private long nowNs;

    ReceiveEndPoint(
        final Connection connection,
        final SocketChannel channel,
        final IoAgent agent,
        final TlsStage tls,
        final int maxPacketSize)
    {
        this.connection = connection;
        this.channel = channel;
        this.agent = agent;
        this.tls = tls;
        this.framer = new MqttFramer(maxPacketSize, agent.carryOverBuffers());
    }

    void webSocket(final WebSocketStage webSocket)
    {
        this.webSocket = webSocket;
    }

    boolean isPaused()
    {
        return readingPaused;
    }

    void pause(final SelectionKey key)
    {
        if (!readingPaused && !connection.isClosed())
        {
            readingPaused = true;
            key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
        }
    }

    void resume(final SelectionKey key)
    {
        if (readingPaused && !connection.isClosed())
        {
            readingPaused = false;
            key.interestOps(key.interestOps() | SelectionKey.OP_READ);
            agent.queueResume(connection);
        }
    }

    /** A lingering socket reads again (to swallow the peer's input): nothing is paused any more. */
    void unpause()
    {
        readingPaused = false;
    }

    /**
     * Reads once from the socket into the shared receive buffer (or the carry-over when a packet is being
     * assembled) and dispatches whole packets.
     *
     * @return bytes read, or -1 when the connection ended.
     */
    int read(final ByteBuffer shared, final UnsafeBuffer sharedView, final long nowNs)
    {
        if (tls != null || webSocket != null)
        {
            return readThroughStages(shared, sharedView, nowNs);
        }
        try
        {
            if (framer.pendingBytes() == 0)
            {
                shared.clear();
                final int read = channel.read(shared);
                if (read < 0)
                {
                    connection.close("closed by peer");
                    return -1;
                }
                if (read > 0)
                {
                    onStreamBytes(sharedView, 0, read, nowNs);
                }
                return read;
            }

            final int read = channel.read(framer.carryOverForRead(CARRY_OVER_READ_MIN));
            if (read < 0)
            {
                connection.close("closed by peer");
                return -1;
            }
            framer.onCarryOverRead(read);
            drain(nowNs);
            return read;
        }
        catch (final IOException ex)
        {
            connection.close("read failed: " + ex.getMessage());
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
            LOG.log(System.Logger.Level.INFO, "TLS failed on " + connection.listener().name() + " from " +
                connection.remoteAddress() + ": " + ex.getMessage());
            connection.close("TLS failed: " + ex.getMessage());
            return -1;
        }
        catch (final IOException ex)
        {
            connection.close("read failed: " + ex.getMessage());
            return -1;
        }
        if (read < 0)
        {
            connection.close("closed by peer");
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
        if (tls != null && tls.hasPendingOutput())
        {
            connection.requestFlush();
        }
        return read;
    }

    /** MQTT stream bytes (after TLS and WebSocket): framed in place, anything not taken carried over. */
    void onStreamBytes(final UnsafeBuffer buffer, final int offset, final int length, final long nowNs)
    {
        if (connection.isClosed() || connection.handler() == null)
        {
            return;
        }
        this.nowNs = nowNs;
        final int result = framer.onBytes(buffer, offset, length, this);
        if (result < 0)
        {
            onFramingError(result);
        }
    }

    /** Offers the packets carried over again, e.g. after back pressure lifts. */
    void drain(final long nowNs)
    {
        if (connection.isClosed())
        {
            return;
        }
        this.nowNs = nowNs;
        final int result = framer.drain(this);
        if (result < 0)
        {
            onFramingError(result);
        }
    }

    private void onFramingError(final int result)
    {
        connection.handler().onFramingError(-result);
        connection.closeAfterFlush("framing error " + (-result));
    }

    @Override
    public boolean acceptsPackets()
    {
        return !readingPaused && !connection.isClosed() && !connection.isClosing();
    }

    @Override
    public boolean onPacket(final DirectBuffer buffer, final int offset, final int length)
    {
        if (!connection.handler().onPacket(buffer, offset, length, nowNs))
        {
            connection.pauseReading();
            return false;
        }
        return true;
    }

    /** Drops what is carried over (the connection closed). */
    void close()
    {
        framer.close();
    }
}
