package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import dev.skylark.broker.status.CountersSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.packet;
import static dev.skylark.broker.it.RawClient.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A subscriber that stops reading never stalls a healthy one: past the outbound limit for longer than the timeout
 * it is disconnected, while the healthy subscriber receives every message.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SlowConsumerTest
{
    @Test
    void aStuckSubscriberIsDisconnectedAndTheHealthyOneGetsEverything() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1)
            .bindAddress("127.0.0.1").outboundBufferMax(1024 * 1024).slowConsumerTimeoutMs(200));
            Socket stuck = new Socket();
            RawClient healthy = new RawClient(broker.mqttPort());
            RawClient publisher = new RawClient(broker.mqttPort()))
        {
            stuck.setReceiveBufferSize(4096);
            stuck.connect(new java.net.InetSocketAddress("127.0.0.1", broker.mqttPort()));
            stuck.getOutputStream().write(packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("stuck")));
            stuck.getOutputStream().write(packet(0x82, bytes(0, 1), str("flood"), bytes(0)));
            final InputStream stuckIn = stuck.getInputStream();
            stuckIn.readNBytes(4 + 5); // CONNACK, SUBACK — and then it never reads again

            healthy.sendRaw(packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("healthy"))).expect(2);
            healthy.send(0x82, bytes(0, 1), str("flood"), bytes(1)).expect(9); // QoS 1: nothing may be dropped
            final AtomicLong received = new AtomicLong();
            final Thread reader = new Thread(() ->
            {
                try
                {
                    byte[] publish;
                    while ((publish = healthy.expect(3)) != null)
                    {
                        received.incrementAndGet();
                        final int idAt = publish.length - 1024 - 2;
                        healthy.send(0x40, bytes(publish[idAt], publish[idAt + 1])); // PUBACK
                    }
                }
                catch (final Exception | AssertionError end)
                {
                    // the test closes the socket when done
                }
            });
            reader.start();

            publisher.sendRaw(packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("publisher"))).expect(2);
            // QoS 1 publishes: the stuck subscriber gets them at QoS 0 (its subscription), the healthy one at QoS 1.
            long sent = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            final java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();
            while (disconnected(broker) == 0 && System.nanoTime() < deadline && sent < 60_000)
            {
                batch.reset();
                for (int i = 0; i < 64; i++)
                {
                    final long id = ++sent;
                    batch.writeBytes(packet(0x32, str("flood"), bytes((int)(id >> 8), (int)id), new byte[1024]));
                }
                publisher.sendRaw(batch.toByteArray());
            }
            final long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (disconnected(broker) == 0 && System.nanoTime() < waitUntil)
            {
                java.util.concurrent.locks.LockSupport.parkNanos(5_000_000); // still behind: the timeout runs out
            }
            assertEquals(1, disconnected(broker), "the stuck subscriber was disconnected");

            final long sentTotal = sent;
            final long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (received.get() < sentTotal && System.nanoTime() < until)
            {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
            assertEquals(sentTotal, received.get(), "the healthy subscriber got every message");
            assertTrue(sentTotal > 4096, "enough was sent to overflow the stuck one: " + sentTotal);
            healthy.close();
            reader.join(5000);
        }
    }

    private static long disconnected(final Broker broker)
    {
        return CountersSnapshot.of(broker.countersFile().reader()).total("skylark_slow_consumers_disconnected_total");
    }
}
