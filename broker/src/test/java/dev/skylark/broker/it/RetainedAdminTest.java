package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.packet;
import static dev.skylark.broker.it.RawClient.str;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API lists and deletes retained messages by filter, topic size and QoS (issue #15): the request is
 * queued to the routing agent, which owns the retained index, and its answer fetched by id; the output is bounded.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RetainedAdminTest
{
    @TempDir
    Path dataDir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void listsAndDeletesRetainedMessagesByFilter() throws Exception
    {
        // $SYS off: its figures are retained too and would count in the retained gauge checked below.
        try (Broker broker = Broker.launch(new Broker.Context().mqttPort(0).httpPort(0).bindAddress("127.0.0.1")
            .dataDir(dataDir.toString()).sysIntervalS(0)))
        {
            final String base = "http://127.0.0.1:" + broker.httpPort() + "/admin/v1/";
            final String admin = "Bearer " + Files.readString(dataDir.resolve("auth/admin-token")).trim();
            final HttpResponse<String> issued = http.send(HttpRequest.newBuilder(URI.create(base + "tokens"))
                .header("Authorization", admin).POST(HttpRequest.BodyPublishers.ofString("{\"clientIds\":[\"pub\"]}"))
                .build(), HttpResponse.BodyHandlers.ofString());
            final Matcher token = Pattern.compile("\"pub\"\\s*:\\s*\"([^\"]+)\"").matcher(issued.body());
            assertTrue(token.find(), issued.body());
            try (RawClient publisher = new RawClient(broker.mqttPort()))
            {
                publisher.sendRaw(packet(0x10, str("MQTT"), bytes(4, 0xC2, 0, 60), str("pub"), str("pub"),
                    str(token.group(1))));
                assertArrayEquals(bytes(0x20, 2, 0, 0), publisher.expect(2));
                int id = 1;
                for (final String topic : new String[] {"a/1", "a/2", "a/big", "b/1"})
                {
                    final int size = topic.endsWith("big") ? 1000 : 10;
                    publisher.send(0x33, str(topic), bytes(0, id), new byte[size]);
                    assertArrayEquals(bytes(0x40, 2, 0, id), publisher.expect(4));
                    id++;
                }
                publisher.send(0x31, str("a/q0"), new byte[10]); // QoS 0 retained
                publisher.send(0x32, str("sync"), bytes(0, id), bytes(1));
                publisher.expect(4);
            }

            final String all = answer(base, admin, "GET", "retained?filter=a/%23");
            assertTrue(all.contains("\"matched\":4") && all.contains("\"truncated\":false"), all);
            assertTrue(all.contains("{\"topic\":\"a/big\",\"bytes\":1019,\"payloadBytes\":1000,\"qos\":1,\"clientId\":\"pub\"}"), all);
            final String bounded = answer(base, admin, "GET", "retained?filter=%23&limit=2");
            assertTrue(bounded.contains("\"matched\":5") && bounded.contains("\"truncated\":true"), bounded);
            final String big = answer(base, admin, "GET", "retained?filter=%23&minBytes=100");
            assertTrue(big.contains("\"matched\":1") && big.contains("a/big"), big);
            final String qos0 = answer(base, admin, "GET", "retained?filter=%23&qos=0");
            assertTrue(qos0.contains("\"matched\":1") && qos0.contains("a/q0"), qos0);

            final String deleted = answer(base, admin, "DELETE", "retained?filter=a/%2B&qos=1");
            assertEquals("{\"deleted\":3,\"matched\":3,\"more\":false}", deleted);
            final String left = answer(base, admin, "GET", "retained?filter=%23");
            assertTrue(left.contains("\"matched\":2") && left.contains("a/q0") && left.contains("b/1"), left);
            assertEquals(2, broker.routingCounters().retained.get());

            // The CLI does the same through the admin API (token read from the data dir).
            final java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
            final String url = "http://127.0.0.1:" + broker.httpPort();
            assertEquals(0, dev.skylark.broker.cli.SkylarkMain.execute(new String[] {"retained", "list", "--filter",
                "b/#", "--url", url, "--data.dir", dataDir.toString()}, new java.io.PrintStream(printed, true)));
            assertTrue(printed.toString().contains("\"topic\":\"b/1\"") && printed.toString().contains("\"matched\":1"),
                printed.toString());
            printed.reset();
            assertEquals(0, dev.skylark.broker.cli.SkylarkMain.execute(new String[] {"retained", "delete", "--filter",
                "b/#", "--url", url, "--data.dir", dataDir.toString()}, new java.io.PrintStream(printed, true)));
            assertTrue(printed.toString().contains("\"deleted\":1"), printed.toString());
            assertEquals(1, broker.routingCounters().retained.get());

            assertEquals(400, call(base, admin, "DELETE", "retained").statusCode(), "DELETE needs a filter");
            assertEquals(400, call(base, admin, "GET", "retained?filter=a/%23/b").statusCode(), "invalid filter");
            assertEquals(401, call(base, "Bearer wrong", "GET", "retained").statusCode());
            assertEquals(404, call(base, admin, "GET", "retained/requests/999999").statusCode());
        }
    }

    private HttpResponse<String> call(final String base, final String admin, final String method, final String path)
        throws Exception
    {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", admin)
            .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Submits a request and polls its answer (202 while the routing agent has not looked yet). */
    private String answer(final String base, final String admin, final String method, final String path)
        throws Exception
    {
        final HttpResponse<String> submitted = call(base, admin, method, path);
        assertEquals(202, submitted.statusCode(), submitted.body());
        final Matcher at = Pattern.compile("\"answer\"\\s*:\\s*\"/admin/v1/([^\"]+)\"").matcher(submitted.body());
        assertTrue(at.find(), submitted.body());
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true)
        {
            final HttpResponse<String> answer = call(base, admin, "GET", at.group(1));
            if (answer.statusCode() == 200 || System.nanoTime() > deadline)
            {
                assertEquals(200, answer.statusCode(), answer.body());
                return answer.body();
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }
}
