package dev.skylark.broker.net;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * TLS for one connection on the JDK's {@link SSLEngine}, driven by the selector agent without blocking: ciphertext
 * is read into this stage's own buffer and unwrapped into the agent's shared receive buffer, from where the bytes
 * go on exactly as a plain read would; on flush the outbound plaintext is wrapped into this stage's send buffer and
 * written. Handshake messages are produced and consumed on the same path; delegated tasks (rare) run inline.
 * <p>
 * The two record buffers come from the agent's pool of record-sized buffers and go back as soon as they are empty,
 * so an idle TLS connection holds none, like a plain one.
 */
final class TlsStage
{
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SSLEngine engine;
    private final BufferPool pool;
    private ByteBuffer netIn;
    private ByteBuffer netOut;
    private boolean inboundClosed;

    /** @param pool buffers of at least the engine's packet buffer size ({@link #recordBufferSize()}). */
    TlsStage(final SSLEngine engine, final BufferPool pool)
    {
        this.engine = engine;
        this.pool = pool;
    }

    /** The size of the record buffers every engine needs (a TLS record with its overhead). */
    static int recordBufferSize(final SSLEngine engine)
    {
        return engine.getSession().getPacketBufferSize();
    }

    private ByteBuffer netOut()
    {
        if (netOut == null)
        {
            netOut = pool.acquire();
        }
        return netOut;
    }

    private void releaseIfEmpty()
    {
        if (netIn != null && netIn.position() == 0)
        {
            netIn = pool.release(netIn);
        }
        if (netOut != null && netOut.position() == 0)
        {
            netOut = pool.release(netOut);
        }
    }

    /**
     * Reads ciphertext once and unwraps all whole records into {@code plain} (from its position).
     *
     * @return plaintext bytes produced (may be 0 during the handshake), or -1 when the peer closed.
     */
    int read(final SocketChannel channel, final ByteBuffer plain) throws IOException
    {
        if (netIn == null)
        {
            netIn = pool.acquire();
        }
        final int read = channel.read(netIn);
        final int start = plain.position();
        try
        {
            unwrapAvailable(channel, plain);
        }
        finally
        {
            releaseIfEmpty();
        }
        if (read < 0 || inboundClosed)
        {
            return plain.position() > start ? plain.position() - start : -1;
        }
        return plain.position() - start;
    }

    private void unwrapAvailable(final SocketChannel channel, final ByteBuffer plain) throws IOException
    {
        netIn.flip();
        try
        {
            while (true)
            {
                final HandshakeStatus status = engine.getHandshakeStatus();
                if (status == HandshakeStatus.NEED_TASK)
                {
                    runTasks();
                    continue;
                }
                if (status == HandshakeStatus.NEED_WRAP)
                {
                    if (!wrapHandshake(channel))
                    {
                        break;
                    }
                    continue;
                }
                if (!netIn.hasRemaining())
                {
                    break;
                }
                final SSLEngineResult result = engine.unwrap(netIn, plain);
                if (result.getStatus() == SSLEngineResult.Status.CLOSED)
                {
                    inboundClosed = true;
                    break;
                }
                if (result.getStatus() != SSLEngineResult.Status.OK)
                {
                    break; // underflow: wait for more ciphertext; overflow cannot happen (plain has room)
                }
                if (result.bytesConsumed() == 0 && result.bytesProduced() == 0 &&
                    engine.getHandshakeStatus() == HandshakeStatus.NEED_UNWRAP)
                {
                    break;
                }
            }
        }
        finally
        {
            netIn.compact();
        }
    }

    /** Produces handshake messages and writes them; false when the socket would not take them all yet. */
    private boolean wrapHandshake(final SocketChannel channel) throws IOException
    {
        final SSLEngineResult result = engine.wrap(EMPTY, netOut());
        if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW)
        {
            return writeNet(channel) && (netOut == null || netOut.position() == 0);
        }
        if (result.getStatus() == SSLEngineResult.Status.CLOSED)
        {
            writeNet(channel);
            return false;
        }
        return writeNet(channel);
    }

    private void runTasks()
    {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null)
        {
            task.run();
        }
    }

    /**
     * Wraps plaintext from {@code plain} (position to limit) and writes the records.
     *
     * @return true when everything (plaintext consumed and ciphertext written) went; false when the socket is full
     * and OP_WRITE should be armed. The plaintext consumed is {@code plain}'s advanced position.
     */
    boolean write(final SocketChannel channel, final ByteBuffer plain) throws IOException
    {
        try
        {
            return wrapAndWrite(channel, plain);
        }
        finally
        {
            releaseIfEmpty();
        }
    }

    private boolean wrapAndWrite(final SocketChannel channel, final ByteBuffer plain) throws IOException
    {
        if (!writeNet(channel))
        {
            return false;
        }
        while (true)
        {
            final HandshakeStatus status = engine.getHandshakeStatus();
            if (status == HandshakeStatus.NEED_TASK)
            {
                runTasks();
                continue;
            }
            if (status == HandshakeStatus.NEED_WRAP)
            {
                if (!wrapHandshake(channel))
                {
                    return false;
                }
                continue;
            }
            if (!plain.hasRemaining() || status == HandshakeStatus.NEED_UNWRAP)
            {
                // application data waits until the handshake is done (it never precedes it in practice)
                return !plain.hasRemaining();
            }
            final SSLEngineResult result = engine.wrap(plain, netOut());
            if (result.getStatus() == SSLEngineResult.Status.CLOSED)
            {
                throw new SSLException("TLS engine closed");
            }
            final boolean overflow = result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW;
            if (!writeNet(channel))
            {
                return false;
            }
            if (!overflow && result.bytesConsumed() == 0 && result.bytesProduced() == 0)
            {
                return !plain.hasRemaining();
            }
        }
    }

    /** Writes buffered ciphertext; true when none is left. */
    private boolean writeNet(final SocketChannel channel) throws IOException
    {
        if (netOut == null || netOut.position() == 0)
        {
            return true;
        }
        netOut.flip();
        try
        {
            channel.write(netOut);
            return !netOut.hasRemaining();
        }
        finally
        {
            netOut.compact();
        }
    }

    /** True when ciphertext waits for the socket. */
    /** The verified client certificate of the session, or null when the client presented none. */
    java.security.cert.X509Certificate peerCertificate()
    {
        try
        {
            final java.security.cert.Certificate[] chain = engine.getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof java.security.cert.X509Certificate x509 ? x509 : null;
        }
        catch (final javax.net.ssl.SSLPeerUnverifiedException ex)
        {
            return null;
        }
    }

    boolean hasPendingOutput()
    {
        return netOut != null && netOut.position() > 0;
    }

    /** Best effort close_notify, without blocking. */
    void closeOutbound(final SocketChannel channel)
    {
        try
        {
            engine.closeOutbound();
            engine.wrap(EMPTY, netOut());
            writeNet(channel);
        }
        catch (final IOException | RuntimeException ignore)
        {
            // closing anyway
        }
        if (netIn != null)
        {
            netIn = pool.release(netIn.clear());
        }
        if (netOut != null)
        {
            netOut = pool.release(netOut.clear());
        }
    }
}
