package dev.skylark.broker.ops;

import dev.skylark.broker.net.SelfSignedCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGHUP and SIGTERM on a real broker process: a reload applies a new connection limit and a new certificate while
 * the process runs on, and names what needs a restart; a stop turns {@code /readyz} to 503, closes the MQTT
 * listener, drains, says DISCONNECT 0x8B to the clients still there, flushes the journal and exits with 0.
 */
@Timeout(180)
class SignalsProcessTest
{
    @TempDir
    Path dir;

    private List<String> args(final Path config)
    {
        return List.of("--config", config.toString(), "--data.dir", dir.resolve("data").toString());
    }

    @Test
    void sighupAppliesANewConnectionLimitAndTheProcessRunsOn() throws Exception
    {
        final Path config = dir.resolve("skylark.properties");
        // Short names, as an operator writes them; the MQTT port is chosen free and stays (mqtt.port is not live).
        Files.writeString(config, "mqtt.port=0\nhttp.port=-1\nbind.address=127.0.0.1\nauth.mode=none\n" +
            "durability=none\nio.threads=1\nmax.connections=1\n");
        try (SkylarkProcess broker = SkylarkProcess.start(Map.of(), args(config)))
        {
            final int port = broker.port("mqtt");
            try (Socket first = RawMqtt.connectAccepted(port, "first"))
            {
                assertNotNull(first);
                assertNull(RawMqtt.connectAccepted(port, "second"), "the limit of 1 refuses a second connection");

                Files.writeString(config, "mqtt.port=0\nhttp.port=-1\nbind.address=127.0.0.1\nauth.mode=none\n" +
                    "durability=none\nio.threads=1\nmax.connections=2\ntopic.max.length=100\n");
                broker.signal("HUP");
                broker.awaitLog("reload: connection limits: skylark.max.connections 1 -> 2", 30);
                broker.awaitLog("needs a restart to apply: skylark.topic.max.length", 30);

                try (Socket second = RawMqtt.connectAccepted(port, "second"))
                {
                    assertNotNull(second, "after the reload a second connection is accepted");
                }
                assertTrue(broker.isAlive(), "SIGHUP must not stop the broker");
            }

            // A file with a mistake changes nothing and stops nothing.
            Files.writeString(config, "mqtt.port=0\nmax.conections=5\n");
            broker.signal("HUP");
            broker.awaitLog("reload refused, nothing changed", 30);
            assertTrue(broker.isAlive());
        }
    }

