package dev.skylark.broker.auth;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException;
import com.hivemq.client.mqtt.mqtt5.message.connect.Mqtt5ConnectBuilder;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import dev.skylark.broker.Broker;
import dev.skylark.broker.status.CountersSnapshot;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.concurrent.CachedEpochClock;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The authorization rules file ({@code skylark.acl.file}) and {@code $} topics on a real broker, with HiveMQ, Paho
 * 3.1.1, mosquitto_pub/sub and raw bytes: every rule kind, substitution, the Mosquitto format, reloads applied to
 * existing sessions, narrower tokens on resume and re-authentication, {@code $share} rules, and {@code $aws/...}
 * round trips that {@code #} and {@code +/...} subscribers never see.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AccessRulesBrokerTest
{
    @TempDir
    Path dir;
    private Broker broker;
    private final List<Mqtt5BlockingClient> clients = new ArrayList<>();
    private final CachedEpochClock clock = new CachedEpochClock();

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

    private Path rules(final String... lines) throws Exception
    {
        // Replaced whole (write beside, then rename), as an operator should: the watcher never sees half a file.
        final Path file = dir.resolve("acl.conf");
        final Path next = dir.resolve("acl.conf.new");
        Files.write(next, List.of(lines), StandardCharsets.UTF_8);
        Files.move(next, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    private Broker.Context context()
    {
        return new Broker.Context().authMode("none").dataDir(dir.resolve("data").toString()).mqttPort(0).httpPort(-1)
            .bindAddress("127.0.0.1").ioThreads(2).authWatchIntervalMs(20);
    }

    private void launch(final String... lines) throws Exception
    {
        broker = Broker.launch(context().aclFile(rules(lines).toString()));
    }

    private Mqtt5BlockingClient hive(final String id, final String user)
    {
        return hive(id, user, null, true, 0);
    }

    private Mqtt5BlockingClient hive(
        final String id, final String user, final byte[] password, final boolean cleanStart, final long expiry)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id)
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        Mqtt5ConnectBuilder.Send<com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck> connect =
            c.connectWith().cleanStart(cleanStart).sessionExpiryInterval(expiry);
        if (user != null)
        {
            connect = connect.simpleAuth().username(user).password(password == null ? new byte[0] : password)
                .applySimpleAuth();
        }
        connect.send();
        clients.add(c);
        return c;
    }

    private static int subscribe(final Mqtt5BlockingClient c, final String filter)
    {
        try
        {
            return c.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send().getReasonCodes().get(0)
                .getCode();
        }
        catch (final Mqtt5SubAckException ex)
        {
            return ex.getMqttMessage().getReasonCodes().get(0).getCode();
        }
    }

    /** PUBACK reason code of a QoS 1 publish (0 for success, 0x10 no matching subscribers). */
    private static int publish(final Mqtt5BlockingClient c, final String topic, final String payload)
    {
        return publish(c, topic, payload, false);
    }

    private static int publish(final Mqtt5BlockingClient c, final String topic, final String payload, final boolean retain)
    {
        try
        {
            final Mqtt5PublishResult result = c.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).retain(retain)
                .payload(payload.getBytes(StandardCharsets.UTF_8)).send();
            return ((Mqtt5PublishResult.Mqtt5Qos1Result)result).getPubAck().getReasonCode().getCode();
        }
        catch (final Mqtt5PubAckException ex)
        {
            assertTrue(ex.getMqttMessage().getReasonString().isPresent(), "a refusal says why");
            return ex.getMqttMessage().getReasonCode().getCode();
        }
    }

    /**
     * The next message of a flow. Create the flow before the SUBSCRIBE: the HiveMQ client registers it on its event
     * loop, and a message read before that is dropped ("No publish flow registered"), as happened under load.
     */
    private static String next(final Mqtt5BlockingClient.Mqtt5Publishes publishes) throws InterruptedException
    {
        final Optional<Mqtt5Publish> received = publishes.receive(20, TimeUnit.SECONDS);
        assertTrue(received.isPresent(), "a message within 20 s");
        return received.get().getTopic() + "=" + new String(received.get().getPayloadAsBytes(), StandardCharsets.UTF_8);
    }

    private long counter(final String name)
    {
        return CountersSnapshot.of(broker.countersFile().reader()).total(name);
    }

    private static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() - deadline < 0, "timed out waiting for " + what);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    @Test
    void eachRuleKindForPublishAndSubscribe() throws Exception
    {
        launch(
            "# ten-line telemetry deployment",
            "allow publish   client~dev-*      devices/%c/#",
            "allow subscribe client~backend-*  $share/ingest/devices/+/telemetry",
            "deny  subscribe all               $share/+/#",
            "allow subscribe user~browser-*    dashboards/#",
            "allow both      user:alice        alice/#",
            "allow publish   client:ops        dashboards/#",
            "deny  subscribe all               test/nosubscribe",
            "allow both      all               test/#");
        final Mqtt5BlockingClient dev = hive("dev-7", null);
        final Mqtt5BlockingClient backend = hive("backend-1", null);
        final Mqtt5BlockingClient.Mqtt5Publishes ingest = backend.publishes(MqttGlobalPublishFilter.ALL);
        final Mqtt5BlockingClient browser = hive("web-1", "browser-42");
        final Mqtt5BlockingClient.Mqtt5Publishes screens = browser.publishes(MqttGlobalPublishFilter.ALL);
        final Mqtt5BlockingClient alice = hive("a-1", "alice");
        final Mqtt5BlockingClient ops = hive("ops", null);

        assertEquals(0x01, subscribe(backend, "$share/ingest/devices/+/telemetry"), "its group, by pattern");
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(browser, "$share/ingest/devices/+/telemetry"));
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(backend, "$share/other/devices/+/telemetry"),
            "another group");
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(backend, "devices/#"), "default deny");
        assertEquals(0x01, subscribe(browser, "dashboards/#"), "user pattern");
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(dev, "dashboards/#"));
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(browser, "test/nosubscribe"), "deny for everyone");
        assertEquals(0x01, subscribe(browser, "test/other"));
        assertEquals(0x01, subscribe(alice, "alice/#"), "user name");

        assertEquals(0, publish(dev, "devices/dev-7/telemetry", "t1"), "%c substituted");
        assertEquals("devices/dev-7/telemetry=t1", next(ingest));
        assertEquals(ReasonCode.NOT_AUTHORIZED, publish(dev, "devices/dev-8/telemetry", "spoof"));
        assertEquals(ReasonCode.NOT_AUTHORIZED, publish(backend, "devices/backend-1/telemetry", "not a device"));
        assertEquals(ReasonCode.NOT_AUTHORIZED, publish(alice, "dashboards/x", "not ops"));
        assertEquals(0, publish(ops, "dashboards/x", "d1"), "client id");
        assertEquals("dashboards/x=d1", next(screens));
        assertEquals(3, counter("skylark_acl_publishes_denied_total"));
        assertEquals(5, counter("skylark_acl_subscriptions_denied_total"));

        // QoS 0 denied: dropped and counted, nothing delivered.
        dev.publishWith().topic("dashboards/x").qos(MqttQos.AT_MOST_ONCE).payload(new byte[]{1}).send();
        await(() -> counter("skylark_acl_publishes_denied_total") == 4, "the QoS 0 refusal counted");
        assertEquals(0, publish(ops, "dashboards/x", "d2"));
        assertEquals("dashboards/x=d2", next(screens), "the denied QoS 0 message never arrived");
    }

    @Test
    void retainedMessagesOnlyWhereTheSubscriberMayReceiveThem() throws Exception
    {
        launch("deny subscribe all r/secret", "allow both all r/#");
        final Mqtt5BlockingClient c = hive("c", null);
        assertEquals(0x10, publish(c, "r/secret", "s", true));
        assertEquals(0x10, publish(c, "r/open", "o", true));
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(c, "r/#"), "would reach r/secret");
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(c, "r/+"));
        final Mqtt5BlockingClient.Mqtt5Publishes received = c.publishes(MqttGlobalPublishFilter.ALL);
        assertEquals(0x01, subscribe(c, "r/open"));
        assertEquals("r/open=o", next(received));
    }

    @Test
    void mqtt311RefusalsWithPaho() throws Exception
    {
        launch("allow publish all ok/#", "allow subscribe all ok/#", "allow publish all no-sub/#");
        final MqttClient paho = new MqttClient("tcp://127.0.0.1:" + broker.mqttPort(), "paho3", new MemoryPersistence());
        final MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        paho.connect(options);
        try
        {
            final IMqttToken denied = paho.subscribeWithResponse(new String[]{"no-sub/x", "ok/x"}, new int[]{1, 1});
            assertArrayEquals(new int[]{0x80, 1}, denied.getGrantedQos(), "SUBACK 0x80 for the denied filter");
            final List<String> arrived = new ArrayList<>();
            paho.setCallback(new org.eclipse.paho.client.mqttv3.MqttCallback()
            {
                @Override
                public void connectionLost(final Throwable cause)
                {
                }

                @Override
                public void messageArrived(final String topic, final org.eclipse.paho.client.mqttv3.MqttMessage message)
                {
                    synchronized (arrived)
                    {
                        arrived.add(topic);
                    }
                }

                @Override
                public void deliveryComplete(final org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token)
                {
                }
            });
            paho.publish("denied/x", new byte[]{1}, 1, false); // 3.1.1 has no refusal code: acknowledged, dropped
            paho.publish("ok/x", new byte[]{2}, 1, false);
            await(() ->
            {
                synchronized (arrived)
                {
                    return !arrived.isEmpty();
                }
            }, "ok/x delivered");
            assertEquals(List.of("ok/x"), arrived);
            assertTrue(paho.isConnected(), "a refused publish does not cost the connection");
            assertEquals(1, counter("skylark_acl_publishes_denied_total"));
        }
        finally
        {
            paho.disconnect();
            paho.close();
        }
    }

    @Test
    void mosquittoAclFileWithMosquittoClients() throws Exception
    {
        assumeTrue(onPath("mosquitto_pub") && onPath("mosquitto_sub") && onPath("stdbuf"), "mosquitto clients");
        launch(
            "# a Mosquitto acl_file, as it is",
            "topic read public/#",
            "",
            "user alice",
            "topic readwrite alice/#",
            "topic deny alice/secret",
            "",
            "user bob",
            "topic read alice/news",
            "pattern write clients/%c/out");
        final String port = Integer.toString(broker.mqttPort());
        final Process sub = new ProcessBuilder("stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", port,
            "-V", "mqttv5", "-u", "bob", "-i", "bob-sub", "-t", "alice/news", "-q", "1", "-C", "1", "-W", "10", "-d")
            .redirectErrorStream(true).start();
        try
        {
            final BufferedReader reader =
                new BufferedReader(new InputStreamReader(sub.getInputStream(), StandardCharsets.UTF_8));
            String line;
            final List<String> lines = new ArrayList<>();
            while ((line = reader.readLine()) != null && !line.contains("SUBACK"))
            {
                lines.add(line);
            }
            assertTrue(line != null, "no SUBACK: " + lines);
            final Process pub = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-V", "mqttv5",
                "-u", "alice", "-i", "alice-pub", "-t", "alice/news", "-q", "1", "-m", "hello-bob")
                .redirectErrorStream(true).start();
            assertTrue(pub.waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, pub.exitValue(), new String(pub.getInputStream().readAllBytes()));
            String payload = null;
            while ((line = reader.readLine()) != null)
            {
                if (line.equals("hello-bob"))
                {
                    payload = line;
                }
            }
            assertTrue(sub.waitFor(10, TimeUnit.SECONDS));
            assertEquals("hello-bob", payload, "user bob reads what user alice writes");
        }
        finally
        {
            sub.destroyForcibly();
        }
        final Mqtt5BlockingClient anonymous = hive("anon", null);
        final Mqtt5BlockingClient bob = hive("c-bob", "bob");
        final Mqtt5BlockingClient alice = hive("c-alice", "alice");
        assertEquals(0x01, subscribe(anonymous, "public/#"), "topic lines before any user: anonymous clients");
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(bob, "public/#"));
        assertEquals(ReasonCode.NOT_AUTHORIZED, publish(anonymous, "public/x", "read only"));
        assertEquals(ReasonCode.NOT_AUTHORIZED, publish(alice, "alice/secret", "deny"), "topic deny");
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(alice, "alice/#"), "alice/# reaches the denied topic");
        assertEquals(0x10, publish(bob, "clients/c-bob/out", "pattern %c"), "no subscribers, allowed");
        assertEquals(ReasonCode.NOT_AUTHORIZED, publish(bob, "clients/c-alice/out", "someone else's"));
    }

    @Test
    void aBadFileStopsTheStartWithFileLineAndWhy() throws Exception
    {
        final Path file = rules("allow publish all a/#", "", "allow publsh all b");
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> Broker.launch(context().aclFile(file.toString())));
        assertTrue(ex.getMessage().contains(file + ":3: 'publsh' is not publish, subscribe or both"), ex.getMessage());
    }

    @Test
    void reloadAppliesToExistingSubscriptionsAndQueues() throws Exception
    {
        launch("allow both all feed/#", "allow both all ctl/#");
        final Mqtt5BlockingClient online = hive("online", null);
        final Mqtt5BlockingClient.Mqtt5Publishes onlineIn = online.publishes(MqttGlobalPublishFilter.ALL);
        assertEquals(0x01, subscribe(online, "feed/#"));
        assertEquals(0x01, subscribe(online, "ctl/#"));
        final Mqtt5BlockingClient offline = hive("offline", null, null, true, 600);
        assertEquals(0x01, subscribe(offline, "feed/#"));
        offline.disconnect();
        final Mqtt5BlockingClient pub = hive("pub", null);
        assertEquals(0, publish(pub, "feed/1", "before"));
        assertEquals("feed/1=before", next(onlineIn));

        // The file changes: feed/# may still be published but no longer read.
        rules("allow publish all feed/#", "allow both all ctl/#", "allow both all mark/#");
        await(() -> counter("skylark_acl_subscriptions_removed_total") == 2, "both feed/# subscriptions removed");
        await(() -> counter("skylark_acl_queued_dropped_total") == 1, "the offline session's queued feed/1 dropped");
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(online, "feed/#"), "new rules for new subscriptions");
        assertEquals(0x10, publish(pub, "feed/2", "after"), "nobody receives feed/2 any more");
        assertEquals(0, publish(pub, "ctl/1", "still"));
        assertEquals("ctl/1=still", next(onlineIn), "feed/2 never arrived");

        final Mqtt5BlockingClient resumed = hive("offline", null, null, false, 600);
        final Mqtt5BlockingClient.Mqtt5Publishes resumedIn = resumed.publishes(MqttGlobalPublishFilter.ALL);
        assertEquals(0x01, subscribe(resumed, "mark/#"));
        assertEquals(0, publish(pub, "mark/1", "first"));
        assertEquals("mark/1=first", next(resumedIn), "the queued feed/1 was dropped");

        // A bad new file keeps the rules in force; reload() (the SIGHUP entry point) says so.
        final long failures = broker.accessControl().reloadFailures();
        rules("allow both everyone ctl/#");
        assertFalse(broker.reloadAccessRules());
        assertTrue(broker.accessControl().reloadFailures() > failures);
        assertEquals(0, publish(pub, "ctl/2", "kept"));
        assertEquals("ctl/2=kept", next(onlineIn));

        rules("allow publish all #");
        assertTrue(broker.reloadAccessRules());
        await(() -> counter("skylark_acl_subscriptions_removed_total") == 4, "ctl/# and mark/# removed");
    }

    @Test
    void aRemovedSubscriptionStaysRemovedAfterARestart() throws Exception
    {
        launch("allow both all feed/#");
        final Mqtt5BlockingClient keeper = hive("keeper", null, null, true, 3600);
        assertEquals(0x01, subscribe(keeper, "feed/#"));
        keeper.disconnect();
        rules("allow publish all feed/#");
        await(() -> counter("skylark_acl_subscriptions_removed_total") == 1, "feed/# removed from the offline session");
        broker.close();
        clients.clear();

        broker = Broker.launch(context().aclFile(rules("allow both all feed/#").toString()));
        final Mqtt5BlockingClient pub = hive("pub", null);
        assertEquals(0x10, publish(pub, "feed/1", "x"), "the journal knows the subscription went");
    }

    @Test
    void narrowerTokenOnResumeDropsWhatItNoLongerAllows() throws Exception
    {
        startTokenBroker();
        final KeyRing keys = broker.auth().keyRing();
        final String wide = Tokens.sign(keys,
            Tokens.withAcl(Tokens.claims("sub", "j-wide", clock.time(), 3_600_000), null, List.of("a/#", "b/#")));
        final String narrow = Tokens.sign(keys,
            Tokens.withAcl(Tokens.claims("sub", "j-narrow", clock.time(), 3_600_000), null, List.of("a/#")));
        final Mqtt5BlockingClient first = hive("sub", "sub", wide.getBytes(StandardCharsets.US_ASCII), true, 600);
        assertEquals(0x01, subscribe(first, "a/#"));
        assertEquals(0x01, subscribe(first, "b/#"));
        first.disconnect();
        final Mqtt5BlockingClient pub = hive("pub", "pub",
            Tokens.sign(keys, Tokens.claims("pub", "j-pub", clock.time(), 3_600_000)).getBytes(), true, 0);
        assertEquals(0, publish(pub, "a/1", "q1"));
        assertEquals(0, publish(pub, "b/1", "q2"));

        final Mqtt5BlockingClient.Mqtt5Publishes[] in = new Mqtt5BlockingClient.Mqtt5Publishes[1];
        final Mqtt5BlockingClient resumed = Mqtt5Client.builder().identifier("sub").serverHost("127.0.0.1")
            .serverPort(broker.mqttPort()).buildBlocking();
        clients.add(resumed);
        in[0] = resumed.publishes(MqttGlobalPublishFilter.ALL); // before CONNECT: the queued messages come at once
        assertTrue(resumed.connectWith().cleanStart(false).sessionExpiryInterval(600).simpleAuth().username("sub")
            .password(narrow.getBytes(StandardCharsets.US_ASCII)).applySimpleAuth().send().isSessionPresent());
        assertEquals("a/1=q1", next(in[0]));
        assertEquals(0x10, publish(pub, "b/2", "gone"), "no subscriber left on b/2");
        assertEquals(0, publish(pub, "a/2", "q3"));
        assertEquals("a/2=q3", next(in[0]), "neither the queued b/1 nor b/2: the b/# subscription is gone");
        assertEquals(1, counter("skylark_acl_subscriptions_removed_total"));
        assertEquals(1, counter("skylark_acl_queued_dropped_total"));
    }

    @Test
    void widerTokenOnResumeLiftsTheOldLimits() throws Exception
    {
        startTokenBroker();
        final KeyRing keys = broker.auth().keyRing();
        final String narrow = Tokens.sign(keys,
            Tokens.withAcl(Tokens.claims("w", "j-w-1", clock.time(), 3_600_000), null, List.of("a/#")));
        final Mqtt5BlockingClient first = hive("w", "w", narrow.getBytes(StandardCharsets.US_ASCII), true, 600);
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(first, "b/#"));
        first.disconnect();
        final Mqtt5BlockingClient resumed = hive("w", "w",
            Tokens.sign(keys, Tokens.claims("w", "j-w-2", clock.time(), 3_600_000)).getBytes(), false, 600);
        assertEquals(0x01, subscribe(resumed, "b/#"), "the unrestricted token allows it");
    }

    @Test
    void narrowerTokenOnReauthenticationDropsSubscriptions() throws Exception
    {
        startTokenBroker();
        final KeyRing keys = broker.auth().keyRing();
        final Mqtt5BlockingClient pub = hive("pub", "pub",
            Tokens.sign(keys, Tokens.claims("pub", "j-pub", clock.time(), 3_600_000)).getBytes(), true, 0);
        try (RawMqtt raw = new RawMqtt(broker.mqttPort()))
        {
            raw.send(RawMqtt.connect(5, "re", null,
                Tokens.sign(keys, Tokens.claims("re", "j-re-1", clock.time(), 3_600_000)).getBytes(), null, null, 600));
            assertEquals(0, raw.read().body()[1], "CONNACK success");
            raw.send(RawMqtt.subscribe(5, "b/#"));
            final RawMqtt.Packet suback = raw.read();
            assertEquals(9, suback.type(), "SUBACK");
            assertEquals(1, suback.body()[suback.body().length - 1], "granted QoS 1");

            final String narrow = Tokens.sign(keys,
                Tokens.withAcl(Tokens.claims("re", "j-re-2", clock.time(), 3_600_000), null, List.of("a/#")));
            raw.send(RawMqtt.auth(0x19, RawMqtt.authProperties("skylark-jwt", narrow.getBytes(StandardCharsets.US_ASCII))));
            final RawMqtt.Packet success = raw.read();
            assertEquals(15, success.type(), "AUTH");
            assertEquals(ReasonCode.SUCCESS, success.body()[0] & 0xFF);
            await(() -> counter("skylark_acl_subscriptions_removed_total") == 1, "b/# removed");

            assertEquals(0x10, publish(pub, "b/1", "gone"), "no subscriber left on b/1");
            raw.send(RawMqtt.subscribe(5, "a/#"));
            assertEquals(9, raw.read().type(), "SUBACK");
            assertEquals(0, publish(pub, "a/1", "here"));
            final RawMqtt.Packet first = raw.read();
            assertEquals(3, first.type(), "PUBLISH");
            assertEquals("a/1", new String(first.body(), 2, 3, StandardCharsets.UTF_8), "b/1 never came");

            // A wider token again: the narrow one's limits go with it.
            raw.send(RawMqtt.auth(0x19, RawMqtt.authProperties("skylark-jwt",
                Tokens.sign(keys, Tokens.claims("re", "j-re-3", clock.time(), 3_600_000)).getBytes())));
            RawMqtt.Packet answer = raw.read();
            while (answer.type() != 15)
            {
                answer = raw.read(); // a redelivery of a/1 (not acknowledged here) may come first
            }
            assertEquals(ReasonCode.SUCCESS, answer.body()[0] & 0xFF);
            raw.send(RawMqtt.subscribe(5, "b/#"));
            RawMqtt.Packet again = raw.read();
            while (again.type() != 9)
            {
                again = raw.read();
            }
            assertEquals(1, again.body()[again.body().length - 1], "b/# granted again");
        }
    }

    @Test
    void dollarTopicsRoundTripWhileWildcardSubscribersNeverSeeThem() throws Exception
    {
        broker = Broker.launch(context());
        final Mqtt5BlockingClient shadow = hive("shadow", null);
        final Mqtt5BlockingClient.Mqtt5Publishes shadowIn = shadow.publishes(MqttGlobalPublishFilter.ALL);
        final Mqtt5BlockingClient everything = hive("everything", null);
        final Mqtt5BlockingClient.Mqtt5Publishes everythingIn = everything.publishes(MqttGlobalPublishFilter.ALL);
        assertEquals(0x01, subscribe(shadow, "$aws/things/x/shadow/update"));
        assertEquals(0x01, subscribe(everything, "#"));
        assertEquals(0x01, subscribe(everything, "+/things/x/shadow/update"));
        final Mqtt5BlockingClient device = hive("device", null);
        assertEquals(0, publish(device, "$aws/things/x/shadow/update", "{\"state\":1}"),
            "only the broker's own prefixes are refused");
        assertEquals("$aws/things/x/shadow/update={\"state\":1}", next(shadowIn));
        assertEquals(0x10, publish(device, "$iothub/twin/x", "retained", true), "retained, no subscriber yet");
        assertEquals(ReasonCode.NOT_AUTHORIZED, publish(device, "$SYS/broker/x", "forged"));
        assertEquals(0, publish(device, "plain/t", "p"));
        assertEquals("plain/t=p", next(everythingIn), "'#' and '+/...' never matched the '$' topics");
        final Mqtt5BlockingClient late = hive("late", null);
        final Mqtt5BlockingClient.Mqtt5Publishes lateIn = late.publishes(MqttGlobalPublishFilter.ALL);
        assertEquals(0x01, subscribe(late, "#"));
        assertEquals(0x01, subscribe(late, "$iothub/#"));
        assertEquals("$iothub/twin/x=retained", next(lateIn), "retained '$' message only through '$iothub/#'");
    }

    @Test
    void dollarTopicsAreGovernedByTheRules() throws Exception
    {
        launch("allow both all $aws/things/%c/#");
        final Mqtt5BlockingClient x = hive("x", null);
        assertEquals(0x01, subscribe(x, "$aws/things/x/shadow/#"));
        assertEquals(ReasonCode.NOT_AUTHORIZED, subscribe(x, "$aws/things/y/shadow/#"));
        final Mqtt5BlockingClient.Mqtt5Publishes in = x.publishes(MqttGlobalPublishFilter.ALL);
        assertEquals(0, publish(x, "$aws/things/x/shadow/update", "u"));
        assertEquals("$aws/things/x/shadow/update=u", next(in));
        assertEquals(ReasonCode.NOT_AUTHORIZED, publish(x, "$aws/things/y/shadow/update", "not mine"));
    }

    private void startTokenBroker()
    {
        clock.update(System.currentTimeMillis());
        broker = Broker.launch(context().authMode("token").authClock(clock));
    }

    private static boolean onPath(final String exe)
    {
        for (final String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        {
            if (new File(d, exe).canExecute())
            {
                return true;
            }
        }
        return false;
    }
}
