package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import dev.skylark.broker.status.CountersSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.concat;
import static dev.skylark.broker.it.RawClient.packet;
import static dev.skylark.broker.it.RawClient.reason;
import static dev.skylark.broker.it.RawClient.str;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue #15, "one client can stop every publisher": each quota refuses the client that passes it and nobody else,
 * with the exact reason codes, at its boundary (− 1 / + 1); clearing a retained message is always accepted; the
 * store high-water gate holds back only publishes that would grow the store.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QuotaTest
{
    static final String RETAINED_QUOTA =
        "retained message over this client's or the broker's retained quota (count or bytes); not stored";
    /** Stored bytes of a message in the routing layout: 14 + topic + properties + payload. */
    private static final int R1_100 = 14 + 3 + 100;

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
        // $SYS off: its figures are retained messages too, and would count against the broker-wide retained quotas.
        broker = Broker.launch(context.authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .sysIntervalS(0));
    }

    static byte[] connect5(final String clientId)
    {
        return packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 0), bytes(0), str(clientId));
    }

    static byte[] connect4(final String clientId)
    {
        return packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str(clientId));
    }

    /** v5 PUBLISH QoS 1 RETAIN, no properties. */
    static byte[] retained5(final String topic, final int packetId, final int payloadLength)
    {
        return packet(0x33, str(topic), bytes(packetId >> 8, packetId & 0xFF), bytes(0), new byte[payloadLength]);
    }

    /** v5 PUBACK without properties. */
    static byte[] puback5(final int packetId, final int reasonCode)
    {
        return bytes(0x40, 3, packetId >> 8, packetId & 0xFF, reasonCode);
    }

    static byte[] refused5(final int packetId)
    {
        return packet(0x40, bytes(packetId >> 8, packetId & 0xFF, 0x97), reason(RETAINED_QUOTA));
    }

    @Test
    void retainedCountPerClientRefusesOnlyTheOffenderAndAClearIsAlwaysAccepted() throws Exception
    {
        start(new Broker.Context().retainedClientMaxMessages(3));
        try (RawClient hostile = new RawClient(broker.mqttPort());
            RawClient bystander = new RawClient(broker.mqttPort()))
        {
            hostile.sendRaw(connect5("hostile")).expect(2);
            bystander.sendRaw(connect5("bystander")).expect(2);
            for (int i = 1; i <= 3; i++)
            {
                hostile.sendRaw(retained5("r/" + i, i, 10));
                assertArrayEquals(puback5(i, 0x10), hostile.read(), "retained " + i + " of 3: accepted");
            }
            hostile.sendRaw(retained5("r/4", 4, 10));
            assertArrayEquals(refused5(4), hostile.read(), "the 4th (limit + 1): 0x97 with a Reason String");
            hostile.sendRaw(retained5("r/1", 5, 10));
            assertArrayEquals(puback5(5, 0x10), hostile.read(), "replacing its own does not grow its count");

            bystander.sendRaw(retained5("b/1", 1, 10));
            assertArrayEquals(puback5(1, 0x10), bystander.read(), "another client is not refused");

            hostile.sendRaw(retained5("r/2", 6, 0));
            assertArrayEquals(puback5(6, 0x10), hostile.read(), "a clear is always accepted");
            hostile.sendRaw(retained5("r/4", 7, 10));
            assertArrayEquals(puback5(7, 0x10), hostile.read(), "room again after the clear");
        }
        assertEquals(1, counter("skylark_retained_refused_total", "reason=\"client_messages\""));
        assertEquals(4, counter("skylark_retained_messages", "")); // r/1, r/3, r/4, b/1
    }

    @Test
    void retainedBytesPerClientAtTheBoundary() throws Exception
    {
        start(new Broker.Context().retainedClientMaxBytes(2L * R1_100));
        try (RawClient hostile = new RawClient(broker.mqttPort()))
        {
            hostile.sendRaw(connect5("hostile")).expect(2);
            hostile.sendRaw(retained5("r/1", 1, 100));
            assertArrayEquals(puback5(1, 0x10), hostile.read());
            hostile.sendRaw(retained5("r/2", 2, 100));
            assertArrayEquals(puback5(2, 0x10), hostile.read(), "exactly at the byte limit");
            hostile.sendRaw(retained5("r/2", 3, 101));
            assertArrayEquals(refused5(3), hostile.read(), "one byte over");
            hostile.sendRaw(retained5("r/2", 4, 99));
            assertArrayEquals(puback5(4, 0x10), hostile.read(), "a smaller replacement");
            hostile.sendRaw(retained5("r/3", 5, 1));
            assertArrayEquals(refused5(5), hostile.read(), "a new topic past the bytes left");
        }
    }

    @Test
    void retainedBytesBrokerWideRefuseQos0AndV3ButLoseNothingElse() throws Exception
    {
        start(new Broker.Context().retainedMaxBytes(3L * R1_100));
        try (RawClient first = new RawClient(broker.mqttPort());
            RawClient v3 = new RawClient(broker.mqttPort()))
        {
            first.sendRaw(connect5("first")).expect(2);
            v3.sendRaw(connect4("v3")).expect(2);
            first.sendRaw(retained5("r/1", 1, 100));
            assertArrayEquals(puback5(1, 0x10), first.read());
            first.sendRaw(retained5("r/2", 2, 100));
            assertArrayEquals(puback5(2, 0x10), first.read());
            // QoS 0 past the limit: dropped and counted (nothing to answer)
            first.send(0x31, str("r/0"), bytes(0), new byte[101]);
            // 3.1.1 has no negative PUBACK: the positive one the spec allows, and the message is not kept
            v3.send(0x33, str("r/3"), bytes(0, 9), new byte[101]);
            assertArrayEquals(bytes(0x40, 2, 0, 9), v3.read());
            assertEquals(2, counter("skylark_retained_refused_total", "reason=\"broker_bytes\""));
            v3.send(0x33, str("r/3"), bytes(0, 10), new byte[100]);
            assertArrayEquals(bytes(0x40, 2, 0, 10), v3.read(), "exactly at the broker-wide limit");
            first.sendRaw(retained5("r/4", 3, 1));
            assertArrayEquals(refused5(3), first.read(), "the broker is full");
            first.send(0x32, str("plain"), bytes(0, 4), bytes(0), new byte[1000]);
            assertArrayEquals(puback5(4, 0x10), first.read(), "a message that is not retained is not refused");
        }
        assertEquals(3, counter("skylark_retained_refused_total", "reason=\"broker_bytes\""));
        assertEquals(3, counter("skylark_retained_messages", ""));
    }

    @Test
    void aWillOverTheLimitIsRefusedWithQuotaExceeded() throws Exception
    {
        start(new Broker.Context().willMaxBytes(100));
        try (RawClient atLimit = new RawClient(broker.mqttPort());
            RawClient over = new RawClient(broker.mqttPort());
            RawClient v3 = new RawClient(broker.mqttPort()))
        {
            final byte[] connack = atLimit.sendRaw(willConnect(5, "at", 97)).expect(2); // 3 + 97 = 100
            assertEquals(0x00, connack[3], "a will of exactly the limit is accepted");
            final byte[] refused = over.sendRaw(willConnect(5, "over", 98)).expect(2);
            assertEquals(0x97, refused[3] & 0xFF, "one byte over: CONNACK 0x97 Quota exceeded");
            over.assertClosed();
            assertArrayEquals(bytes(0x20, 2, 0, 0x03), v3.sendRaw(willConnect(4, "v3", 98)).expect(2),
                "3.1.1: 0x03 Server unavailable");
            v3.assertClosed();
        }
    }

    /** CONNECT with a QoS 0 will on "w/1" of {@code payloadLength} bytes (and no will properties). */
    static byte[] willConnect(final int version, final String clientId, final int payloadLength)
    {
        final byte[] payload = concat(bytes(payloadLength >> 8, payloadLength & 0xFF), new byte[payloadLength]);
        return version == 5 ?
            packet(0x10, str("MQTT"), bytes(5, 0x06, 0, 0), bytes(0), str(clientId), bytes(0), str("w/1"), payload) :
            packet(0x10, str("MQTT"), bytes(4, 0x06, 0, 0), str(clientId), str("w/1"), payload);
    }

    /**
     * The high-water gate as a last resort: with no quotas a client can still fill the store past it, and then only
     * publishes that would grow the store wait; QoS 0 keeps flowing and clears go through (which reopen the gate).
     */
    @Test
    void theGateHoldsBackOnlyWhatWouldGrowTheStore() throws Exception
    {
        start(new Broker.Context().storeHighWater(1024 * 1024).retainedMaxBytes(0).retainedClientMaxBytes(0));
        final int payload = 64 * 1024;
        try (RawClient hostile = new RawClient(broker.mqttPort());
            RawClient clearer = new RawClient(broker.mqttPort());
            RawClient bystander = new RawClient(broker.mqttPort());
            RawClient qos0 = new RawClient(broker.mqttPort());
            RawClient subscriber = new RawClient(broker.mqttPort()))
        {
            hostile.sendRaw(connect5("hostile")).expect(2);
            clearer.sendRaw(connect5("clearer")).expect(2);
            qos0.sendRaw(connect5("qos0")).expect(2);
            bystander.sendRaw(connect5("bystander")).expect(2);
            subscriber.sendRaw(connect5("subscriber")).expect(2);
            subscriber.send(0x82, bytes(0, 1), bytes(0), str("q0"), bytes(0)).expect(9);
            for (int i = 0; i < 17; i++) // 17 x 64 KiB > 1 MiB
            {
                hostile.send(0x31, str("fill/" + i), bytes(0), new byte[payload]);
            }
            awaitValue(() -> counter("skylark_publish_gate_held", ""), 1, "the gate closed");
            assertEquals(1, counter("skylark_publish_gate_closed_total", ""));

            bystander.send(0x32, str("x"), bytes(0, 1), bytes(0), bytes('x'));
            assertTrue(bystander.silentFor(200), "a QoS 1 publish waits while the gate is closed");
            qos0.send(0x30, str("q0"), bytes(0), bytes('y')); // (the bystander's own connection waits in order)
            final byte[] delivered = subscriber.expect(3);
            assertEquals('y', delivered[delivered.length - 1], "QoS 0 still flows");

            for (int i = 0; i < 17; i++)
            {
                clearer.send(0x31, str("fill/" + i), bytes(0)); // clears go through the closed gate
            }
            awaitValue(() -> counter("skylark_retained_messages", "") <= 1 ? 1 : 0, 1, "cleared (the hostile's last "
                + "fill may come in after the gate opens)");
            assertArrayEquals(puback5(1, 0x10), bystander.read(), "the gate reopened below half");
            assertEquals(0, counter("skylark_publish_gate_held", ""));
        }
    }

    /**
     * A QoS 1 subscriber that never acknowledges: once its window is full with messages waiting behind it for
     * longer than the slow-consumer timeout it gets DISCONNECT 0x97; a subscriber that acknowledges stays.
     */
    @Test
    void aQos1SubscriberWhoseWindowStaysFullIsDisconnected() throws Exception
    {
        start(new Broker.Context().inflightMax(2).slowConsumerTimeoutMs(300));
        try (RawClient stuck = new RawClient(broker.mqttPort());
            RawClient healthy = new RawClient(broker.mqttPort());
            RawClient publisher = new RawClient(broker.mqttPort()))
        {
            stuck.sendRaw(connect5("stuck")).expect(2);
            stuck.send(0x82, bytes(0, 1), bytes(0), str("s/#"), bytes(1)).expect(9);
            healthy.sendRaw(connect5("healthy")).expect(2);
            healthy.send(0x82, bytes(0, 1), bytes(0), str("s/#"), bytes(1)).expect(9);
            publisher.sendRaw(connect5("publisher")).expect(2);
            for (int i = 1; i <= 5; i++)
            {
                publisher.send(0x32, str("s/1"), bytes(0, i), bytes(0), bytes(i));
                assertArrayEquals(bytes(0x40, 2, 0, i), publisher.read(), "the publisher is never held back");
            }
            for (int i = 1; i <= 5; i++)
            {
                final byte[] publish = healthy.expect(3);
                healthy.send(0x40, bytes(publish[7], publish[8])); // PUBACK
            }
            stuck.expect(3);
            stuck.expect(3); // its window of 2; three wait behind it
            final byte[] disconnect = stuck.expect(14);
            assertEquals(0x97, disconnect[2] & 0xFF, "DISCONNECT 0x97 Quota exceeded");
            stuck.assertClosed();
        }
        assertEquals(1, counter("skylark_slow_consumers_disconnected_total", "io=\"router\""));
    }

    private void awaitValue(final LongSupplier value, final long expected, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (value.getAsLong() != expected && System.nanoTime() < deadline)
        {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        assertEquals(expected, value.getAsLong(), what);
    }

    long counter(final String name, final String labels)
    {
        return counter(broker, name, labels);
    }

    static long counter(final Broker broker, final String name, final String labels)
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
}
