package dev.skylark.broker.it;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import dev.skylark.broker.Broker;
import dev.skylark.broker.cli.SkylarkMain;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API lists sessions and connected clients, kicks a client (v5: DISCONNECT 0x98 Administrative action;
 * its session stays) and deletes a session (a reconnect finds none) through the routing agent's admin request queue
 * (issue #17); the CLI's {@code skylark clients|sessions} does the same.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SessionAdminTest
{
    private static final java.util.concurrent.atomic.AtomicReference<String> REASON_STRING =
        new java.util.concurrent.atomic.AtomicReference<>();

    @TempDir
    Path dataDir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void listsKicksAndDeletesSessions() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().mqttPort(0).httpPort(0).bindAddress("127.0.0.1")
            .dataDir(dataDir.toString()).sysIntervalS(0)))
        {
            final String base = "http://127.0.0.1:" + broker.httpPort() + "/admin/v1/";
            final String admin = "Bearer " + Files.readString(dataDir.resolve("auth/admin-token")).trim();
            final HttpResponse<String> issued = call(base, admin, "POST", "tokens",
                "{\"clientIds\":[\"v5-dev\",\"paho-dev\"]}");
            final String v5Token = token(issued.body(), "v5-dev");
            final String pahoToken = token(issued.body(), "paho-dev");

            final CompletableFuture<Integer> reason = new CompletableFuture<>();
            final Mqtt5BlockingClient v5 = v5(broker, v5Token, reason);
            v5.connectWith().cleanStart(true).sessionExpiryInterval(3600).send();
            v5.subscribeWith().topicFilter("a/#").qos(MqttQos.AT_LEAST_ONCE).send();
            final MqttClient paho = new MqttClient("tcp://127.0.0.1:" + broker.mqttPort(), "paho-dev",
                new MemoryPersistence());
            final MqttConnectOptions options = new MqttConnectOptions();
            options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
            options.setCleanSession(true);
            options.setUserName("paho-dev");
            options.setPassword(pahoToken.toCharArray());
            paho.connect(options);
            try
            {
                final String sessions = answer(base, admin, "GET", "sessions");
                assertTrue(sessions.contains("{\"clientId\":\"v5-dev\",\"connected\":true,\"protocolVersion\":5,"
                    + "\"sessionExpiry\":3600,\"persistent\":true,\"subscriptions\":1,\"queued\":0,\"inFlight\":0}"),
                    sessions);
                assertTrue(sessions.contains("\"clientId\":\"paho-dev\",\"connected\":true,\"protocolVersion\":4,"
                    + "\"sessionExpiry\":0"), sessions);
                assertTrue(sessions.contains("\"matched\":2,\"truncated\":false"), sessions);
                final String bounded = answer(base, admin, "GET", "sessions?limit=1");
                assertTrue(bounded.contains("\"matched\":2,\"truncated\":true"), bounded);
                final String glob = answer(base, admin, "GET", "clients?filter=*ah?-d*");
                assertTrue(glob.contains("paho-dev") && !glob.contains("v5-dev") && glob.contains("\"matched\":1"),
                    glob);
                final String prefix = answer(base, admin, "GET", "sessions?filter=v5");
                assertTrue(prefix.contains("v5-dev") && prefix.contains("\"matched\":1"), prefix);

                // Kick: DISCONNECT 0x98 to the v5 client; its persistent session stays, offline.
                final String kicked = answer(base, admin, "POST", "clients/kick?client=v5-dev");
                assertEquals("{\"clientId\":\"v5-dev\",\"kicked\":true,\"sessionKept\":true}", kicked);
                assertEquals(0x98, reason.get(10, TimeUnit.SECONDS));
                assertEquals("disconnected by an administrator", REASON_STRING.get(), "not a protocol error");
                final String after = answer(base, admin, "GET", "sessions?filter=v5-dev");
                assertTrue(after.contains("\"connected\":false") && after.contains("\"subscriptions\":1"), after);
                final String clients = answer(base, admin, "GET", "clients");
                assertTrue(clients.contains("paho-dev") && !clients.contains("v5-dev"), clients);

                // Delete the connected 3.1.1 client's session: it is closed.
                final String deletedPaho = answer(base, admin, "DELETE", "sessions?client=paho-dev");
                assertEquals("{\"clientId\":\"paho-dev\",\"deleted\":true,\"disconnected\":true}", deletedPaho);
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (paho.isConnected() && System.nanoTime() < deadline)
                {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
                assertFalse(paho.isConnected());

                // The CLI: list, then delete the offline v5 session; a reconnect finds no session.
                final ByteArrayOutputStream printed = new ByteArrayOutputStream();
                final String url = "http://127.0.0.1:" + broker.httpPort();
                assertEquals(0, SkylarkMain.execute(new String[] {"sessions", "list", "--filter", "v5*", "--url", url,
                    "--data.dir", dataDir.toString()}, new PrintStream(printed, true)));
                assertTrue(printed.toString().contains("\"clientId\":\"v5-dev\",\"connected\":false"),
                    printed.toString());
                printed.reset();
                assertEquals(0, SkylarkMain.execute(new String[] {"sessions", "delete", "--client", "v5-dev", "--url",
                    url, "--data.dir", dataDir.toString()}, new PrintStream(printed, true)));
                assertTrue(printed.toString().contains("\"deleted\":true,\"disconnected\":false"), printed.toString());
                final String none = answer(base, admin, "GET", "sessions");
                assertTrue(none.contains("\"matched\":0"), none);

                final Mqtt5BlockingClient again = v5(broker, v5Token, new CompletableFuture<>());
                final Mqtt5ConnAck connAck = again.connectWith().cleanStart(false).sessionExpiryInterval(3600).send();
                assertFalse(connAck.isSessionPresent(), "the deleted session is gone");

                // CLI kick of the reconnected v5 client; the session stays (session present on the next connect).
                printed.reset();
                assertEquals(0, SkylarkMain.execute(new String[] {"clients", "list", "--url", url, "--data.dir",
                    dataDir.toString()}, new PrintStream(printed, true)));
                assertTrue(printed.toString().contains("\"clientId\":\"v5-dev\",\"connected\":true"),
                    printed.toString());
                printed.reset();
                assertEquals(0, SkylarkMain.execute(new String[] {"clients", "kick", "--client", "v5-dev", "--url",
                    url, "--data.dir", dataDir.toString()}, new PrintStream(printed, true)));
                assertTrue(printed.toString().contains("\"kicked\":true,\"sessionKept\":true"), printed.toString());
                final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (again.getState().isConnected() && System.nanoTime() < until)
                {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
                final Mqtt5BlockingClient third = v5(broker, v5Token, new CompletableFuture<>());
                assertTrue(third.connectWith().cleanStart(false).sessionExpiryInterval(0).send().isSessionPresent());
                third.disconnect();

                final String missing = answer(base, admin, "POST", "clients/kick?client=nobody");
                assertTrue(missing.contains("no such session"), missing);
                assertEquals(400, call(base, admin, "DELETE", "sessions", null).statusCode(), "needs a client");
                assertEquals(405, call(base, admin, "PUT", "sessions", null).statusCode());
                assertEquals(401, call(base, "Bearer wrong", "GET", "sessions", null).statusCode());
            }
            finally
            {
                if (paho.isConnected())
                {
                    paho.disconnectForcibly(1000);
                }
                paho.close();
            }
        }
    }

    private static Mqtt5BlockingClient v5(final Broker broker, final String token,
        final CompletableFuture<Integer> reason)
    {
        return Mqtt5Client.builder().identifier("v5-dev").serverHost("127.0.0.1").serverPort(broker.mqttPort())
            .simpleAuth().username("v5-dev").password(token.getBytes(StandardCharsets.UTF_8)).applySimpleAuth()
            .addDisconnectedListener(ctx ->
            {
                if (ctx.getCause() instanceof Mqtt5DisconnectException d)
                {
                    REASON_STRING.set(d.getMqttMessage().getReasonString().map(Object::toString).orElse(""));
                    reason.complete(d.getMqttMessage().getReasonCode().getCode());
                }
                else
                {
                    reason.complete(-1);
                }
            })
            .buildBlocking();
    }

    private static String token(final String body, final String clientId)
    {
        final Matcher token = Pattern.compile("\"" + clientId + "\"\\s*:\\s*\"([^\"]+)\"").matcher(body);
        assertTrue(token.find(), body);
        return token.group(1);
    }

    private HttpResponse<String> call(final String base, final String admin, final String method, final String path,
        final String body) throws Exception
    {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", admin)
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
            .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Submits a request and polls its answer (202 while the routing agent has not looked yet). */
    private String answer(final String base, final String admin, final String method, final String path)
        throws Exception
    {
        final HttpResponse<String> submitted = call(base, admin, method, path, null);
        assertEquals(202, submitted.statusCode(), submitted.body());
        final Matcher at = Pattern.compile("\"answer\"\\s*:\\s*\"/admin/v1/([^\"]+)\"").matcher(submitted.body());
        assertTrue(at.find(), submitted.body());
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true)
        {
            final HttpResponse<String> answer = call(base, admin, "GET", at.group(1), null);
            if (answer.statusCode() == 200 || System.nanoTime() > deadline)
            {
                assertEquals(200, answer.statusCode(), answer.body());
                return answer.body();
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }
}
