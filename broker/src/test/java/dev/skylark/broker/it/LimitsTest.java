package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import dev.skylark.broker.status.CountersSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.packet;
import static dev.skylark.broker.it.RawClient.reason;
import static dev.skylark.broker.it.RawClient.str;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every limit at boundary − 1 / boundary + 1, with the reason code the client sees. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LimitsTest
{
    private static final String QUOTA =
        "quota exceeded: subscriptions/shared groups per client or subscribers/groups per filter";
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
        broker = Broker.launch(context.authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
    }

    private static byte[] connect(final int version, final String clientId)
    {
        return version == 5 ?
            packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 0), bytes(0), str(clientId)) :
            packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str(clientId));
    }

    @Test
    void clientIdLength() throws Exception
    {
        start(new Broker.Context().clientIdMaxLength(5));
        try (RawClient atLimit = new RawClient(broker.mqttPort());
            RawClient over5 = new RawClient(broker.mqttPort());
            RawClient over3 = new RawClient(broker.mqttPort()))
        {
            atLimit.sendRaw(connect(5, "abcde"));
            assertEquals(0, atLimit.expect(2)[3], "5 bytes: accepted");
            over5.sendRaw(connect(5, "abcdef"));
            assertArrayEquals(packet(0x20, bytes(0, 0x85), reason("client ID longer than 5 bytes")), over5.expect(2),
                "6 bytes: 0x85 with a Reason String");
            over5.assertClosed();
            over3.sendRaw(connect(4, "abcdef"));
            assertArrayEquals(bytes(0x20, 2, 0, 2), over3.expect(2), "3.1.1: identifier rejected");
        }
    }

    @Test
    void topicLengthAndDepth() throws Exception
    {
        start(new Broker.Context().topicMaxLength(8).topicMaxDepth(3));
        try (RawClient v5 = new RawClient(broker.mqttPort()); RawClient v3 = new RawClient(broker.mqttPort()))
        {
            v5.sendRaw(connect(5, "five")).expect(2);
            v5.send(0x32, str("a/b/cdef"), bytes(0, 1), bytes(0), bytes('x'));      // 8 bytes, 3 levels
            assertArrayEquals(bytes(0x40, 3, 0, 1, 0x10), v5.expect(4), "within limits: no subscribers");
            v5.send(0x32, str("a/b/cdefg"), bytes(0, 2), bytes(0), bytes('x'));     // 9 bytes
            assertArrayEquals(packet(0x40, bytes(0, 2, 0x90), reason("topic name beyond the broker's length or depth limit")),
                v5.expect(4), "too long: 0x90");
            v5.send(0x32, str("a/b/c/d"), bytes(0, 3), bytes(0), bytes('x'));       // 4 levels
            assertArrayEquals(packet(0x40, bytes(0, 3, 0x90), reason("topic name beyond the broker's length or depth limit")),
                v5.expect(4), "too deep: 0x90");
            v5.send(0x82, bytes(0, 4), bytes(0), str("a/b/#"), bytes(0), str("a/b/c/#"), bytes(0));
            assertArrayEquals(packet(0x90, bytes(0, 4),
                reason("filter 2: invalid topic filter, or beyond the broker's length or depth limit"), bytes(0x00, 0x8F)),
                v5.expect(9), "filter: 3 levels ok, 4 refused");

            v3.sendRaw(connect(4, "three")).expect(2);
            v3.send(0x30, str("a/b/cdefg"), bytes('x'));                            // too long, 3.1.1
            v3.assertClosed();
        }
    }

    @Test
    void rateLimitDisconnectsWithMessageRateTooHigh() throws Exception
    {
        start(new Broker.Context().rateLimit(5, 3, false));
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            // All in one write, so all in one read at one instant: CONNECT and two PINGREQs fit the burst of 3.
            client.sendRaw(concat(connect(5, "r"), packet(0xC0), packet(0xC0), packet(0xC0)));
            client.expect(2);
            client.expect(13);
            client.expect(13);
            assertArrayEquals(packet(0xE0, bytes(0x96), reason("more than 5 packets per second")), client.read(),
                "DISCONNECT Message rate too high");
            client.assertClosed();
        }
    }

    @Test
    void rateLimitCanSlowTheReaderInstead() throws Exception
    {
        start(new Broker.Context().rateLimit(20, 1, true));
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            final long start = System.nanoTime();
            client.sendRaw(concat(connect(4, "slow"), packet(0xC0), packet(0xC0), packet(0xC0), packet(0xC0)));
            client.expect(2);
            for (int i = 0; i < 4; i++)
            {
                client.expect(13); // every PINGRESP comes: the client is slowed, not dropped
            }
            final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(elapsedMs >= 150, "5 packets at 20/s with no burst take at least 200 ms, took " + elapsedMs);
        }
    }

    @Test
    void subscriptionsPerClient() throws Exception
    {
        start(new Broker.Context().subscriptionsPerClientMax(2));
        try (RawClient v5 = new RawClient(broker.mqttPort()); RawClient v3 = new RawClient(broker.mqttPort()))
        {
            v5.sendRaw(connect(5, "subs5")).expect(2);
            v5.send(0x82, bytes(0, 1), bytes(0), str("a"), bytes(0), str("b"), bytes(0), str("c"), bytes(0));
            assertArrayEquals(packet(0x90, bytes(0, 1), reason("filter 3: " + QUOTA), bytes(0, 0, 0x97)), v5.expect(9),
                "third: 0x97 Quota exceeded");
            v5.send(0x82, bytes(0, 2), bytes(0), str("a"), bytes(1));               // replacing is not adding
            assertArrayEquals(bytes(0x90, 4, 0, 2, 0, 1), v5.expect(9));

            v3.sendRaw(connect(4, "subs3")).expect(2);
            v3.send(0x82, bytes(0, 1), str("a"), bytes(0), str("b"), bytes(0), str("c"), bytes(0));
            assertArrayEquals(bytes(0x90, 5, 0, 1, 0, 0, 0x80), v3.expect(9), "3.1.1: 0x80");
        }
    }

    @Test
    void subscribersPerFilterCountSharedMembersToo() throws Exception
    {
        start(new Broker.Context().subscribersPerFilterMax(2));
        try (RawClient a = new RawClient(broker.mqttPort());
            RawClient b = new RawClient(broker.mqttPort());
            RawClient c = new RawClient(broker.mqttPort());
            RawClient v3 = new RawClient(broker.mqttPort()))
        {
            a.sendRaw(connect(5, "a")).expect(2);
            b.sendRaw(connect(5, "b")).expect(2);
            c.sendRaw(connect(5, "c")).expect(2);
            v3.sendRaw(connect(4, "v3")).expect(2);

            a.send(0x82, bytes(0, 1), bytes(0), str("t/x"), bytes(0));
            assertArrayEquals(bytes(0x90, 4, 0, 1, 0, 0), a.expect(9), "first subscriber");
            b.send(0x82, bytes(0, 2), bytes(0), str("$share/g/t/x"), bytes(1));
            assertArrayEquals(bytes(0x90, 4, 0, 2, 0, 1), b.expect(9), "limit - 1 subscribers: a shared member fits");
            c.send(0x82, bytes(0, 3), bytes(0), str("t/x"), bytes(0), str("$share/h/t/x"), bytes(0), str("t/+"), bytes(0));
            assertArrayEquals(packet(0x90, bytes(0, 3), reason("filter 1: " + QUOTA + "; filter 2: " + QUOTA),
                bytes(0x97, 0x97, 0)), c.expect(9),
                "at the limit: another subscriber or group member is over it; another filter is not");
            v3.send(0x82, bytes(0, 4), str("t/x"), bytes(1));
            assertArrayEquals(bytes(0x90, 3, 0, 4, 0x80), v3.expect(9), "3.1.1: 0x80");
            a.send(0x82, bytes(0, 5), bytes(0), str("t/x"), bytes(1));
            assertArrayEquals(bytes(0x90, 4, 0, 5, 0, 1), a.expect(9), "replacing one's own subscription adds none");

            b.send(0xA2, bytes(0, 6), bytes(0), str("$share/g/t/x"));
            assertArrayEquals(bytes(0xB0, 4, 0, 6, 0, 0), b.expect(11));
            c.send(0x82, bytes(0, 7), bytes(0), str("$share/h/t/x"), bytes(0));
            assertArrayEquals(bytes(0x90, 4, 0, 7, 0, 0), c.expect(9), "room again once a member left");
        }
        assertEquals(3, counter("skylark_subscriptions_refused_total", "reason=\"per_filter\""));
    }

    @Test
    void sharedGroupsPerFilterAtTheBoundary() throws Exception
    {
        start(new Broker.Context().sharedGroupsPerFilterMax(2));
        try (RawClient a = new RawClient(broker.mqttPort());
            RawClient b = new RawClient(broker.mqttPort());
            RawClient c = new RawClient(broker.mqttPort());
            RawClient v3 = new RawClient(broker.mqttPort()))
        {
            a.sendRaw(connect(5, "a")).expect(2);
            b.sendRaw(connect(5, "b")).expect(2);
            c.sendRaw(connect(5, "c")).expect(2);
            v3.sendRaw(connect(4, "v3")).expect(2);

            a.send(0x82, bytes(0, 1), bytes(0), str("$share/g1/t/x"), bytes(0));
            assertArrayEquals(bytes(0x90, 4, 0, 1, 0, 0), a.expect(9), "limit - 1 groups: a group fits");
            b.send(0x82, bytes(0, 2), bytes(0), str("$share/g2/t/x"), bytes(0));
            assertArrayEquals(bytes(0x90, 4, 0, 2, 0, 0), b.expect(9), "the group that reaches the limit fits");
            c.send(0x82, bytes(0, 3), bytes(0), str("$share/g3/t/x"), bytes(0), str("$share/g1/t/x"), bytes(1),
                str("t/x"), bytes(0), str("$share/g3/t/y"), bytes(0));
            assertArrayEquals(packet(0x90, bytes(0, 3), reason("filter 1: " + QUOTA), bytes(0x97, 1, 0, 0)),
                c.expect(9), "limit + 1 groups: refused; joining a group, a plain subscriber, another filter fit");
            v3.send(0x82, bytes(0, 4), str("$share/g3/t/x"), bytes(1));
            assertArrayEquals(bytes(0x90, 3, 0, 4, 0x80), v3.expect(9), "3.1.1: 0x80");
            a.send(0x82, bytes(0, 5), bytes(0), str("$share/g1/t/x"), bytes(1));
            assertArrayEquals(bytes(0x90, 4, 0, 5, 0, 1), a.expect(9), "re-subscribing to one's group adds none");

            b.send(0xA2, bytes(0, 6), bytes(0), str("$share/g2/t/x"));
            assertArrayEquals(bytes(0xB0, 4, 0, 6, 0, 0), b.expect(11));
            c.send(0x82, bytes(0, 7), bytes(0), str("$share/g3/t/x"), bytes(0));
            assertArrayEquals(bytes(0x90, 4, 0, 7, 0, 0), c.expect(9), "room again once a group emptied");
        }
        assertEquals(2, counter("skylark_subscriptions_refused_total", "reason=\"shared_groups_per_filter\""));
        assertEquals(0, counter("skylark_subscriptions_refused_total", "reason=\"shared_groups_per_client\""));
    }

    @Test
    void defaultGroupsPerFilterHoldAndEachGroupGetsOneCopy() throws Exception
    {
        start(new Broker.Context().sharedGroupsPerClientMax(0)); // skylark.shared.groups.per.filter.max at 1000
        final int groups = 1000;
        try (RawClient member = new RawClient(broker.mqttPort()); RawClient publisher = new RawClient(broker.mqttPort()))
        {
            member.sendRaw(connect(5, "member")).expect(2);
            publisher.sendRaw(connect(5, "publisher")).expect(2);

            final byte[][] entries = new byte[4 + 2 * (groups + 1)][];
            entries[0] = bytes(0, 1);
            entries[1] = bytes(0);
            for (int g = 0; g <= groups; g++)
            {
                entries[2 + 2 * g] = str("$share/g" + g + "/big/t");
                entries[3 + 2 * g] = bytes(0);
            }
            entries[entries.length - 1] = bytes(0); // the options of "end", below
            entries[entries.length - 2] = str("end");
            member.send(0x82, entries);
            final byte[] subAck = member.expect(9);
            final int codes = subAck.length - (groups + 2);
            for (int g = 0; g < groups; g++)
            {
                assertEquals(0, subAck[codes + g], "group " + g + " of " + groups + " fits");
            }
            assertEquals((byte)0x97, subAck[codes + groups], "group " + (groups + 1) + " on one filter is refused");
            assertEquals(0, subAck[codes + groups + 1], "a plain filter fits");

            publisher.send(0x30, str("big/t"), bytes(0, 'x'));
            publisher.send(0x30, str("end"), bytes(0, 'y'));
            for (int g = 0; g < groups; g++)
            {
                final byte[] publish = member.expect(3);
                assertEquals('x', publish[publish.length - 1], "copy " + (g + 1) + " of big/t");
            }
            final byte[] end = member.expect(3);
            assertEquals('y', end[end.length - 1], "one copy per group, then the next message");
        }
        assertEquals(1, counter("skylark_subscriptions_refused_total", "reason=\"shared_groups_per_filter\""));
    }

    @Test
    void sharedGroupsPerClientAtTheBoundary() throws Exception
    {
        start(new Broker.Context().sharedGroupsPerClientMax(2));
        try (RawClient a = new RawClient(broker.mqttPort()); RawClient v3 = new RawClient(broker.mqttPort()))
        {
            a.sendRaw(connect(5, "a")).expect(2);
            v3.sendRaw(connect(4, "v3")).expect(2);

            a.send(0x82, bytes(0, 1), bytes(0), str("$share/g1/t/x"), bytes(0));
            assertArrayEquals(bytes(0x90, 4, 0, 1, 0, 0), a.expect(9), "limit - 1 groups joined: one more fits");
            a.send(0x82, bytes(0, 2), bytes(0), str("$share/g2/t/x"), bytes(0));
            assertArrayEquals(bytes(0x90, 4, 0, 2, 0, 0), a.expect(9), "the group that reaches the limit fits");
            a.send(0x82, bytes(0, 3), bytes(0), str("$share/g1/t/y"), bytes(0), str("$share/g1/t/x"), bytes(1),
                str("t/y"), bytes(0));
            assertArrayEquals(packet(0x90, bytes(0, 3), reason("filter 1: " + QUOTA), bytes(0x97, 1, 0)),
                a.expect(9), "limit + 1: refused; re-subscribing to a group one is in and a plain filter fit");

            a.send(0xA2, bytes(0, 4), bytes(0), str("$share/g2/t/x"));
            assertArrayEquals(bytes(0xB0, 4, 0, 4, 0, 0), a.expect(11));
            a.send(0x82, bytes(0, 5), bytes(0), str("$share/g1/t/y"), bytes(0));
            assertArrayEquals(bytes(0x90, 4, 0, 5, 0, 0), a.expect(9), "room again after leaving a group");

            v3.send(0x82, bytes(0, 6), str("$share/a/x"), bytes(0), str("$share/b/x"), bytes(0), str("$share/c/x"),
                bytes(0));
            assertArrayEquals(bytes(0x90, 5, 0, 6, 0, 0, 0x80), v3.expect(9), "3.1.1: 0x80");
        }
        assertEquals(2, counter("skylark_subscriptions_refused_total", "reason=\"shared_groups_per_client\""));
        assertEquals(0, counter("skylark_subscriptions_refused_total", "reason=\"shared_groups_per_filter\""));
    }

    @Test
    void queuedBytesPerOfflineSessionAtTheBoundary() throws Exception
    {
        // Five QoS 1 messages of 100 bytes on "q/1", each stored as 117 bytes (see MessageLayout).
        final int stored = dev.skylark.broker.routing.MessageLayout.length(3, 0, 100);
        assertEquals(117, stored);
        assertEquals(4, queuedOfFive(new Broker.Context().queueMaxBytes(4L * stored)), "4 messages fit exactly");
        assertEquals(1, counter("skylark_queue_dropped_total", "reason=\"bytes\""));
        broker.close();
        assertEquals(3, queuedOfFive(new Broker.Context().queueMaxBytes(4L * stored - 1)), "one byte short of 4");
        assertEquals(2, counter("skylark_queue_dropped_total", "reason=\"bytes\""));
        assertEquals(0, counter("skylark_queue_dropped_total", "reason=\"messages\""));
    }

    @Test
    void queuedMessagesPerOfflineSessionAtTheBoundary() throws Exception
    {
        assertEquals(4, queuedOfFive(new Broker.Context().queueMaxMessages(4)));
        assertEquals(1, counter("skylark_queue_dropped_total", "reason=\"messages\""));
        assertEquals(0, counter("skylark_queue_dropped_total", "reason=\"bytes\""));
    }

    /**
     * A persistent 3.1.1 session subscribes to q/# at QoS 1 and goes offline; five QoS 1 messages of 100 bytes are
     * published to it; it comes back and counts what was kept for it (up to a marker published after its return).
     */
    private int queuedOfFive(final Broker.Context context) throws Exception
    {
        start(context);
        final byte[] persistent = packet(0x10, str("MQTT"), bytes(4, 0x00, 0, 0), str("offline"));
        try (RawClient subscriber = new RawClient(broker.mqttPort()))
        {
            subscriber.sendRaw(persistent).expect(2);
            subscriber.send(0x82, bytes(0, 1), str("q/#"), bytes(1)).expect(9);
            subscriber.send(0xE0);
            subscriber.assertClosed();
        }
        awaitClientsConnected(0); // the session is offline before anything is published to it
        try (RawClient publisher = new RawClient(broker.mqttPort()))
        {
            publisher.sendRaw(connect(4, "publisher")).expect(2);
            for (int i = 1; i <= 5; i++)
            {
                publisher.send(0x32, str("q/1"), bytes(0, i), new byte[100]);
                assertArrayEquals(bytes(0x40, 2, 0, i), publisher.expect(4), "routed");
            }
            try (RawClient subscriber = new RawClient(broker.mqttPort()))
            {
                final byte[] connack = subscriber.sendRaw(persistent).expect(2);
                assertEquals(1, connack[2], "session present");
                awaitClientsConnected(2);
                publisher.send(0x30, str("q/marker"), bytes('m'));
                int queued = 0;
                while (true)
                {
                    final byte[] publish = subscriber.expect(3);
                    if (publish[4] == 'q' && publish[6] == 'm')
                    {
                        return queued;
                    }
                    queued++;
                    subscriber.send(0x40, bytes(publish[7], publish[8])); // PUBACK
                }
            }
        }
    }

    private void awaitClientsConnected(final long expected)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (counter("skylark_clients_connected", "") != expected && System.nanoTime() < deadline)
        {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        assertEquals(expected, counter("skylark_clients_connected", ""), "clients connected");
    }

    private long counter(final String name, final String labels)
    {
        for (final CountersSnapshot.Entry entry : CountersSnapshot.of(broker.countersFile().reader()).entries())
        {
            if (entry.name().equals(name) && entry.labels().equals(labels))
            {
                return entry.value();
            }
        }
        throw new AssertionError("no counter " + name + "{" + labels + "}");
    }

    @Test
    void connectTimeoutClosesSocketsThatNeverFinishTheirConnect() throws Exception
    {
        start(new Broker.Context().connectTimeoutMs(300));
        try (RawClient silent = new RawClient(broker.mqttPort()); RawClient slowloris = new RawClient(broker.mqttPort()))
        {
            final long start = System.nanoTime();
            slowloris.sendRaw(new byte[]{0x10, 13, 0, 4, 'M'}); // a CONNECT that never completes
            silent.assertClosed();
            slowloris.assertClosed();
            final long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(elapsedMs >= 250, "closed by the timeout, not at once: " + elapsedMs + " ms");
        }
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
}
