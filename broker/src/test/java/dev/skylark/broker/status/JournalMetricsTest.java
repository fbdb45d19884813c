package dev.skylark.broker.status;

import dev.skylark.broker.Broker;
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
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The journal's health on {@code /metrics} with a real journal ({@code durability=os}): after QoS 1 publishes were
 * acknowledged (so journaled), the append-and-sync histogram has counted batches, the bytes gauge has grown, and the
 * durable lag is there (0 once nothing waits).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JournalMetricsTest
{
    private static final int PUBLISHES = 10;

    @TempDir
    Path dir;

    @Test
    void journalHealthIsExported() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").ioThreads(1).mqttPort(0).httpPort(0)
            .durability("os").bindAddress("127.0.0.1").dataDir(dir.resolve("data").toString()));
            Socket publisher = new Socket("127.0.0.1", broker.mqttPort()))
        {
            publisher.setSoTimeout(10_000);
            final OutputStream out = publisher.getOutputStream();
            final InputStream in = publisher.getInputStream();
            out.write(new byte[]{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 1, 'p'});   // CONNECT "p"
            assertEquals(0x20, in.readNBytes(4)[0]);                                          // CONNACK
            for (int i = 1; i <= PUBLISHES; i++)
            {
                out.write(new byte[]{0x32, 8, 0, 3, 'j', '/', 'x', 0, (byte)i, (byte)i});      // PUBLISH QoS 1, id i
                assertEquals(0x40, in.readNBytes(4)[0], "PUBACK " + i + " (after the journal)");
            }
            final String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("# TYPE skylark_journal_append_seconds histogram"), metrics);
            assertTrue(value(metrics, "skylark_journal_append_seconds_count") >= 1, metrics);
            assertTrue(value(metrics, "skylark_journal_append_seconds_sum") > 0, metrics);
            assertTrue(value(metrics, "skylark_journal_bytes") > PUBLISHES * 3, metrics);
            assertTrue(value(metrics, "skylark_journal_generation") >= 0, metrics);
            assertEquals(0, value(metrics, "skylark_journal_durable_lag_records"), metrics);
        }
    }

    private static double value(final String metrics, final String name)
    {
        final Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(metrics);
        assertTrue(m.find(), "no " + name);
        return Double.parseDouble(m.group(1));
    }
}
