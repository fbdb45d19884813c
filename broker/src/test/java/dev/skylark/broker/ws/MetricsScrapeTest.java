package dev.skylark.broker.ws;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /metrics} as Prometheus reads it: scraped over HTTP after known traffic and parsed by the Prometheus
 * project's own Python parser ({@code prometheus_client.parser}, Debian package {@code python3-prometheus-client},
 * which .ci/run installs), then checked family by family against that traffic.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MetricsScrapeTest
{
    private static final int PUBLISHES = 25;

    /** Prints every family (name, type, help) and sample (family, name, sorted labels, value), tab separated. */
    private static final String PARSER = String.join("\n",
        "import sys",
        "from prometheus_client.parser import text_string_to_metric_families",
        "for f in text_string_to_metric_families(open(sys.argv[1], encoding='utf-8').read()):",
        "    print('F\\t%s\\t%s\\t%s' % (f.name, f.type, f.documentation))",
        "    for s in f.samples:",
        "        labels = ','.join('%s=%s' % (k, v) for k, v in sorted(s.labels.items()))",
        "        print('S\\t%s\\t%s\\t%s\\t%r' % (f.name, s.name, labels, s.value))");

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();
    private long refusalConnackBytes;

    @Test
    void metricsParseWithThePrometheusParserAndMatchKnownTraffic() throws Exception
    {
        final String python = pythonWithParser();
        Assumptions.assumeTrue(python != null, "skipped: no python3 with prometheus_client here " +
            "(apt-get install python3-prometheus-client; CI installs it through .ci/run)");

        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").ioThreads(2).mqttPort(0).httpPort(0)
            .bindAddress("127.0.0.1").dataDir(dir.resolve("data").toString()).clientIdMaxLength(8));
            Socket subscriber = new Socket("127.0.0.1", broker.mqttPort());
            Socket publisher = new Socket("127.0.0.1", broker.mqttPort()))
        {
            subscriber.setSoTimeout(5000);
            final InputStream in = subscriber.getInputStream();
            final OutputStream sub = subscriber.getOutputStream();
            sub.write(new byte[]{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 1, 's'});   // CONNECT "s"
            assertEquals(0x20, in.readNBytes(4)[0]);                                          // CONNACK
            sub.write(new byte[]{(byte)0x82, 8, 0, 1, 0, 3, 'm', '/', '#', 0});                 // SUBSCRIBE m/# QoS 0
            assertEquals((byte)0x90, in.readNBytes(5)[0]);                                    // SUBACK
            final OutputStream pub = publisher.getOutputStream();
            pub.write(new byte[]{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 1, 'p'});   // CONNECT "p"
            for (int i = 0; i < PUBLISHES; i++)
            {
                pub.write(new byte[]{0x30, 6, 0, 3, 'm', '/', 'x', (byte)i});                  // PUBLISH m/x QoS 0
            }
            for (int i = 0; i < PUBLISHES; i++)
            {
                assertArrayEquals(new byte[]{0x30, 6, 0, 3, 'm', '/', 'x', (byte)i}, in.readNBytes(8), "delivery " + i);
            }
            try (Socket refused = new Socket("127.0.0.1", broker.mqttPort()))
            {
                refused.setSoTimeout(5000);
                // v5 CONNECT with a 9-byte client id, one over the limit: CONNACK 0x85, then closed.
                refused.getOutputStream().write(new byte[]{0x10, 22, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0,
                    0, 9, 'n', 'i', 'n', 'e', 'b', 'y', 't', 'e', 's'});
                final InputStream refusal = refused.getInputStream();
                final byte[] header = refusal.readNBytes(2);
                assertEquals(0x20, header[0], "CONNACK");
                final byte[] connack = refusal.readNBytes(header[1]);                             // (Reason String)
                refusalConnackBytes = 2 + header[1];
                assertEquals((byte)0x85, connack[1], "Client Identifier not valid");
                assertEquals(-1, refusal.read());
            }

            // The refused socket's close reaches the gauges a moment after the client sees it: scrape until it has.
            Scrape scrape = scrape(broker, python);
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (scrape.sum("skylark_connections") != 3 && System.nanoTime() < deadline)
            {
                LockSupport.parkNanos(10_000_000);
                scrape = scrape(broker, python);
            }

            for (final Map.Entry<String, String> family : scrape.types.entrySet())
            {
                // The broker's own families are counters and gauges, but for skylark_build (an info); the JVM's
                // (instrumentation-jvm) add infos and the GC summary.
                assertTrue(family.getValue().equals("counter") || family.getValue().equals("gauge") ||
                    family.getKey().equals("skylark_build") && family.getValue().equals("info") ||
                    !family.getKey().startsWith("skylark_") && List.of("info", "summary").contains(family.getValue()),
                    family.getKey() + " is typed: " + family.getValue());
                assertFalse(scrape.help.get(family.getKey()).isBlank(), family.getKey() + " has help");
            }
            assertEquals("counter", scrape.types.get("skylark_publishes_routed"));
            assertEquals(PUBLISHES, scrape.value("skylark_publishes_routed_total", ""), "publishes routed");
            assertEquals("counter", scrape.types.get("skylark_messages_sent"));
            assertEquals(PUBLISHES, scrape.sum("skylark_messages_sent"), "PUBLISH packets sent, over all I/O threads");
            assertEquals(2, scrape.samples("skylark_messages_sent").size(), "one series per I/O thread (io label)");
            assertEquals("gauge", scrape.types.get("skylark_inbound_ring_bytes"), "queue depth: I/O to routing ring");
            assertEquals("gauge", scrape.types.get("skylark_outbound_ring_bytes"), "queue depth: routing to I/O rings");
            assertTrue(scrape.sum("skylark_inbound_ring_bytes") >= 0 && scrape.sum("skylark_outbound_ring_bytes") >= 0);
            assertEquals("gauge", scrape.types.get("skylark_connections"));
            assertEquals(3, scrape.sum("skylark_connections"), "subscriber, publisher and this scrape");
            assertEquals(2, scrape.value("skylark_clients_connected", ""));
            assertEquals(2, scrape.value("skylark_sessions", ""));
            assertEquals(1, scrape.value("skylark_subscriptions", ""));
            assertEquals(3, scrape.sum("skylark_connections_accepted"), "MQTT connections accepted");
            assertEquals(1, scrape.sum("skylark_connects_refused"));
            assertEquals(0, scrape.sum("skylark_protocol_errors"));
            assertEquals(0, scrape.value("skylark_queue_dropped_total", "reason=bytes"));
            assertEquals(0, scrape.value("skylark_queue_dropped_total", "reason=messages"));

            // Packets and bytes by type, per I/O thread; HTTP (this scrape) is not an MQTT client.
            assertEquals(PUBLISHES, scrape.sumOf("skylark_packets_received_total", "type=publish"), "PUBLISH in");
            assertEquals(PUBLISHES, scrape.sumOf("skylark_packets_sent_total", "type=publish"), "PUBLISH out");
            assertEquals(3, scrape.sumOf("skylark_packets_received_total", "type=connect"));
            assertEquals(1, scrape.sumOf("skylark_packets_received_total", "type=subscribe"));
            assertEquals(1, scrape.sumOf("skylark_packets_sent_total", "type=suback"));
            assertEquals(3, scrape.sumOf("skylark_packets_sent_total", "type=connack"), "two accepted, one refused");
            assertEquals(2 * 15 + 10 + PUBLISHES * 8 + 24, scrape.sum("skylark_bytes_received"), "MQTT bytes in");
            assertEquals(2 * 4 + 5 + PUBLISHES * 8 + scrape.connackRefusalBytes, scrape.sum("skylark_bytes_sent"));
            assertEquals("gauge", scrape.types.get("skylark_client_connections"));
            assertEquals(2, scrape.sumOf("skylark_client_connections", "transport=tcp"), "two MQTT/TCP clients open");
            assertEquals(0, scrape.sumOf("skylark_client_connections", "transport=ws"));
            assertEquals(0, scrape.sumOf("skylark_client_connections", "transport=tls"));
            assertEquals(0, scrape.sumOf("skylark_client_connections", "transport=wss"));
            // Every drop in one family, by reason; build info; the JVM's own metrics.
            assertEquals("counter", scrape.types.get("skylark_messages_dropped"));
            assertEquals(0, scrape.value("skylark_messages_dropped_total", "reason=slow_subscriber"));
            assertEquals(0, scrape.value("skylark_messages_dropped_total", "reason=queue_bytes"));
            assertEquals(1, scrape.value("skylark_build_info", "java=" + Runtime.version() + ",version=" +
                dev.skylark.broker.status.BuildInfo.VERSION));
            assertTrue(scrape.sum("jvm_memory_used_bytes") > 0, "JVM memory");
            assertTrue(scrape.types.containsKey("jvm_threads_current"), "JVM threads");
            assertTrue(scrape.types.containsKey("process_cpu_seconds"), "process CPU: " + scrape.types.keySet());
        }
    }

    @Test
    void authenticationCountersAreExportedByReason() throws Exception
    {
        final String python = pythonWithParser();
        Assumptions.assumeTrue(python != null, "skipped: no python3 with prometheus_client here");
        try (Broker broker = Broker.launch(new Broker.Context().authMode("token").ioThreads(1).mqttPort(0).httpPort(0)
            .bindAddress("127.0.0.1").dataDir(dir.resolve("data").toString())))
        {
            for (int i = 0; i < 2; i++)
            {
                try (Socket refused = new Socket("127.0.0.1", broker.mqttPort()))
                {
                    refused.setSoTimeout(5000);
                    // v3.1.1 CONNECT "c", user name "c", password "x" (no token): CONNACK 4, bad user name or password.
                    refused.getOutputStream().write(new byte[]{0x10, 19, 0, 4, 'M', 'Q', 'T', 'T', 4, (byte)0xC2, 0, 60,
                        0, 1, 'c', 0, 1, 'c', 0, 1, 'x'});
                    final byte[] connack = refused.getInputStream().readNBytes(4);
                    assertEquals(0x20, connack[0]);
                    assertEquals(4, connack[3], "bad user name or password");
                }
            }
            final Scrape scrape = scrape(broker, python);
            assertEquals("counter", scrape.types.get("skylark_auth_connects_refused"));
            assertEquals(2, scrape.value("skylark_auth_connects_refused_total", "reason=bad_user_name_or_password"));
            assertEquals(0, scrape.value("skylark_auth_connects_refused_total", "reason=not_authorized"));
            assertEquals(0, scrape.value("skylark_auth_acl_denied_total", "action=publish"));
            assertEquals(0, scrape.value("skylark_auth_acl_denied_total", "action=subscribe"));
            assertEquals(0, scrape.value("skylark_auth_token_expiries_total", ""));
            assertEquals(0, scrape.value("skylark_auth_token_revocations_total", ""));
            assertEquals(0, scrape.value("skylark_auth_reauthentications_total", "result=accepted"));
            assertEquals(0, scrape.value("skylark_auth_reauthentications_total", "result=refused"));
        }
    }

    private Scrape scrape(final Broker broker, final String python) throws Exception
    {
        final HttpResponse<String> response = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
            response.headers().toString());
        final Path text = dir.resolve("metrics.txt");
        Files.writeString(text, response.body());
        final Path script = dir.resolve("parse.py");
        Files.writeString(script, PARSER);
        final Process process = new ProcessBuilder(python, script.toString(), text.toString())
            .redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), "the Prometheus parser refused /metrics:\n" + output + "\n" + response.body());
        final Scrape scrape = new Scrape(output);
        scrape.connackRefusalBytes = refusalConnackBytes;
        return scrape;
    }

    /** The parser's view: family types and help, samples by family and by name + labels. */
    private static final class Scrape
    {
        final Map<String, String> types = new HashMap<>();
        final Map<String, String> help = new HashMap<>();
        final Map<String, List<Double>> byFamily = new HashMap<>();
        final Map<String, Double> byKey = new HashMap<>();

        Scrape(final String output)
        {
            for (final String line : output.split("\n"))
            {
                final String[] fields = line.split("\t", -1);
                if (fields[0].equals("F"))
                {
                    types.put(fields[1], fields[2]);
                    help.put(fields[1], fields[3]);
                }
                else if (fields[0].equals("S"))
                {
                    final double value = Double.parseDouble(fields[4]);
                    byFamily.computeIfAbsent(fields[1], (k) -> new ArrayList<>()).add(value);
                    byKey.put(fields[2] + "{" + fields[3] + "}", value);
                }
            }
        }

        List<Double> samples(final String family)
        {
            return byFamily.getOrDefault(family, List.of());
        }

        long sum(final String family)
        {
            assertTrue(byFamily.containsKey(family), "no family " + family + " in " + types.keySet());
            double sum = 0;
            for (final double value : byFamily.get(family))
            {
                sum += value;
            }
            return (long)sum;
        }

        /** The CONNACK 0x85 with its Reason String, as this test's refused client read it. */
        long connackRefusalBytes;

        /** Sum of the samples of one name whose labels include the given pair (e.g. every I/O thread's). */
        long sumOf(final String name, final String pair)
        {
            double sum = 0;
            boolean found = false;
            for (final Map.Entry<String, Double> sample : byKey.entrySet())
            {
                final String key = sample.getKey();
                if (key.startsWith(name + "{") && List.of(key.substring(name.length() + 1, key.length() - 1)
                    .split(",")).contains(pair))
                {
                    sum += sample.getValue();
                    found = true;
                }
            }
            assertTrue(found, "no sample " + name + "{" + pair + ",...} in " + byKey.keySet());
            return (long)sum;
        }

        long value(final String name, final String labels)
        {
            final Double value = byKey.get(name + "{" + labels + "}");
            assertTrue(value != null, "no sample " + name + "{" + labels + "} in " + byKey.keySet());
            return value.longValue();
        }
    }

    /** A python3 that can import prometheus_client: Debian's first (its package installs there), then PATH's. */
    private static String pythonWithParser()
    {
        for (final String candidate : new String[]{"/usr/bin/python3", "python3"})
        {
            try
            {
                final Process probe = new ProcessBuilder(candidate, "-c", "import prometheus_client.parser")
                    .redirectErrorStream(true).start();
                probe.getInputStream().readAllBytes();
                if (probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0)
                {
                    return candidate;
                }
            }
            catch (final Exception notThere)
            {
                // try the next one
            }
        }
        return null;
    }
}
