package dev.skylark.broker.net;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The lingering close of one {@link IoAgent}'s connections: after the last packet (a refusing CONNACK, a DISCONNECT
 * with its reason code) the output is shut down (FIN after the last byte) and what the peer still sends is read and
 * discarded until it closes or {@link #LINGER_NS} passes, so that closing a socket with unread input cannot make the
 * kernel reset the connection and destroy that last packet. The broker is done with the connection at once; only the
 * socket waits. Bounded per I/O thread, so a flood of refused clients cannot pile up descriptors.
 * <p>
 * Called by {@link Connection} when it closes after a flush, and by its agent on every duty cycle.
 */
final class LingeringClose
{
    /** How long a closed connection's socket may swallow the peer's input before it is closed anyway. */
    static final long LINGER_NS = TimeUnit.SECONDS.toNanos(2);
    private static final int LINGERING_MAX = 4096;

    /** Closed connections whose sockets still swallow the peer's input, oldest first (same linger time for all). */
    private final ArrayDeque<Connection> lingering = new ArrayDeque<>();

    /**
     * Shuts the output down if there is room for one more lingering socket.
     *
     * @return true when the socket lingers (until {@code nowNs + LINGER_NS}); false to close it at once (no room,
     * or already reset by the peer).
     */
    boolean start(final SocketChannel channel)
    {
        if (lingering.size() >= LINGERING_MAX)
        {
            return false;
        }
        try
        {
            channel.shutdownOutput();
            return true;
        }
        catch (final IOException ignore)
        {
            return false; // already reset by the peer: just close
        }
    }

    /** The connection is closed for the broker; its socket lingers until its deadline. */
    void add(final Connection connection)
    {
        lingering.addLast(connection);
    }

    /** A lingering socket's input: discarded; the end of it (or an error) closes the socket. */
    static int drain(final Connection connection, final SocketChannel channel, final ByteBuffer shared)
    {
        try
        {
            shared.clear();
            final int read = channel.read(shared);
            if (read < 0)
            {
                connection.endLinger();
            }
            return read;
        }
        catch (final IOException ex)
        {
            connection.endLinger();
            return -1;
        }
    }

    /** Closes the sockets whose linger time is up (or that ended already). */
    int closeExpired(final long nowNs)
    {
        int count = 0;
        Connection oldest;
        while ((oldest = lingering.peekFirst()) != null &&
            (!oldest.isLingering() || nowNs - oldest.lingerDeadlineNs() > 0))
        {
            lingering.pollFirst().endLinger();
            count++;
        }
        return count;
    }

    /** When the oldest lingering socket must be closed, or Long.MAX_VALUE when none lingers. */
    long nextDeadlineNs()
    {
        final Connection oldest = lingering.peekFirst();
        return oldest == null ? Long.MAX_VALUE : oldest.lingerDeadlineNs() + 1;
    }

    /** The agent is stopping: every lingering socket is closed now. */
    void closeAll()
    {
        Connection lingered;
        while ((lingered = lingering.pollFirst()) != null)
        {
            lingered.endLinger();
        }
    }
}
