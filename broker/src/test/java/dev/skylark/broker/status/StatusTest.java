package dev.skylark.broker.status;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StatusTest
{
    @TempDir
    Path dataDir;

    @Test
    void countersAreReadableFromTheFileAndRenderedForPrometheus() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").ioThreads(2).mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .dataDir(dataDir.toString()));
            Socket subscriber = new Socket("127.0.0.1", broker.mqttPort());
            Socket publisher = new Socket("127.0.0.1", broker.mqttPort()))
        {
            subscriber.setSoTimeout(5000);
            final OutputStream sub = subscriber.getOutputStream();
            final InputStream in = subscriber.getInputStream();
            sub.write(new byte[]{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 1, 's'}); // CONNECT "s"
            assertEquals(0x20, in.readNBytes(4)[0]);                                        // CONNACK
            sub.write(new byte[]{(byte)0x82, 6, 0, 1, 0, 1, 't', 0});                       // SUBSCRIBE "t" QoS 0
            assertEquals((byte)0x90, in.readNBytes(5)[0]);                                  // SUBACK
            final OutputStream pub = publisher.getOutputStream();
            pub.write(new byte[]{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 1, 'p'}); // CONNECT "p"
            pub.write(new byte[]{0x30, 4, 0, 1, 't', 'x'});                                  // PUBLISH "t" "x"
            assertEquals(0x30, in.readNBytes(6)[0]);                                        // delivered

            try (CountersFile file = CountersFile.open(dataDir))
            {
                assertEquals(ProcessHandle.current().pid(), file.pid());
                CountersSnapshot snapshot = CountersSnapshot.of(file.reader());
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (snapshot.total("skylark_publishes_routed_total") < 1 && System.nanoTime() < deadline)
                {
                    LockSupport.parkNanos(1_000_000);
                    snapshot = CountersSnapshot.of(file.reader());
                }
                assertEquals(1, snapshot.total("skylark_publishes_routed_total"));
                assertEquals(1, snapshot.total("skylark_messages_sent_total"));
                assertEquals(2, snapshot.total("skylark_sessions"));
                assertEquals(1, snapshot.total("skylark_subscriptions"));
                assertEquals(2, snapshot.total("skylark_connections_accepted_total"));

                final String metrics = new String(PrometheusRenderer.render(snapshot), StandardCharsets.UTF_8);
                assertTrue(metrics.contains("# TYPE skylark_messages_sent_total counter"), metrics);
                assertTrue(metrics.contains("skylark_messages_sent_total{io=\"0\"} 1.0"), metrics);
                assertTrue(metrics.contains("skylark_messages_sent_total{io=\"1\"} 0.0"), metrics);
                assertTrue(metrics.contains("# TYPE skylark_sessions gauge"), metrics);
                assertTrue(metrics.contains("skylark_sessions 2.0"), metrics);
                // A counter split by reason: one metric, one help line, a series per reason.
                assertTrue(metrics.contains("# HELP skylark_queue_dropped_total QoS 1/2 messages dropped: session queue " +
                    "full\n"), metrics);
                assertTrue(metrics.contains("skylark_queue_dropped_total{reason=\"bytes\"} 0.0"), metrics);
                assertTrue(metrics.contains("skylark_queue_dropped_total{reason=\"messages\"} 0.0"), metrics);
                assertTrue(metrics.contains("skylark_connections{io=\"0\"} 1.0"), metrics);
                assertTrue(metrics.contains("skylark_clients_connected 2.0"), metrics);
            }
        }
    }
}
