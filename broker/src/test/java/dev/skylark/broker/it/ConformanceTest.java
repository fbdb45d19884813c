package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import dev.skylark.broker.auth.AuthMethod;
import dev.skylark.broker.auth.AuthRequest;
import dev.skylark.broker.auth.AuthStep;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.concat;
import static dev.skylark.broker.it.RawClient.str;
import static dev.skylark.broker.fuzz.Packets.props;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue #20: byte-literal conversations for the normative statements an independent conformance suite found broken,
 * each quoted where it is tested. Every socket is a separate client; a fresh broker per test.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ConformanceTest
{
    private Broker broker;
    private AdjustableClock clock;

    private void start(final Broker.Context context)
    {
        clock = new AdjustableClock();
        broker = Broker.launch(context.authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .nanoClock(clock));
    }

    private void start()
    {
        start(new Broker.Context());
    }

    @AfterEach
    void stop()
    {
        if (broker != null)
        {
            broker.close();
        }
    }

    private RawClient client() throws IOException
    {
        return new RawClient(broker.mqttPort());
    }

    /** CONNECT: level 4 or 5, connect flags, keep alive 60, v5 properties, client id, then the rest of the payload. */
    private static byte[][] connect(final int level, final int flags, final byte[] properties, final String clientId,
        final byte[]... rest)
    {
        final byte[] header = concat(str("MQTT"), bytes(level, flags, 0, 60), level == 5 ? properties : bytes(),
            str(clientId));
        return new byte[][] {concat(header, concat(rest))};
    }

    /** Connects and returns the CONNACK. */
    private RawClient connected(final RawClient c, final int level, final int flags, final byte[] properties,
        final String clientId, final int sessionPresent) throws IOException
    {
        c.send(0x10, connect(level, flags, properties, clientId));
        final byte[] connack = c.expect(2);
        assertEquals(sessionPresent, connack[2], "CONNACK session present");
        assertEquals(0, connack[3], "CONNACK success");
        return c;
    }

    private static void subscribe(final RawClient c, final int level, final String filter, final int qos)
        throws IOException
    {
        c.send(0x82, bytes(0, 1), level == 5 ? bytes(0) : bytes(), str(filter), bytes(qos));
        final byte[] suback = c.expect(9);
        assertEquals(qos, suback[suback.length - 1], "granted QoS");
    }

    /** A PINGREQ answered: the connection is alive and everything sent before it was processed. */
    private static void assertAlive(final RawClient c) throws IOException
    {
        c.sendRaw(bytes(0xC0, 0));
        assertArrayEquals(bytes(0xD0, 0), c.read(), "PINGRESP");
    }

    private static void assertDisconnect(final RawClient c, final int reason) throws IOException
    {
        final byte[] disconnect = c.expect(14);
        assertEquals(reason, disconnect[2] & 0xFF, "DISCONNECT reason code");
        c.assertClosed();
    }

    // ---- 1. takeover of a session that ends with its connection -------------------------------------------------

    /**
     * [MQTT-3.1.2-6] "If CleanSession is set to 1 ... This Session lasts as long as the Network Connection"; [MQTT-3.2.2-3]
     * session present 0 when the server has no session for the client id.
     */
    @Test
    void v311TakeoverOfACleanSessionByAPersistentOneFindsNoSession() throws IOException
    {
        start();
        try (RawClient first = client(); RawClient publisher = client())
        {
            connected(first, 4, 0x02, null, "take-311", 0);   // clean session 1
            subscribe(first, 4, "take/311", 1);
            try (RawClient second = client())
            {
                connected(second, 4, 0x00, null, "take-311", 0); // clean session 0: session present must be 0
                first.assertClosed();
                connected(publisher, 4, 0x02, null, "take-311-pub", 0);
                publisher.send(0x30, str("take/311"), bytes('x'));
                assertAlive(publisher);
                assertTrue(second.silentFor(300), "the old session's subscription was not carried over");
            }
        }
    }

    /** [MQTT-3.1.2-23]: with Session Expiry 0 "the Session ends when the Network Connection is closed". */
    @Test
    void v5TakeoverOfASessionWithExpiryZeroFindsNoSession() throws IOException
    {
        start();
        try (RawClient first = client(); RawClient publisher = client())
        {
            connected(first, 5, 0x02, bytes(0), "take-5", 0);      // clean start 1, no session expiry
            subscribe(first, 5, "take/5", 1);
            try (RawClient second = client())
            {
                // Clean Start 0, Session Expiry 60 s: session present 0, nothing carried over.
                connected(second, 5, 0x00, props(bytes(0x11, 0, 0, 0, 60)), "take-5", 0);
                assertDisconnect(first, 0x8E);
                connected(publisher, 5, 0x02, bytes(0), "take-5-pub", 0);
                publisher.send(0x30, str("take/5"), bytes(0), bytes('x'));
                assertAlive(publisher);
                assertTrue(second.silentFor(300), "the old session's subscription was not carried over");
            }
        }
    }

    /** The other side: a persistent session taken over by Clean Start 0 is present, subscriptions and all. */
    @Test
    void v5TakeoverOfAPersistentSessionKeepsIt() throws IOException
    {
        start();
        try (RawClient first = client(); RawClient second = client(); RawClient publisher = client())
        {
            connected(first, 5, 0x02, props(bytes(0x11, 0, 0, 0, 60)), "keep-5", 0);
            subscribe(first, 5, "keep/5", 0);
            connected(second, 5, 0x00, props(bytes(0x11, 0, 0, 0, 60)), "keep-5", 1);
            assertDisconnect(first, 0x8E);
            connected(publisher, 5, 0x02, bytes(0), "keep-5-pub", 0);
            publisher.send(0x30, str("keep/5"), bytes(0), bytes('x'));
            second.expect(3);
        }
    }

    /**
     * A session that ends at a takeover ends like any other: the QoS 1 message it never acknowledged through a shared
     * subscription goes to another member of the group, as when its connection is lost.
     */
    @Test
    void aSessionEndingAtTakeoverHandsItsSharedMessagesOn() throws IOException
    {
        start();
        try (RawClient first = client(); RawClient other = client(); RawClient publisher = client())
        {
            connected(first, 5, 0x02, bytes(0), "share-a", 0);             // Session Expiry 0
            subscribe(first, 5, "$share/g/shared/t", 1);
            connected(publisher, 5, 0x02, bytes(0), "share-pub", 0);
            publisher.send(0x32, str("shared/t"), bytes(0, 1), bytes(0), bytes('m'));
            publisher.expect(4);
            first.expect(3);                                                // in flight to A, never acknowledged
            connected(other, 5, 0x02, bytes(0), "share-b", 0);
            subscribe(other, 5, "$share/g/shared/t", 1);
            try (RawClient second = client())
            {
                connected(second, 5, 0x00, props(bytes(0x11, 0, 0, 0, 60)), "share-a", 0);
                final byte[] moved = other.expect(3);
                assertEquals('m', moved[moved.length - 1], "the message A never acknowledged went to B");
            }
        }
    }

    // ---- 2. Maximum Packet Size on every packet -------------------------------------------------------------------

    private static byte[] maxPacketSize(final int bytes)
    {
        return props(bytes(0x27, bytes >>> 24, bytes >>> 16, bytes >>> 8, bytes));
    }

    /**
     * [MQTT-3.1.2-24] "The Server MUST NOT send packets exceeding Maximum Packet Size to the Client": a CONNACK that
     * does not fit is not sent (every property in it is an announcement, none may be left out) and the connection
     * closes. Boundary: the CONNACK's own size fits, one byte less does not; Maximum Packet Size 2 gets nothing.
     */
    @Test
    void connackLargerThanTheClientsMaximumPacketSizeIsNotSent() throws IOException
    {
        start();
        final int size;
        try (RawClient probe = client())
        {
            probe.send(0x10, connect(5, 0x02, maxPacketSize(1 << 20), "mps-probe"));
            size = probe.expect(2).length;
        }
        try (RawClient fits = client())
        {
            fits.send(0x10, connect(5, 0x02, maxPacketSize(size), "mps-fits"));
            assertEquals(size, fits.expect(2).length, "a CONNACK of exactly the client's maximum");
        }
        for (final int max : new int[] {size - 1, 2})
        {
            try (RawClient tooSmall = client())
            {
                tooSmall.send(0x10, connect(5, 0x02, maxPacketSize(max), "mps-" + max));
                tooSmall.assertClosed(); // nothing at all: a DISCONNECT may not come before CONNACK
            }
        }
    }

    /**
     * SUBACK: the Reason String goes first [MQTT-3.9.2-1]; when the reason codes alone do not fit, the connection is
     * closed with DISCONNECT 0x95 (which fits) rather than sending it. UNSUBACK likewise.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SUBACK", "UNSUBACK"})
    void subAckThatCannotFitClosesWithPacketTooLarge(final String which) throws IOException
    {
        start();
        final boolean subscribe = which.equals("SUBACK");
        try (RawClient c = client())
        {
            c.send(0x10, connect(5, 0x02, maxPacketSize(30), "mps-sub"));
            final int connackLength = c.expect(2).length;
            assertTrue(connackLength <= 30);
            // n entries: SUBACK = 2 (fixed header) + 2 (id) + 1 (properties length) + n.
            final int fitting = 30 - 5;
            c.send(subscribe ? 0x82 : 0xA2, entries(fitting, subscribe));
            final byte[] ack = c.expect(subscribe ? 9 : 11);
            assertEquals(30, ack.length, "an acknowledgement of exactly the client's maximum");
            c.send(subscribe ? 0x82 : 0xA2, entries(fitting + 1, subscribe));
            assertDisconnect(c, 0x95);
        }
    }

    private static byte[][] entries(final int count, final boolean subscribe)
    {
        final byte[][] parts = new byte[2 + count][];
        parts[0] = bytes(0, 7);  // packet id 7
        parts[1] = bytes(0);     // properties length 0
        for (int i = 0; i < count; i++)
        {
            parts[2 + i] = subscribe ? concat(str("m/" + i), bytes(0)) : str("m/" + i);
        }
        return parts;
    }

    /** A one-challenge method: AUTH 0x18 with 11 bytes of data, whatever the client sends. */
    private static final AuthMethod CHALLENGE = new AuthMethod()
    {
        @Override
        public String name()
        {
            return "test-size";
        }

        @Override
        public AuthStep start(final AuthRequest request, final byte[] data)
        {
            return AuthStep.proceed("challenge-1".getBytes(StandardCharsets.US_ASCII), "state");
        }
    };

    /**
     * AUTH carries the exchange (method and data): nothing to leave out. One that does not fit during a CONNECT's
     * exchange refuses the CONNECT with CONNACK 0x95 (which fits). Boundary: the AUTH's own size (35 bytes: reason,
     * property length, method "test-size", data "challenge-1") fits, one byte less does not.
     */
    @Test
    void authLargerThanTheClientsMaximumPacketSizeRefusesTheConnect() throws IOException
    {
        start(new Broker.Context().authMethod(CHALLENGE));
        final byte[] method = concat(bytes(0x15), str("test-size"));
        final int authSize = 2 + 1 + 1 + method.length + 1 + 2 + "challenge-1".length();
        try (RawClient c = client())
        {
            c.send(0x10, connect(5, 0x02, props(bytes(0x27, 0, 0, 0, authSize), method), "auth-fits"));
            assertEquals(authSize, c.expect(15).length, "an AUTH of exactly the client's maximum");
        }
        try (RawClient c = client())
        {
            c.send(0x10, connect(5, 0x02, props(bytes(0x27, 0, 0, 0, authSize - 1), method), "auth-over"));
            assertEquals(0x95, c.expect(2)[3] & 0xFF, "CONNACK 0x95 Packet too large");
            c.assertClosed();
        }
    }

    // ---- 3. acknowledgements of the wrong type --------------------------------------------------------------------

    /** Subscribes {@code sub} at {@code qos}, publishes one message at that QoS and returns its packet id. */
    private int delivered(final RawClient sub, final int level, final int qos, final String id) throws IOException
    {
        connected(sub, level, 0x02, bytes(0), id, 0);
        subscribe(sub, level, "ack/" + id, qos);
        try (RawClient pub = client())
        {
            connected(pub, 5, 0x02, bytes(0), id + "-pub", 0);
            pub.send(0x30 | qos << 1, str("ack/" + id), bytes(0, 9), bytes(0), bytes('x'));
            pub.expect(qos == 1 ? 4 : 5);
        }
        final byte[] publish = sub.expect(3);
        final int topicEnd = 4 + ("ack/" + id).length();
        return (publish[topicEnd] & 0xFF) << 8 | publish[topicEnd + 1] & 0xFF;
    }

    /**
     * [MQTT-4.3.2-2] a QoS 1 delivery is acknowledged by PUBACK; [MQTT-4.3.3-*] a QoS 2 one by PUBREC, then PUBCOMP
     * after the PUBREL. Anything else for a delivery in flight is a protocol violation [MQTT-4.8.0-1]: v5 DISCONNECT
     * 0x82 Protocol Error, 3.1.1 close.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"PUBREC for QoS 1", "PUBCOMP for QoS 1", "PUBACK for QoS 2", "PUBCOMP before PUBREC",
        "PUBACK after PUBREC", "3.1.1 PUBREC for QoS 1"})
    void acknowledgementOfTheWrongTypeCloses(final String which) throws IOException
    {
        start();
        final int level = which.startsWith("3.1.1") ? 4 : 5;
        final int qos = which.contains("QoS 1") ? 1 : 2;
        try (RawClient sub = client())
        {
            final int id = delivered(sub, level, qos, "wrong" + which.hashCode());
            if (which.equals("PUBACK after PUBREC"))
            {
                sub.send(0x50, bytes(id >> 8, id));
                sub.expect(6); // PUBREL
            }
            final int type = which.contains("PUBREC for") ? 0x50 : which.startsWith("PUBCOMP") ? 0x70 : 0x40;
            sub.send(type, bytes(id >> 8, id));
            if (level == 5)
            {
                assertDisconnect(sub, 0x82);
            }
            else
            {
                sub.assertClosed();
            }
        }
    }

    /**
     * The right acknowledgements, and those an honest client may send after a reconnection, keep the connection:
     * PUBACK/PUBCOMP for an unknown id is ignored, PUBREC for an unknown id gets PUBREL 0x92, a repeated PUBREC gets
     * its PUBREL again [MQTT-4.3.3-4], and PUBREL for an unknown id gets PUBCOMP 0x92 ("not an error during
     * recovery", 2.4).
     */
    @Test
    void acknowledgementsAnHonestClientMaySendKeepTheConnection() throws IOException
    {
        start();
        try (RawClient sub = client())
        {
            final int id = delivered(sub, 5, 2, "honest");
            sub.send(0x50, bytes(id >> 8, id));
            assertArrayEquals(bytes(0x62, 2, id >> 8, id), sub.read(), "PUBREL");
            sub.send(0x50, bytes(id >> 8, id));
            assertArrayEquals(bytes(0x62, 2, id >> 8, id), sub.read(), "PUBREL again for the same PUBREC");
            sub.send(0x70, bytes(id >> 8, id));
            sub.send(0x40, bytes(0x12, 0x34));  // PUBACK, unknown id
            sub.send(0x70, bytes(0x12, 0x35));  // PUBCOMP, unknown id
            sub.send(0x50, bytes(0x12, 0x36));  // PUBREC, unknown id
            assertReason(sub.read(), 0x62, 0x1236, 0x92); // PUBREL 0x92 (with its Reason String)
            sub.send(0x62, bytes(0x12, 0x37));  // PUBREL, unknown id
            assertReason(sub.read(), 0x70, 0x1237, 0x92); // PUBCOMP 0x92
            assertAlive(sub);
        }
    }

    private static void assertReason(final byte[] ack, final int header, final int packetId, final int reason)
    {
        assertEquals(header, ack[0] & 0xFF, "packet type and flags");
        assertEquals(packetId, (ack[2] & 0xFF) << 8 | ack[3] & 0xFF, "packet id");
        assertEquals(reason, ack[4] & 0xFF, "reason code");
    }

    // ---- 4. UNSUBSCRIBE validation --------------------------------------------------------------------------------

    /**
     * [MQTT-4.7.3-1] "All Topic Names and Topic Filters MUST be at least one character long"; [MQTT-4.7.1-1/2] '#'
     * only last, '+' a whole level. v5: UNSUBACK 0x8F Topic Filter invalid for that entry, as SUBSCRIBE does; the
     * valid entry next to it is answered as usual (0x11 No subscription existed).
     */
    @Test
    void v5UnsubscribeWithInvalidFiltersIsAnswered0x8F() throws IOException
    {
        start();
        try (RawClient c = client())
        {
            connected(c, 5, 0x02, bytes(0), "unsub-5", 0);
            c.send(0xA2, bytes(0, 3), bytes(0), str(""), str("#/x"), str("a+/b"), str("a/b"));
            assertArrayEquals(bytes(0xB0, 7, 0, 3, 0, 0x8F, 0x8F, 0x8F, 0x11), c.read(), "UNSUBACK");
            assertAlive(c);
        }
    }

    /** 3.1.1 UNSUBACK has no reason codes: an invalid filter makes the packet malformed, and it is closed. */
    @ParameterizedTest(name = "filter \"{0}\"")
    @ValueSource(strings = {"", "#/x", "a/b#"})
    void v311UnsubscribeWithAnInvalidFilterCloses(final String filter) throws IOException
    {
        start();
        try (RawClient c = client())
        {
            connected(c, 4, 0x02, null, "unsub-311", 0);
            c.send(0xA2, bytes(0, 3), str("a/b"), str(filter));
            c.assertClosed();
        }
    }

    // ---- 5. delayed wills and reconnection ------------------------------------------------------------------------

    /**
     * [MQTT-3.1.3-9] "If a new Network Connection to this Session is made before the Will Delay Interval has passed,
     * the Server MUST NOT send the Will Message" — whatever the new connection's Clean Start. Also when the new
     * connection takes an online session over.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"reconnect clean start 1", "reconnect clean start 0", "takeover clean start 1"})
    void aReconnectionBeforeTheWillDelayCancelsTheWill(final String which) throws IOException
    {
        start();
        try (RawClient watcher = client(); RawClient owner = client())
        {
            connected(watcher, 5, 0x02, bytes(0), "will-watcher", 0);
            subscribe(watcher, 5, "will/#", 0);
            // Will flag + clean start; Session Expiry 60 s; Will Properties: Will Delay Interval 30 s.
            owner.send(0x10, connect(5, 0x06, props(bytes(0x11, 0, 0, 0, 60)), "will-owner",
                props(bytes(0x18, 0, 0, 0, 30)), str("will/owner"), str("gone")));
            owner.expect(2);
            if (!which.startsWith("takeover"))
            {
                owner.close(); // lost without DISCONNECT: the will waits for its delay
            }
            try (RawClient again = client())
            {
                final int flags = which.endsWith("1") ? 0x02 : 0x00;
                again.send(0x10, connect(5, flags, props(bytes(0x11, 0, 0, 0, 60)), "will-owner"));
                again.expect(2);
                clock.advanceMs(31_000); // past the will delay on the broker's clock
                try (RawClient marker = client())
                {
                    connected(marker, 5, 0x02, bytes(0), "will-marker", 0);
                    marker.send(0x30, str("will/marker"), bytes(0), bytes('m'));
                    assertAlive(marker);
                }
                final byte[] first = watcher.expect(3);
                assertEquals("will/marker", new String(first, 4, 11), "no will: a new connection came in time");
            }
        }
    }

    /** The will still goes when nobody comes back within the delay. */
    @Test
    void aDelayedWillGoesWhenNobodyReconnects() throws IOException
    {
        start();
        try (RawClient watcher = client(); RawClient owner = client())
        {
            connected(watcher, 5, 0x02, bytes(0), "will-watcher", 0);
            subscribe(watcher, 5, "will/#", 0);
            owner.send(0x10, connect(5, 0x06, props(bytes(0x11, 0, 0, 0, 60)), "will-owner",
                props(bytes(0x18, 0, 0, 0, 30)), str("will/owner"), str("gone")));
            owner.expect(2);
            owner.close();
            try (RawClient other = client())
            {
                connected(other, 5, 0x02, bytes(0), "someone-else", 0);
                clock.advanceMs(31_000);
                final byte[] will = watcher.expect(3);
                assertEquals("will/owner", new String(will, 4, 10));
            }
        }
    }

    // ---- 6. MQTT 3.1 ----------------------------------------------------------------------------------------------

    private static byte[][] connect31(final int flags, final String clientId)
    {
        return new byte[][] {concat(str("MQIsdp"), bytes(3, flags, 0, 60), str(clientId))};
    }

    /**
     * MQTT 3.1 (MQIsdp, level 3): "The Client Identifier (Client ID) is between 1 and 23 characters long ... If the
     * Client ID contains more than 23 characters, the server responds to the CONNECT message with a CONNACK return
     * code 2: Identifier Rejected." Boundaries 0, 1, 23, 24.
     */
    @ParameterizedTest(name = "{0} characters")
    @ValueSource(ints = {0, 1, 23, 24})
    void mqtt31ClientIdIsOneTo23Characters(final int length) throws IOException
    {
        start();
        try (RawClient c = client())
        {
            c.send(0x10, connect31(0x02, "c".repeat(length)));
            final int expected = length >= 1 && length <= 23 ? 0 : 2;
            assertArrayEquals(bytes(0x20, 2, 0, expected), c.read(), "CONNACK");
            if (expected != 0)
            {
                c.assertClosed();
            }
        }
    }

    /** 3.1's CONNACK variable header is a reserved byte, then the return code: no "session present" there. */
    @Test
    void mqtt31ConnackReservedByteIsZeroEvenForAResumedSession() throws IOException
    {
        start();
        try (RawClient c = client())
        {
            c.send(0x10, connect31(0x00, "old-client"));        // clean session 0
            assertArrayEquals(bytes(0x20, 2, 0, 0), c.read(), "CONNACK");
            c.sendRaw(bytes(0xE0, 0));                        // DISCONNECT
            c.assertClosed();
        }
        try (RawClient c = client())
        {
            c.send(0x10, connect31(0x00, "old-client"));        // resumes: 3.1.1 would say session present 1
            assertArrayEquals(bytes(0x20, 2, 0, 0), c.read(), "CONNACK with the reserved byte 0");
            assertAlive(c);
        }
        try (RawClient c = client())
        {
            c.send(0x10, connect(4, 0x00, null, "old-client"));  // the same session over 3.1.1 is present
            assertArrayEquals(bytes(0x20, 2, 1, 0), c.read(), "3.1.1 CONNACK, session present");
        }
    }

    // ---- the broker's own choices -----------------------------------------------------------------------------------

    /**
     * The topic depth limit holds for a will's topic as for a PUBLISH's: v5 CONNACK 0x90 Topic Name invalid, 3.1.1
     * closed (it has no return code for it). Boundary: depth 3 accepted, 4 refused.
     */
    @ParameterizedTest(name = "level {0}")
    @ValueSource(ints = {4, 5})
    void willTopicIsHeldToTheTopicLimits(final int level) throws IOException
    {
        start(new Broker.Context().topicMaxDepth(3));
        try (RawClient c = client())
        {
            c.send(0x10, connect(level, 0x06, bytes(0), "will-depth-ok", level == 5 ? bytes(0) : bytes(),
                str("a/b/c"), str("w")));
            assertEquals(0, c.expect(2)[3], "a will topic of 3 levels is accepted");
        }
        try (RawClient c = client())
        {
            c.send(0x10, connect(level, 0x06, bytes(0), "will-depth-over", level == 5 ? bytes(0) : bytes(),
                str("a/b/c/d"), str("w")));
            if (level == 5)
            {
                assertEquals(0x90, c.expect(2)[3] & 0xFF, "CONNACK 0x90 Topic Name invalid");
            }
            c.assertClosed();
        }
    }

    /** 0x10 No matching subscribers on PUBACK/PUBREC by default; 0x00 with the setting off; 3.1.1 never has codes. */
    @ParameterizedTest(name = "say 0x10: {0}")
    @ValueSource(booleans = {true, false})
    void noMatchingSubscribersIsASetting(final boolean say0x10) throws IOException
    {
        start(new Broker.Context().pubackNoMatchingSubscribers(say0x10));
        try (RawClient c = client())
        {
            connected(c, 5, 0x02, bytes(0), "nomatch", 0);
            c.send(0x32, str("nobody/listens"), bytes(0, 5), bytes(0), bytes('x'));
            assertArrayEquals(say0x10 ? bytes(0x40, 3, 0, 5, 0x10) : bytes(0x40, 2, 0, 5), c.read(), "PUBACK");
            c.send(0x34, str("nobody/listens"), bytes(0, 6), bytes(0), bytes('x'));
            assertArrayEquals(say0x10 ? bytes(0x50, 3, 0, 6, 0x10) : bytes(0x50, 2, 0, 6), c.read(), "PUBREC");
        }
    }
}
