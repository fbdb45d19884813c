package dev.skylark.broker.status;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code skylark.management.port}: {@code /metrics}, {@code /healthz}, {@code /readyz} and the admin API answer on
 * the management listener (loopback by default) and no longer on the public HTTP listener, which keeps the demo page
 * and MQTT over WebSocket; the management listener accepts no WebSocket upgrade. Without it, nothing moves.
 */
class ManagementListenerTest
{
    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void operationalPathsMoveToTheManagementListener() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("token").ioThreads(1).mqttPort(0).httpPort(0)
            .bindAddress("127.0.0.1").managementPort(0).dataDir(dir.resolve("data").toString())))
        {
            final int management = broker.managementPort();
            assertTrue(management > 0 && management != broker.httpPort());
            assertEquals(200, get(management, "/metrics"));
            assertEquals(200, get(management, "/healthz"));
            assertEquals(200, get(management, "/readyz"));
            assertEquals(401, get(management, "/admin/v1/keys"), "the admin API, asking for its bearer token");
            assertEquals(404, get(management, "/"), "no demo page on the management port");

            final int pub = broker.httpPort();
            assertEquals(404, get(pub, "/metrics"));
            assertEquals(404, get(pub, "/healthz"));
            assertEquals(404, get(pub, "/readyz"));
            assertEquals(404, get(pub, "/admin/v1/keys"));
            assertEquals(200, get(pub, "/"), "the demo page stays public");
            assertEquals(101, upgrade(pub), "MQTT over WebSocket stays public");
            assertEquals(404, upgrade(management), "no MQTT over WebSocket on the management port");
        }
    }

    @Test
    void withoutAManagementPortTheHttpListenerServesEverything() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").ioThreads(1).mqttPort(0).httpPort(0)
            .bindAddress("127.0.0.1").dataDir(dir.resolve("data").toString())))
        {
            assertEquals(-1, broker.managementPort());
            assertEquals(200, get(broker.httpPort(), "/metrics"));
            assertEquals(200, get(broker.httpPort(), "/healthz"));
            assertEquals(200, get(broker.httpPort(), "/readyz"));
        }
    }

    @Test
    void managementListenerIsOnLoopbackByDefault() throws Exception
    {
        // Public listeners on every address; the management one stays on 127.0.0.1 unless told otherwise.
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").ioThreads(1).mqttPort(0).httpPort(0)
            .bindAddress("0.0.0.0").managementPort(0).dataDir(dir.resolve("data").toString())))
        {
            assertEquals("127.0.0.1", broker.context().managementBindAddress());
            assertEquals(200, get(broker.managementPort(), "/healthz"));
        }
    }

    private int get(final int port, final String path) throws Exception
    {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** A WebSocket upgrade to /mqtt asking for the mqtt subprotocol; the status code of the answer. */
    private static int upgrade(final int port) throws Exception
    {
        try (Socket socket = new Socket("127.0.0.1", port))
        {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(("GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                "Sec-WebSocket-Protocol: mqtt\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            final InputStream in = socket.getInputStream();
            final StringBuilder line = new StringBuilder();
            int b;
            while ((b = in.read()) != -1 && b != '\n')
            {
                line.append((char)b);
            }
            return Integer.parseInt(line.toString().split(" ")[1]);
        }
    }
}
