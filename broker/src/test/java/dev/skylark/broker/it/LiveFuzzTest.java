package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.packet;
import static dev.skylark.broker.it.RawClient.str;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Mutated and random packets against a live broker: whatever arrives, the broker stays up, closes or answers only
 * the offending connection, and keeps delivering to a well-behaved client throughout.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LiveFuzzTest
{
    private static final long SEED = 0xF022L;
    private Broker broker;

    @BeforeEach
    void start()
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
    }

    @AfterEach
    void stop()
    {
        broker.close();
    }

    /** A small corpus of valid conversations (v3.1.1 and v5) to mutate. */
    private static List<byte[]> corpus()
    {
        final List<byte[]> corpus = new ArrayList<>();
        final byte[] connect3 = packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 30), str("f"));
        final byte[] connect5 = packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 30), bytes(3, 0x21, 0, 10), str("f"));
        final byte[] willConnect = packet(0x10, str("MQTT"), bytes(5, 0x0E, 0, 30), bytes(0), str("f"),
            bytes(5, 0x18, 0, 0, 0, 1), str("w/t"), str("gone"));
        final byte[] subscribe3 = packet(0x82, bytes(0, 1), str("a/+/c"), bytes(1));
        final byte[] subscribe5 = packet(0x82, bytes(0, 2), bytes(2, 0x0B, 7), str("$share/g/#"), bytes(0x2E));
        final byte[] publish3 = packet(0x32, str("a/b/c"), bytes(0, 3), bytes('p', 'a', 'y'));
        final byte[] publish5 = packet(0x35, str("a/b"), bytes(0, 4),
            bytes(13, 0x01, 1, 0x23, 0, 1, 0x26, 0, 1, 'k', 0, 1, 'v'), bytes('x'));
        final byte[] pubrel = packet(0x62, bytes(0, 4));
        final byte[] unsubscribe = packet(0xA2, bytes(0, 5), str("a/+/c"));
        final byte[] disconnect5 = packet(0xE0, bytes(0x04, 5, 0x11, 0, 0, 0, 9));
        corpus.add(concat(connect3, subscribe3, publish3, unsubscribe, packet(0xC0)));
        corpus.add(concat(connect5, subscribe5, publish5, pubrel, disconnect5));
        corpus.add(concat(willConnect, publish5, packet(0xC0)));
        return corpus;
    }

    private static byte[] concat(final byte[]... parts)
    {
        final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (final byte[] part : parts)
        {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] mutate(final byte[] input, final Random random)
    {
        final byte[] out = input.clone();
        final int edits = 1 + random.nextInt(4);
        for (int i = 0; i < edits; i++)
        {
            final int at = random.nextInt(out.length);
            switch (random.nextInt(4))
            {
                case 0 -> out[at] = (byte)random.nextInt(256);
                case 1 -> out[at] ^= (byte)(1 << random.nextInt(8));
                case 2 -> out[at] = (byte)(random.nextBoolean() ? 0 : 0xFF);
                default -> out[at] = (byte)(out[at] + (random.nextBoolean() ? 1 : -1));
            }
        }
        if (random.nextInt(8) == 0)
        {
            return java.util.Arrays.copyOf(out, 1 + random.nextInt(out.length)); // truncated
        }
        return out;
    }

    @Test
    void mutatedAndRandomInputNeverHurtsOtherClients() throws Exception
    {
        final Random random = new Random(SEED);
        final List<byte[]> corpus = corpus();
        try (RawClient watcher = new RawClient(broker.mqttPort());
            RawClient publisher = new RawClient(broker.mqttPort()))
        {
            watcher.send(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("watcher")).expect(2);
            watcher.send(0x82, bytes(0, 1), str("health/#"), bytes(0)).expect(9);
            publisher.send(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("healthy")).expect(2);

            final int cases = 2_000;
            for (int i = 0; i < cases; i++)
            {
                final byte[] input = random.nextInt(5) == 0 ?
                    randomBytes(random) : mutate(corpus.get(random.nextInt(corpus.size())), random);
                try (Socket fuzz = new Socket("127.0.0.1", broker.mqttPort()))
                {
                    final OutputStream out = fuzz.getOutputStream();
                    out.write(input);
                    out.flush();
                }
                catch (final IOException closedEarly)
                {
                    // the broker may close the connection before everything was written: fine
                }
                if (i % 100 == 0)
                {
                    // The well-behaved pair still works, promptly.
                    final byte[] payload = ("beat-" + i).getBytes();
                    publisher.send(0x30, str("health/" + i), payload);
                    final byte[] received = watcher.expect(3);
                    final byte[] expected = packet(0x30, str("health/" + i), payload);
                    assertArrayEquals(expected, received, "case " + i + " (seed " + SEED + ")");
                }
            }
        }
        assertEquals(0, broker.agentErrors(), "no exception escaped an agent");
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (broker.connectionCount() > 0 && System.nanoTime() < deadline)
        {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        assertEquals(0, broker.connectionCount(), "every fuzzing connection was closed, none leaked");
    }

    private static byte[] randomBytes(final Random random)
    {
        final byte[] bytes = new byte[1 + random.nextInt(64)];
        random.nextBytes(bytes);
        return bytes;
    }
}
