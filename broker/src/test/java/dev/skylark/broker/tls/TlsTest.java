package dev.skylark.broker.tls;

import dev.skylark.broker.Broker;
import dev.skylark.broker.net.SelfSignedCertificate;
import dev.skylark.broker.net.TlsContexts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TLS listeners: mqtts and https/wss, with the JDK's client, mosquitto_sub, and mutual TLS. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsTest
{
    private static final byte[] CONNECT = {
        0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 1, 't'
    };
    private static final byte[] CONNACK = { 0x20, 2, 0, 0 };

    @TempDir
    static Path dir;
    private static SelfSignedCertificate.Files server;
    private static SelfSignedCertificate.Files client;
    private Broker broker;

    @BeforeAll
    static void certificates()
    {
        server = SelfSignedCertificate.create(dir.resolve("server"), List.of("localhost", "127.0.0.1"), 30);
        client = SelfSignedCertificate.create(dir.resolve("client"), List.of("device-1"), 30);
    }

    @AfterEach
    void stop()
    {
        if (broker != null)
        {
            broker.close();
        }
    }

    private Broker launch(final String clientAuth)
    {
        final Broker.Context context = new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).mqttsPort(0).httpsPort(0)
            .bindAddress("127.0.0.1")
            .tlsCertificate(server.certificate().toString(), server.privateKey().toString());
        if (clientAuth != null)
        {
            context.tlsClientAuth(clientAuth, client.certificate().toString());
        }
        broker = Broker.launch(context);
        return broker;
    }

    static SSLContext clientContext(final Path trusted, final SelfSignedCertificate.Files identity) throws Exception
    {
        final KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (final Certificate certificate : TlsContexts.readCertificates(trusted))
        {
            trust.setCertificateEntry("c" + i++, certificate);
        }
        final TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (identity != null)
        {
            final KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(identity.keystore()))
            {
                keys.load(in, identity.password());
            }
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, identity.password());
        }
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    private static SSLSocket connect(final SSLContext context, final int port) throws IOException
    {
        final SSLSocket socket = (SSLSocket)context.getSocketFactory().createSocket("localhost", port);
        socket.setSoTimeout(10_000);
        return socket;
    }

    private static void mqttConnect(final Socket socket) throws IOException
    {
        socket.getOutputStream().write(CONNECT);
        socket.getOutputStream().flush();
        assertArrayEquals(CONNACK, socket.getInputStream().readNBytes(4));
    }

    @Test
    void mqttsHandshakeWithTheJdkClientTls13AndTls12() throws Exception
    {
        launch(null);
        for (final String protocol : new String[]{ "TLSv1.3", "TLSv1.2" })
        {
            try (SSLSocket socket = connect(clientContext(server.certificate(), null), broker.mqttsPort()))
            {
                socket.setEnabledProtocols(new String[]{ protocol });
                socket.startHandshake();
                assertEquals(protocol, socket.getSession().getProtocol());
                mqttConnect(socket);
                // a publish larger than one TLS record comes back whole through a subscription
                final OutputStream out = socket.getOutputStream();
                out.write(new byte[]{ (byte)0x82, 6, 0, 1, 0, 1, 't', 0 }); // SUBSCRIBE id 1 "t" QoS 0
                assertArrayEquals(new byte[]{ (byte)0x90, 3, 0, 1, 0 }, socket.getInputStream().readNBytes(5));
                final int payload = 40_000;
                final int remaining = 3 + payload;
                final byte[] publish = new byte[1 + 3 + remaining];
                publish[0] = 0x30;
                publish[1] = (byte)(0x80 | (remaining & 0x7F));
                publish[2] = (byte)(0x80 | ((remaining >> 7) & 0x7F));
                publish[3] = (byte)(remaining >> 14);
                publish[4] = 0;
                publish[5] = 1;
                publish[6] = 't';
                for (int i = 7; i < publish.length; i++)
                {
                    publish[i] = (byte)i;
                }
                out.write(publish);
                out.flush();
                assertArrayEquals(publish, socket.getInputStream().readNBytes(publish.length));
            }
        }
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateIsRefused() throws Exception
    {
        launch(null);
        try (SSLSocket socket = connect(clientContext(client.certificate(), null), broker.mqttsPort()))
        {
            assertThrows(SSLException.class, socket::startHandshake);
        }
    }

    @Test
    void plainMqttOnTheTlsPortIsDroppedAndTheListenerKeepsServing() throws Exception
    {
        launch(null);
        try (Socket socket = new Socket("127.0.0.1", broker.mqttsPort()))
        {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(CONNECT);
            final InputStream in = socket.getInputStream();
            try
            {
                while (in.read() >= 0)
                {
                    // at most a TLS alert, then the end of the stream
                }
            }
            catch (final java.net.SocketException reset)
            {
                // closed with RST: closed too
            }
        }
        try (SSLSocket socket = connect(clientContext(server.certificate(), null), broker.mqttsPort()))
        {
            mqttConnect(socket);
        }
    }

    @Test
    void tls11IsRefused() throws Exception
    {
        launch(null);
        try (SSLSocket socket = connect(clientContext(server.certificate(), null), broker.mqttsPort()))
        {
            socket.setEnabledProtocols(new String[]{ "TLSv1.1" });
            assertThrows(IOException.class, socket::startHandshake);
        }
    }

    @Test
    void clientCertificateIsRequiredWhenConfigured() throws Exception
    {
        launch("required");
        try (SSLSocket socket = connect(clientContext(server.certificate(), null), broker.mqttsPort()))
        {
            // TLS 1.3: the refusal may surface on the first read rather than in the handshake
            assertThrows(IOException.class, () ->
            {
                socket.startHandshake();
                mqttConnect(socket);
            });
        }
        try (SSLSocket socket = connect(clientContext(server.certificate(), client), broker.mqttsPort()))
        {
            socket.startHandshake();
            mqttConnect(socket);
        }
    }

    @Test
    void httpsAndWssOnTheHttpsPort() throws Exception
    {
        launch(null);
        try (SSLSocket socket = connect(clientContext(server.certificate(), null), broker.httpsPort()))
        {
            socket.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
            final String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
        }
        try (SSLSocket socket = connect(clientContext(server.certificate(), null), broker.httpsPort()))
        {
            final OutputStream out = socket.getOutputStream();
            out.write(("GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                "Sec-WebSocket-Protocol: mqtt\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            final InputStream in = socket.getInputStream();
            final byte[] head = new byte[4096];
            int length = 0;
            while (length < 4 || !new String(head, 0, length, StandardCharsets.US_ASCII).endsWith("\r\n\r\n"))
            {
                head[length++] = (byte)in.read();
            }
            assertTrue(new String(head, 0, length, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 101 "));
            final byte[] key = { 1, 2, 3, 4 };
            final byte[] frame = new byte[2 + 4 + CONNECT.length];
            frame[0] = (byte)0x82;
            frame[1] = (byte)(0x80 | CONNECT.length);
            System.arraycopy(key, 0, frame, 2, 4);
            for (int i = 0; i < CONNECT.length; i++)
            {
                frame[6 + i] = (byte)(CONNECT[i] ^ key[i & 3]);
            }
            out.write(frame);
            assertArrayEquals(new byte[]{ (byte)0x82, 4, 0x20, 2, 0, 0 }, in.readNBytes(6));
        }
    }

    @Test
    void selfSignedFlagMakesACertificateOnFirstStart() throws Exception
    {
        final Path data = dir.resolve("data");
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).mqttsPort(0).httpsPort(-1)
            .bindAddress("127.0.0.1").dataDir(data.toString()).tlsSelfSigned(true));
        assertEquals(-1, broker.httpsPort());
        final Path certificate = data.resolve("tls").resolve("cert.pem");
        assertTrue(Files.exists(certificate));
        try (SSLSocket socket = connect(clientContext(certificate, null), broker.mqttsPort()))
        {
            mqttConnect(socket);
        }
    }

    @Test
    void tlsListenersAreOffWithoutACertificate()
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).mqttsPort(0).httpsPort(0)
            .bindAddress("127.0.0.1"));
        assertEquals(-1, broker.mqttsPort());
        assertEquals(-1, broker.httpsPort());
    }

    @Test
    void mosquittoSubWithCafile() throws Exception
    {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/mosquitto_sub")), "mosquitto_sub not installed");
        launch(null);
        // a retained message, published over plain TCP
        try (Socket socket = new Socket("127.0.0.1", broker.mqttPort()))
        {
            socket.setSoTimeout(10_000);
            mqttConnect(socket);
            socket.getOutputStream().write(new byte[]{ 0x31, 7, 0, 2, 't', 'l', 'h', 'i', '!' }); // retain, "tl", "hi!"
            socket.getOutputStream().write(new byte[]{ (byte)0xE0, 0 }); // DISCONNECT
            assertEquals(-1, socket.getInputStream().read());
        }
        final Process sub = new ProcessBuilder("mosquitto_sub", "-h", "localhost", "-p",
            String.valueOf(broker.mqttsPort()), "--cafile", server.certificate().toString(), "-t", "tl", "-C", "1",
            "-W", "20").redirectErrorStream(true).start();
        try
        {
            final String output = new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(sub.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, sub.exitValue(), output);
            assertEquals("hi!", output.trim());
        }
        finally
        {
            sub.destroyForcibly();
        }
    }
}
