/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Client side of TLS for one load-generator connection: a JDK {@link SSLEngine} driven from the agent's selector
 * loop without blocking. Ciphertext lives in two buffers of its own ({@link #netIn}, {@link #netOut}); the
 * plaintext side is the connection's buffers (its send buffer is wrapped, the receive buffer unwrapped into), so
 * TLS adds the cipher and no copy of its own. Handshake tasks run inline: they happen once per connection, before
 * anything is measured.
 */
final class ClientTls
{
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    final SSLEngine engine;
    /** Ciphertext read from the socket and not yet unwrapped, write mode. */
    final ByteBuffer netIn;
    /** Ciphertext wrapped and not yet written to the socket, write mode. */
    final ByteBuffer netOut;

    /**
     * @param context      of the run, see {@link #context(LoadConfig)}.
     * @param config       of the run: host and port (SNI, host name check) and the trust choice.
     * @param inCapacity   at least this much room for ciphertext read at once.
     * @param outCapacity  at least this much room for ciphertext written at once.
     */
    ClientTls(final SSLContext context, final LoadConfig config, final int inCapacity, final int outCapacity)
    {
        engine = context.createSSLEngine(config.host, config.port);
        engine.setUseClientMode(true);
        if (!config.trustAll)
        {
            // The certificate must name the host connected to (a DNS or IP subject alternative name).
            final SSLParameters parameters = engine.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(parameters);
        }
        final int packet = engine.getSession().getPacketBufferSize();
        netIn = ByteBuffer.allocateDirect(Math.max(packet, inCapacity));
        netOut = ByteBuffer.allocateDirect(Math.max(packet, outCapacity));
    }

    /**
     * @param context of the run.
     * @return bytes of plaintext one TLS record may carry: the receive buffer needs this much room on top of what it
     *         keeps of a partial packet.
     */
    static int applicationBufferSize(final SSLContext context)
    {
        return context.createSSLEngine().getSession().getApplicationBufferSize();
    }

    /**
     * The one {@link SSLContext} of a run: trusting the certificates of {@code --cafile}, everything with
     * {@code --trust-all}, or else the JDK's default trust store.
     *
     * @param config of the run.
     * @return the context.
     * @throws IOException when the CA file cannot be read or holds no certificate.
     */
    static SSLContext context(final LoadConfig config) throws IOException
    {
        try
        {
            TrustManager[] trustManagers = null;
            if (config.trustAll)
            {
                trustManagers = new TrustManager[]{ new TrustAll() };
            }
            else if (null != config.caFile)
            {
                final KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
                trusted.load(null, null);
                int i = 0;
                try (InputStream in = Files.newInputStream(Path.of(config.caFile)))
                {
                    for (final Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in))
                    {
                        trusted.setCertificateEntry("ca-" + i++, certificate);
                    }
                }
                if (0 == i)
                {
                    throw new IOException("no certificate in --cafile " + config.caFile);
                }
                final TrustManagerFactory factory = TrustManagerFactory.getInstance(
                    TrustManagerFactory.getDefaultAlgorithm());
                factory.init(trusted);
                trustManagers = factory.getTrustManagers();
            }
            final SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trustManagers, null);
            return context;
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IOException("cannot set up TLS: " + ex.getMessage(), ex);
        }
    }

    /**
     * Drive the handshake as far as it goes without blocking.
     *
     * @param channel   connected socket.
     * @param plaintext where application data that arrives with the last handshake records goes (the receive buffer).
     * @return true when the handshake is complete and nothing of it is left to write.
     * @throws IOException   on a socket error or when the broker closes the connection.
     * @throws SSLException when the handshake fails (e.g. an untrusted certificate).
     */
    boolean handshake(final SocketChannel channel, final ByteBuffer plaintext) throws IOException
    {
        while (true)
        {
            switch (engine.getHandshakeStatus())
            {
                case NEED_TASK:
                    runTasks();
                    break;

                case NEED_WRAP:
                {
                    final SSLEngineResult result = engine.wrap(EMPTY, netOut);
                    checkNotClosed(result);
                    if (SSLEngineResult.Status.BUFFER_OVERFLOW == result.getStatus() && 0 == writeNet(channel))
                    {
                        return false; // the socket takes no more: wait for OP_WRITE
                    }
                    break;
                }

                case NEED_UNWRAP:
                case NEED_UNWRAP_AGAIN:
                {
                    netIn.flip();
                    final SSLEngineResult result;
                    try
                    {
                        result = engine.unwrap(netIn, plaintext);
                    }
                    finally
                    {
                        netIn.compact();
                    }
                    checkNotClosed(result);
                    if (SSLEngineResult.Status.BUFFER_UNDERFLOW == result.getStatus())
                    {
                        writeNet(channel);
                        final int read = channel.read(netIn);
                        if (read < 0)
                        {
                            throw new EOFException("broker closed the connection during the TLS handshake");
                        }
                        if (0 == read)
                        {
                            return false; // wait for OP_READ
                        }
                    }
                    else if (SSLEngineResult.Status.BUFFER_OVERFLOW == result.getStatus())
                    {
                        throw new SSLException("handshake record does not fit the receive buffer");
                    }
                    break;
                }

                default: // FINISHED, NOT_HANDSHAKING
                    writeNet(channel);
                    return 0 == netOut.position();
            }
        }
    }

    /**
     * Unwrap every complete record of {@link #netIn} that fits into {@code plaintext}.
     *
     * @param plaintext receive buffer, write mode.
     * @return plaintext bytes produced, or -1 when the broker closed the TLS session.
     * @throws SSLException on a bad record.
     */
    int unwrap(final ByteBuffer plaintext) throws SSLException
    {
        int produced = 0;
        netIn.flip();
        try
        {
            while (netIn.hasRemaining())
            {
                final SSLEngineResult result = engine.unwrap(netIn, plaintext);
                produced += result.bytesProduced();
                if (SSLEngineResult.Status.CLOSED == result.getStatus())
                {
                    return -1;
                }
                if (SSLEngineResult.HandshakeStatus.NEED_TASK == result.getHandshakeStatus())
                {
                    runTasks();
                }
                if (SSLEngineResult.Status.OK != result.getStatus() ||
                    (0 == result.bytesConsumed() && 0 == result.bytesProduced()))
                {
                    break; // underflow: wait for more bytes; overflow: the receive buffer must be drained first
                }
            }
        }
        finally
        {
            netIn.compact();
        }

        return produced;
    }

    /**
     * Wrap what {@code plaintext} holds into records and write them, as far as the socket takes them.
     *
     * @param channel   connected socket.
     * @param plaintext send buffer, read mode; its position advances over what was wrapped.
     * @return plaintext bytes consumed.
     * @throws IOException on a socket error or a closed engine.
     */
    int write(final SocketChannel channel, final ByteBuffer plaintext) throws IOException
    {
        int consumed = 0;
        writeNet(channel);
        while (plaintext.hasRemaining() || SSLEngineResult.HandshakeStatus.NEED_WRAP == engine.getHandshakeStatus())
        {
            final SSLEngineResult result = engine.wrap(plaintext, netOut);
            consumed += result.bytesConsumed();
            if (SSLEngineResult.Status.BUFFER_OVERFLOW == result.getStatus())
            {
                if (0 == writeNet(channel))
                {
                    break; // the socket is full: the rest waits for OP_WRITE
                }
                continue;
            }
            checkNotClosed(result);
            if (SSLEngineResult.HandshakeStatus.NEED_TASK == result.getHandshakeStatus())
            {
                runTasks();
            }
            if (0 == result.bytesConsumed() && 0 == result.bytesProduced())
            {
                break;
            }
        }
        writeNet(channel);

        return consumed;
    }

    /**
     * Queue a close_notify; the next {@link #write} sends it.
     */
    void closeOutbound()
    {
        engine.closeOutbound();
    }

    /**
     * @return true while ciphertext waits for the socket or the engine has a record to send.
     */
    boolean hasPendingOutput()
    {
        return netOut.position() > 0 ||
            (!engine.isOutboundDone() && SSLEngineResult.HandshakeStatus.NEED_WRAP == engine.getHandshakeStatus());
    }

    private int writeNet(final SocketChannel channel) throws IOException
    {
        if (0 == netOut.position())
        {
            return 0;
        }
        netOut.flip();
        try
        {
            return channel.write(netOut);
        }
        finally
        {
            netOut.compact();
        }
    }

    private void runTasks()
    {
        Runnable task;
        while (null != (task = engine.getDelegatedTask()))
        {
            task.run();
        }
    }

    private static void checkNotClosed(final SSLEngineResult result) throws SSLException
    {
        if (SSLEngineResult.Status.CLOSED == result.getStatus())
        {
            throw new SSLException("TLS session closed by the broker");
        }
    }

    /**
     * Accepts any certificate: for {@code --trust-all} against a broker with a self-signed certificate on a
     * benchmark machine. Never for anything else.
     */
    private static final class TrustAll extends X509ExtendedTrustManager
    {
        public void checkClientTrusted(final X509Certificate[] chain, final String authType)
        {
        }

        public void checkServerTrusted(final X509Certificate[] chain, final String authType)
        {
        }

        public void checkClientTrusted(final X509Certificate[] chain, final String authType, final Socket socket)
        {
        }

        public void checkServerTrusted(final X509Certificate[] chain, final String authType, final Socket socket)
        {
        }

        public void checkClientTrusted(final X509Certificate[] chain, final String authType, final SSLEngine engine)
        {
        }

        public void checkServerTrusted(final X509Certificate[] chain, final String authType, final SSLEngine engine)
        {
        }

        public X509Certificate[] getAcceptedIssuers()
        {
            return new X509Certificate[0];
        }
    }
}