    @Test
    void sighupServesARenewedCertificateToNewHandshakes() throws Exception
    {
        final SelfSignedCertificate.Files first = SelfSignedCertificate.create(dir.resolve("a"),
            List.of("localhost", "127.0.0.1"), 30);
        final SelfSignedCertificate.Files renewed = SelfSignedCertificate.create(dir.resolve("b"),
            List.of("localhost", "127.0.0.1"), 60);
        final Path cert = dir.resolve("cert.pem");
        final Path key = dir.resolve("key.pem");
        Files.copy(first.certificate(), cert);
        Files.copy(first.privateKey(), key);
        final Path config = dir.resolve("skylark.properties");
        Files.writeString(config, "mqtt.port=0\nhttp.port=-1\nmqtts.port=0\nhttps.port=-1\nbind.address=127.0.0.1\n" +
            "auth.mode=none\ndurability=none\nio.threads=1\ntls.cert=" + cert + "\ntls.key=" + key + "\n");
        try (SkylarkProcess broker = SkylarkProcess.start(Map.of(), args(config)))
        {
            final int port = broker.port("mqtts");
            final BigInteger before = serialServed(port);
            assertEquals(serialOf(first.certificate()), before);

            Files.copy(renewed.certificate(), cert, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(renewed.privateKey(), key, StandardCopyOption.REPLACE_EXISTING);
            broker.signal("HUP");
            broker.awaitLog("reload: tls certificate: now serving", 30);

            assertEquals(serialOf(renewed.certificate()), serialServed(port));
            assertNotEquals(before, serialOf(renewed.certificate()));
            assertTrue(broker.isAlive());
        }
    }

    @Test
    void sigtermSaysDisconnect0x8bFlushesTheJournalAndExitsWithZero() throws Exception
    {
        final Path config = dir.resolve("skylark.properties");
        Files.writeString(config, "mqtt.port=0\nhttp.port=-1\nbind.address=127.0.0.1\nauth.mode=none\n" +
            "durability=os\nio.threads=1\n");
        final int port;
        try (SkylarkProcess broker = SkylarkProcess.start(Map.of(), args(config)))
        {
            port = broker.port("mqtt");
            try (Socket client = RawMqtt.connectAccepted(port, "stayer"))
            {
                assertNotNull(client);
                publishRetainedQos1(client, "ops/retained", "kept");

                broker.signal("TERM");
                final RawMqtt.Packet disconnect = RawMqtt.read(client);
                assertNotNull(disconnect, "the broker closed without a DISCONNECT");
                assertEquals(0xE0, disconnect.type());
                assertEquals(0x8B, disconnect.body()[0] & 0xFF, "Server shutting down");
            }
            assertEquals(0, broker.awaitExit(60), broker.log());
            assertTrue(broker.log().contains("Skylark stopped"), broker.log());
        }

        // The journal was flushed: a new process on the same data directory has the retained message.
        try (SkylarkProcess again = SkylarkProcess.start(Map.of(), args(config)))
        {
            final int portAgain = again.port("mqtt");
            try (Socket client = RawMqtt.connectAccepted(portAgain, "reader"))
            {
                assertNotNull(client);
                final OutputStream out = client.getOutputStream();
                final byte[] filter = "ops/retained".getBytes(StandardCharsets.US_ASCII);
                final byte[] subscribe = new byte[2 + 2 + 1 + 2 + filter.length + 1];
                int i = 0;
                subscribe[i++] = (byte)0x82;                         // SUBSCRIBE
                subscribe[i++] = (byte)(2 + 1 + 2 + filter.length + 1);
                subscribe[i++] = 0;                                  // packet id 1
                subscribe[i++] = 1;
                subscribe[i++] = 0;                                  // no properties
                subscribe[i++] = 0;                                  // filter length
                subscribe[i++] = (byte)filter.length;
                System.arraycopy(filter, 0, subscribe, i, filter.length);
                i += filter.length;
                subscribe[i] = 0;                                    // QoS 0
                out.write(subscribe);
                out.flush();
                assertEquals(0x90, RawMqtt.read(client).type(), "SUBACK");
                final RawMqtt.Packet publish = RawMqtt.read(client);
                assertNotNull(publish);
                assertEquals(0x30, publish.type() & 0xF0, "the retained PUBLISH");
                assertTrue(new String(publish.body(), StandardCharsets.US_ASCII).endsWith("kept"));
            }
        }
    }

    @Test
    void sigtermTurnsReadyzTo503StopsAcceptingAndDrainsBeforeExiting() throws Exception
    {
        final Path config = dir.resolve("skylark.properties");
        Files.writeString(config, "mqtt.port=0\nhttp.port=0\nbind.address=127.0.0.1\nauth.mode=none\n" +
            "durability=none\nio.threads=1\nshutdown.drain.ms=120000\n");
        try (SkylarkProcess broker = SkylarkProcess.start(Map.of(), args(config)))
        {
            final int port = broker.port("mqtt");
            final int httpPort = broker.port("http");
            assertEquals(200, readyz(httpPort));
            final Socket client = RawMqtt.connectAccepted(port, "leaver");
            assertNotNull(client);

            broker.signal("TERM");
            broker.await(() -> readyzQuietly(httpPort) == 503, 30, "/readyz 503");
            broker.await(() -> refused(port), 30, "the MQTT listener to refuse connections");
            assertTrue(broker.isAlive(), "draining: the client is still connected");

            // The client leaves by itself (DISCONNECT 0x00): the drain ends early and the broker exits cleanly.
            final OutputStream out = client.getOutputStream();
            out.write(new byte[]{ (byte)0xE0, 0 });
            out.flush();
            client.close();
            assertEquals(0, broker.awaitExit(60), broker.log());
        }
    }

    private static void publishRetainedQos1(final Socket client, final String topic, final String payload)
        throws IOException
    {
        final byte[] name = topic.getBytes(StandardCharsets.US_ASCII);
        final byte[] body = payload.getBytes(StandardCharsets.US_ASCII);
        final int remaining = 2 + name.length + 2 + 1 + body.length;
        final byte[] publish = new byte[2 + remaining];
        int i = 0;
        publish[i++] = 0x33;                                  // PUBLISH, QoS 1, retain
        publish[i++] = (byte)remaining;
        publish[i++] = 0;
        publish[i++] = (byte)name.length;
        System.arraycopy(name, 0, publish, i, name.length);
        i += name.length;
        publish[i++] = 0;                                     // packet id 7
        publish[i++] = 7;
        publish[i++] = 0;                                     // no properties
        System.arraycopy(body, 0, publish, i, body.length);
        client.getOutputStream().write(publish);
        client.getOutputStream().flush();
        final RawMqtt.Packet puback = RawMqtt.read(client);
        assertNotNull(puback);
        assertEquals(0x40, puback.type(), "PUBACK");
    }

    private static boolean refused(final int port)
    {
        try (Socket socket = new Socket())
        {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            return false;
        }
        catch (final ConnectException ex)
        {
            return true;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    private static int readyzQuietly(final int port)
    {
        try
        {
            return readyz(port);
        }
        catch (final IOException ex)
        {
            return -1;
        }
    }

    private static int readyz(final int port) throws IOException
    {
        try (Socket socket = new Socket())
        {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(("GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            final InputStream in = socket.getInputStream();
            final String response = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            return Integer.parseInt(response.substring(9, 12));
        }
    }

    private static BigInteger serialOf(final Path pem) throws Exception
    {
        return ((X509Certificate)dev.skylark.broker.net.TlsContexts.readCertificates(pem).get(0)).getSerialNumber();
    }

    /** A new TLS handshake, trusting anything: the serial number of the certificate the broker served. */
    private static BigInteger serialServed(final int port) throws Exception
    {
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[]{ new X509TrustManager()
        {
            @Override
            public void checkClientTrusted(final X509Certificate[] chain, final String authType)
            {
            }

            @Override
            public void checkServerTrusted(final X509Certificate[] chain, final String authType)
            {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers()
            {
                return new X509Certificate[0];
            }
        } }, null);
        try (SSLSocket socket = (SSLSocket)context.getSocketFactory().createSocket("127.0.0.1", port))
        {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            return ((X509Certificate)socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }
}
