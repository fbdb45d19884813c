package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import dev.skylark.codec.mqtt.ReasonCode;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.MqttPublish;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MQTT 5 features, one test each, seen through Eclipse Paho's mqttv5 client (the HiveMQ client and raw bytes
 * cover them in {@link HiveMqV5Test}, {@link Mqtt5FeaturesTest} and {@link RawSocketTest}).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PahoV5FeaturesTest
{
    private static final long WAIT_MS = 10_000;

    private Broker broker;
    /** The broker's clock: real time, moved forward by tests of expiry and delay. */
    private final AdjustableClock clock = new AdjustableClock();
    private final List<Paho> clients = new ArrayList<>();

    @BeforeEach
    void start()
    {
        start(new Broker.Context());
    }

    private void start(final Broker.Context context)
    {
        if (broker != null)
        {
            broker.close();
        }
        broker = Broker.launch(context.authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .nanoClock(clock));
    }

    @AfterEach
    void stop()
    {
        for (final Paho c : clients)
        {
            c.close();
        }
        broker.close();
    }

    /** One Paho mqttv5 client whose received messages and disconnect land in queues. */
    private final class Paho implements MqttCallback
    {
        final MqttAsyncClient client;
        final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
        final CompletableFuture<MqttDisconnectResponse> disconnected = new CompletableFuture<>();
        IMqttToken connectToken;

        Paho(final String clientId) throws MqttException
        {
            client = new MqttAsyncClient("tcp://127.0.0.1:" + broker.mqttPort(), clientId, new MemoryPersistence());
            client.setCallback(this);
            clients.add(this);
        }

        Paho connect() throws MqttException
        {
            return connect(new MqttConnectionOptions());
        }

        Paho connect(final MqttConnectionOptions options) throws MqttException
        {
            connectToken = client.connect(options);
            connectToken.waitForCompletion(WAIT_MS);
            return this;
        }

        /** The CONNACK's properties. */
        MqttProperties connack()
        {
            return connectToken.getResponseProperties();
        }

        IMqttToken subscribe(final MqttSubscription subscription, final MqttProperties properties) throws MqttException
        {
            final IMqttToken token = client.subscribe(new MqttSubscription[]{subscription}, null, null, properties);
            token.waitForCompletion(WAIT_MS);
            return token;
        }

        IMqttToken subscribe(final String filter, final int qos) throws MqttException
        {
            return subscribe(new MqttSubscription(filter, qos), new MqttProperties());
        }

        IMqttToken publish(final String topic, final String payload, final int qos, final boolean retained)
            throws MqttException
        {
            return publish(topic, message(payload, qos, retained, new MqttProperties()));
        }

        IMqttToken publish(final String topic, final MqttMessage message) throws MqttException
        {
            final IMqttToken token = client.publish(topic, message);
            token.waitForCompletion(WAIT_MS);
            return token;
        }

        Received next() throws InterruptedException
        {
            final Received next = received.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertNotNull(next, "a message within " + WAIT_MS + " ms");
            return next;
        }

        /** Nothing arrives for a while (used only where a later message proves the order anyway). */
        void assertNothingFor(final long ms) throws InterruptedException
        {
            final Received unexpected = received.poll(ms, TimeUnit.MILLISECONDS);
            assertNull(unexpected, () -> "unexpected " + unexpected);
        }

        void disconnect(final int reasonCode, final MqttProperties properties) throws MqttException
        {
            client.disconnect(WAIT_MS, null, null, reasonCode, properties).waitForCompletion(WAIT_MS);
        }

        void close()
        {
            try
            {
                if (client.isConnected())
                {
                    client.disconnect().waitForCompletion(WAIT_MS);
                }
                client.close(true);
            }
            catch (final MqttException ignore)
            {
            }
        }

        @Override
        public void disconnected(final MqttDisconnectResponse response)
        {
            disconnected.complete(response);
        }

        @Override
        public void mqttErrorOccurred(final MqttException exception)
        {
        }

        @Override
        public void messageArrived(final String topic, final MqttMessage message)
        {
            received.add(new Received(topic, message));
        }

        @Override
        public void deliveryComplete(final IMqttToken token)
        {
        }

        @Override
        public void connectComplete(final boolean reconnect, final String serverURI)
        {
        }

        @Override
        public void authPacketArrived(final int reasonCode, final MqttProperties properties)
        {
        }
    }

    record Received(String topic, MqttMessage message)
    {
        String payload()
        {
            return new String(message.getPayload(), StandardCharsets.UTF_8);
        }
    }

    private static MqttMessage message(final String payload, final int qos, final boolean retained,
        final MqttProperties properties)
    {
        final MqttMessage message = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
        message.setQos(qos);
        message.setRetained(retained);
        message.setProperties(properties);
        return message;
    }

    private static MqttConnectionOptions persistent(final long sessionExpiryS)
    {
        final MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(false);
        options.setSessionExpiryInterval(sessionExpiryS);
        return options;
    }

    // ------------------------------------------------------------------------------------------------ sessions

    @Test
    void sessionExpiryKeepsTheSessionUntilDisconnectSetsItToZero() throws Exception
    {
        final Paho publisher = new Paho("se-pub").connect();
        Paho subscriber = new Paho("se-sub").connect(persistent(60));
        assertFalse(subscriber.connectToken.getSessionPresent());
        subscriber.subscribe("se/t", 1);
        subscriber.disconnect(ReasonCode.NORMAL_DISCONNECTION, new MqttProperties());

        publisher.publish("se/t", "kept", 1, false);
        subscriber = new Paho("se-sub").connect(persistent(60));
        assertTrue(subscriber.connectToken.getSessionPresent(), "session present");
        assertEquals("kept", subscriber.next().payload(), "queued while offline");

        final MqttProperties endNow = new MqttProperties();
        endNow.setSessionExpiryInterval(0L);
        subscriber.disconnect(ReasonCode.NORMAL_DISCONNECTION, endNow);
        subscriber = new Paho("se-sub").connect(persistent(60));
        assertFalse(subscriber.connectToken.getSessionPresent(), "DISCONNECT with Session Expiry 0 ended it");
    }

    @Test
    void messageExpiryDropsExpiredCopiesAndForwardsTheTimeLeft() throws Exception
    {
        Paho subscriber = new Paho("me-sub").connect(persistent(60));
        subscriber.subscribe("me/t", 1);
        subscriber.disconnect(ReasonCode.NORMAL_DISCONNECTION, new MqttProperties());

        final Paho publisher = new Paho("me-pub").connect();
        final MqttProperties short1 = new MqttProperties();
        short1.setMessageExpiryInterval(1L);
        publisher.publish("me/t", message("short", 1, false, short1));
        final MqttProperties long600 = new MqttProperties();
        long600.setMessageExpiryInterval(600L);
        publisher.publish("me/t", message("long", 1, false, long600));
        clock.advanceMs(1_100); // time passes on the broker's clock (no waiting)

        subscriber = new Paho("me-sub").connect(persistent(60));
        final Received received = subscriber.next();
        assertEquals("long", received.payload(), "the 1 s message expired while queued");
        final long left = received.message().getProperties().getMessageExpiryInterval();
        assertTrue(left > 0 && left < 600, "forwarded with the time it has left: " + left);
    }

    // ------------------------------------------------------------------------------------------------ flow

    /**
     * Client → broker. (Broker → client aliases are covered with HiveMQ and raw bytes: Paho 1.2.5 maps an alias to
     * the empty topic of an aliased PUBLISH instead of resolving it, and hands the application topic "".)
     */
    @Test
    void topicAliasesFromTheClient() throws Exception
    {
        final Paho subscriber = new Paho("ta-sub").connect();
        subscriber.subscribe("ta/#", 1);
        final Paho publisher = new Paho("ta-pub").connect();
        assertEquals(64, publisher.connack().getTopicAliasMaximum(), "Topic Alias Maximum announced");

        final List<IMqttToken> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            sent.add(publisher.publish("ta/one", "m" + i, 1, false));
        }
        final MqttPublish second = (MqttPublish)sent.get(1).getRequestMessage();
        assertNull(second.getTopicName(), "Paho sent the second PUBLISH with its alias only");
        assertEquals(1, second.getProperties().getTopicAlias());
        for (int i = 0; i < 3; i++)
        {
            final Received received = subscriber.next();
            assertEquals("ta/one", received.topic(), "alias resolved by the broker");
            assertEquals("m" + i, received.payload());
        }
    }

    @Test
    void receiveMaximumBothWays() throws Exception
    {
        final MqttConnectionOptions one = new MqttConnectionOptions();
        one.setReceiveMaximum(1);
        final Paho subscriber = new Paho("rm-sub");
        subscriber.client.setManualAcks(true);
        subscriber.connect(one);
        assertEquals(1024, subscriber.connack().getReceiveMaximum(), "the broker's Receive Maximum announced");
        subscriber.subscribe("rm/t", 1);

        final Paho publisher = new Paho("rm-pub").connect();
        for (int i = 0; i < 3; i++)
        {
            publisher.publish("rm/t", "m" + i, 1, false);
        }
        for (int i = 0; i < 3; i++)
        {
            final Received received = subscriber.next();
            assertEquals("m" + i, received.payload());
            if (i < 2)
            {
                subscriber.assertNothingFor(300); // one in flight: the next waits for this PUBACK
            }
            subscriber.client.messageArrivedComplete(received.message().getId(), 1);
        }
    }

    @Test
    void maximumPacketSizeBothWays() throws Exception
    {
        final MqttConnectionOptions small = new MqttConnectionOptions();
        small.setMaximumPacketSize(200L);
        final Paho subscriber = new Paho("mp-sub").connect(small);
        assertEquals(1_048_576L, subscriber.connack().getMaximumPacketSize(), "the broker's Maximum Packet Size");
        subscriber.subscribe("mp/t", 0);
        final Paho publisher = new Paho("mp-pub").connect();
        publisher.publish("mp/t", "x".repeat(500), 0, false);
        publisher.publish("mp/t", "small", 0, false);
        assertEquals("small", subscriber.next().payload(), "the 500-byte message was not sent to this client");
    }

    // ------------------------------------------------------------------------------------------------ subscriptions

    @Test
    void subscriptionOptionsNoLocalRetainAsPublishedRetainHandling() throws Exception
    {
        final Paho self = new Paho("so-self").connect();
        final MqttSubscription noLocal = new MqttSubscription("so/nl", 1);
        noLocal.setNoLocal(true);
        self.subscribe(noLocal, new MqttProperties());
        self.publish("so/nl", "own", 1, false);
        final Paho other = new Paho("so-other").connect();
        other.publish("so/nl", "other's", 1, false);
        assertEquals("other's", self.next().payload(), "No Local: its own message not delivered back");

        other.publish("so/r", "stored", 1, true);
        final Paho asPublished = new Paho("so-rap").connect();
        final MqttSubscription rap = new MqttSubscription("so/r", 1);
        rap.setRetainAsPublished(true);
        asPublished.subscribe(rap, new MqttProperties());
        assertTrue(asPublished.next().message().isRetained(), "retained message on subscribe");
        final Paho plain = new Paho("so-plain").connect();
        plain.subscribe("so/r", 1);
        assertTrue(plain.next().message().isRetained());
        other.publish("so/r", "live", 1, true);
        assertTrue(asPublished.next().message().isRetained(), "Retain As Published keeps the flag");
        assertFalse(plain.next().message().isRetained(), "without it the live copy is not retained");

        final Paho handling = new Paho("so-rh").connect();
        final MqttSubscription ifNew = new MqttSubscription("so/r", 1);
        ifNew.setRetainHandling(1);
        handling.subscribe(ifNew, new MqttProperties());
        assertEquals("live", handling.next().payload(), "Retain Handling 1: sent for a new subscription");
        handling.subscribe(ifNew, new MqttProperties());
        final MqttSubscription never = new MqttSubscription("so/#", 1);
        never.setRetainHandling(2);
        handling.subscribe(never, new MqttProperties());
        other.publish("so/marker", "marker", 1, false);
        assertEquals("marker", handling.next().payload(),
            "Retain Handling 1 on an existing subscription and 2 send nothing retained");
    }

    @Test
    void subscriptionIdentifiersAreDelivered() throws Exception
    {
        final Paho subscriber = new Paho("si-sub").connect();
        final MqttProperties seven = new MqttProperties();
        seven.setSubscriptionIdentifier(7);
        subscriber.subscribe(new MqttSubscription("si/#", 1), seven);
        final MqttProperties nine = new MqttProperties();
        nine.setSubscriptionIdentifier(9);
        subscriber.subscribe(new MqttSubscription("si/a", 1), nine);
        new Paho("si-pub").connect().publish("si/a", "both", 1, false);
        final Received received = subscriber.next();
        assertEquals(Set.of(7, 9), new HashSet<>(received.message().getProperties().getSubscriptionIdentifiers()),
            "one delivery carrying both identifiers");
    }

    @Test
    void sharedSubscriptionGivesEachMessageToOneMember() throws Exception
    {
        final Paho a = new Paho("sh-a").connect();
        final Paho b = new Paho("sh-b").connect();
        a.subscribe("$share/g/sh/t", 1);
        b.subscribe("$share/g/sh/t", 1);
        final Paho publisher = new Paho("sh-pub").connect();
        final int count = 20;
        for (int i = 0; i < count; i++)
        {
            publisher.publish("sh/t", "m" + i, 1, false);
        }
        final Set<String> seen = new HashSet<>();
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        int total = 0;
        while (total < count && System.nanoTime() < deadline)
        {
            for (final Paho member : List.of(a, b))
            {
                final Received r = member.received.poll(10, TimeUnit.MILLISECONDS);
                if (r != null)
                {
                    assertTrue(seen.add(r.payload()), "delivered once: " + r.payload());
                    total++;
                }
            }
        }
        assertEquals(count, seen.size(), "every message reached one member");
        assertNull(a.received.poll(200, TimeUnit.MILLISECONDS), "no copy left over");
        assertNull(b.received.poll(0, TimeUnit.MILLISECONDS));
    }

    // ------------------------------------------------------------------------------------------------ request/response

    @Test
    void requestResponseWithResponseInformation() throws Exception
    {
        final MqttConnectionOptions ask = new MqttConnectionOptions();
        ask.setRequestResponseInfo(true);
        final Paho requester = new Paho("requester").connect(ask);
        final String replyPrefix = requester.connack().getResponseInfo();
        assertEquals("responses/requester", replyPrefix, "Response Information = prefix + client id");
        requester.subscribe(replyPrefix + "/#", 1);

        final Paho responder = new Paho("responder").connect();
        responder.subscribe("svc/echo", 1);

        final MqttProperties request = new MqttProperties();
        request.setResponseTopic(replyPrefix + "/1");
        request.setCorrelationData(new byte[]{1, 2, 3});
        requester.publish("svc/echo", message("ping", 1, false, request));

        final Received asked = responder.next();
        assertEquals(replyPrefix + "/1", asked.message().getProperties().getResponseTopic());
        final MqttProperties reply = new MqttProperties();
        reply.setCorrelationData(asked.message().getProperties().getCorrelationData());
        responder.publish(asked.message().getProperties().getResponseTopic(), message("pong", 1, false, reply));

        final Received answer = requester.next();
        assertEquals("pong", answer.payload());
        assertArrayEquals(new byte[]{1, 2, 3}, answer.message().getProperties().getCorrelationData());
    }

    @Test
    void assignedClientIdentifier() throws Exception
    {
        final Paho anonymous = new Paho("").connect();
        final String assigned = anonymous.connack().getAssignedClientIdentifier();
        assertNotNull(assigned, "Assigned Client Identifier");
        assertTrue(assigned.startsWith("skylark-"), assigned);
    }

    // ------------------------------------------------------------------------------------------------ wills

    @Test
    void willDelayPublishesLateAndNotAtAllWhenTheSessionResumes() throws Exception
    {
        final Paho watcher = new Paho("wd-watch").connect();
        watcher.subscribe("wd/#", 1);

        final MqttConnectionOptions withWill = persistent(60);
        final MqttProperties willProperties = new MqttProperties();
        willProperties.setWillDelayInterval(1L);
        withWill.setWillMessageProperties(willProperties);
        withWill.setWill("wd/gone", message("gone", 1, false, new MqttProperties()));
        Paho owner = new Paho("wd-owner").connect(withWill);
        final long disconnectedNs = System.nanoTime();
        owner.disconnect(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE, new MqttProperties());
        assertEquals("gone", watcher.next().payload());
        final long delayMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - disconnectedNs);
        assertTrue(delayMs >= 900, "the will waited for its delay: " + delayMs + " ms");

        owner = new Paho("wd-owner").connect(withWill);
        owner.disconnect(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE, new MqttProperties());
        owner = new Paho("wd-owner").connect(withWill); // back within the delay: the will is cancelled
        clock.advanceMs(1_500); // the will delay passes on the broker's clock (no waiting)
        // The routing agent's first duty cycle on the moved clock handles "first" and then its due timers, so a will
        // that was not cancelled would reach the watcher after "first" and before "marker".
        owner.publish("wd/marker", "first", 1, false).waitForCompletion(WAIT_MS);
        owner.publish("wd/marker", "marker", 1, false);
        assertEquals("first", watcher.next().payload(), "no will: the session resumed before the delay ended");
        assertEquals("marker", watcher.next().payload(), "no will: the session resumed before the delay ended");
    }

    // ------------------------------------------------------------------------------------------------ payload

    @Test
    void payloadFormatAndContentTypeAreForwarded() throws Exception
    {
        final Paho subscriber = new Paho("pf-sub").connect();
        subscriber.subscribe("pf/t", 1);
        final MqttProperties properties = new MqttProperties();
        properties.setPayloadFormat(true);
        properties.setContentType("application/json");
        new Paho("pf-pub").connect().publish("pf/t", message("{\"t\":21.5}", 1, false, properties));
        final MqttProperties received = subscriber.next().message().getProperties();
        assertTrue(received.getPayloadFormat(), "Payload Format Indicator 1");
        assertEquals("application/json", received.getContentType());
    }

    // ------------------------------------------------------------------------------------------------ capabilities

    @Test
    void capabilitiesTurnedOffAreAnnouncedAndRefusedWithReasonStrings() throws Exception
    {
        start(new Broker.Context().retainAvailable(false).maximumQos(1).wildcardSubscriptionsAvailable(false)
            .sharedSubscriptionsAvailable(false).subscriptionIdentifiersAvailable(false).keepAliveMax(30)
            .payloadFormatCheck(true).topicMaxDepth(3));
        final Paho client = new Paho("cap").connect();
        final MqttProperties connack = client.connack();
        assertFalse(connack.isRetainAvailable(), "Retain Available 0");
        assertEquals(1, connack.getMaximumQoS(), "Maximum QoS 1");
        assertFalse(connack.isWildcardSubscriptionsAvailable(), "Wildcard Subscription Available 0");
        assertFalse(connack.isSubscriptionIdentifiersAvailable(), "Subscription Identifier Available 0");
        assertFalse(connack.isSharedSubscriptionAvailable(), "Shared Subscription Available 0");
        assertEquals(30, connack.getServerKeepAlive(), "Server Keep Alive (Paho asked for 60)");

        // Paho itself refuses wildcard and shared filters once the CONNACK said they are off; the broker's side of
        // those is in Mqtt5FeaturesTest. Here: a filter beyond the depth limit, and QoS 2 granted as 1.
        final IMqttToken suback = client.client.subscribe(new MqttSubscription[]{
            new MqttSubscription("cap/t", 2), new MqttSubscription("cap/a/b/c", 1)}, null, null, new MqttProperties());
        suback.waitForCompletion(WAIT_MS);
        assertArrayEquals(new int[]{ReasonCode.GRANTED_QOS_1, ReasonCode.TOPIC_FILTER_INVALID}, suback.getReasonCodes());
        assertEquals("filter 2: invalid topic filter, or beyond the broker's length or depth limit",
            suback.getResponseProperties().getReasonString());

        final MqttProperties utf8 = new MqttProperties();
        utf8.setPayloadFormat(true);
        final MqttMessage notUtf8 = new MqttMessage(new byte[]{(byte)0xFF, (byte)0xFE});
        notUtf8.setQos(1);
        notUtf8.setProperties(utf8);
        final IMqttToken puback = client.client.publish("cap/t", notUtf8);
        puback.waitForCompletion(WAIT_MS);
        assertArrayEquals(new int[]{ReasonCode.PAYLOAD_FORMAT_INVALID}, puback.getReasonCodes());
        assertEquals("payload format indicator says UTF-8 but the payload is not valid UTF-8",
            puback.getResponseProperties().getReasonString());
    }

    @Test
    void reasonStringsOnDisconnectAndNotWhenProblemInformationIsOff() throws Exception
    {
        start(new Broker.Context().topicMaxDepth(2));
        final MqttConnectionOptions quiet = new MqttConnectionOptions();
        quiet.setRequestProblemInfo(false);
        final Paho client = new Paho("rs").connect(quiet);
        final IMqttToken suback = client.subscribe("rs/a/b", 1);
        assertArrayEquals(new int[]{ReasonCode.TOPIC_FILTER_INVALID}, suback.getReasonCodes());
        assertNull(suback.getResponseProperties().getReasonString(), "Request Problem Information 0");

        new Paho("rs").connect(); // takes the session over
        final MqttDisconnectResponse disconnect = client.disconnected.get(WAIT_MS, TimeUnit.MILLISECONDS);
        assertEquals(ReasonCode.SESSION_TAKEN_OVER, disconnect.getReturnCode());
        assertEquals("another connection with this client id took the session over", disconnect.getReasonString(),
            "DISCONNECT may carry a Reason String whatever the client asked [MQTT-3.1.2-29]");
    }
}
