package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
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

/** MQTT 5 capabilities, limits and per-connection features, as byte literals. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class Mqtt5FeaturesTest
{
    private Broker broker;
    /** The broker's clock: real time, moved forward by tests of expiry. */
    private final AdjustableClock clock = new AdjustableClock();

    @AfterEach
    void stop()
    {
        if (broker != null)
        {
            broker.close();
        }
    }

    private Broker start(final Broker.Context context)
    {
        broker = Broker.launch(context.authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .nanoClock(clock));
        return broker;
    }

    /** CONNECT v5, clean start, keep alive 60, with the given properties, then CONNACK; returns the CONNACK. */
    private static byte[] connectV5(final RawClient client, final String clientId, final byte[] properties)
        throws Exception
    {
        client.send(0x10,
            str("MQTT"), bytes(5),                    // protocol name, level 5
            bytes(0x02, 0, 60),                       // clean start, keep alive 60
            bytes(properties.length), properties,     // properties
            str(clientId));                           // client id
        return client.expect(2);
    }

    private static boolean contains(final byte[] haystack, final byte[] needle)
    {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++)
        {
            for (int j = 0; j < needle.length; j++)
            {
                if (haystack[i + j] != needle[j])
                {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Test
    void brokerUsesTopicAliasesTowardsTheClient() throws Exception
    {
        start(new Broker.Context());
        try (RawClient subscriber = new RawClient(broker.mqttPort());
            RawClient publisher = new RawClient(broker.mqttPort()))
        {
            connectV5(subscriber, "sub", bytes(0x22, 0, 5));        // Topic Alias Maximum 5
            subscriber.send(0x82, bytes(0, 1), bytes(0), str("t/#"), bytes(0));  // SUBSCRIBE id 1, no props, QoS 0
            subscriber.expect(9);
            connectV5(publisher, "pub", bytes());
            for (int i = 0; i < 2; i++)
            {
                publisher.send(0x30, str("t/a"), bytes(0), bytes('x'));  // PUBLISH QoS 0, no props, payload "x"
            }

            assertArrayEquals(bytes(0x30, 10, 0, 3, 't', '/', 'a', 3, 0x23, 0, 1, 'x'), subscriber.read(),
                "first: topic and Topic Alias 1");
            assertArrayEquals(bytes(0x30, 7, 0, 0, 3, 0x23, 0, 1, 'x'), subscriber.read(),
                "second: empty topic, Topic Alias 1");
        }
    }

    @Test
    void noAliasesForAClientThatAllowsNone() throws Exception
    {
        start(new Broker.Context());
        try (RawClient subscriber = new RawClient(broker.mqttPort());
            RawClient publisher = new RawClient(broker.mqttPort()))
        {
            connectV5(subscriber, "sub", bytes());
            subscriber.send(0x82, bytes(0, 1), bytes(0), str("t/#"), bytes(0));
            subscriber.expect(9);
            connectV5(publisher, "pub", bytes());
            publisher.send(0x30, str("t/a"), bytes(0), bytes('x'));
            assertArrayEquals(bytes(0x30, 7, 0, 3, 't', '/', 'a', 0, 'x'), subscriber.read());
        }
    }

    @Test
    void serverKeepAliveAndResponseInformation() throws Exception
    {
        start(new Broker.Context().keepAliveMax(30).responseInformationPrefix("replies/"));
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            final byte[] connack = connectV5(client, "c1", bytes(0x19, 1)); // Request Response Information 1
            assertTrue(contains(connack, bytes(0x13, 0, 30)), "Server Keep Alive 30");
            assertTrue(contains(connack, bytes(0x1A, 0, 10, 'r', 'e', 'p', 'l', 'i', 'e', 's', '/', 'c', '1')),
                "Response Information replies/c1");
        }
    }

    @Test
    void capabilitiesTurnedOffAreAnnouncedAndEnforced() throws Exception
    {
        start(new Broker.Context().retainAvailable(false).maximumQos(1).wildcardSubscriptionsAvailable(false)
            .sharedSubscriptionsAvailable(false).subscriptionIdentifiersAvailable(false));
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            final byte[] connack = connectV5(client, "c", bytes());
            assertTrue(contains(connack, bytes(0x24, 1)), "Maximum QoS 1");
            assertTrue(contains(connack, bytes(0x25, 0)), "Retain Available 0");
            assertTrue(contains(connack, bytes(0x28, 0)), "Wildcard Subscription Available 0");
            assertTrue(contains(connack, bytes(0x29, 0)), "Subscription Identifier Available 0");
            assertTrue(contains(connack, bytes(0x2A, 0)), "Shared Subscription Available 0");

            client.send(0x82, bytes(0, 7), bytes(0),                      // SUBSCRIBE id 7, no properties
                str("a/+"), bytes(1),                                     // wildcard → 0xA2
                str("$share/g/a"), bytes(1),                              // shared → 0x9E
                str("a/b"), bytes(2));                                    // QoS 2 → granted 1
            assertArrayEquals(packet(0x90, bytes(0, 7), reason("filter 1: wildcard subscriptions are not available; " +
                "filter 2: shared subscriptions are not available"), bytes(0xA2, 0x9E, 0x01)), client.expect(9));

            client.send(0x31, str("a/b"), bytes(0), bytes('r'));         // PUBLISH QoS 0 RETAIN → 0x9A
            assertArrayEquals(packet(0xE0, bytes(0x9A), reason("retained PUBLISH but retain is not available")),
                client.read(), "DISCONNECT Retain not supported");
            client.assertClosed();
        }
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            connectV5(client, "c2", bytes());
            client.send(0x34, str("a/b"), bytes(0, 1), bytes(0), bytes('q')); // PUBLISH QoS 2 → 0x9B
            assertArrayEquals(packet(0xE0, bytes(0x9B), reason("PUBLISH at QoS 2 above the maximum QoS")), client.read(),
                "DISCONNECT QoS not supported");
            client.assertClosed();
        }
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            connectV5(client, "c3", bytes());
            client.send(0x82, bytes(0, 8), bytes(2, 0x0B, 5), str("a/b"), bytes(0)); // Subscription Identifier 5
            assertArrayEquals(packet(0xE0, bytes(0xA1), reason("subscription identifiers are off")), client.read(),
                "DISCONNECT Subscription Identifiers not supported");
            client.assertClosed();
        }
    }

    @Test
    void payloadFormatIsCheckedWhenConfigured() throws Exception
    {
        start(new Broker.Context().payloadFormatCheck(true));
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            connectV5(client, "c", bytes());
            client.send(0x32, str("a/b"), bytes(0, 9), bytes(2, 0x01, 1), bytes(0xFF, 0xFE)); // QoS 1, UTF-8 flag
            assertArrayEquals(packet(0x40, bytes(0, 9, 0x99),
                reason("payload format indicator says UTF-8 but the payload is not valid UTF-8")), client.expect(4),
                "PUBACK Payload format invalid");
            client.send(0x32, str("a/b"), bytes(0, 10), bytes(2, 0x01, 1), bytes('o', 'k'));
            assertArrayEquals(bytes(0x40, 3, 0, 10, 0x10), client.expect(4), "PUBACK No matching subscribers");
        }
    }

    @Test
    void requestProblemInformationZeroKeepsReasonStringsOffAcknowledgements() throws Exception
    {
        start(new Broker.Context().payloadFormatCheck(true).wildcardSubscriptionsAvailable(false));
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            connectV5(client, "quiet", bytes(0x17, 0));                            // Request Problem Information 0
            client.send(0x32, str("a/b"), bytes(0, 9), bytes(2, 0x01, 1), bytes(0xFF, 0xFE)); // QoS 1, bad UTF-8
            assertArrayEquals(bytes(0x40, 3, 0, 9, 0x99), client.expect(4), "PUBACK without a Reason String");
            client.send(0x82, bytes(0, 7), bytes(0), str("a/+"), bytes(1));       // wildcard → 0xA2
            assertArrayEquals(bytes(0x90, 4, 0, 7, 0, 0xA2), client.expect(9), "SUBACK without a Reason String");
            client.send(0x30, str("a"), bytes(3, 0x23, 0, 0), bytes('x'));       // Topic Alias 0
            assertArrayEquals(packet(0xE0, bytes(0x94), reason("invalid PUBLISH")), client.read(),
                "DISCONNECT may still say why [MQTT-3.1.2-29]");
        }
    }

    @Test
    void reasonStringsAreLeftOutWhenTheyWouldExceedTheClientsMaximumPacketSize() throws Exception
    {
        start(new Broker.Context().payloadFormatCheck(true).clientIdMaxLength(5));
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            connectV5(client, "small", bytes(0x27, 0, 0, 0, 20));                 // Maximum Packet Size 20
            client.send(0x32, str("a/b"), bytes(0, 9), bytes(2, 0x01, 1), bytes(0xFF, 0xFE));
            assertArrayEquals(bytes(0x40, 3, 0, 9, 0x99), client.expect(4), "PUBACK: the reason would not fit");
            client.send(0x30, str("a"), bytes(3, 0x23, 0, 0), bytes('x'));
            assertArrayEquals(bytes(0xE0, 1, 0x94), client.read(), "DISCONNECT: 15 bytes of reason would not fit");
            client.assertClosed();
        }
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            client.send(0x10, str("MQTT"), bytes(5, 0x02, 0, 60), bytes(5, 0x27, 0, 0, 0, 10), str("toolong"));
            assertArrayEquals(bytes(0x20, 3, 0, 0x85, 0), client.expect(2), "CONNACK: 10 bytes at most");
            client.assertClosed();
        }
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            client.send(0x10, str("MQTT"), bytes(5, 0x02, 0, 60), bytes(5, 0x27, 0, 0, 0, 40), str("toolong"));
            assertArrayEquals(packet(0x20, bytes(0, 0x85), reason("client ID longer than 5 bytes")), client.expect(2),
                "CONNACK: 37 bytes fit in 40");
        }
    }

    @Test
    void queuedMessageCarriesTheExpiryTimeItHasLeft() throws Exception
    {
        start(new Broker.Context());
        try (RawClient subscriber = new RawClient(broker.mqttPort()))
        {
            connectV5(subscriber, "late", bytes(0x11, 0, 0, 0, 60));                 // session expiry 60 s
            subscriber.send(0x82, bytes(0, 1), bytes(0), str("exp/t"), bytes(1));  // QoS 1
            subscriber.expect(9);
            subscriber.send(0xE0, bytes(0));                                       // DISCONNECT
            subscriber.assertClosed();
        }
        try (RawClient publisher = new RawClient(broker.mqttPort()))
        {
            connectV5(publisher, "pub", bytes());
            publisher.send(0x32, str("exp/t"), bytes(0, 1), bytes(5, 0x02, 0, 0, 0, 30), bytes('x')); // expiry 30 s
            publisher.expect(4);
        }
        clock.advanceMs(1100); // time passes on the broker's clock (no waiting)
        try (RawClient subscriber = new RawClient(broker.mqttPort()))
        {
            subscriber.send(0x10, str("MQTT"), bytes(5, 0x00, 0, 60), bytes(5, 0x11, 0, 0, 0, 60), str("late"));
            subscriber.expect(2);
            final byte[] publish = subscriber.expect(3);
            // 0x32 len, topic "exp/t" (7), packet id (2), properties length, then Message Expiry Interval
            final int properties = 2 + 7 + 2;
            assertEquals(5, publish[properties], "property block length");
            assertEquals(0x02, publish[properties + 1], "Message Expiry Interval");
            final int remaining = ((publish[properties + 2] & 0xFF) << 24) | ((publish[properties + 3] & 0xFF) << 16) |
                ((publish[properties + 4] & 0xFF) << 8) | (publish[properties + 5] & 0xFF);
            assertTrue(remaining >= 1 && remaining <= 29, "forwarded with the time it has left: " + remaining);
        }
    }

    @Test
    void topicAliasZeroIsInvalid() throws Exception
    {
        start(new Broker.Context());
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            connectV5(client, "c", bytes());
            client.send(0x30, str("a"), bytes(3, 0x23, 0, 0), bytes('x'));   // Topic Alias 0
            assertArrayEquals(packet(0xE0, bytes(0x94), reason("invalid PUBLISH")), client.read(),
                "DISCONNECT Topic Alias invalid");
            client.assertClosed();
        }
    }

    @Test
    void willRetainRefusedWhenRetainIsOff() throws Exception
    {
        start(new Broker.Context().retainAvailable(false));
        try (RawClient client = new RawClient(broker.mqttPort()))
        {
            client.send(0x10,
                str("MQTT"), bytes(5),
                bytes(0x02 | 0x04 | 0x20, 0, 60),        // clean start, will, will retain
                bytes(0),                                // no properties
                str("c"),                                // client id
                bytes(0),                                // will properties: none
                str("w"), str("bye"));                   // will topic, will payload
            assertEquals(0x9A, client.expect(2)[3] & 0xFF, "CONNACK Retain not supported");
            client.assertClosed();
        }
    }
}
