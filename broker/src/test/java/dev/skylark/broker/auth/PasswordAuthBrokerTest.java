package dev.skylark.broker.auth;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.Broker;
import dev.skylark.codec.mqtt.ReasonCode;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code skylark.auth.mode=password} against files made by the real {@code mosquitto_passwd} ($7$ and $6$), with
 * HiveMQ, Paho v3/v5, mosquitto_pub and raw bytes; several modes at once; anonymous access; reload on change.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PasswordAuthBrokerTest
{
    @TempDir
    Path dataDir;
    private Broker broker;
    private final List<Mqtt5BlockingClient> clients = new ArrayList<>();

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
        if (broker != null)
        {
            broker.close();
        }
    }

    /** alice ($7$, mosquitto_passwd's default) and bob ($6$), made by mosquitto_passwd. */
    private Path mosquittoFile() throws Exception
    {
        assumeTrue(PasswordFileTest.hasMosquittoPasswd(), "mosquitto_passwd not on PATH");
        final Path file = dataDir.resolve("mosquitto.passwd");
        PasswordFileTest.mosquittoPasswd("-c", "-b", file.toString(), "alice", "alice-pw");
        PasswordFileTest.mosquittoPasswd("-H", "sha512", "-b", file.toString(), "bob", "bob-pw");
        return file;
    }

    private Broker launch(final String modes, final Path passwords, final boolean anonymous)
    {
        broker = Broker.launch(new Broker.Context().authMode(modes).dataDir(dataDir.toString())
            .authPasswordFile(passwords == null ? "" : passwords.toString()).authAnonymous(anonymous)
            .mqttPort(0).httpPort(-1).bindAddress("127.0.0.1").ioThreads(1).authWatchIntervalMs(20));
        return broker;
    }

    private Mqtt5BlockingClient hive(final String id, final String user, final String password)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id)
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        clients.add(c);
        if (user == null && password == null)
        {
            c.connectWith().cleanStart(true).send();
        }
        else
        {
            c.connectWith().cleanStart(true).simpleAuth().username(user)
                .password(password.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send();
        }
        return c;
    }

    private int hiveRefusal(final String id, final String user, final String password)
    {
        final Mqtt5ConnAckException ex = assertThrows(Mqtt5ConnAckException.class, () -> hive(id, user, password));
        return ex.getMqttMessage().getReasonCode().getCode();
    }

    /** CONNACK reason (v5) or return code (3.1.1) of one raw CONNECT. */
    private int raw(final int level, final String clientId, final String user, final String password) throws Exception
    {
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            raw.send(RawMqtt.connect(level, clientId, user,
                password == null ? null : password.getBytes(StandardCharsets.UTF_8), null, null, 60));
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
    void mosquittoPasswdFilesWithHiveMqPahoAndRawBytes() throws Exception
    {
        launch("password", mosquittoFile(), false);
        assertTrue(hive("h-alice", "alice", "alice-pw").getState().isConnected(), "$7$ user");
        assertTrue(hive("h-bob", "bob", "bob-pw").getState().isConnected(), "$6$ user");
        final int bad = ReasonCode.BAD_USER_NAME_OR_PASSWORD;
        assertEquals(bad, hiveRefusal("h-x1", "alice", "alice-pw "), "wrong password");
        assertEquals(bad, hiveRefusal("h-x2", "alice", "bob-pw"), "another user's password");
        assertEquals(bad, hiveRefusal("h-x3", "carol", "alice-pw"), "unknown user");
        assertEquals(bad, hiveRefusal("h-x4", null, null), "anonymous, not allowed");

        for (final int level : new int[]{ 4, 5 })
        {
            final int refused = level == 5 ? bad : 4; // 3.1.1: 4 Bad user name or password
            assertEquals(0, raw(level, "r-" + level, "alice", "alice-pw"), "v" + level);
            assertEquals(refused, raw(level, "r-" + level, "alice", "alice-pW"), "v" + level + " wrong password");
            assertEquals(refused, raw(level, "r-" + level, "alice", null), "v" + level + " user without password");
            assertEquals(refused, raw(level, "r-" + level, null, null), "v" + level + " nothing");
        }
        assertEquals(bad, raw(5, "r-5", null, "alice-pw"), "v5 password without user name");
        assertEquals(11, broker.auth().counters().connectsRefused.get(), "4 HiveMQ + 6 raw + 1 raw refusals");

        final String url = "tcp://127.0.0.1:" + broker.mqttPort();
        final org.eclipse.paho.client.mqttv3.MqttClient v3 =
            new org.eclipse.paho.client.mqttv3.MqttClient(url, "paho3", new MemoryPersistence());
        final MqttConnectOptions options3 = new MqttConnectOptions();
        options3.setUserName("bob");
        options3.setPassword("nope".toCharArray());
        final org.eclipse.paho.client.mqttv3.MqttException refused3 =
            assertThrows(org.eclipse.paho.client.mqttv3.MqttException.class, () -> v3.connect(options3));
        assertEquals(4, refused3.getReasonCode());
        options3.setPassword("bob-pw".toCharArray());
        v3.connect(options3);
        assertTrue(v3.isConnected());
        v3.disconnect();
        v3.close();

        final org.eclipse.paho.mqttv5.client.MqttClient v5 = new org.eclipse.paho.mqttv5.client.MqttClient(url, "paho5",
            new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        final MqttConnectionOptions options5 = new MqttConnectionOptions();
        options5.setUserName("alice");
        options5.setPassword("nope".getBytes(StandardCharsets.UTF_8));
        final org.eclipse.paho.mqttv5.common.MqttException refused5 =
            assertThrows(org.eclipse.paho.mqttv5.common.MqttException.class, () -> v5.connect(options5));
        assertEquals(bad, refused5.getReasonCode());
        options5.setPassword("alice-pw".getBytes(StandardCharsets.UTF_8));
        v5.connect(options5);
        assertTrue(v5.isConnected());
        v5.disconnect();
        v5.close();
    }

    @Test
    void mosquittoPubWithBothHashTypes() throws Exception
    {
        assumeTrue(onPath("mosquitto_pub"), "mosquitto_pub not on PATH");
        launch("password", mosquittoFile(), false);
        final Mqtt5BlockingClient watcher = hive("watcher", "alice", "alice-pw");
        watcher.subscribeWith().topicFilter("pw/#").qos(MqttQos.AT_LEAST_ONCE).send();
        final Mqtt5BlockingClient.Mqtt5Publishes seen = watcher.publishes(MqttGlobalPublishFilter.ALL);
        for (final String version : List.of("mqttv311", "mqttv5"))
        {
            for (final String user : List.of("alice", "bob"))
            {
                final String id = "mq-" + user + "-" + version;
                assertEquals(0, mosquittoPub(version, id, user, user + "-pw"), id);
                final Optional<Mqtt5Publish> got = seen.receive(10, TimeUnit.SECONDS);
                assertTrue(got.isPresent(), id);
                assertEquals("pw/" + id, got.get().getTopic().toString());
                assertNotEquals(0, mosquittoPub(version, id, user, user + "-PW"), "refused " + id);
            }
        }
    }

    @Test
    void aChangedFileIsReloadedWhileTheBrokerRuns() throws Exception
    {
        final Path file = mosquittoFile();
        launch("password", file, false);
        final int bad = ReasonCode.BAD_USER_NAME_OR_PASSWORD;
        assertEquals(bad, hiveRefusal("c1", "carol", "carol-pw"), "not there yet");
        PasswordFileTest.mosquittoPasswd("-b", file.toString(), "carol", "carol-pw");
        PasswordFileTest.mosquittoPasswd("-D", file.toString(), "bob");
        final PasswordFile passwords = broker.auth().passwords();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!(passwords.contains("carol") && !passwords.contains("bob")) && System.nanoTime() < deadline)
        {
            Thread.onSpinWait();
        }
        assertTrue(passwords.contains("carol") && !passwords.contains("bob"), "the watcher reloaded the file");
        assertTrue(hive("c2", "carol", "carol-pw").getState().isConnected(), "added user");
        assertEquals(bad, hiveRefusal("c3", "bob", "bob-pw"), "deleted user");

        Files.writeString(file, "carol:not-a-hash\n");
        assertNotEquals(null, broker.reloadAuth(), "SIGHUP entry point reports the bad file");
        assertTrue(hive("c4", "carol", "carol-pw").getState().isConnected(), "the previous users stay");
    }

    @Test
    void tokenThenPasswordAndAnonymousOnlyWhenAllowed() throws Exception
    {
        final Path file = mosquittoFile();
        launch("token,password", file, false);
        final String token = broker.auth().issuer().issue(
            new TokenIssuer.Request(0, List.of("tok-1"), 600, null, null)).get("tok-1");
        assertTrue(hive("tok-1", "tok-1", token).getState().isConnected(), "a token");
        assertTrue(hive("pw-1", "alice", "alice-pw").getState().isConnected(), "a password");
        final int bad = ReasonCode.BAD_USER_NAME_OR_PASSWORD;
        assertEquals(bad, hiveRefusal("tok-2", "tok-2", Tokens.tamper(token)), "a bad token is not tried as a password");
        assertEquals(bad, hiveRefusal("pw-2", "alice", "wrong"), "a bad password");
        assertEquals(bad, hiveRefusal("anon", null, null), "anonymous refused by default");
        assertEquals(4, raw(4, "anon3", null, null), "3.1.1 anonymous refused: 4");
        broker.close();
        broker = null;

        launch("token,password", file, true);
        assertTrue(hive("anon", null, null).getState().isConnected(), "anonymous allowed");
        assertEquals(bad, hiveRefusal("pw-3", "alice", "wrong"), "a bad password is still refused");
    }

    @Test
    void passwordModeWithoutItsFileStopsTheStartWithAClearMessage()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () ->
            launch("password", dataDir.resolve("missing"), false));
        assertTrue(ex.getMessage().contains("skylark passwd add"), ex.getMessage());
        final IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () ->
            new Broker.Context().authMode("none,password"));
        assertTrue(none.getMessage().contains("cannot be combined"), none.getMessage());
        final IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () ->
            new Broker.Context().authMode("token,token"));
        assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
        final IllegalArgumentException cert = assertThrows(IllegalArgumentException.class, () ->
            Broker.launch(new Broker.Context().authMode("certificate").dataDir(dataDir.toString()).mqttPort(0)
                .httpPort(-1)));
        assertTrue(cert.getMessage().contains("needs client certificates"), cert.getMessage());
    }

    private int mosquittoPub(final String version, final String id, final String user, final String password)
        throws Exception
    {
        final Process pub = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p",
            String.valueOf(broker.mqttPort()), "-V", version, "-i", id, "-u", user, "-P", password, "-q", "1",
            "-t", "pw/" + id, "-m", "hello").redirectErrorStream(true).start();
        assertTrue(pub.waitFor(10, TimeUnit.SECONDS), "mosquitto_pub finished");
        return pub.exitValue();
    }

    private static boolean onPath(final String program)
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
        {
            if (Files.isExecutable(Path.of(dir, program)))
            {
                return true;
            }
        }
        return false;
    }
}
