package dev.skylark.broker.ws;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** /metrics, /readyz and the admin API on the HTTP listener, through a real HTTP client. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class OperationsHttpTest
{
    @TempDir
    Path dataDir;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> send(final HttpRequest.Builder request) throws Exception
    {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void metricsReadinessAndTheAdminApiEndToEnd() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().mqttPort(0).httpPort(0).bindAddress("127.0.0.1")
            .dataDir(dataDir.toString())))
        {
            final String base = "http://127.0.0.1:" + broker.httpPort();
            assertEquals(200, send(HttpRequest.newBuilder(URI.create(base + "/readyz"))).statusCode());
            final HttpResponse<String> metrics = send(HttpRequest.newBuilder(URI.create(base + "/metrics")));
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("# TYPE skylark_sessions gauge"), metrics.body());

            assertEquals(401, send(HttpRequest.newBuilder(URI.create(base + "/admin/v1/keys"))).statusCode(),
                "no bearer token");
            final String admin = "Bearer " + Files.readString(dataDir.resolve("auth/admin-token")).trim();
            final HttpResponse<String> keys = send(HttpRequest.newBuilder(URI.create(base + "/admin/v1/keys"))
                .header("Authorization", admin));
            assertEquals(200, keys.statusCode());
            assertTrue(keys.body().contains("\"kty\":\"OKP\""), keys.body());

            // Issue a token over HTTP and connect with it.
            final HttpResponse<String> issued = send(HttpRequest.newBuilder(URI.create(base + "/admin/v1/tokens"))
                .header("Authorization", admin).POST(HttpRequest.BodyPublishers.ofString("{\"clientIds\":[\"dev1\"]}")));
            assertEquals(200, issued.statusCode(), issued.body());
            final Matcher token = Pattern.compile("\"dev1\"\\s*:\\s*\"([^\"]+)\"").matcher(issued.body());
            assertTrue(token.find(), issued.body());
            assertEquals(0, connect(broker.mqttPort(), "dev1", token.group(1)), "CONNACK accepted with the issued token");

            final HttpResponse<String> revoked = send(HttpRequest.newBuilder(URI.create(base + "/admin/v1/revocations"))
                .header("Authorization", admin).POST(HttpRequest.BodyPublishers.ofString("{\"jti\":[\"abc\"]}")));
            assertEquals(200, revoked.statusCode(), revoked.body());
            assertTrue(send(HttpRequest.newBuilder(URI.create(base + "/admin/v1/revocations"))
                .header("Authorization", admin)).body().contains("abc"));
            assertEquals(200, send(HttpRequest.newBuilder(URI.create(base + "/admin/v1/revocations/abc"))
                .header("Authorization", admin).DELETE()).statusCode());
            assertTrue(!send(HttpRequest.newBuilder(URI.create(base + "/admin/v1/revocations"))
                .header("Authorization", admin)).body().contains("abc"));
        }
    }

    /** MQTT 3.1.1 CONNECT with user name = client id and the token as password; returns the CONNACK return code. */
    private static int connect(final int port, final String clientId, final String token) throws Exception
    {
        try (Socket socket = new Socket("127.0.0.1", port))
        {
            socket.setSoTimeout(5000);
            final byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
            final byte[] password = token.getBytes(StandardCharsets.UTF_8);
            final java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
            body.writeBytes(new byte[]{0, 4, 'M', 'Q', 'T', 'T', 4, (byte)0xC2, 0, 30});
            for (final byte[] field : new byte[][]{id, id, password})
            {
                body.write(field.length >> 8);
                body.write(field.length);
                body.writeBytes(field);
            }
            final java.io.ByteArrayOutputStream packet = new java.io.ByteArrayOutputStream();
            packet.write(0x10);
            int length = body.size();
            do
            {
                final int digit = length % 128;
                length /= 128;
                packet.write(length > 0 ? digit | 0x80 : digit);
            }
            while (length > 0);
            packet.writeBytes(body.toByteArray());
            socket.getOutputStream().write(packet.toByteArray());
            final InputStream in = socket.getInputStream();
            final byte[] connack = in.readNBytes(4);
            assertEquals(0x20, connack[0]);
            return connack[3];
        }
    }
}
