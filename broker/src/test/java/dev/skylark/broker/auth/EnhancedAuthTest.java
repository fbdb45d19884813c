package dev.skylark.broker.auth;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.datatypes.MqttUtf8String;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.Mqtt5ClientConfig;
import com.hivemq.client.mqtt.mqtt5.auth.Mqtt5EnhancedAuthMechanism;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5Auth;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5AuthBuilder;
import com.hivemq.client.mqtt.mqtt5.message.auth.Mqtt5EnhancedAuthBuilder;
import com.hivemq.client.mqtt.mqtt5.message.connect.Mqtt5Connect;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.disconnect.Mqtt5Disconnect;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.Broker;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.concurrent.CachedEpochClock;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MQTT 5 enhanced authentication: the {@code skylark-jwt} method at CONNECT and in re-authentication, a multi-step
 * test method, and the specification's rules for AUTH — driven by raw bytes, the HiveMQ client's
 * {@link Mqtt5EnhancedAuthMechanism} and Paho's AUTH support. Token time runs on a controllable clock.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EnhancedAuthTest
{
    private static final String JWT = JwtAuthMethod.NAME;

    @TempDir
    Path dataDir;
    private final CachedEpochClock clock = new CachedEpochClock();
    private Broker broker;
    private KeyRing keys;
    private final List<Mqtt5BlockingClient> clients = new ArrayList<>();
    private int canaries;

    @BeforeEach
    void start()
    {
        clock.update(System.currentTimeMillis());
        // One I/O thread: the canary that proves an expiry check ran shares the tick with the clients under test.
        broker = Broker.launch(new Broker.Context().authMode("token").dataDir(dataDir.toString())
            .mqttPort(0).httpPort(-1).bindAddress("127.0.0.1").ioThreads(1)
            .authClock(clock).authClockSkewS(0).authWatchIntervalMs(20)
            .authMethod(new ChallengeMethod()));
        keys = broker.auth().keyRing();
    }

    @AfterEach
    void stop()
    {
        for (final Mqtt5BlockingClient c : clients)
        {
            try
            {
                if (c.getState().isConnected())
                {
                    c.disconnect();
                }
            }
            catch (final RuntimeException ignore)
            {
            }
        }
        broker.close();
    }

    private String token(final String subject, final long ttlMs)
    {
        return token(subject, "j-" + subject + "-" + ttlMs, ttlMs, null);
    }

    private String token(final String subject, final String jti, final long ttlMs, final List<String> pub)
    {
        return Tokens.sign(keys, Tokens.withAcl(Tokens.claims(subject, jti, clock.time(), ttlMs), pub, null));
    }

    private static byte[] ascii(final String s)
    {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private Mqtt5BlockingClient hive(final String id)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id)
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        c.connectWith().simpleAuth().password(ascii(token(id, 3_600_000))).applySimpleAuth().send();
        clients.add(c);
        return c;
    }

    /** A raw v5 CONNECT with this Authentication Method and Data; the CONNACK (or the AUTH) that answers. */
    private static RawMqtt.Packet connectWith(
        final RawMqtt raw, final String clientId, final String method, final byte[] data) throws Exception
    {
        raw.send(RawMqtt.connectV5(clientId, RawMqtt.authProperties(method, data), null, null));
        return raw.read();
    }

    private static Map<Integer, Object> connackProperties(final RawMqtt.Packet connack)
    {
        assertEquals(2, connack.type(), "CONNACK");
        return RawMqtt.properties(connack.body(), 2);
    }

    /** The broker's DISCONNECT: its reason code, its Reason String, and the socket closed after it. */
    private static void assertDisconnected(final RawMqtt raw, final int reasonCode, final String reasonString)
        throws Exception
    {
        final RawMqtt.Packet disconnect = raw.read();
        assertEquals(14, disconnect.type(), "DISCONNECT");
        assertEquals(reasonCode, disconnect.body()[0] & 0xFF, "reason code");
        final Object why = RawMqtt.properties(disconnect.body(), 1).get(0x1F);
        assertTrue(why instanceof String text && text.contains(reasonString), "Reason String: " + why);
        assertTrue(raw.closedByBroker(), "closed");
    }

    private static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.onSpinWait();
        }
    }

    /**
     * Returns once the broker's tick has judged every connection against the clock as it is now: a canary whose
     * token expires a second from now is connected, the clock moves two seconds on, and the canary's DISCONNECT
     * 0xA0 comes from a tick that started after it connected, so after the clock moved past what was checked.
     */
    private void advanceClockAndAwaitExpiryCheck(final long ms) throws Exception
    {
        clock.advance(ms);
        final String id = "canary-" + (++canaries);
        try (RawMqtt canary = new RawMqtt(broker.mqttPort()))
        {
            canary.send(RawMqtt.connect(5, id, null, ascii(token(id, 1_000)), null, null, 600));
            assertEquals(0, canary.read().body()[1], "canary connected");
            clock.advance(2_000);
            canary.socket.setSoTimeout(20_000);
            final RawMqtt.Packet disconnect = canary.read();
            assertEquals(14, disconnect.type());
            assertEquals(ReasonCode.MAXIMUM_CONNECT_TIME, disconnect.body()[0] & 0xFF);
        }
    }

    // ------------------------------------------------------------------------------------------------ CONNECT

    @Test
    void hiveMqConnectsWithTheTokenInTheAuthenticationData()
    {
        final JwtMechanism mechanism = new JwtMechanism(token("dev-e", "j-e", 3_600_000, List.of("up/dev-e/#")));
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier("dev-e")
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        final Mqtt5ConnAck connack = c.connectWith().enhancedAuth(mechanism).send();
        clients.add(c);
        assertEquals(JWT, connack.getEnhancedAuth().orElseThrow().getMethod().toString(),
            "the CONNACK names the method [MQTT-4.12.0-5]");

        final Mqtt5PubAckException denied = assertThrows(Mqtt5PubAckException.class, () ->
            c.publishWith().topic("elsewhere").qos(MqttQos.AT_LEAST_ONCE).payload(ascii("x")).send());
        assertEquals(ReasonCode.NOT_AUTHORIZED, denied.getMqttMessage().getReasonCode().getCode(), "the token's ACL");
        assertEquals("topic not allowed by the token's acl.pub",
            denied.getMqttMessage().getReasonString().orElseThrow().toString());
        c.publishWith().topic("up/dev-e/t").qos(MqttQos.AT_LEAST_ONCE).payload(ascii("ok")).send();
    }

    @Test
    void connectRefusalsHaveTheirCodeAndReasonString() throws Exception
    {
        final long now = clock.time();
        broker.auth().revocations().revoke(List.of("revoked-jti"));
        record Case(String name, String clientId, String method, byte[] data, int code, String why)
        {
        }
        final List<Case> cases = List.of(
            new Case("unknown method", "d1", "SCRAM-SHA-1", ascii("x"), ReasonCode.BAD_AUTHENTICATION_METHOD,
                "authentication method 'SCRAM-SHA-1' is not supported"),
            new Case("empty method", "d1", "", null, ReasonCode.BAD_AUTHENTICATION_METHOD, "is not supported"),
            new Case("no data", "d1", JWT, null, ReasonCode.BAD_USER_NAME_OR_PASSWORD,
                "no token in the Authentication Data"),
            new Case("not a token", "d1", JWT, ascii("hello"), ReasonCode.BAD_USER_NAME_OR_PASSWORD, "malformed"),
            new Case("bad signature", "d1", JWT, ascii(Tokens.tamper(token("d1", 60_000))),
                ReasonCode.BAD_USER_NAME_OR_PASSWORD, "bad signature"),
            new Case("expired", "d1", JWT, ascii(Tokens.sign(keys, Tokens.claims("d1", "je", now - 120_000, 60_000))),
                ReasonCode.BAD_USER_NAME_OR_PASSWORD, "expired"),
            new Case("client id is not sub", "d1", JWT, ascii(token("d2", 60_000)),
                ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "is not the token's subject"),
            new Case("revoked", "d1", JWT, ascii(token("d1", "revoked-jti", 60_000, null)), ReasonCode.NOT_AUTHORIZED,
                "revoked"));
        for (final Case c : cases)
        {
            try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
            {
                final RawMqtt.Packet connack = connectWith(raw, c.clientId(), c.method(), c.data());
                assertEquals(c.code(), connack.body()[1] & 0xFF, c.name());
                final Object why = connackProperties(connack).get(0x1F);
                assertTrue(why instanceof String text && text.contains(c.why()), c.name() + ": " + why);
                assertNull(connackProperties(connack).get(0x15), "no method in a refusal: " + c.name());
                assertTrue(raw.closedByBroker(), c.name());
            }
        }
        assertEquals(cases.size() - 2, broker.auth().counters().connectsRefused.get(),
            "token refusals counted; unknown methods are not token refusals");
    }

    @Test
    void emptyClientIdTakesTheSubjectAndThePasswordIsNotLookedAt() throws Exception
    {
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            raw.send(RawMqtt.connectV5("", RawMqtt.authProperties(JWT, ascii(token("device-7", 60_000))), null,
                ascii("not a token")));
            final RawMqtt.Packet connack = raw.read();
            assertEquals(0, connack.body()[1]);
            final Map<Integer, Object> properties = connackProperties(connack);
            assertEquals("device-7", properties.get(0x12), "Assigned Client Identifier");
            assertEquals(JWT, properties.get(0x15), "Authentication Method");
        }
    }

    // ------------------------------------------------------------------------------------------------ rules

    @Test
    void authPacketsThatBreakTheRulesAreProtocolErrors() throws Exception
    {
        final String other = ChallengeMethod.NAME;
        record Case(String name, boolean enhanced, byte[] auth, String why)
        {
        }
        final List<Case> cases = List.of(
            new Case("another method than CONNECT's", true,
                RawMqtt.auth(0x19, RawMqtt.authProperties(other, null)), "this connection authenticates with"),
            new Case("no method", true, RawMqtt.auth(0x19, RawMqtt.authProperties(null, ascii("t"))),
                "AUTH without an Authentication Method"),
            new Case("continue with no exchange", true, RawMqtt.auth(0x18, RawMqtt.authProperties(JWT, null)),
                "without an authentication exchange under way"),
            new Case("success from a client", true, RawMqtt.auth(0x00, RawMqtt.authProperties(JWT, null)),
                "is the server's to send"),
            new Case("password client, another method", false,
                RawMqtt.auth(0x19, RawMqtt.authProperties(other, null)), "[MQTT-4.12.0-7]"));
        for (final Case c : cases)
        {
            try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
            {
                final String id = "rules";
                if (c.enhanced())
                {
                    assertEquals(0, connectWith(raw, id, JWT, ascii(token(id, 60_000))).body()[1], c.name());
                }
                else
                {
                    raw.send(RawMqtt.connect(5, id, null, ascii(token(id, 60_000)), null, null, 60));
                    assertEquals(0, raw.read().body()[1], c.name());
                }
                raw.send(c.auth());
                assertDisconnected(raw, ReasonCode.PROTOCOL_ERROR, c.why());
            }
        }
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            final RawMqtt.Packet challenge = connectWith(raw, "early", other, null);
            assertEquals(15, challenge.type(), "AUTH 0x18");
            raw.send(RawMqtt.publishQos1(5, "t", "too early"));
            final RawMqtt.Packet connack = raw.read();
            assertEquals(ReasonCode.PROTOCOL_ERROR, connack.body()[1] & 0xFF,
                "only AUTH or DISCONNECT before CONNACK [MQTT-3.1.2-30]");
            assertTrue(raw.closedByBroker());
        }
    }

    // ------------------------------------------------------------------------------------------------ several steps

    @Test
    void multiStepExchangeAtConnectAndAtReauthentication() throws Exception
    {
        final String method = ChallengeMethod.NAME;
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            final RawMqtt.Packet challenge = connectWith(raw, "multi", method, null);
            assertEquals(15, challenge.type(), "AUTH");
            assertEquals(ReasonCode.CONTINUE_AUTHENTICATION, challenge.body()[0] & 0xFF);
            final Map<Integer, Object> asked = RawMqtt.properties(challenge.body(), 1);
            assertEquals(method, asked.get(0x15), "the AUTH names the method [MQTT-4.12.0-5]");
            raw.send(RawMqtt.auth(0x18, RawMqtt.authProperties(method, ChallengeMethod.answer((byte[])asked.get(0x16)))));
            final RawMqtt.Packet connack = raw.read();
            assertEquals(0, connack.body()[1], "CONNACK Success");
            assertEquals(method, connackProperties(connack).get(0x15));
            assertArrayEquals(ascii("welcome"), (byte[])connackProperties(connack).get(0x16), "final data in CONNACK");

            raw.send(RawMqtt.auth(0x19, RawMqtt.authProperties(method, null)));
            final RawMqtt.Packet again = raw.read();
            assertEquals(ReasonCode.CONTINUE_AUTHENTICATION, again.body()[0] & 0xFF);
            raw.send(new byte[]{(byte)0xC0, 0}); // PINGREQ: packets flow during a re-authentication
            assertEquals(13, raw.read().type(), "PINGRESP");
            final byte[] secondChallenge = (byte[])RawMqtt.properties(again.body(), 1).get(0x16);
            raw.send(RawMqtt.auth(0x18, RawMqtt.authProperties(method, ChallengeMethod.answer(secondChallenge))));
            final RawMqtt.Packet success = raw.read();
            assertEquals(15, success.type(), "AUTH");
            assertEquals(ReasonCode.SUCCESS, success.body()[0] & 0xFF);
            assertEquals(method, RawMqtt.properties(success.body(), 1).get(0x15));

            raw.send(RawMqtt.auth(0x19, RawMqtt.authProperties(method, null)));
            raw.read();
            raw.send(RawMqtt.auth(0x18, RawMqtt.authProperties(method, ascii("wrong"))));
            assertDisconnected(raw, ReasonCode.NOT_AUTHORIZED, "re-authentication refused: wrong answer");
        }
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            connectWith(raw, "multi2", method, null);
            raw.send(RawMqtt.auth(0x18, RawMqtt.authProperties(method, ascii("wrong"))));
            final RawMqtt.Packet connack = raw.read();
            assertEquals(ReasonCode.NOT_AUTHORIZED, connack.body()[1] & 0xFF);
            assertEquals("wrong answer to the challenge", connackProperties(connack).get(0x1F));
        }
    }

    @Test
    void hiveMqAnswersAChallenge()
    {
        final AtomicReference<byte[]> finalData = new AtomicReference<>();
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier("hive-multi")
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        c.connectWith().enhancedAuth(new ChallengeMechanism(finalData)).send();
        clients.add(c);
        assertTrue(c.getState().isConnected());
        assertArrayEquals(ascii("welcome"), finalData.get());
        c.reauth();
        assertTrue(c.getState().isConnected(), "re-authenticated in two steps");
    }

    // ------------------------------------------------------------------------------------------------ re-authentication

    @Test
    void reauthenticationMovesTheExpiryAndLosesNothing() throws Exception
    {
        final Mqtt5BlockingClient watcher = hive("watcher");
        final List<String> seenOut = Collections.synchronizedList(new ArrayList<>());
        watcher.toAsync().publishes(MqttGlobalPublishFilter.ALL,
            (publish) -> seenOut.add(new String(publish.getPayloadAsBytes(), StandardCharsets.UTF_8)));
        watcher.subscribeWith().topicFilter("out/renewer").qos(MqttQos.AT_LEAST_ONCE).send();
        final Mqtt5BlockingClient feeder = hive("feeder");

        final JwtMechanism mechanism = new JwtMechanism(token("renewer", 5_000)); // expires in 5 s
        final Mqtt5BlockingClient renewer = Mqtt5Client.builder().identifier("renewer")
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        renewer.connectWith().enhancedAuth(mechanism).send();
        clients.add(renewer);
        final List<String> seenIn = Collections.synchronizedList(new ArrayList<>());
        renewer.toAsync().publishes(MqttGlobalPublishFilter.ALL,
            (publish) -> seenIn.add(new String(publish.getPayloadAsBytes(), StandardCharsets.UTF_8)));
        renewer.subscribeWith().topicFilter("in/renewer").qos(MqttQos.AT_LEAST_ONCE).send();

        // A control connection with the same kind of token, never renewed.
        final CompletableFuture<Throwable> controlGone = new CompletableFuture<>();
        final Mqtt5BlockingClient control = Mqtt5Client.builder().identifier("control")
            .serverHost("127.0.0.1").serverPort(broker.mqttPort())
            .addDisconnectedListener((context) -> controlGone.complete(context.getCause())).buildBlocking();
        control.connectWith().simpleAuth().password(ascii(token("control", 5_000))).applySimpleAuth().send();

        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicInteger sentOut = new AtomicInteger();
        final AtomicInteger sentIn = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final Thread out = publisher(renewer, "out/renewer", stop, sentOut, failure);
        final Thread in = publisher(feeder, "in/renewer", stop, sentIn, failure);
        out.start();
        in.start();
        try
        {
            await(() -> sentOut.get() >= 50 && sentIn.get() >= 50, "publishing under way");
            mechanism.token.set(token("renewer", 3_600_000));
            renewer.reauth();
            assertEquals(1, broker.auth().counters().reauthentications.get());

            advanceClockAndAwaitExpiryCheck(10_000); // past the first token's expiry
            final Mqtt5DisconnectException expired = assertInstanceOf(Mqtt5DisconnectException.class,
                controlGone.get(20, TimeUnit.SECONDS), "the control's token expired");
            assertEquals(ReasonCode.MAXIMUM_CONNECT_TIME, expired.getMqttMessage().getReasonCode().getCode());
            assertEquals("token expired", expired.getMqttMessage().getReasonString().orElseThrow().toString());

            final int outAtCheck = sentOut.get();
            final int inAtCheck = sentIn.get();
            await(() -> sentOut.get() >= outAtCheck + 50 && sentIn.get() >= inAtCheck + 50,
                "publishing goes on after the first token's expiry");
        }
        finally
        {
            stop.set(true);
            out.join();
            in.join();
        }
        assertNull(failure.get(), () -> "publishing failed: " + failure.get());
        assertTrue(renewer.getState().isConnected(), "still connected");
        await(() -> seenOut.size() >= sentOut.get() && seenIn.size() >= sentIn.get(), "every message delivered");
        assertEquals(sequence(sentOut.get()), new ArrayList<>(seenOut), "renewer → watcher: none lost, in order");
        assertEquals(sequence(sentIn.get()), new ArrayList<>(seenIn), "feeder → renewer: subscription kept");
    }

    private static Thread publisher(
        final Mqtt5BlockingClient client, final String topic, final AtomicBoolean stop, final AtomicInteger sent,
        final AtomicReference<Throwable> failure)
    {
        return new Thread(() ->
        {
            try
            {
                while (!stop.get())
                {
                    client.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE)
                        .payload(ascii(String.valueOf(sent.get()))).send();
                    sent.incrementAndGet();
                }
            }
            catch (final Throwable ex)
            {
                failure.compareAndSet(null, ex);
            }
        }, "publisher " + topic);
    }

    private static List<String> sequence(final int count)
    {
        final List<String> expected = new ArrayList<>(count);
        for (int i = 0; i < count; i++)
        {
            expected.add(String.valueOf(i));
        }
        return expected;
    }

    @Test
    void refusedReauthenticationsDisconnectWithNotAuthorized() throws Exception
    {
        final long now = clock.time();
        broker.auth().revocations().revoke(List.of("revoked-jti"));
        final Map<String, String> tokens = Map.of(
            "expired", Tokens.sign(keys, Tokens.claims("re", "je", now - 120_000, 60_000)),
            "revoked", token("re", "revoked-jti", 60_000, null),
            "is not the token's subject", token("someone-else", 60_000),
            "bad signature", Tokens.tamper(token("re", 60_000)));
        for (final Map.Entry<String, String> c : tokens.entrySet())
        {
            try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
            {
                assertEquals(0, connectWith(raw, "re", JWT, ascii(token("re", 60_000))).body()[1]);
                raw.send(RawMqtt.auth(0x19, RawMqtt.authProperties(JWT, ascii(c.getValue()))));
                // 0x86 and 0x85 exist only in CONNACK: a refused re-authentication is 0x87 Not authorized.
                assertDisconnected(raw, ReasonCode.NOT_AUTHORIZED, "re-authentication refused: ");
            }
        }
        assertEquals(tokens.size(), broker.auth().counters().reauthenticationsRefused.get());
        assertEquals(0, broker.auth().counters().connectsRefused.get(), "not counted as refused CONNECTs");

        final CompletableFuture<Mqtt5Disconnect> rejected = new CompletableFuture<>();
        final JwtMechanism mechanism = new JwtMechanism(token("hive-re", 60_000))
        {
            @Override
            public void onReAuthRejected(final Mqtt5ClientConfig config, final Mqtt5Disconnect disconnect)
            {
                rejected.complete(disconnect);
            }
        };
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier("hive-re")
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        c.connectWith().enhancedAuth(mechanism).send();
        clients.add(c);
        mechanism.token.set(token("hive-other", 60_000));
        assertThrows(RuntimeException.class, c::reauth);
        final Mqtt5Disconnect disconnect = rejected.get(10, TimeUnit.SECONDS);
        assertEquals(ReasonCode.NOT_AUTHORIZED, disconnect.getReasonCode().getCode());
        assertTrue(disconnect.getReasonString().orElseThrow().toString().contains("is not the token's subject"));
    }

    @Test
    void passwordClientsMayReauthenticateWithSkylarkJwtAndTheNewAclApplies() throws Exception
    {
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            raw.send(RawMqtt.connect(5, "pw", null, ascii(token("pw", 5_000)), null, null, 600));
            final RawMqtt.Packet connack = raw.read();
            assertEquals(0, connack.body()[1]);
            assertNull(connackProperties(connack).get(0x15), "no method: the client used its password");

            raw.send(RawMqtt.auth(0x19, RawMqtt.authProperties(JWT,
                ascii(token("pw", "j-pw-2", 3_600_000, List.of("allowed/#"))))));
            final RawMqtt.Packet success = raw.read();
            assertEquals(15, success.type(), "AUTH");
            assertEquals(ReasonCode.SUCCESS, success.body()[0] & 0xFF);
            assertEquals(JWT, RawMqtt.properties(success.body(), 1).get(0x15));

            raw.send(RawMqtt.publishQos1(5, "t", "refused by the new token"));
            final RawMqtt.Packet puback = raw.read();
            assertEquals(4, puback.type());
            assertEquals(ReasonCode.NOT_AUTHORIZED, puback.body()[2] & 0xFF, "the new token's acl.pub applies");
            assertEquals("topic not allowed by the token's acl.pub", RawMqtt.properties(puback.body(), 3).get(0x1F));

            advanceClockAndAwaitExpiryCheck(10_000);
            raw.send(RawMqtt.publishQos1(5, "allowed/t", "still here"));
            final RawMqtt.Packet ok = raw.read();
            assertEquals(4, ok.type(), "still connected past the first token's expiry");
            assertEquals(0x10, ok.body()[2] & 0xFF, "No matching subscribers: accepted");
        }
    }

    /**
     * Paho Java connects with {@code skylark-jwt}; its AUTH packets, though, carry fixed-header flags 0001 where the
     * specification requires 0000 (paho.mqtt.java issue 980, still in 1.2.5), which [MQTT-3.15.1-1] makes a
     * Malformed Packet: the broker closes with 0x81 rather than accept a broken packet. Paho clients refresh a token
     * by reconnecting. This test fails, and should then be turned into a re-authentication test, once Paho is fixed.
     */
    @Test
    void pahoConnectsWithSkylarkJwtButItsAuthPacketIsMalformed() throws Exception
    {
        final CompletableFuture<Integer> disconnected = new CompletableFuture<>();
        final MqttAsyncClient paho = new MqttAsyncClient("tcp://127.0.0.1:" + broker.mqttPort(), "paho-jwt",
            new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        paho.setCallback(new MqttCallback()
        {
            @Override
            public void disconnected(final MqttDisconnectResponse response)
            {
                disconnected.complete(response.getReturnCode());
            }

            @Override
            public void mqttErrorOccurred(final MqttException exception)
            {
            }

            @Override
            public void messageArrived(final String topic, final MqttMessage message)
            {
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
        });
        final MqttConnectionOptions options = new MqttConnectionOptions();
        options.setAuthMethod(JWT);
        options.setAuthData(ascii(token("paho-jwt", 60_000)));
        try
        {
            paho.connect(options).waitForCompletion(10_000);
            paho.publish("paho/t", ascii("hello"), 1, false).waitForCompletion(10_000);

            final MqttProperties properties = new MqttProperties();
            properties.setAuthenticationMethod(JWT);
            properties.setAuthenticationData(ascii(token("paho-jwt", 3_600_000)));
            paho.authenticate(ReasonCode.RE_AUTHENTICATE, null, properties);
            assertEquals(ReasonCode.MALFORMED_PACKET, disconnected.get(10, TimeUnit.SECONDS));
        }
        finally
        {
            paho.close(true);
        }
    }

    @Test
    void withoutTokenModeThereIsNoMethodAndNoReauthentication() throws Exception
    {
        broker.close();
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1)
            .bindAddress("127.0.0.1"));
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            assertEquals(ReasonCode.BAD_AUTHENTICATION_METHOD, connectWith(raw, "n", JWT, ascii("t")).body()[1] & 0xFF);
        }
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            raw.send(RawMqtt.connect(5, "n", null, null, null, null, 60));
            assertEquals(0, raw.read().body()[1]);
            raw.send(RawMqtt.auth(0x19, RawMqtt.authProperties(JWT, ascii("t"))));
            assertDisconnected(raw, ReasonCode.PROTOCOL_ERROR, "did not use enhanced authentication");
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** HiveMQ's side of {@code skylark-jwt}: the current token as Authentication Data, at CONNECT and re-auth. */
    static class JwtMechanism implements Mqtt5EnhancedAuthMechanism
    {
        final AtomicReference<String> token;

        JwtMechanism(final String token)
        {
            this.token = new AtomicReference<>(token);
        }

        @Override
        public MqttUtf8String getMethod()
        {
            return MqttUtf8String.of(JWT);
        }

        @Override
        public int getTimeout()
        {
            return 10;
        }

        @Override
        public CompletableFuture<Void> onAuth(
            final Mqtt5ClientConfig config, final Mqtt5Connect connect, final Mqtt5EnhancedAuthBuilder builder)
        {
            builder.data(ascii(token.get()));
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> onReAuth(final Mqtt5ClientConfig config, final Mqtt5AuthBuilder builder)
        {
            builder.data(ascii(token.get()));
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Boolean> onContinue(
            final Mqtt5ClientConfig config, final Mqtt5Auth auth, final Mqtt5AuthBuilder builder)
        {
            return CompletableFuture.completedFuture(false); // skylark-jwt takes one step
        }

        @Override
        public CompletableFuture<Boolean> onAuthSuccess(final Mqtt5ClientConfig config, final Mqtt5ConnAck connAck)
        {
            return CompletableFuture.completedFuture(true);
        }

        @Override
        public CompletableFuture<Boolean> onReAuthSuccess(final Mqtt5ClientConfig config, final Mqtt5Auth auth)
        {
            return CompletableFuture.completedFuture(true);
        }

        @Override
        public void onAuthRejected(final Mqtt5ClientConfig config, final Mqtt5ConnAck connAck)
        {
        }

        @Override
        public void onReAuthRejected(final Mqtt5ClientConfig config, final Mqtt5Disconnect disconnect)
        {
        }

        @Override
        public void onAuthError(final Mqtt5ClientConfig config, final Throwable cause)
        {
        }

        @Override
        public void onReAuthError(final Mqtt5ClientConfig config, final Throwable cause)
        {
        }
    }

    /** HiveMQ's side of the test challenge: answers each AUTH 0x18 with the challenge reversed. */
    static final class ChallengeMechanism extends JwtMechanism
    {
        private final AtomicReference<byte[]> finalData;

        ChallengeMechanism(final AtomicReference<byte[]> finalData)
        {
            super(null);
            this.finalData = finalData;
        }

        @Override
        public MqttUtf8String getMethod()
        {
            return MqttUtf8String.of(ChallengeMethod.NAME);
        }

        @Override
        public CompletableFuture<Void> onAuth(
            final Mqtt5ClientConfig config, final Mqtt5Connect connect, final Mqtt5EnhancedAuthBuilder builder)
        {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Void> onReAuth(final Mqtt5ClientConfig config, final Mqtt5AuthBuilder builder)
        {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletableFuture<Boolean> onContinue(
            final Mqtt5ClientConfig config, final Mqtt5Auth auth, final Mqtt5AuthBuilder builder)
        {
            final byte[] challenge = new byte[auth.getData().orElseThrow().remaining()];
            auth.getData().orElseThrow().duplicate().get(challenge);
            builder.data(ChallengeMethod.answer(challenge));
            return CompletableFuture.completedFuture(true);
        }

        @Override
        public CompletableFuture<Boolean> onAuthSuccess(final Mqtt5ClientConfig config, final Mqtt5ConnAck connAck)
        {
            connAck.getEnhancedAuth().flatMap((auth) -> auth.getData()).ifPresent((data) ->
            {
                final byte[] bytes = new byte[data.remaining()];
                data.duplicate().get(bytes);
                finalData.set(bytes);
            });
            return CompletableFuture.completedFuture(true);
        }
    }

    /**
     * A two-step method for the framework's sake: the broker sends a challenge (AUTH 0x18), the client answers with
     * it reversed (AUTH 0x18), the broker says "welcome" in the CONNACK (or AUTH 0x00).
     */
    static final class ChallengeMethod implements AuthMethod
    {
        static final String NAME = "test-challenge";
        private final AtomicInteger challenges = new AtomicInteger();

        static byte[] answer(final byte[] challenge)
        {
            final byte[] answer = new byte[challenge.length];
            for (int i = 0; i < challenge.length; i++)
            {
                answer[i] = challenge[challenge.length - 1 - i];
            }
            return answer;
        }

        @Override
        public String name()
        {
            return NAME;
        }

        @Override
        public AuthStep start(final AuthRequest request, final byte[] data)
        {
            final byte[] challenge = ascii("challenge-" + challenges.incrementAndGet());
            return AuthStep.proceed(challenge, challenge);
        }

        @Override
        public AuthStep next(final AuthRequest request, final Object state, final byte[] data)
        {
            if (data == null || !Arrays.equals(answer((byte[])state), data))
            {
                return AuthStep.failure(ReasonCode.NOT_AUTHORIZED, "wrong answer to the challenge");
            }
            return AuthStep.success(ClientGrant.of(null, TopicAcl.ALL, TopicAcl.ALL, 0, null), ascii("welcome"));
        }
    }
}
