package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.fuzz.Packets.concat;
import static dev.skylark.broker.fuzz.Packets.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Byte-literal conversations with the broker; every socket is a separate, independent client. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RawSocketTest
{
    private static Broker broker; // a fresh broker per test: retained messages and sessions never leak across
    /** The broker's clock: real time, moved forward by tests of expiry. */
    private static AdjustableClock clock;

    @BeforeEach
    void start()
    {
        clock = new AdjustableClock();
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .nanoClock(clock));
    }

    @AfterEach
    void stop()
    {
        broker.close();
    }

    private static Socket open() throws IOException
    {
        final Socket s = new Socket("127.0.0.1", broker.mqttPort());
        s.setSoTimeout(5000);
        return s;
    }

    /** Reads one whole MQTT packet (remaining length < 128 in these tests). */
    private static byte[] readPacket(final InputStream in) throws IOException
    {
        final int type = in.read();
        if (type < 0)
        {
            return null;
        }
        final int length = in.read();
        final byte[] rest = in.readNBytes(length);
        final byte[] packet = new byte[2 + length];
        packet[0] = (byte)type;
        packet[1] = (byte)length;
        System.arraycopy(rest, 0, packet, 2, length);
        return packet;
    }

    /** True if the broker closed the connection (EOF or reset) before the deadline. */
    private static void assertClosed(final Socket s) throws IOException
    {
        try
        {
            assertEquals(-1, s.getInputStream().read(), "connection should be closed");
        }
        catch (final SocketException reset)
        {
            // closed with RST: also closed
        }
    }

    private static byte[] b(final int... v)
    {
        final byte[] r = new byte[v.length];
        for (int i = 0; i < v.length; i++)
        {
            r[i] = (byte)v[i];
        }
        return r;
    }

    private static Socket connect(final String clientId, final int level) throws IOException
    {
        final Socket s = open();
        final byte[] id = clientId.getBytes();
        s.getOutputStream().write(packet(0x10,              // CONNECT
            b(0, 4, 'M', 'Q', 'T', 'T', level),            // protocol name, level
            b(0x02, 0, 60),                                // clean start, keep alive 60
            level == 5 ? b(0) : b(),                       // v5: properties length 0
            b(0, id.length), id));                         // client id
        final byte[] connack = readPacket(s.getInputStream());
        assertEquals(0x20, connack[0] & 0xFF, "CONNACK");
        assertEquals(0, connack[3], "CONNACK reason/return code success");
        return s;
    }

    private static void subscribe(final Socket s, final String filter, final int level, final byte[] props)
        throws IOException
    {
        final byte[] f = filter.getBytes();
        s.getOutputStream().write(packet(0x82,               // SUBSCRIBE, flags 0010
            b(0, 1),                                        // packet id 1
            level == 5 ? props : b(),                       // v5: properties
            b(0, f.length), f,                              // filter
            b(1)));                                         // options: max QoS 1
        final byte[] suback = readPacket(s.getInputStream());
        assertEquals(0x90, suback[0] & 0xFF, "SUBACK");
        assertEquals(1, suback[suback.length - 1], "granted QoS 1");
    }

    @Test
    void publishBeforeConnectClosesSocket() throws Exception
    {
        try (Socket s = open())
        {
            s.getOutputStream().write(b(
                0x30, 5,                                    // PUBLISH QoS 0, remaining length 5
                0, 1, 'a',                                  // topic "a"
                'h', 'i'));                                 // payload
            assertClosed(s);
        }
    }

    @Test
    void v5ConnectWithReservedFlagGetsConnack0x81() throws Exception
    {
        try (Socket s = open())
        {
            s.getOutputStream().write(b(
                0x10, 14,                                   // CONNECT, remaining length 14
                0, 4, 'M', 'Q', 'T', 'T', 5,                // protocol name, level 5
                0x03,                                       // flags: clean start + RESERVED bit 0
                0, 60,                                      // keep alive
                0,                                          // properties length 0
                0, 1, 'r'));                                // client id "r"
            assertArrayEquals(b(
                0x20, 3,                                    // CONNACK, remaining length 3
                0,                                          // session present 0
                0x81,                                       // reason: malformed packet
                0),                                         // properties length 0
                readPacket(s.getInputStream()));
            assertClosed(s);
        }
    }

    @Test
    void topicAliasAboveMaximumGetsDisconnect0x94() throws Exception
    {
        try (Socket s = open())
        {
            s.getOutputStream().write(b(
                0x10, 13,                                   // CONNECT, remaining length 13
                0, 4, 'M', 'Q', 'T', 'T', 5,                // protocol name, level 5
                0x02, 0, 60,                                // clean start, keep alive 60
                0,                                          // properties length 0
                0, 0));                                     // empty client id (assigned)
            final byte[] connack = readPacket(s.getInputStream());
            assertEquals(0x20, connack[0] & 0xFF);
            assertEquals(0, connack[3]);
            final int max = topicAliasMaximum(connack);
            s.getOutputStream().write(b(
                0x30, 8,                                    // PUBLISH QoS 0, remaining length 8
                0, 1, 'a',                                  // topic "a"
                3, 0x23, (max + 1) >> 8, (max + 1) & 0xFF,  // properties: topic alias = maximum + 1
                'x'));                                      // payload
            final byte[] why = ("topic alias " + (max + 1) + " above the maximum").getBytes();
            assertArrayEquals(concat(b(
                0xE0, 5 + why.length,                       // DISCONNECT, remaining length
                0x94,                                       // reason: topic alias invalid
                3 + why.length,                             // properties length
                0x1F, 0, why.length), why),                 // Reason String
                readPacket(s.getInputStream()));
            assertClosed(s);
        }
    }

    /** Finds property 0x22 (Topic Alias Maximum) in a v5 CONNACK; 0 if absent. */
    private static int topicAliasMaximum(final byte[] connack)
    {
        final int propertiesEnd = 5 + connack[4];
        int i = 5;
        while (i < propertiesEnd)
        {
            final int id = connack[i] & 0xFF;
            if (id == 0x22)
            {
                return ((connack[i + 1] & 0xFF) << 8) | (connack[i + 2] & 0xFF);
            }
            // the other properties a CONNACK here may carry: 1-byte, 2-byte, 4-byte integers, strings
            switch (id)
            {
                case 0x24, 0x25, 0x28, 0x29, 0x2A -> i += 2;
                case 0x21, 0x13 -> i += 3;
                case 0x11, 0x27 -> i += 5;
                default -> i += 3 + (((connack[i + 1] & 0xFF) << 8) | (connack[i + 2] & 0xFF));
            }
        }
        throw new AssertionError("CONNACK carries no Topic Alias Maximum");
    }

    @Test
    void malformedPacketClosesOnlyThatConnection() throws Exception
    {
        try (Socket good = connect("good", 4); Socket bad = connect("bad", 4); Socket pub = connect("pub", 4))
        {
            subscribe(good, "m/t", 4, b());
            bad.getOutputStream().write(b(
                0x80, 6,                                    // SUBSCRIBE with flags 0000 (must be 0010)
                0, 1,                                       // packet id
                0, 1, 'a',                                  // filter "a"
                0));                                        // options
            assertClosed(bad);
            pub.getOutputStream().write(b(
                0x30, 7,                                    // PUBLISH QoS 0, remaining length 7
                0, 3, 'm', '/', 't',                        // topic "m/t"
                'o', 'k'));                                 // payload
            assertArrayEquals(b(0x30, 7, 0, 3, 'm', '/', 't', 'o', 'k'), readPacket(good.getInputStream()));
        }
    }

    @Test
    void sysTopicPublishNotDeliveredToHashSubscriber() throws Exception
    {
        try (Socket sub = connect("hash", 4); Socket pub = connect("sys-pub", 4))
        {
            subscribe(sub, "#", 4, b());
            pub.getOutputStream().write(b(
                0x30, 9,                                    // PUBLISH QoS 0, remaining length 9
                0, 6, '$', 'S', 'Y', 'S', '/', 'x',         // topic "$SYS/x"
                'y'));                                      // payload "y"
            pub.getOutputStream().write(b(
                0x30, 6,                                    // PUBLISH QoS 0, remaining length 6
                0, 3, 'n', '/', 'x',                        // topic "n/x"
                'z'));                                      // payload "z"
            assertArrayEquals(b(0x30, 6, 0, 3, 'n', '/', 'x', 'z'), readPacket(sub.getInputStream()),
                "the first delivery is the ordinary topic, not $SYS/x");
        }
    }

    @Test
    void subscriptionIdentifierDelivered() throws Exception
    {
        try (Socket sub = connect("sid", 5); Socket pub = connect("sid-pub", 5))
        {
            subscribe(sub, "s/#", 5, b(
                2,                                          // properties length 2
                0x0B, 42));                                 // subscription identifier 42
            pub.getOutputStream().write(b(
                0x30, 7,                                    // PUBLISH QoS 0, remaining length 7
                0, 3, 's', '/', '1',                        // topic "s/1"
                0,                                          // properties length 0
                'h'));                                      // payload
            assertArrayEquals(b(
                0x30, 9,                                    // PUBLISH QoS 0, remaining length 9
                0, 3, 's', '/', '1',                        // topic
                2, 0x0B, 42,                                // properties: subscription identifier 42
                'h'),                                       // payload
                readPacket(sub.getInputStream()));
        }
    }

    private static Socket connectV5(final String clientId, final byte[] properties) throws IOException
    {
        final Socket s = open();
        final byte[] id = clientId.getBytes();
        s.getOutputStream().write(packet(0x10,              // CONNECT
            b(0, 4, 'M', 'Q', 'T', 'T', 5),                // protocol name, level 5
            b(0x02, 0, 60),                                // clean start, keep alive 60
            properties,                                    // properties, with their length
            b(0, id.length), id));                         // client id
        final byte[] connack = readPacket(s.getInputStream());
        assertEquals(0x20, connack[0] & 0xFF, "CONNACK");
        assertEquals(0, connack[3], "CONNACK reason success");
        return s;
    }

    /** Asserts nothing arrives within a short window (used only after a later marker proves ordering). */
    private static void assertSilent(final Socket s, final int ms) throws IOException
    {
        s.setSoTimeout(ms);
        try
        {
            final int r = s.getInputStream().read();
            throw new AssertionError("unexpected byte 0x" + Integer.toHexString(r));
        }
        catch (final java.net.SocketTimeoutException expected)
        {
            // silent
        }
        finally
        {
            s.setSoTimeout(5000);
        }
    }

    @Test
    void clientReceiveMaximumLimitsInFlight() throws Exception
    {
        try (Socket sub = connectV5("rm", b(
                3, 0x21, 0, 1));                            // properties: receive maximum 1
            Socket pub = connect("rm-pub", 4))
        {
            subscribe(sub, "rm/t", 5, b(0));
            for (int i = 0; i < 2; i++)
            {
                pub.getOutputStream().write(b(
                    0x32, 9,                                // PUBLISH QoS 1, remaining length 9
                    0, 4, 'r', 'm', '/', 't',               // topic "rm/t"
                    0, i + 1,                               // packet id
                    'A' + i));                              // payload
                assertArrayEquals(b(0x40, 2, 0, i + 1), readPacket(pub.getInputStream()), "PUBACK");
            }
            assertArrayEquals(b(
                0x32, 10,                                   // PUBLISH QoS 1, remaining length 10
                0, 4, 'r', 'm', '/', 't',                   // topic
                0, 1,                                       // packet id 1
                0,                                          // properties length 0
                'A'),                                       // payload
                readPacket(sub.getInputStream()));
            assertSilent(sub, 300);                         // window of 1 is full
            sub.getOutputStream().write(b(0x40, 2, 0, 1)); // PUBACK packet id 1
            assertArrayEquals(b(0x32, 10, 0, 4, 'r', 'm', '/', 't', 0, 2, 0, 'B'), readPacket(sub.getInputStream()));
        }
    }

    @Test
    void inboundTopicAliasResolved() throws Exception
    {
        try (Socket sub = connect("ta-sub", 4); Socket pub = connectV5("ta", b(0)))
        {
            subscribe(sub, "ta/t", 4, b());
            pub.getOutputStream().write(b(
                0x30, 13,                                   // PUBLISH QoS 0, remaining length 13
                0, 4, 't', 'a', '/', 't',                   // topic "ta/t"
                3, 0x23, 0, 1,                              // properties: topic alias 1
                'o', 'n', 'e'));                            // payload
            pub.getOutputStream().write(b(
                0x30, 9,                                    // PUBLISH QoS 0, remaining length 9
                0, 0,                                       // empty topic: use the alias
                3, 0x23, 0, 1,                              // properties: topic alias 1
                't', 'w', 'o'));                            // payload
            assertArrayEquals(b(0x30, 9, 0, 4, 't', 'a', '/', 't', 'o', 'n', 'e'), readPacket(sub.getInputStream()));
            assertArrayEquals(b(0x30, 9, 0, 4, 't', 'a', '/', 't', 't', 'w', 'o'), readPacket(sub.getInputStream()));
        }
    }

    @Test
    void resentQos2PublishBeforePubrelRoutedOnce() throws Exception
    {
        try (Socket sub = connect("q2-sub", 4); Socket pub = connect("q2-pub", 4))
        {
            subscribe(sub, "q2/#", 4, b());
            final byte[] publish = b(
                0x34, 9,                                    // PUBLISH QoS 2, remaining length 9
                0, 4, 'q', '2', '/', 't',                   // topic "q2/t"
                0, 7,                                       // packet id 7
                'd');                                       // payload
            pub.getOutputStream().write(publish);
            assertArrayEquals(b(0x50, 2, 0, 7), readPacket(pub.getInputStream()), "PUBREC");
            publish[0] = 0x3C;                              // same PUBLISH with DUP set
            pub.getOutputStream().write(publish);
            assertArrayEquals(b(0x50, 2, 0, 7), readPacket(pub.getInputStream()), "PUBREC again");
            pub.getOutputStream().write(b(0x62, 2, 0, 7)); // PUBREL packet id 7
            assertArrayEquals(b(0x70, 2, 0, 7), readPacket(pub.getInputStream()), "PUBCOMP");
            pub.getOutputStream().write(b(
                0x30, 7,                                    // PUBLISH QoS 0, remaining length 7
                0, 4, 'q', '2', '/', 'm',                   // topic "q2/m"
                'm'));                                      // payload: marker
            final byte[] first = readPacket(sub.getInputStream());
            assertEquals(0x32, first[0], "delivered at QoS 1 (granted)");
            assertEquals('d', first[first.length - 1]);
            sub.getOutputStream().write(b(0x40, 2, first[8], first[9])); // PUBACK
            assertArrayEquals(b(0x30, 7, 0, 4, 'q', '2', '/', 'm', 'm'), readPacket(sub.getInputStream()),
                "the marker follows: the duplicate was not routed");
        }
    }

    @Test
    void unackedQos1ResentWithDupOnReconnect() throws Exception
    {
        final byte[] persistentConnect = b(
            0x10, 15,                                       // CONNECT, remaining length 15
            0, 4, 'M', 'Q', 'T', 'T', 4,                    // protocol name, level 4
            0x00, 0, 60,                                    // clean session 0, keep alive 60
            0, 3, 'd', 'u', 'p');                           // client id "dup"
        try (Socket pub = connect("dup-pub", 4))
        {
            try (Socket sub = open())
            {
                sub.getOutputStream().write(persistentConnect);
                assertArrayEquals(b(0x20, 2, 0, 0), readPacket(sub.getInputStream()));
                subscribe(sub, "d/t", 4, b());
                pub.getOutputStream().write(b(
                    0x32, 8,                                // PUBLISH QoS 1, remaining length 8
                    0, 3, 'd', '/', 't',                    // topic "d/t"
                    0, 3,                                   // packet id 3
                    'X'));                                  // payload
                assertArrayEquals(b(0x32, 8, 0, 3, 'd', '/', 't', 0, 1, 'X'), readPacket(sub.getInputStream()));
                // no PUBACK: drop the connection
            }
            try (Socket sub = open())
            {
                sub.getOutputStream().write(persistentConnect);
                assertArrayEquals(b(0x20, 2, 1, 0), readPacket(sub.getInputStream()), "session present");
                assertArrayEquals(b(
                    0x3A, 8,                                // PUBLISH QoS 1 with DUP, remaining length 8
                    0, 3, 'd', '/', 't',                    // topic
                    0, 1,                                   // same packet id 1
                    'X'), readPacket(sub.getInputStream()));
            }
        }
    }

    @Test
    void keepAliveTimeoutClosesConnection() throws Exception
    {
        try (Socket s = open())
        {
            s.getOutputStream().write(b(
                0x10, 13,                                   // CONNECT, remaining length 13
                0, 4, 'M', 'Q', 'T', 'T', 4,                // protocol name, level 4
                0x02, 0, 1,                                 // clean session, keep alive 1 s
                0, 1, 'k'));                                // client id "k"
            assertArrayEquals(b(0x20, 2, 0, 0), readPacket(s.getInputStream()));
            final long start = System.nanoTime();
            assertClosed(s);                                // silent client: closed after 1.5 x keep alive
            final long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            org.junit.jupiter.api.Assertions.assertTrue(ms >= 1000 && ms < 4000, "closed after " + ms + " ms");
        }
    }

    @Test
    void expiredQueuedMessageIsNotDelivered() throws Exception
    {
        final byte[] persistent = b(
            5, 0x11, 0, 0, 0, 60);                          // properties: session expiry 60 s
        try (Socket sub = connectV5("mexp", persistent))
        {
            subscribe(sub, "me/t", 5, b(0));
            sub.getOutputStream().write(b(0xE0, 0));        // DISCONNECT
            assertClosed(sub);
        }
        try (Socket pub = connect("mexp-pub", 5))
        {
            pub.getOutputStream().write(b(
                0x32, 16,                                   // PUBLISH QoS 1, remaining length 16
                0, 4, 'm', 'e', '/', 't',                   // topic "me/t"
                0, 1,                                       // packet id
                5, 0x02, 0, 0, 0, 1,                        // properties: message expiry 1 s
                'g', 'o'));                                 // payload
            assertEquals(0x40, readPacket(pub.getInputStream())[0], "PUBACK");
        }
        clock.advanceMs(2100);                              // the expiry passes on the broker's clock (no waiting)
        final Socket sub = open();
        try (sub)
        {
            sub.getOutputStream().write(b(
                0x10, 22,                                   // CONNECT, remaining length 22
                0, 4, 'M', 'Q', 'T', 'T', 5,                // protocol name, level 5
                0x00, 0, 60,                                // clean start 0, keep alive 60
                5, 0x11, 0, 0, 0, 60,                       // session expiry 60 s
                0, 4, 'm', 'e', 'x', 'p'));                 // client id "mexp"
            assertEquals(1, readPacket(sub.getInputStream())[2], "session present");
            assertSilent(sub, 500);
        }
    }

    @Test
    void disconnectWithWillPublishesRetainedWillWithProperties() throws Exception
    {
        try (Socket watcher = connect("w-watch", 4))
        {
            subscribe(watcher, "w8/#", 4, b());
            try (Socket owner = open())
            {
                owner.getOutputStream().write(b(
                    0x10, 30,                               // CONNECT, remaining length 30
                    0, 4, 'M', 'Q', 'T', 'T', 5,            // protocol name, level 5
                    0x26, 0, 60,                            // flags: will retain, will flag, clean start
                    0,                                      // properties length 0
                    0, 2, 'd', 'w',                         // client id "dw"
                    4, 0x03, 0, 1, 'a',                     // will properties: content type "a"
                    0, 4, 'w', '8', '/', 'r',               // will topic "w8/r"
                    0, 2, 'w', 'l'));                       // will payload "wl"
                assertEquals(0, readPacket(owner.getInputStream())[3], "CONNACK success");
                owner.getOutputStream().write(b(
                    0xE0, 1,                                // DISCONNECT, remaining length 1
                    0x04));                                 // reason: disconnect with will message
                assertClosed(owner);
            }
            assertArrayEquals(b(0x30, 8, 0, 4, 'w', '8', '/', 'r', 'w', 'l'), readPacket(watcher.getInputStream()));
        }
        try (Socket late = connect("w-late", 5))
        {
            subscribe(late, "w8/r", 5, b(0));
            assertArrayEquals(b(
                0x31, 13,                                   // PUBLISH QoS 0 RETAIN, remaining length 13
                0, 4, 'w', '8', '/', 'r',                   // topic "w8/r"
                4, 0x03, 0, 1, 'a',                         // properties: content type "a"
                'w', 'l'),                                  // payload
                readPacket(late.getInputStream()));
        }
    }

    @Test
    void takeoverResendsUnackedQos1ToNewConnection() throws Exception
    {
        final byte[] persistentConnect = b(
            0x10, 15,                                       // CONNECT, remaining length 15
            0, 4, 'M', 'Q', 'T', 'T', 4,                    // protocol name, level 4
            0x00, 0, 60,                                    // clean session 0, keep alive 60
            0, 3, 't', 'k', '2');                           // client id "tk2"
        try (Socket pub = connect("tk-pub", 4); Socket first = open(); Socket second = open())
        {
            first.getOutputStream().write(persistentConnect);
            assertArrayEquals(b(0x20, 2, 0, 0), readPacket(first.getInputStream()));
            subscribe(first, "k/t", 4, b());
            pub.getOutputStream().write(b(
                0x32, 8,                                    // PUBLISH QoS 1, remaining length 8
                0, 3, 'k', '/', 't',                        // topic "k/t"
                0, 1,                                       // packet id 1
                '1'));                                      // payload
            assertArrayEquals(b(0x32, 8, 0, 3, 'k', '/', 't', 0, 1, '1'), readPacket(first.getInputStream()));
            second.getOutputStream().write(persistentConnect);
            assertArrayEquals(b(0x20, 2, 1, 0), readPacket(second.getInputStream()), "session present");
            assertArrayEquals(b(0x3A, 8, 0, 3, 'k', '/', 't', 0, 1, '1'), readPacket(second.getInputStream()),
                "unacknowledged message resent with DUP");
            assertClosed(first);
        }
    }

    @Test
    void unsubscribeUnknownFilterGetsNoSubscriptionExisted() throws Exception
    {
        try (Socket s = connect("un", 5))
        {
            s.getOutputStream().write(b(
                0xA2, 8,                                    // UNSUBSCRIBE, flags 0010, remaining length 8
                0, 5,                                       // packet id 5
                0,                                          // properties length 0
                0, 3, 'z', 'z', 'z'));                      // filter "zzz"
            assertArrayEquals(b(
                0xB0, 4,                                    // UNSUBACK, remaining length 4
                0, 5,                                       // packet id 5
                0,                                          // properties length 0
                0x11),                                      // reason: no subscription existed
                readPacket(s.getInputStream()));
        }
    }

    @Test
    void secondConnectClosesConnection() throws Exception
    {
        try (Socket s = connect("twice", 4))
        {
            s.getOutputStream().write(b(
                0x10, 13,                                   // CONNECT again, remaining length 13
                0, 4, 'M', 'Q', 'T', 'T', 4,                // protocol name, level 4
                0x02, 0, 60,                                // clean session, keep alive 60
                0, 1, 'q'));                                // client id "q"
            assertClosed(s);
        }
    }
}
