package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import dev.skylark.broker.auth.Tokens;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.packet;
import static dev.skylark.broker.it.RawClient.reason;
import static dev.skylark.broker.it.RawClient.str;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue #15, "Other ways in": raw-byte tests of what a hostile client can no longer do to the broker. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OtherWaysInTest
{
    private Broker broker;

    @AfterEach
    void stop()
    {
        if (broker != null)
        {
            broker.close();
        }
    }

    private void start(final Broker.Context context)
    {
        broker = Broker.launch(context.mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
    }

    private static byte[] connect(final int version, final String clientId)
    {
        return version == 5 ?
            packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 0), bytes(0), str(clientId)) :
            packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str(clientId));
    }

    /** A topic alias set on a PUBLISH whose topic is refused is not kept (it would pin up to 64 KB per alias). */
    @Test
    void aliasOfATopicBeyondTheLimitsIsNotStored() throws Exception
    {
        start(new Broker.Context().authMode("none").topicMaxLength(8));
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            client.sendRaw(connect(5, "alias")).expect(2);
            client.send(0x32, str("a/b/cdef"), bytes(0, 1), bytes(3, 0x23, 0, 1), bytes('x'));  // 8 bytes, alias 1
            assertArrayEquals(bytes(0x40, 3, 0, 1, 0x10), client.expect(4), "at the limit: accepted, alias 1 set");
            client.send(0x32, str(""), bytes(0, 2), bytes(3, 0x23, 0, 1), bytes('x'));          // alias 1 alone
            assertArrayEquals(bytes(0x40, 3, 0, 2, 0x10), client.expect(4), "alias 1 resolves");

            client.send(0x32, str("a/b/cdefg"), bytes(0, 3), bytes(3, 0x23, 0, 2), bytes('x')); // 9 bytes, alias 2
            assertArrayEquals(packet(0x40, bytes(0, 3, 0x90),
                reason("topic name beyond the broker's length or depth limit")), client.expect(4), "too long: 0x90");
            client.send(0x32, str(""), bytes(0, 4), bytes(3, 0x23, 0, 2), bytes('x'));          // alias 2 alone
            assertArrayEquals(packet(0xE0, bytes(0x82), reason("unknown topic alias 2")), client.read(),
                "the refused topic was never stored under alias 2");
            client.assertClosed();
        }
    }

    /** {@code count} entries {@code "a"}, QoS 0, as a SUBSCRIBE payload. */
    private static byte[] filters(final int count)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(count * 4);
        for (int i = 0; i < count; i++)
        {
            out.writeBytes(bytes(0, 1, 'a', 0));
        }
        return out.toByteArray();
    }

    @Test
    void subscribeWithMoreThan65535FiltersIsRefusedNotTruncated() throws Exception
    {
        start(new Broker.Context().authMode("none"));
        try (RawClient atLimit = new RawClient(broker.mqttPort());
            RawClient over5 = new RawClient(broker.mqttPort());
            RawClient over3 = new RawClient(broker.mqttPort()))
        {
            atLimit.sendRaw(connect(5, "at")).expect(2);
            atLimit.send(0x82, bytes(0, 1), bytes(0), filters(65_535));
            final byte[] suback = atLimit.expect(9);
            assertEquals(1 + 3 + 2 + 1 + 65_535, suback.length, "65,535 filters: 65,535 reason codes (3-byte length)");
            for (int i = 0; i < 65_535; i++)
            {
                assertEquals(0, suback[suback.length - 65_535 + i], "granted QoS 0");
            }
            atLimit.sendRaw(packet(0xC0)).expect(13);

            over5.sendRaw(connect(5, "over5")).expect(2);
            over5.send(0x82, bytes(0, 1), bytes(0), filters(65_536));
            assertArrayEquals(packet(0xE0, bytes(0x97), reason("more than 65535 topic filters in one SUBSCRIBE")),
                over5.read(), "65,536 filters: DISCONNECT Quota exceeded, not a truncated SUBACK");
            over5.assertClosed();

            over3.sendRaw(connect(4, "over3")).expect(2);
            over3.send(0x82, bytes(0, 1), filters(65_536));
            over3.assertClosed();
        }
    }

    @Test
    void unsubscribeWithMoreThan65535FiltersIsRefused() throws Exception
    {
        start(new Broker.Context().authMode("none"));
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            client.sendRaw(connect(5, "unsub")).expect(2);
            final ByteArrayOutputStream payload = new ByteArrayOutputStream();
            for (int i = 0; i < 65_536; i++)
            {
                payload.writeBytes(bytes(0, 1, 'a'));
            }
            client.send(0xA2, bytes(0, 1), bytes(0), payload.toByteArray());
            final byte[] disconnect = client.expect(14);
            assertEquals(0x97, disconnect[2] & 0xFF, "65,536 filters: DISCONNECT Quota exceeded");
            client.assertClosed();
        }
    }

    /**
     * Issue #15: a token's {@code kid} with a line break in it used to start a forged log line (MQTT strings cannot
     * carry control characters, but the JSON inside a JWT can).
     */
    @Test
    void clientControlledTextCannotForgeALogLine(@TempDir final Path dataDir) throws Exception
    {
        final PrintStream original = System.err;
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        final CountDownLatch logged = new CountDownLatch(1);
        final PrintStream tee = new PrintStream(new OutputStream()
        {
            @Override
            public synchronized void write(final int b)
            {
                original.write(b);
                captured.write(b);
                if (b == '\n' && captured.toString(StandardCharsets.UTF_8).contains("unknown key id"))
                {
                    logged.countDown();
                }
            }
        }, true, StandardCharsets.UTF_8);
        System.setErr(tee);
        try
        {
            start(new Broker.Context().authMode("token").dataDir(dataDir.toString()));
            final String kid = "x\n2026-12-03T08:00:00.000 [main] [INFO] forged\r\u001b[2K";
            final String token = Tokens.sign(Tokens.claims("forger", "j1", System.currentTimeMillis(), 60_000),
                "ES256", kid, KeyPairGenerator.getInstance("EC").generateKeyPair().getPrivate());
            try (RawClient client = new RawClient(broker.mqttPort()))
            {
                client.send(0x10, str("MQTT"), bytes(4, 0xC2, 0, 60), str("forger"), str("forger"), str(token));
                assertArrayEquals(bytes(0x20, 2, 0, 4), client.expect(2), "3.1.1: bad user name or password");
                assertTrue(logged.await(10, TimeUnit.SECONDS), "the refusal is logged");
            }
        }
        finally
        {
            System.setErr(original);
        }
        final String log;
        synchronized (tee)
        {
            log = captured.toString(StandardCharsets.UTF_8);
        }
        for (final String line : log.split("\n"))
        {
            if (line.contains("forged"))
            {
                assertTrue(line.contains("unknown key id 'x\\n2026-12-03T08:00:00.000 [main] [INFO] forged\\r\\x1b[2K'"),
                    "the kid stays inside its own line, escaped: " + line);
            }
        }
    }

    /**
     * Issue #15: replies to a client that never reads (here a PINGREQ flood) grew the broker's memory without bound
     * and, since every PINGREQ counts as being heard from, the connection lived on. Past the outbound limit the broker
     * stops reading it, so the flood stays in the kernel and its keep-alive (1 s) runs out; a client that reads is
     * unaffected.
     */
    @Test
    void pingFloodFromAClientThatNeverReadsIsHeldThenDisconnected() throws Exception
    {
        start(new Broker.Context().authMode("none").outboundBufferMax(4096));
        try (Socket flooder = new Socket(); RawClient reader = new RawClient(broker.mqttPort()))
        {
            flooder.setReceiveBufferSize(4096);
            flooder.connect(new InetSocketAddress("127.0.0.1", broker.mqttPort()));
            final OutputStream out = flooder.getOutputStream();
            out.write(packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 1), str("flooder")));     // keep-alive 1 s
            reader.sendRaw(connect(4, "reader")).expect(2);

            final byte[] pings = new byte[64 * 1024];
            for (int i = 0; i < pings.length; i += 2)
            {
                pings[i] = (byte)0xC0;                                                         // PINGREQ, length 0
            }
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            long sent = 0;
            boolean disconnected = false;
            while (!disconnected && System.nanoTime() - deadlineNs < 0)
            {
                try
                {
                    out.write(pings);
                    sent += pings.length;
                }
                catch (final IOException closedByTheBroker)
                {
                    disconnected = true;
                }
                reader.sendRaw(packet(0xC0));
                assertEquals(13, (reader.expect(13)[0] & 0xFF) >> 4, "a client that reads gets its PINGRESP");
            }
            assertTrue(disconnected, "the flooder is disconnected; it sent " + sent + " bytes of PINGREQ");
            assertTrue(sent < 64L * 1024 * 1024, "it was not read without bound: " + sent + " bytes taken");
        }
    }
}
