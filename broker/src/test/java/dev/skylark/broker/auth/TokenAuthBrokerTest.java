package dev.skylark.broker.auth;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscribe;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAckReasonCode;
import dev.skylark.broker.Broker;
import dev.skylark.broker.cli.SkylarkMain;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.concurrent.CachedEpochClock;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A broker in token mode, driven by raw bytes, HiveMQ, Paho v3/v5 and the mosquitto clients. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TokenAuthBrokerTest
{
    @TempDir
    Path dataDir;
    private final CachedEpochClock clock = new CachedEpochClock();
    private Broker broker;
    private KeyRing keys;
    private final List<Mqtt5BlockingClient> clients = new ArrayList<>();

    @BeforeEach
    void start()
    {
        clock.update(System.currentTimeMillis());
        broker = Broker.launch(new Broker.Context().authMode("token").dataDir(dataDir.toString())
            .mqttPort(0).httpPort(-1).bindAddress("127.0.0.1").ioThreads(2)
            .authClock(clock).authWatchIntervalMs(20));
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

    private String token(final String subject, final String jti)
    {
        return Tokens.sign(keys, Tokens.claims(subject, jti, clock.time(), 3_600_000));
    }

    private String token(final String subject, final List<String> pub, final List<String> sub)
    {
        return Tokens.sign(keys, Tokens.withAcl(Tokens.claims(subject, "j-" + subject, clock.time(), 3_600_000), pub, sub));
    }

    private Mqtt5BlockingClient hive(final String id, final String token)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id)
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        c.connectWith().cleanStart(true).simpleAuth().username(id).password(token.getBytes(StandardCharsets.US_ASCII))
            .applySimpleAuth().send();
        clients.add(c);
        return c;
    }

    /** CONNACK reason (v5) or return code (v3) for one raw CONNECT, and checks the socket is closed on refusal. */
    private int connackCode(final int level, final String clientId, final String userName, final byte[] password)
        throws Exception
    {
        // MQTT 3.1.1 allows a password only with a user name [MQTT-3.1.2-22].
        final String user = level == 4 && password != null && userName == null ? clientId : userName;
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            raw.send(RawMqtt.connect(level, clientId, user, password, null, null, 60));
            final RawMqtt.Packet connack = raw.read();
            assertEquals(2, connack.type(), "CONNACK");
            final int code = connack.body()[1] & 0xFF;
            if (code != 0)
            {
                assertTrue(raw.closedByBroker(), "closed after a refusal");
            }
            return code;
        }
    }

    @Test
    void everyRefusalHasItsExactCodeInBothVersions() throws Exception
    {
        final long now = clock.time();
        final JwtClaims claims = Tokens.claims("dev1", "j1", now, 600_000);
        final String good = Tokens.sign(keys, claims);
        final JwtClaims expired = Tokens.claims("dev1", "j1", now - 7_200_000, 3_600_000);
        final JwtClaims early = Tokens.claims("dev1", "j1", now, 0);
        early.setNotBefore(NumericDate.fromMilliseconds(now + 600_000));
        broker.auth().revocations().revoke(List.of("revoked-jti"));
        final String[] parts = good.split("\\.");

        record Case(String name, String clientId, String userName, byte[] password, int v5, int v3)
        {
        }
        final int bad = ReasonCode.BAD_USER_NAME_OR_PASSWORD;
        final List<Case> cases = List.of(
            new Case("valid", "dev1", "dev1", ascii(good), 0, 0),
            new Case("valid without user name", "dev1", null, ascii(good), 0, 0),
            new Case("expired", "dev1", null, ascii(Tokens.sign(keys, expired)), bad, 4),
            new Case("not yet valid", "dev1", null, ascii(Tokens.sign(keys, early)), bad, 4),
            new Case("bad signature", "dev1", null, ascii(Tokens.tamper(good)), bad, 4),
            new Case("unknown kid", "dev1", null,
                ascii(Tokens.sign(claims, "EdDSA", "who", keys.signingKey().getPrivateKey())), bad, 4),
            new Case("alg none", "dev1", null, ascii(Tokens.unsigned(claims)), bad, 4),
            new Case("HS256 against EdDSA-only", "dev1", null, ascii(Tokens.sign(claims, "HS256", null,
                new HmacKey("0123456789abcdef0123456789abcdef".getBytes()))), bad, 4),
            new Case("malformed base64", "dev1", null, ascii("%%%." + parts[1] + "." + parts[2]), bad, 4),
            new Case("malformed JSON", "dev1", null, ascii(java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString("{\"alg\":".getBytes()) + "." + parts[1] + "." + parts[2]), bad, 4),
            new Case("oversized password", "dev1", null, new byte[9000], bad, 4),
            new Case("no password", "dev1", null, null, bad, 4),
            new Case("client id is not sub", "dev2", null, ascii(good), ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, 2),
            new Case("user name is not client id", "dev1", "dev2", ascii(good), ReasonCode.NOT_AUTHORIZED, 5),
            new Case("revoked", "dev1", null, ascii(Tokens.sign(keys, Tokens.claims("dev1", "revoked-jti", now, 600_000))),
                ReasonCode.NOT_AUTHORIZED, 5));
        for (final Case c : cases)
        {
            assertEquals(c.v5(), connackCode(5, c.clientId(), c.userName(), c.password()), "v5 " + c.name());
            assertEquals(c.v3(), connackCode(4, c.clientId(), c.userName(), c.password()), "v3.1.1 " + c.name());
        }
    }

    private static byte[] ascii(final String s)
    {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void emptyClientIdIsAssignedTheSubject()
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().serverHost("127.0.0.1").serverPort(broker.mqttPort())
            .buildBlocking();
        final Mqtt5ConnAck connack = c.connectWith().simpleAuth().password(ascii(token("device-42", "j42")))
            .applySimpleAuth().send();
        clients.add(c);
        assertEquals("device-42", connack.getAssignedClientIdentifier().orElseThrow().toString());
    }

    @Test
    void hiveMqV5PublishAndSubscribeAcls() throws Exception
    {
        final Mqtt5BlockingClient watcher = hive("watcher", token("watcher", "jw"));
        watcher.subscribeWith().topicFilter("#").qos(MqttQos.AT_LEAST_ONCE).send();
        final Mqtt5BlockingClient.Mqtt5Publishes seen = watcher.publishes(MqttGlobalPublishFilter.ALL);

        final Mqtt5BlockingClient dev = hive("dev", token("dev", List.of("up/dev/#"), List.of("down/dev/+")));
        final Mqtt5PubAckException denied = assertThrows(Mqtt5PubAckException.class, () -> dev.publishWith()
            .topic("up/other").qos(MqttQos.AT_LEAST_ONCE).payload(ascii("no")).send());
        assertEquals(ReasonCode.NOT_AUTHORIZED, denied.getMqttMessage().getReasonCode().getCode());
        final long deniedBefore = broker.auth().counters().publishesDenied.get();
        dev.publishWith().topic("up/other/qos0").qos(MqttQos.AT_MOST_ONCE).payload(ascii("no")).send();
        final Mqtt5PublishResult allowed = dev.publishWith().topic("up/dev/temp").qos(MqttQos.AT_LEAST_ONCE)
            .payload(ascii("yes")).send();
        assertEquals(0, ((Mqtt5PublishResult.Mqtt5Qos1Result)allowed).getPubAck().getReasonCode().getCode());
        // Packets of one connection are handled in order: the QoS 0 one was dropped before this PUBACK was sent.
        assertEquals(deniedBefore + 1, broker.auth().counters().publishesDenied.get(), "QoS 0 denial counted");
        final Optional<Mqtt5Publish> first = seen.receive(5, TimeUnit.SECONDS);
        assertTrue(first.isPresent());
        assertEquals("up/dev/temp", first.get().getTopic().toString(), "only the allowed publish got through");

        final Mqtt5SubAckException ex = assertThrows(Mqtt5SubAckException.class, () -> dev.subscribe(Mqtt5Subscribe.builder()
            .addSubscription().topicFilter("down/dev/a").qos(MqttQos.AT_LEAST_ONCE).applySubscription()
            .addSubscription().topicFilter("down/#").qos(MqttQos.AT_LEAST_ONCE).applySubscription()
            .build()));
        assertEquals(List.of(Mqtt5SubAckReasonCode.GRANTED_QOS_1, Mqtt5SubAckReasonCode.NOT_AUTHORIZED),
            ex.getMqttMessage().getReasonCodes());
        assertEquals(1, broker.auth().counters().subscriptionsDenied.get());
    }

    @Test
    void rawV3DeniedSubscriptionGets0x80AndWillTopicIsChecked() throws Exception
    {
        final String token = token("dev3", List.of("up/#"), List.of("down/#"));
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            raw.send(RawMqtt.connect(4, "dev3", "dev3", ascii(token), null, null, 60));
            assertEquals(0, raw.read().body()[1]);
            raw.send(RawMqtt.subscribe(4, "secret/#"));
            final RawMqtt.Packet suback = raw.read();
            assertEquals(9, suback.type());
            assertArrayEquals(new byte[]{0, 1, (byte)0x80}, suback.body(), "packet id 1, failure 0x80");
            raw.send(RawMqtt.subscribe(4, "down/x"));
            assertArrayEquals(new byte[]{0, 1, 1}, raw.read().body(), "granted QoS 1");
        }
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            raw.send(RawMqtt.connect(5, "dev3", null, ascii(token), "elsewhere/will", "bye", 60));
            assertEquals(ReasonCode.NOT_AUTHORIZED, raw.read().body()[1] & 0xFF, "will topic outside acl.pub");
        }
    }

    @Test
    void revocationDisconnectsLiveClientsWithAdministrativeAction() throws Exception
    {
        final CompletableFuture<Throwable> cause = new CompletableFuture<>();
        final Mqtt5BlockingClient v5 = Mqtt5Client.builder().identifier("live5")
            .serverHost("127.0.0.1").serverPort(broker.mqttPort())
            .addDisconnectedListener((context) -> cause.complete(context.getCause()))
            .buildBlocking();
        v5.connectWith().simpleAuth().password(ascii(token("live5", "jti-live5"))).applySimpleAuth().send();
        clients.add(v5);
        final Mqtt5BlockingClient other = hive("bystander", token("bystander", "jti-bystander"));

        try (RawMqtt v3 = new RawMqtt(broker.mqttPort()))
        {
            v3.send(RawMqtt.connect(4, "live3", "live3", ascii(token("live3", "jti-live3")), null, null, 60));
            assertEquals(0, v3.read().body()[1]);

            broker.auth().revocations().revoke(List.of("jti-live5"));
            final Throwable why = cause.get(10, TimeUnit.SECONDS);
            final Mqtt5DisconnectException disconnect = assertInstanceOf(Mqtt5DisconnectException.class, why);
            assertEquals(ReasonCode.ADMINISTRATIVE_ACTION, disconnect.getMqttMessage().getReasonCode().getCode());

            // The CLI, another process in real life, writes the file; the broker's watcher picks it up.
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertEquals(0, SkylarkMain.execute(new String[]{"token", "revoke", "jti-live3", "--data.dir",
                dataDir.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8)));
            v3.socket.setSoTimeout(10_000);
            assertTrue(v3.closedByBroker(), "v3 connection closed on revocation");
        }
        assertTrue(other.getState().isConnected(), "other clients stay");
        assertEquals(2, broker.auth().counters().revokedDisconnects.get());
        assertEquals(ReasonCode.NOT_AUTHORIZED, connackCode(5, "live5", null, ascii(token("live5", "jti-live5"))));
    }

    @Test
    void expiryDisconnectsTheClientAndPublishesItsWill() throws Exception
    {
        final Mqtt5BlockingClient watcher = hive("will-watcher", token("will-watcher", "jww"));
        watcher.subscribeWith().topicFilter("wills/#").qos(MqttQos.AT_LEAST_ONCE).send();
        final Mqtt5BlockingClient.Mqtt5Publishes wills = watcher.publishes(MqttGlobalPublishFilter.ALL);

        final String shortLived = Tokens.sign(keys, Tokens.claims("mortal", "j-mortal", clock.time(), 60_000));
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            raw.send(RawMqtt.connect(5, "mortal", null, ascii(shortLived), "wills/mortal", "gone", 600));
            assertEquals(0, raw.read().body()[1]);
            raw.send(RawMqtt.publishQos1(5, "alive/mortal", "still here"));
            assertEquals(4, raw.read().type(), "PUBACK while the token is valid");

            clock.advance(60_000 + 30_000 - 1); // exp + skew - 1 ms: still fine
            raw.send(RawMqtt.publishQos1(5, "alive/mortal", "still here"));
            assertEquals(4, raw.read().type());
            clock.advance(1);
            raw.socket.setSoTimeout(10_000);
            final RawMqtt.Packet disconnect = raw.read();
            assertEquals(14, disconnect.type(), "DISCONNECT");
            assertEquals(ReasonCode.MAXIMUM_CONNECT_TIME, disconnect.body()[0] & 0xFF);
            assertTrue(raw.closedByBroker());
        }
        final Optional<Mqtt5Publish> will = wills.receive(10, TimeUnit.SECONDS);
        assertTrue(will.isPresent(), "will published");
        assertEquals("gone", new String(will.get().getPayloadAsBytes(), StandardCharsets.UTF_8));
        assertEquals(1, broker.auth().counters().expiredDisconnects.get());
    }

    @Test
    void hiveMqSeesRefusalsAndRotationKeepsOldTokensValid()
    {
        final String before = token("rot", "j-rot");
        broker.auth().keyRing().rotate();
        final String after = token("rot2", "j-rot2");
        assertTrue(hive("rot", before).getState().isConnected(), "token of the previous key");
        assertTrue(hive("rot2", after).getState().isConnected(), "token of the new key");

        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier("rot3")
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        final Mqtt5ConnAckException ex = assertThrows(Mqtt5ConnAckException.class, () ->
            c.connectWith().simpleAuth().password(ascii(Tokens.tamper(token("rot3", "x")))).applySimpleAuth().send());
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, ex.getMqttMessage().getReasonCode().getCode());
    }

    @Test
    void firstStartPrintsTokensThatWork()
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FirstStart.printWelcome(broker.auth(), "0.0.0.0", broker.mqttPort(), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        final String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("mosquitto_sub -h 127.0.0.1 -p " + broker.mqttPort()), text);
        assertTrue(text.contains("mosquitto_pub -h 127.0.0.1 -p " + broker.mqttPort()), text);
        assertTrue(text.contains("mqtt.connect('mqtt://127.0.0.1:" + broker.mqttPort()), text);
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile("client id (\\S+)  token (\\S+)").matcher(text);
        int connected = 0;
        while (m.find())
        {
            assertTrue(hive(m.group(1), m.group(2)).getState().isConnected());
            connected++;
        }
        assertEquals(2, connected, text);
    }

    @Test
    void pahoV3AndV5() throws Exception
    {
        final String url = "tcp://127.0.0.1:" + broker.mqttPort();
        final org.eclipse.paho.client.mqttv3.MqttClient v3 =
            new org.eclipse.paho.client.mqttv3.MqttClient(url, "paho3", new MemoryPersistence());
        final MqttConnectOptions options3 = new MqttConnectOptions();
        options3.setUserName("paho3");
        options3.setPassword(Tokens.tamper(token("paho3", "jp3")).toCharArray());
        final org.eclipse.paho.client.mqttv3.MqttException refused3 =
            assertThrows(org.eclipse.paho.client.mqttv3.MqttException.class, () -> v3.connect(options3));
        assertEquals(4, refused3.getReasonCode());
        options3.setPassword(token("paho3", "jp3").toCharArray());
        v3.connect(options3);
        assertTrue(v3.isConnected());
        v3.disconnect();
        v3.close();

        final org.eclipse.paho.mqttv5.client.MqttClient v5 = new org.eclipse.paho.mqttv5.client.MqttClient(url, "paho5",
            new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        final MqttConnectionOptions options5 = new MqttConnectionOptions();
        options5.setPassword(ascii(token("someone-else", "jp5")));
        final org.eclipse.paho.mqttv5.common.MqttException refused5 =
            assertThrows(org.eclipse.paho.mqttv5.common.MqttException.class, () -> v5.connect(options5));
        assertEquals(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, refused5.getReasonCode());
        options5.setPassword(ascii(token("paho5", "jp5")));
        v5.connect(options5);
        assertTrue(v5.isConnected());
        v5.disconnect();
        v5.close();
    }

    @Test
    void mosquittoClientsWithUserNameAndPassword() throws Exception
    {
        assumeTrue(onPath("mosquitto_pub"), "mosquitto_pub not on PATH");
        final Mqtt5BlockingClient watcher = hive("mq-watcher", token("mq-watcher", "jmw"));
        watcher.subscribeWith().topicFilter("mq/#").qos(MqttQos.AT_LEAST_ONCE).send();
        final Mqtt5BlockingClient.Mqtt5Publishes seen = watcher.publishes(MqttGlobalPublishFilter.ALL);
        for (final String version : List.of("mqttv311", "mqttv5"))
        {
            final String id = "mq-" + version;
            assertEquals(0, mosquittoPub(version, id, token(id, "j" + id)), version);
            final Optional<Mqtt5Publish> got = seen.receive(10, TimeUnit.SECONDS);
            assertTrue(got.isPresent(), version);
            assertEquals("mq/" + id, got.get().getTopic().toString());
            assertFalse(mosquittoPub(version, id, Tokens.tamper(token(id, "j" + id))) == 0, "refused " + version);
        }
    }

    private int mosquittoPub(final String version, final String id, final String token) throws Exception
    {
        final Process pub = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p",
            String.valueOf(broker.mqttPort()), "-V", version, "-i", id, "-u", id, "-P", token, "-q", "1",
            "-t", "mq/" + id, "-m", "hello").redirectErrorStream(true).start();
        assertTrue(pub.waitFor(10, TimeUnit.SECONDS), "mosquitto_pub finished");
        return pub.exitValue();
    }

    private static boolean onPath(final String program)
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
        {
            if (java.nio.file.Files.isExecutable(Path.of(dir, program)))
            {
                return true;
            }
        }
        return false;
    }
}
