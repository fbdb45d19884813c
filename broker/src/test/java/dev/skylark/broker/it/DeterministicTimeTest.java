package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import dev.skylark.broker.Durability;
import dev.skylark.broker.ThreadingMode;
import dev.skylark.broker.auth.AuthMode;
import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static dev.skylark.broker.fuzz.Packets.bytes;
import static dev.skylark.broker.fuzz.Packets.packet;
import static dev.skylark.broker.fuzz.Packets.props;
import static dev.skylark.broker.fuzz.Packets.str;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Time limits at their exact boundaries, on a broker in {@link ThreadingMode#INVOKER} with a hand-moved clock: no
 * broker thread runs, the test calls {@link Broker#doWork()} itself and moves a {@link CachedNanoClock}, so a limit
 * is checked at boundary − 1 ms (still within) and boundary + 1 ms (past) without waiting for real time. The clients
 * are real sockets speaking MQTT as byte literals. Each boundary side gets a broker of its own, so the second check
 * never depends on when the first one ran a periodic check.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeterministicTimeTest
{
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long S = TimeUnit.SECONDS.toNanos(1);
    /** A deadline in real time for the condition waits only: the broker's clock is the hand-moved one. */
    private static final long CONDITION_DEADLINE_NS = TimeUnit.SECONDS.toNanos(5);

    @TempDir
    Path dataDir;

    private final CachedNanoClock clock = new CachedNanoClock();
    private final List<Closeable> closeables = new ArrayList<>();
    private Broker broker;

    /** A broker driven by this test's thread, on this test's clock; connect timeout {@code connectTimeoutMs}. */
    private Broker launch(final int connectTimeoutMs)
    {
        return launch(connectTimeoutMs, 1);
    }

    private Broker launch(final int connectTimeoutMs, final int ioThreads)
    {
        // Start at the real monotonic time: code still reading System.nanoTime() then stays close to the test clock.
        clock.update(System.nanoTime());
        broker = Broker.launch(new Broker.Context()
            .threadingMode(ThreadingMode.INVOKER)
            .durability(Durability.NONE)
            .authMode(AuthMode.NONE)
            .nanoClock(clock)
            .dataDir(dataDir.toString())
            .bindAddress("127.0.0.1").mqttPort(0).httpPort(-1)
            .ioThreads(ioThreads)
            .sysIntervalS(0)
            .connectTimeoutMs(connectTimeoutMs));
        return broker;
    }

    private Broker launch()
    {
        return launch(600_000);
    }

    @AfterEach
    void close() throws IOException
    {
        for (final Closeable closeable : closeables)
        {
            closeable.close();
        }
        if (broker != null)
        {
            assertEquals(0, broker.agentErrors(), "agent errors");
            broker.close();
        }
    }

    // ---- keep-alive: 1.5 x the keep-alive after the last packet --------------------------------------------------

    @ParameterizedTest(name = "v5 keep-alive 2 s, checked at 3 s {0} ms")
    @ValueSource(longs = {-1, +1})
    void keepAliveV5(final long offsetMs) throws IOException
    {
        launch();
        final Client client = connect();
        final long connectedNs = clock.nanoTime();
        client.send(connectV5("ka5", 0x02, 2, 0));
        assertEquals(0, client.connack()[3], "CONNACK reason");

        clock.update(connectedNs + 3 * S + offsetMs * MS);
        pump(20);
        if (offsetMs < 0)
        {
            assertStillConnected(client);
        }
        else
        {
            // DISCONNECT (a short one: remaining length in one byte) with reason 0x8D Keep Alive timeout, then the
            // broker closes the connection.
            final byte[] disconnect = client.read();
            assertNotNull(disconnect, "DISCONNECT, not the end of the stream");
            assertEquals(0xE0, disconnect[0] & 0xFF, "DISCONNECT");
            assertEquals(0x8D, disconnect[2] & 0xFF, "reason: Keep Alive timeout");
            client.assertClosed();
        }
    }

    @ParameterizedTest(name = "3.1.1 keep-alive 2 s, checked at 3 s {0} ms")
    @ValueSource(longs = {-1, +1})
    void keepAliveV311(final long offsetMs) throws IOException
    {
        launch();
        final Client client = connect();
        final long connectedNs = clock.nanoTime();
        client.send(packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 2), str("ka4")));
        assertArrayEquals(bytes(0x20, 2, 0, 0), client.read(), "CONNACK accepted");

        clock.update(connectedNs + 3 * S + offsetMs * MS);
        pump(20);
        if (offsetMs < 0)
        {
            assertStillConnected(client);
        }
        else
        {
            client.assertClosed(); // 3.1.1 has no DISCONNECT from the server: the connection just closes
        }
    }

    // ---- connect timeout: a socket that sends no CONNECT ----------------------------------------------------------

    @ParameterizedTest(name = "connect timeout 1 s, checked at 1 s {0} ms")
    @ValueSource(longs = {-1, +1})
    void connectTimeout(final long offsetMs) throws IOException
    {
        launch(1000);
        // The connection's accept time lies between these two readings: the test clock stands at the first while
        // the socket is accepted, and MqttConnectionHandler still takes System.nanoTime() at accept (a real time a
        // little later). Checking -1 ms from the first and +1 ms from the second holds for either clock.
        final long beforeNs = clock.nanoTime();
        final Client client = connect();
        final long afterNs = Math.max(beforeNs, System.nanoTime());

        clock.update((offsetMs < 0 ? beforeNs : afterNs) + S + offsetMs * MS);
        pump(20);
        if (offsetMs < 0)
        {
            assertEquals(1, broker.connectionCount(), "still open before the connect timeout");
            assertEquals(0, client.available(), "nothing sent");
            client.send(connectV5("late", 0x02, 0, 0));
            assertEquals(0, client.connack()[3], "a CONNECT just in time is accepted");
        }
        else
        {
            client.assertClosed();
        }
    }

    // ---- session expiry ----------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "session expiry 10 s, reconnect at 10 s {0} ms")
    @ValueSource(longs = {-1, +1})
    void sessionExpiry(final long offsetMs) throws IOException
    {
        launch();
        final Client first = connect();
        first.send(connectV5("exp", 0x02, 0, 10));
        assertEquals(0, first.connack()[3]);
        first.send(bytes(0xE0, 0x01, 0x00)); // DISCONNECT, normal: the session stays for its expiry interval
        first.assertClosed();
        pumpUntil(() -> broker.connectionCount() == 0, "connection gone");
        pump(20);
        final long disconnectedNs = clock.nanoTime();

        clock.update(disconnectedNs + 10 * S + offsetMs * MS);
        pump(20); // the broker notices the time before the client comes back
        final Client again = connect();
        again.send(connectV5("exp", 0x00, 0, 10));
        final byte[] connack = again.connack();
        assertEquals(0, connack[3], "CONNACK reason");
        assertEquals(offsetMs < 0 ? 1 : 0, connack[2] & 0x01, "session present");
    }

    // ---- will delay against session expiry --------------------------------------------------------------------------

    @ParameterizedTest(name = "will delay {0} s, session expiry {1} s: will at 2 s {2} ms")
    @CsvSource({"2, 5, -1", "2, 5, 1", "5, 2, -1", "5, 2, 1"})
    void willAtTheShorterOfDelayAndExpiry(final int willDelayS, final int expiryS, final long offsetMs)
        throws IOException
    {
        launch();
        final Client subscriber = connect();
        subscriber.send(connectV5("watcher", 0x02, 0, 0));
        assertEquals(0, subscriber.connack()[3]);
        subscriber.send(packet(0x82, bytes(0, 1), props(), str("will/t"), bytes(0x00)));
        assertEquals(0x90, subscriber.read()[0] & 0xFF, "SUBACK");

        final Client publisher = connect();
        // Flags: will flag 0x04 + clean start 0x02; Will Properties: Will Delay Interval (0x18).
        publisher.send(packet(0x10, str("MQTT"), bytes(5, 0x06, 0, 0),
            props(bytes(0x11), int32(expiryS)),
            str("dying"),
            props(bytes(0x18), int32(willDelayS)), str("will/t"), str("gone")));
        assertEquals(0, publisher.connack()[3]);
        publisher.close(); // no DISCONNECT: the will stands
        pumpUntil(() -> broker.connectionCount() == 1, "publisher's connection gone");
        pump(20);
        final long lostNs = clock.nanoTime();

        clock.update(lostNs + 2 * S + offsetMs * MS);
        pump(20);
        if (offsetMs < 0)
        {
            assertEquals(0, subscriber.available(), "no will before the shorter of delay and expiry");
        }
        else
        {
            final byte[] will = subscriber.read();
            assertEquals(0x30, will[0] & 0xF0, "PUBLISH");
            assertTrue(new String(will, java.nio.charset.StandardCharsets.UTF_8).endsWith("gone"), "the will payload");
        }
    }

    // ---- message expiry of a queued copy ----------------------------------------------------------------------------

    @ParameterizedTest(name = "message expiry 10 s, subscriber back at {0} ms")
    @ValueSource(longs = {4_500, 9_999, 10_001})
    void queuedMessageExpiry(final long backAfterMs) throws IOException
    {
        launch();
        final Client subscriber = connect();
        subscriber.send(connectV5("offline", 0x02, 0, 600));
        assertEquals(0, subscriber.connack()[3]);
        subscriber.send(packet(0x82, bytes(0, 1), props(), str("m/t"), bytes(0x01)));
        assertEquals(0x90, subscriber.read()[0] & 0xFF, "SUBACK");
        subscriber.send(bytes(0xE0, 0x01, 0x00));
        subscriber.assertClosed();

        final Client publisher = connect();
        publisher.send(connectV5("pub", 0x02, 0, 0));
        assertEquals(0, publisher.connack()[3]);
        final long publishedNs = clock.nanoTime();
        // PUBLISH QoS 1, packet id 7, Message Expiry Interval (0x02) 10 s.
        publisher.send(packet(0x32, str("m/t"), bytes(0, 7), props(bytes(0x02), int32(10)), bytes('x')));
        assertArrayEquals(bytes(0x40, 2, 0, 7), slice(publisher.read(), 0, 4), "PUBACK");

        clock.update(publishedNs + backAfterMs * MS);
        pump(20);
        final Client back = connect();
        back.send(connectV5("offline", 0x00, 0, 600));
        final byte[] connack = back.connack();
        assertEquals(1, connack[2] & 0x01, "session present");
        if (backAfterMs < 10_000)
        {
            final byte[] publish = back.read();
            assertEquals(0x30, publish[0] & 0xF0, "the queued PUBLISH");
            final long remainingS = (10_000 - backAfterMs + 999) / 1000;
            assertEquals(remainingS, messageExpiry(publish), "Message Expiry Interval: what is left of it");
        }
        else
        {
            pump(20);
            assertEquals(0, back.available(), "an expired message is not delivered");
            back.send(bytes(0xC0, 0)); // PINGREQ: the first thing back is its PINGRESP
            assertArrayEquals(bytes(0xD0, 0), back.read(), "PINGRESP, no PUBLISH");
        }
    }

    /** Agent 0 accepts and deals connections to the other agents: on one thread in invoker mode too. */
    @Test
    void invokerModeRoutesBetweenIoAgents() throws IOException
    {
        launch(600_000, 2);
        final Client subscriber = connect();
        subscriber.send(connectV5("s", 0x02, 0, 0));
        assertEquals(0, subscriber.connack()[3]);
        subscriber.send(packet(0x82, bytes(0, 1), props(), str("r/t"), bytes(0x01)));
        assertEquals(0x90, subscriber.read()[0] & 0xFF, "SUBACK");
        final Client publisher = connect();
        publisher.send(connectV5("p", 0x02, 0, 0));
        assertEquals(0, publisher.connack()[3]);
        publisher.send(packet(0x32, str("r/t"), bytes(0, 3), props(), bytes('h', 'i')));
        assertArrayEquals(bytes(0x40, 2, 0, 3), slice(publisher.read(), 0, 4), "PUBACK");
        final byte[] publish = subscriber.read();
        assertEquals(0x32, publish[0] & 0xFF, "PUBLISH QoS 1");
        assertEquals('i', publish[publish.length - 1], "the payload");
        assertEquals(2, broker.connectionCount());
    }

    @Test
    void doWorkIsForTheInvokerModeOnly() throws IOException
    {
        try (Broker threaded = Broker.launch(new Broker.Context().authMode("none").durability("none")
            .dataDir(dataDir.resolve("threaded").toString()).bindAddress("127.0.0.1").mqttPort(0).httpPort(-1)))
        {
            try
            {
                threaded.doWork();
                fail("doWork() must refuse while the agents have threads");
            }
            catch (final IllegalStateException expected)
            {
                assertNotNull(expected.getMessage());
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /** A v5 CONNECT: flags, keep-alive seconds, Session Expiry Interval (0x11) seconds. */
    private static byte[] connectV5(final String clientId, final int flags, final int keepAliveS, final int expiryS)
    {
        return packet(0x10, str("MQTT"), bytes(5, flags, keepAliveS >> 8, keepAliveS),
            props(bytes(0x11), int32(expiryS)), str(clientId));
    }

    private static byte[] int32(final int value)
    {
        return bytes(value >>> 24, value >>> 16, value >>> 8, value);
    }

    private static byte[] slice(final byte[] bytes, final int from, final int to)
    {
        assertNotNull(bytes, "a packet, not the end of the stream");
        return java.util.Arrays.copyOfRange(bytes, from, Math.min(to, bytes.length));
    }

    /** The Message Expiry Interval of a v5 PUBLISH, or -1 when it has none. */
    private static long messageExpiry(final byte[] publish)
    {
        int at = 1;
        while ((publish[at] & 0x80) != 0)
        {
            at++;
        }
        at++;
        final int topicLength = ((publish[at] & 0xFF) << 8) | (publish[at + 1] & 0xFF);
        at += 2 + topicLength;
        if ((publish[0] & 0x06) != 0)
        {
            at += 2; // packet id
        }
        int propertiesLength = 0;
        int shift = 0;
        int digit;
        do
        {
            digit = publish[at++] & 0xFF;
            propertiesLength |= (digit & 0x7F) << shift;
            shift += 7;
        }
        while ((digit & 0x80) != 0);
        final int end = at + propertiesLength;
        while (at < end)
        {
            final int id = publish[at++] & 0xFF;
            switch (id)
            {
                case 0x02:
                    return ((publish[at] & 0xFFL) << 24) | ((publish[at + 1] & 0xFF) << 16) |
                        ((publish[at + 2] & 0xFF) << 8) | (publish[at + 3] & 0xFF);
                case 0x01:
                    at += 1;
                    break;
                case 0x23:
                    at += 2;
                    break;
                case 0x0B:
                    while ((publish[at++] & 0x80) != 0)
                    {
                        // varint
                    }
                    break;
                default:
                    fail("unexpected property 0x" + Integer.toHexString(id) + " before the Message Expiry Interval");
            }
        }
        return -1;
    }

    /** Runs every agent {@code cycles} times on this thread. */
    private void pump(final int cycles)
    {
        for (int i = 0; i < cycles; i++)
        {
            broker.doWork();
        }
    }

    /** Runs the agents until the condition holds; the real-time deadline only guards against a hang. */
    private void pumpUntil(final BooleanSupplier condition, final String what)
    {
        final long deadlineNs = System.nanoTime() + CONDITION_DEADLINE_NS;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadlineNs > 0)
            {
                fail("timed out waiting for: " + what);
            }
            broker.doWork();
        }
    }

    private Client connect() throws IOException
    {
        final int before = broker.connectionCount();
        final Client client = new Client(broker.mqttPort());
        closeables.add(client);
        pumpUntil(() -> broker.connectionCount() > before, "connection accepted");
        return client;
    }

    private void assertStillConnected(final Client client) throws IOException
    {
        assertEquals(0, client.available(), "nothing sent by the broker");
        client.send(bytes(0xC0, 0)); // PINGREQ
        assertArrayEquals(bytes(0xD0, 0), client.read(), "PINGRESP: the connection is alive");
    }

    /** A raw MQTT client on a non-blocking socket whose reads run the broker's agents while they wait. */
    private final class Client implements Closeable
    {
        private final SocketChannel channel;
        private final ByteBuffer received = ByteBuffer.allocate(64 * 1024);
        private boolean ended;

        Client(final int port) throws IOException
        {
            channel = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.configureBlocking(false);
        }

        void send(final byte[] bytes) throws IOException
        {
            final ByteBuffer out = ByteBuffer.wrap(bytes);
            while (out.hasRemaining())
            {
                channel.write(out);
            }
        }

        /** Bytes received and not read yet. */
        int available()
        {
            fill();
            return received.position();
        }

        /** A CONNACK (checked), read while the broker runs. */
        byte[] connack()
        {
            final byte[] connack = read();
            assertNotNull(connack, "CONNACK, not the end of the stream");
            assertEquals(0x20, connack[0] & 0xFF, "CONNACK");
            return connack;
        }

        /** One whole packet, or null at the end of the stream; the broker runs until either is here. */
        byte[] read()
        {
            pumpUntil(() -> packetLength() > 0 || ended, "a packet or the end of the stream");
            final int length = packetLength();
            if (length <= 0)
            {
                return null;
            }
            final byte[] packet = new byte[length];
            received.flip();
            received.get(packet);
            received.compact();
            return packet;
        }

        /** The broker closed the connection: the end of the stream (or a reset), after running the agents. */
        void assertClosed()
        {
            assertNull(read(), "the connection should be closed");
        }

        /** The length of the first whole packet received, else 0. */
        private int packetLength()
        {
            fill();
            final int have = received.position();
            int length = 0;
            int shift = 0;
            for (int at = 1; at < have && at <= 4; at++)
            {
                final int digit = received.get(at) & 0xFF;
                length |= (digit & 0x7F) << shift;
                shift += 7;
                if ((digit & 0x80) == 0)
                {
                    final int total = at + 1 + length;
                    return total <= have ? total : 0;
                }
            }
            return 0;
        }

        private void fill()
        {
            if (ended)
            {
                return;
            }
            try
            {
                ended = channel.read(received) < 0;
            }
            catch (final IOException reset)
            {
                ended = true; // closed with RST: also closed
            }
        }

        @Override
        public void close() throws IOException
        {
            channel.close();
        }
    }
}
