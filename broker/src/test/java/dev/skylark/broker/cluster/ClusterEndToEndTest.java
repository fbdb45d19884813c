package dev.skylark.broker.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperty;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PayloadFormatIndicator;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.cli.SkylarkMain;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three real Skylark brokers, each in its own JVM ({@link BrokerCluster}), one cluster on loopback, started once for
 * the class: messages, sessions, shared groups, retained messages, wills and tokens across nodes with independent
 * clients (HiveMQ, Paho v3 and v5, mosquitto_pub/sub, MQTT.js over WebSocket), then SIGKILL of the leader idle and
 * under connect/subscribe load. The brokers run with the default authentication mode (token), anonymous clients
 * admitted, and one signing key shared by the three data directories.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterEndToEndTest
{
    static final long WAIT_MS = 10_000;
    /** SIGKILL of the leader to a working cluster: heartbeat timeout, an election or two, and slack for a busy box. */
    static final long FAILOVER_MS = BrokerCluster.HEARTBEAT_MS + 4 * BrokerCluster.ELECTION_MS + 6_000;

    @TempDir
    static Path dir;
    private static BrokerCluster cluster;
    private final List<AutoCloseable> clients = new ArrayList<>();
    private static final AtomicInteger IDS = new AtomicInteger();

    record Msg(String topic, String payload, int qos, Object raw)
    {
    }

    @BeforeAll
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    static void startCluster() throws Exception
    {
        cluster = new BrokerCluster(dir.resolve("cluster"), 3, List.of("--auth.anonymous", "true")).withOwnershipLogs();
        // one signing key for the whole cluster (docs/cluster.md): `skylark keys` creates node 0's, copied into the
        // other nodes' auth directories before their first start
        assertEquals(0, SkylarkMain.execute(new String[] { "keys", "--data.dir", cluster.node(0).dataDir.toString() },
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
        final Path keys = cluster.node(0).dataDir.resolve("auth").resolve("signing-keys.json");
        for (int i = 1; i < 3; i++)
        {
            final Path auth = Files.createDirectories(cluster.node(i).dataDir.resolve("auth"));
            Files.copy(keys, auth.resolve("signing-keys.json"));
        }
        cluster.start(60_000);
    }

    @AfterAll
    static void stopCluster() throws Exception
    {
        if (cluster != null)
        {
            cluster.close();
        }
    }

    @AfterEach
    void closeClients()
    {
        for (final AutoCloseable client : clients)
        {
            try
            {
                client.close();
            }
            catch (final Exception ignore)
            {
                // already gone
            }
        }
        clients.clear();
    }

    // ------------------------------------------------------------------------------------------------ 1. messages

    @Test
    @Order(1)
    void hiveMqEveryQosV5AndV311FromOneNodeToTheOtherTwo() throws Exception
    {
        final Mqtt5BlockingClient sub5 = hive5(1, "q5sub");
        final BlockingQueue<Msg> in5 = subscribe5(sub5, "e2e/qos/#", MqttQos.EXACTLY_ONCE);
        final Mqtt3BlockingClient sub3 = hive3(2, "q3sub");
        final BlockingQueue<Msg> in3 = subscribe3(sub3, "e2e/qos/#", MqttQos.EXACTLY_ONCE);
        final Mqtt5BlockingClient pub = hive5(0, "qpub");
        probe((t) -> pub.publishWith().topic(t).send(), "e2e/qos/probe", List.of(in5, in3));

        final List<String> sent = new ArrayList<>();
        for (int i = 0; i < 30; i++)
        {
            final int qos = i % 3;
            final String payload = "m" + i;
            pub.publishWith().topic("e2e/qos/q" + qos).qos(MqttQos.fromCode(qos)).payload(payload.getBytes())
                .userProperties().add("seq", String.valueOf(i)).add("node", "0").applyUserProperties()
                .contentType("text/plain").correlationData(("c" + i).getBytes()).responseTopic("e2e/reply/" + i)
                .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UTF_8).messageExpiryInterval(120).send();
            sent.add("e2e/qos/q" + qos + " " + payload + " " + qos);
        }
        final List<Msg> got5 = collect(in5, "e2e/qos/probe", 30);
        final List<Msg> got3 = collect(in3, "e2e/qos/probe", 30);
        assertEquals(sent, describe(got5), "v5 subscriber on node 1: each once, in order, QoS kept");
        assertEquals(sent, describe(got3), "3.1.1 subscriber on node 2: each once, in order, QoS kept");
        for (int i = 0; i < 30; i++)
        {
            final Mqtt5Publish p = (Mqtt5Publish)got5.get(i).raw();
            assertEquals(List.of("seq=" + i, "node=0"), p.getUserProperties().asList().stream()
                .map((u) -> u.getName() + "=" + u.getValue()).toList());
            assertEquals("text/plain", p.getContentType().orElseThrow().toString());
            assertEquals("c" + i, StandardCharsets.UTF_8.decode(p.getCorrelationData().orElseThrow()).toString());
            assertEquals("e2e/reply/" + i, p.getResponseTopic().orElseThrow().toString());
            assertEquals(Mqtt5PayloadFormatIndicator.UTF_8, p.getPayloadFormatIndicator().orElseThrow());
            final long expiry = p.getMessageExpiryInterval().orElseThrow();
            assertTrue(expiry > 100 && expiry <= 120, "expiry counted down, not reset: " + expiry);
        }
        assertNothingMore(in5, "e2e/qos/probe");
        assertNothingMore(in3, "e2e/qos/probe");
    }

    @Test
    @Order(2)
    void pahoV311AndV5AcrossNodes() throws Exception
    {
        final BlockingQueue<Msg> in3 = new LinkedBlockingQueue<>();
        final org.eclipse.paho.client.mqttv3.MqttClient sub3 = new org.eclipse.paho.client.mqttv3.MqttClient(
            cluster.node(1).mqttUri(), "paho3sub", new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
        clients.add(sub3::close);
        clients.add(() -> sub3.disconnectForcibly(100));
        sub3.setCallback(new org.eclipse.paho.client.mqttv3.MqttCallback()
        {
            public void connectionLost(final Throwable cause)
            {
            }

            public void messageArrived(final String topic, final org.eclipse.paho.client.mqttv3.MqttMessage message)
            {
                in3.add(new Msg(topic, new String(message.getPayload(), StandardCharsets.UTF_8), message.getQos(), message));
            }

            public void deliveryComplete(final org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token)
            {
            }
        });
        sub3.connect();
        sub3.subscribe("e2e/paho/#", 2);

        final BlockingQueue<Msg> in5 = new LinkedBlockingQueue<>();
        final org.eclipse.paho.mqttv5.client.MqttClient sub5 = new org.eclipse.paho.mqttv5.client.MqttClient(
            cluster.node(2).mqttUri(), "paho5sub", new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        clients.add(sub5::close);
        clients.add(() -> sub5.disconnectForcibly(100));
        sub5.setCallback(new PahoV5Callback(in5));
        sub5.connect();
        sub5.subscribe(new org.eclipse.paho.mqttv5.common.MqttSubscription[] {
            new org.eclipse.paho.mqttv5.common.MqttSubscription("e2e/paho/#", 2) });

        final org.eclipse.paho.mqttv5.client.MqttClient pub = new org.eclipse.paho.mqttv5.client.MqttClient(
            cluster.node(0).mqttUri(), "paho5pub", new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        clients.add(pub::close);
        clients.add(() -> pub.disconnectForcibly(100));
        pub.connect();
        probe((t) -> pub.publish(t, new org.eclipse.paho.mqttv5.common.MqttMessage(new byte[0], 0, false, null)),
            "e2e/paho/probe", List.of(in3, in5));
        final List<String> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++)
        {
            final int qos = 1 + i % 2;
            final org.eclipse.paho.mqttv5.common.MqttMessage m =
                new org.eclipse.paho.mqttv5.common.MqttMessage(("p" + i).getBytes(), qos, false, null);
            final org.eclipse.paho.mqttv5.common.packet.MqttProperties props =
                new org.eclipse.paho.mqttv5.common.packet.MqttProperties();
            props.setUserProperties(List.of(new org.eclipse.paho.mqttv5.common.packet.UserProperty("i", "" + i)));
            m.setProperties(props);
            pub.publish("e2e/paho/data", m);
            sent.add("e2e/paho/data p" + i + " " + qos);
        }
        // Paho hands a QoS 2 message to the application at PUBREL, a QoS 1 one at PUBLISH: order holds per QoS
        assertEquals(byQos(sent), byQos(describe(collect(in3, "e2e/paho/probe", 20))), "Paho 3.1.1 on node 1");
        final List<Msg> got5 = new ArrayList<>(collect(in5, "e2e/paho/probe", 20));
        assertEquals(byQos(sent), byQos(describe(got5)), "Paho 5 on node 2");
        got5.sort(java.util.Comparator.comparingInt((m) -> Integer.parseInt(m.payload().substring(1))));
        for (int i = 0; i < 20; i++)
        {
            final org.eclipse.paho.mqttv5.common.MqttMessage m = (org.eclipse.paho.mqttv5.common.MqttMessage)got5.get(i).raw();
            assertEquals("" + i, m.getProperties().getUserProperties().get(0).getValue());
        }
        assertNothingMore(in3, "e2e/paho/probe");
        assertNothingMore(in5, "e2e/paho/probe");
    }

    @Test
    @Order(3)
    void mosquittoPubAndSubOnDifferentNodes() throws Exception
    {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/mosquitto_sub")) &&
            Files.isExecutable(Path.of("/usr/bin/mosquitto_pub")), "mosquitto clients not installed");
        final BlockingQueue<Msg> lines = new LinkedBlockingQueue<>();
        final Process sub = new ProcessBuilder("/usr/bin/mosquitto_sub", "-h", "127.0.0.1",
            "-p", String.valueOf(cluster.node(2).mqttPort()), "-V", "mqttv5", "-q", "2", "-t", "e2e/mosq/#", "-v",
            "-i", "mosqsub").redirectErrorStream(true).start();
        clients.add(() -> sub.destroyForcibly().waitFor(5, TimeUnit.SECONDS));
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(sub.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = r.readLine()) != null)
                {
                    final int space = line.indexOf(' ');
                    lines.add(new Msg(space < 0 ? line : line.substring(0, space), space < 0 ? "" : line.substring(space + 1), -1, null));
                }
            }
            catch (final IOException ignore)
            {
                // process gone
            }
        }, "mosquitto_sub");
        reader.setDaemon(true);
        reader.start();
        final Mqtt5BlockingClient prober = hive5(0, "mosqprobe");
        probe((t) -> prober.publishWith().topic(t).payload("x".getBytes()).send(), "e2e/mosq/probe", List.of(lines));

        final Process pub = new ProcessBuilder("/usr/bin/mosquitto_pub", "-h", "127.0.0.1",
            "-p", String.valueOf(cluster.node(0).mqttPort()), "-V", "mqttv311", "-q", "1", "-t", "e2e/mosq/data",
            "-l", "-i", "mosqpub").redirectErrorStream(true).start();
        clients.add(() -> pub.destroyForcibly().waitFor(5, TimeUnit.SECONDS));
        final List<String> sent = new ArrayList<>();
        try (OutputStream stdin = pub.getOutputStream())
        {
            for (int i = 0; i < 25; i++)
            {
                stdin.write(("line-" + i + "\n").getBytes(StandardCharsets.UTF_8));
                sent.add("e2e/mosq/data line-" + i);
            }
        }
        assertTrue(pub.waitFor(WAIT_MS, TimeUnit.MILLISECONDS), "mosquitto_pub finished");
        assertEquals(0, pub.exitValue(), new String(pub.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        final List<String> got = collect(lines, "e2e/mosq/probe", 25).stream().map((m) -> m.topic() + " " + m.payload()).toList();
        assertEquals(sent, got);
        assertNothingMore(lines, "e2e/mosq/probe");
    }

    @Test
    @Order(4)
    void mqttJsOverWebSocketOnOneNodeAndTcpOnAnother() throws Exception
    {
        final Path web = webDir();
        Assumptions.assumeTrue(web != null && Files.isDirectory(web.resolve("node_modules").resolve("mqtt")),
            "web/node_modules/mqtt missing: run 'npm ci' in web/");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/node")), "node is not installed");
        for (final String version : new String[] { "4", "5" })
        {
            final Process node = new ProcessBuilder("/usr/bin/node", "test/cluster.mjs",
                "ws://127.0.0.1:" + cluster.node(1).httpPort() + "/mqtt",
                "mqtt://127.0.0.1:" + cluster.node(2).mqttPort(), version)
                .directory(web.toFile()).redirectErrorStream(true).start();
            clients.add(() -> node.destroyForcibly().waitFor(5, TimeUnit.SECONDS));
            final CompletableFuture<String> output = CompletableFuture.supplyAsync(() ->
            {
                try
                {
                    return new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                }
                catch (final IOException ex)
                {
                    return ex.toString();
                }
            });
            assertTrue(node.waitFor(40, TimeUnit.SECONDS), "node test/cluster.mjs finished");
            final String text = output.get(5, TimeUnit.SECONDS);
            assertEquals(0, node.exitValue(), text);
            assertTrue(text.contains("ok "), text);
        }
    }

    // ------------------------------------------------------------------------------------------------ 2. takeover

    @Test
    @Order(5)
    void persistentSessionQueuedMessagesFollowItToAnotherNode() throws Exception
    {
        final Mqtt5BlockingClient first = Mqtt5Client.builder().identifier("roamer").serverHost("127.0.0.1")
            .serverPort(cluster.node(0).mqttPort()).buildBlocking();
        assertFalse(first.connectWith().cleanStart(true).sessionExpiryInterval(300).send().isSessionPresent());
        final BlockingQueue<Msg> firstIn = subscribe5(first, "e2e/roam/#", MqttQos.AT_LEAST_ONCE);
        final Mqtt5BlockingClient pub = hive5(0, "roampub");
        probe((t) -> pub.publishWith().topic(t).send(), "e2e/roam/probe", List.of(firstIn));
        first.disconnect(); // the session stays on node 0 for 300 s
        for (int i = 0; i < 5; i++)
        {
            pub.publishWith().topic("e2e/roam/data").qos(MqttQos.AT_LEAST_ONCE).payload(("q" + i).getBytes()).send();
        }
        // PUBACKs came: the five are queued in the offline session on node 0; now the client comes back on node 1
        final BlockingQueue<Msg> in = new LinkedBlockingQueue<>();
        final Mqtt5BlockingClient second = Mqtt5Client.builder().identifier("roamer").serverHost("127.0.0.1")
            .serverPort(cluster.node(1).mqttPort()).buildBlocking();
        clients.add(second::disconnect);
        second.toAsync().publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL,
            (p) -> in.add(msg(p)));
        final Mqtt5ConnAck ack = second.connectWith().cleanStart(false).sessionExpiryInterval(0).send();
        assertTrue(ack.isSessionPresent(), "session present 1 on the new node");
        final List<String> got = collect(in, "e2e/roam/probe", 5).stream().map(Msg::payload).toList();
        assertEquals(List.of("q0", "q1", "q2", "q3", "q4"), got);
        // the subscription came along: a new message on node 2 reaches the client on node 1
        final Mqtt5BlockingClient pub2 = hive5(2, "roampub2");
        pub2.publishWith().topic("e2e/roam/data").qos(MqttQos.AT_LEAST_ONCE).payload("after".getBytes()).send();
        assertEquals("after", collect(in, "e2e/roam/probe", 1).get(0).payload());
    }

    @Test
    @Order(6)
    void aLiveConnectionTakenOverFromAnotherNodeGets0x8E() throws Exception
    {
        final CompletableFuture<Integer> reason = new CompletableFuture<>();
        final Mqtt5BlockingClient first = Mqtt5Client.builder().identifier("taken").serverHost("127.0.0.1")
            .serverPort(cluster.node(2).mqttPort())
            .addDisconnectedListener((ctx) -> reason.complete(ctx.getCause() instanceof Mqtt5DisconnectException d ?
                d.getMqttMessage().getReasonCode().getCode() : -1))
            .buildBlocking();
        first.connect();
        final Mqtt5BlockingClient second = Mqtt5Client.builder().identifier("taken").serverHost("127.0.0.1")
            .serverPort(cluster.node(0).mqttPort()).buildBlocking();
        clients.add(second::disconnect);
        second.connect();
        assertEquals(0x8E, reason.get(WAIT_MS, TimeUnit.MILLISECONDS), "Session taken over");
        assertEquals(Map.of("taken", List.of(0)), owners("taken"));
    }

    @Test
    @Order(7)
    void twoSimultaneousConnectsOfOneClientIdOnTwoNodesEndWithOneOwner() throws Exception
    {
        for (int round = 0; round < 5; round++)
        {
            final String id = "twin" + round;
            final Mqtt5BlockingClient a = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
                .serverPort(cluster.node(0).mqttPort()).buildBlocking();
            final Mqtt5BlockingClient b = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
                .serverPort(cluster.node(1).mqttPort()).buildBlocking();
            clients.add(() -> a.toAsync().disconnect());
            clients.add(() -> b.toAsync().disconnect());
            final CompletableFuture<?> ca = a.toAsync().connect();
            final CompletableFuture<?> cb = b.toAsync().connect();
            CompletableFuture.allOf(ca.exceptionally((e) -> null), cb.exceptionally((e) -> null)).get(WAIT_MS, TimeUnit.MILLISECONDS);
            cluster.await(() -> a.getState().isConnected() != b.getState().isConnected(), WAIT_MS,
                "exactly one of the two connections of " + id + " stays");
            final int expected = a.getState().isConnected() ? 0 : 1;
            cluster.await(() -> owners(id).equals(Map.of(id, List.of(expected))), WAIT_MS,
                "the brokers see " + id + " on node " + expected + " only, not " + owners(id));
        }
    }

    // ------------------------------------------------------------------------------------------------ 3. shared

    @Test
    @Order(8)
    void aSharedGroupOverThreeNodesGetsEachMessageExactlyOnce() throws Exception
    {
        final List<BlockingQueue<Msg>> ins = new ArrayList<>();
        for (int node = 0; node < 3; node++)
        {
            ins.add(subscribe5(hive5(node, "member" + node), "$share/e2e/e2e/shared/#", MqttQos.AT_LEAST_ONCE));
        }
        final Mqtt5BlockingClient pub = hive5(0, "sharedpub");
        // node 0 picks a node per message in turn: probes until every member had one show all three routes in place
        probe((t) -> pub.publishWith().topic(t).send(), "e2e/shared/probe", ins);
        for (int i = 0; i < 30; i++)
        {
            pub.publishWith().topic("e2e/shared/x").qos(MqttQos.AT_LEAST_ONCE).payload(("s" + i).getBytes()).send();
        }
        final List<String> all = new ArrayList<>();
        final int[] perMember = new int[3];
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (all.size() < 30 && System.nanoTime() < deadline)
        {
            for (int member = 0; member < 3; member++)
            {
                final Msg m = ins.get(member).poll(10, TimeUnit.MILLISECONDS);
                if (m != null && !m.topic().equals("e2e/shared/probe"))
                {
                    all.add(m.payload());
                    perMember[member]++;
                }
            }
        }
        for (final BlockingQueue<Msg> in : ins)
        {
            Msg extra;
            while ((extra = in.poll(300, TimeUnit.MILLISECONDS)) != null)
            {
                if (!extra.topic().equals("e2e/shared/probe"))
                {
                    all.add(extra.payload());
                }
            }
        }
        for (int member = 0; member < 3; member++)
        {
            assertTrue(perMember[member] > 0, "the member on node " + member + " got some: " +
                java.util.Arrays.toString(perMember));
        }
        assertEquals(30, all.size(), "each message once cluster-wide: " + all);
        assertEquals(30, new HashSet<>(all).size(), "no duplicates: " + all);
    }

    // ------------------------------------------------------------------------------------------------ 4. retained

    @Test
    @Order(9)
    void retainedSetOnOneNodeReadOnAnotherClearedOnAThirdGoneEverywhere() throws Exception
    {
        final Mqtt5BlockingClient setter = hive5(0, "retset");
        setter.publishWith().topic("e2e/ret/a").retain(true).qos(MqttQos.AT_LEAST_ONCE).payload("kept".getBytes())
            .userProperties().add("k", "v").applyUserProperties().send();
        final Map<String, String> seen = retainedOn(1, "e2e/ret/#", "e2e/ret/a");
        assertEquals("kept", seen.get("e2e/ret/a"), "read on node 1");

        final Mqtt5BlockingClient clearer = hive5(2, "retclear");
        clearer.publishWith().topic("e2e/ret/a").retain(true).qos(MqttQos.AT_LEAST_ONCE).payload(new byte[0]).send();
        // a marker set after the clear: a node that has it applied the clear before it (log order)
        clearer.publishWith().topic("e2e/ret/marker").retain(true).qos(MqttQos.AT_LEAST_ONCE).payload("m".getBytes()).send();
        for (int node = 0; node < 3; node++)
        {
            final Map<String, String> after = retainedOn(node, "e2e/ret/#", "e2e/ret/marker");
            assertNull(after.get("e2e/ret/a"), "cleared on node " + node + ": " + after);
        }
        clearer.publishWith().topic("e2e/ret/marker").retain(true).qos(MqttQos.AT_LEAST_ONCE).payload(new byte[0]).send();
    }

    // ------------------------------------------------------------------------------------------------ 5. will

    @Test
    @Order(10)
    void aWillGoesOutWhenTheOwningNodeSeesItsClientDropAndArrivesOnAnother() throws Exception
    {
        final Mqtt5BlockingClient watcher = hive5(2, "willwatch");
        final BlockingQueue<Msg> in = subscribe5(watcher, "e2e/will/#", MqttQos.AT_LEAST_ONCE);
        final Mqtt5BlockingClient prober = hive5(1, "willprobe");
        probe((t) -> prober.publishWith().topic(t).send(), "e2e/will/probe", List.of(in));
        try (Socket socket = new Socket("127.0.0.1", cluster.node(1).mqttPort()))
        {
            socket.getOutputStream().write(connectWithWill("dropper", "e2e/will/gone", "bye"));
            final int[] connack = new int[4];
            for (int i = 0; i < 4; i++)
            {
                connack[i] = socket.getInputStream().read();
            }
            assertEquals(0x20, connack[0]);
            assertEquals(0, connack[3], "accepted");
            socket.setSoLinger(true, 0); // drop: RST, no DISCONNECT
        }
        final Msg will = collect(in, "e2e/will/probe", 1).get(0);
        assertEquals("e2e/will/gone bye", will.topic() + " " + will.payload());
    }

    // ------------------------------------------------------------------------------------------------ tokens

    @Test
    @Order(11)
    void aTokenIssuedByOneNodeIsAcceptedByTheOthers() throws Exception
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, SkylarkMain.execute(new String[] { "token", "issue", "--client-id", "tok",
            "--data.dir", cluster.node(0).dataDir.toString() }, new PrintStream(out, true, StandardCharsets.UTF_8)));
        final String token = new ObjectMapper().readTree(out.toByteArray()).get("tok").asText();
        for (int node = 1; node < 3; node++)
        {
            final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier("tok").serverHost("127.0.0.1")
                .serverPort(cluster.node(node).mqttPort()).buildBlocking();
            c.connectWith().simpleAuth().password(token.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send();
            c.disconnect();
        }
        // a token from a key the cluster does not share is refused (the password is checked, not skipped)
        final ByteArrayOutputStream other = new ByteArrayOutputStream();
        final Path stranger = Files.createDirectories(dir.resolve("stranger"));
        assertEquals(0, SkylarkMain.execute(new String[] { "token", "issue", "--client-id", "tok",
            "--data.dir", stranger.toString() }, new PrintStream(other, true, StandardCharsets.UTF_8)));
        final String foreign = new ObjectMapper().readTree(other.toByteArray()).get("tok").asText();
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier("tok").serverHost("127.0.0.1")
            .serverPort(cluster.node(1).mqttPort()).buildBlocking();
        final Exception refused = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () ->
            c.connectWith().simpleAuth().password(foreign.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send());
        assertTrue(refused.toString().contains("NOT_AUTHORIZED") || refused.toString().contains("BAD_USER_NAME_OR_PASSWORD"),
            refused.toString());
    }

    // ------------------------------------------------------------------------------------ 7. ownership history

    /**
     * After everything above (takeovers, simultaneous connects, two leader kills and a restart): every node's
     * registry applied the same ownership history, epochs rose and no client id had two owners in one epoch.
     */
    @Test
    @Order(30)
    void theOwnershipHistoryOfEveryNodeIsSound() throws Exception
    {
        final OwnershipHistory.Result result = cluster.checkOwnership();
        System.out.println(result.summary());
        assertTrue(result.ok(), result.summary());
        assertTrue(result.changes() > 0, result.summary());
    }

    // ------------------------------------------------------------------------------------------------ 6. leader kill

    @Test
    @Order(20)
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void leaderKilledWhileIdleThenWhileClientsConnectAndSubscribe() throws Exception
    {
        // idle
        final int first = cluster.awaitFormed(WAIT_MS, -1);
        final long killed = System.nanoTime();
        cluster.node(first).kill();
        final List<Integer> alive = survivors();
        roundTripBy(alive.get(0), alive.get(1), "idle", killed + TimeUnit.MILLISECONDS.toNanos(FAILOVER_MS));
        final long failoverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        System.out.println("connect, subscribe and a message across nodes work again " + failoverMs + " ms after SIGKILL of the leader");
        // the registry declares the dead node down after the session timeout: every survivor then agrees
        final int second = cluster.awaitFormed(FAILOVER_MS + BrokerCluster.SESSION_MS, first);
        assertNotEquals(first, second);

        // the killed node comes back from its own directory
        cluster.node(first).start();
        cluster.node(first).awaitStarted(30_000);
        final int leader = cluster.awaitFormed(30_000, -1);

        // under load: clients connect (some ids on two nodes) and subscribe while the leader is killed
        final List<Integer> others = new ArrayList<>(List.of(0, 1, 2));
        others.remove(Integer.valueOf(leader));
        final AtomicBoolean stop = new AtomicBoolean();
        final ConcurrentLinkedQueue<Mqtt5BlockingClient> churned = new ConcurrentLinkedQueue<>();
        final AtomicInteger connected = new AtomicInteger();
        final List<Thread> threads = new ArrayList<>();
        for (final int node : others)
        {
            final Thread t = new Thread(() ->
            {
                for (int i = 0; !stop.get(); i++)
                {
                    final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier("churn" + (i % 20))
                        .serverHost("127.0.0.1").serverPort(cluster.node(node).mqttPort()).buildBlocking();
                    churned.add(c);
                    try
                    {
                        c.connectWith().cleanStart(true).send();
                        c.subscribeWith().topicFilter("e2e/churn/" + node + "/" + i).send();
                        connected.incrementAndGet();
                    }
                    catch (final RuntimeException refusedDuringElection)
                    {
                        // 0x88 Server unavailable or a SUBACK 0x80 while there is no leader: expected
                    }
                }
            }, "churn-" + node);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        try
        {
            cluster.await(() -> connected.get() >= 10, WAIT_MS, "clients connecting before the kill");
            final long killedAgain = System.nanoTime();
            cluster.node(leader).kill();
            final int atKill = connected.get();
            cluster.await(() -> connected.get() >= atKill + 10, FAILOVER_MS, "clients connecting after the kill");
            final long recoveredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAgain);
            System.out.println("connects and subscriptions work again " + recoveredMs + " ms after SIGKILL of the leader");
            final int next = cluster.awaitFormed(FAILOVER_MS + BrokerCluster.SESSION_MS, leader);
            assertNotEquals(leader, next);
        }
        finally
        {
            stop.set(true);
            for (final Thread t : threads)
            {
                t.join(WAIT_MS);
            }
        }
        // consistency: once the last takeovers have landed, every broker's view of the churned ids names each on
        // one node at most, and the survivors' registries hold the same route table
        cluster.await(() -> owners("churn").values().stream().allMatch((nodes) -> nodes.size() == 1), WAIT_MS,
            "each churned client id connected on one node only: " + owners("churn"));
        final List<Integer> live = survivors();
        cluster.await(() -> cluster.node(live.get(0)).metric("skylark_cluster_route_entries") ==
            cluster.node(live.get(1)).metric("skylark_cluster_route_entries"), WAIT_MS, "the same route table");
        final List<Integer> now = survivors();
        roundTrip(now.get(0), now.get(1), "after");
        roundTrip(now.get(1), now.get(0), "after-back");
        for (final Mqtt5BlockingClient c : churned)
        {
            clients.add(() -> c.toAsync().disconnect());
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static List<Integer> survivors()
    {
        final List<Integer> alive = new ArrayList<>();
        for (int i = 0; i < cluster.size; i++)
        {
            if (cluster.node(i).isAlive())
            {
                alive.add(i);
            }
        }
        return alive;
    }

    /** {@link #roundTrip} retried (connects refused while there is no leader) until it works or the deadline. */
    private void roundTripBy(final int subNode, final int pubNode, final String tag, final long deadlineNs)
        throws Exception
    {
        while (true)
        {
            try
            {
                roundTrip(subNode, pubNode, tag);
                return;
            }
            catch (final RuntimeException | AssertionError ex)
            {
                if (System.nanoTime() > deadlineNs)
                {
                    throw new AssertionError("no round trip from node " + pubNode + " to node " + subNode +
                        " by the deadline\n" + cluster.logs(), ex);
                }
            }
        }
    }

    /** A new subscriber on {@code subNode}, a publisher on {@code pubNode}: a QoS 1 message arrives once. */
    private void roundTrip(final int subNode, final int pubNode, final String tag) throws Exception
    {
        final String id = tag + IDS.incrementAndGet();
        final Mqtt5BlockingClient sub = hive5(subNode, "rt-sub-" + id);
        final BlockingQueue<Msg> in = subscribe5(sub, "e2e/rt/" + id + "/#", MqttQos.AT_LEAST_ONCE);
        final Mqtt5BlockingClient pub = hive5(pubNode, "rt-pub-" + id);
        probe((t) -> pub.publishWith().topic(t).send(), "e2e/rt/" + id + "/probe", List.of(in));
        pub.publishWith().topic("e2e/rt/" + id + "/x").qos(MqttQos.AT_LEAST_ONCE).payload("rt".getBytes()).send();
        assertEquals("rt", collect(in, "e2e/rt/" + id + "/probe", 1).get(0).payload());
    }

    private Mqtt5BlockingClient hive5(final int node, final String id)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
            .serverPort(cluster.node(node).mqttPort()).buildBlocking();
        c.connect();
        clients.add(() -> c.toAsync().disconnect());
        return c;
    }

    private Mqtt3BlockingClient hive3(final int node, final String id)
    {
        final Mqtt3BlockingClient c = Mqtt3Client.builder().identifier(id).serverHost("127.0.0.1")
            .serverPort(cluster.node(node).mqttPort()).buildBlocking();
        c.connect();
        clients.add(() -> c.toAsync().disconnect());
        return c;
    }

    private static Msg msg(final Mqtt5Publish p)
    {
        return new Msg(p.getTopic().toString(), new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8),
            p.getQos().getCode(), p);
    }

    private static BlockingQueue<Msg> subscribe5(final Mqtt5BlockingClient c, final String filter, final MqttQos qos)
    {
        final BlockingQueue<Msg> in = new LinkedBlockingQueue<>();
        c.toAsync().subscribeWith().topicFilter(filter).qos(qos).callback((p) -> in.add(msg(p))).send().join();
        return in;
    }

    private static BlockingQueue<Msg> subscribe3(final Mqtt3BlockingClient c, final String filter, final MqttQos qos)
    {
        final BlockingQueue<Msg> in = new LinkedBlockingQueue<>();
        c.toAsync().subscribeWith().topicFilter(filter).qos(qos).callback((p) -> in.add(new Msg(p.getTopic().toString(),
            new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8), p.getQos().getCode(), p))).send().join();
        return in;
    }

    interface Publish
    {
        void to(String topic) throws Exception;
    }

    /**
     * Publishes QoS 0 probes on {@code topic} until every queue has received one: the publishing node then routes
     * the filter to each subscriber's node. (A SUBACK says the route committed; the other nodes apply it a moment
     * later — docs/cluster.md, known limits.)
     */
    private static void probe(final Publish publish, final String topic, final List<BlockingQueue<Msg>> queues)
        throws Exception
    {
        final Set<Integer> pending = new HashSet<>();
        for (int i = 0; i < queues.size(); i++)
        {
            pending.add(i);
        }
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!pending.isEmpty())
        {
            if (System.nanoTime() > deadline)
            {
                fail("probes on " + topic + " never reached subscribers " + pending + "\n" + cluster.logs());
            }
            publish.to(topic);
            for (final Integer i : new ArrayList<>(pending))
            {
                final Msg m = queues.get(i).poll(50, TimeUnit.MILLISECONDS);
                if (m != null && m.topic().equals(topic))
                {
                    pending.remove(i);
                }
            }
        }
    }

    /** The next {@code count} messages not on {@code probeTopic}, waiting up to {@link #WAIT_MS}. */
    private static List<Msg> collect(final BlockingQueue<Msg> in, final String probeTopic, final int count)
        throws InterruptedException
    {
        final List<Msg> got = new ArrayList<>();
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (got.size() < count)
        {
            final Msg m = in.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (m == null)
            {
                fail("got " + got.size() + " of " + count + ": " + describe(got));
            }
            if (!m.topic().equals(probeTopic))
            {
                got.add(m);
            }
        }
        return got;
    }

    /** Nothing but probes arrives within a short grace (duplicates would come right behind the originals). */
    private static void assertNothingMore(final BlockingQueue<Msg> in, final String probeTopic) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        Msg m;
        while ((m = in.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) != null)
        {
            assertEquals(probeTopic, m.topic(), "an extra message: " + m);
        }
    }

    /** The messages of each QoS, in their order: QoS 1 ones first, then QoS 2 ones. */
    private static List<String> byQos(final List<String> described)
    {
        final List<String> sorted = new ArrayList<>(described.stream().filter((d) -> d.endsWith(" 1")).toList());
        sorted.addAll(described.stream().filter((d) -> d.endsWith(" 2")).toList());
        return sorted;
    }

    private static List<String> describe(final List<Msg> msgs)
    {
        return msgs.stream().map((m) -> m.topic() + " " + m.payload() + (m.qos() >= 0 ? " " + m.qos() : "")).toList();
    }

    /**
     * Retained messages a fresh subscriber on {@code node} gets for {@code filter}, once {@code mustHave} is among
     * them (retried with a new subscriber until the node applied it from the registry).
     */
    private Map<String, String> retainedOn(final int node, final String filter, final String mustHave) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (true)
        {
            final Map<String, String> got = new HashMap<>();
            final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier("retread" + IDS.incrementAndGet())
                .serverHost("127.0.0.1").serverPort(cluster.node(node).mqttPort()).buildBlocking();
            c.connect();
            try
            {
                final BlockingQueue<Msg> in = subscribe5(c, filter, MqttQos.AT_LEAST_ONCE);
                Msg m;
                while ((m = in.poll(200, TimeUnit.MILLISECONDS)) != null)
                {
                    assertTrue(((Mqtt5Publish)m.raw()).isRetain(), "a retained message: " + m);
                    got.put(m.topic(), m.payload());
                }
            }
            finally
            {
                c.disconnect();
            }
            if (got.containsKey(mustHave))
            {
                return got;
            }
            if (System.nanoTime() > deadline)
            {
                fail("node " + node + " never had retained " + mustHave + ": " + got);
            }
        }
    }

    private static byte[] connectWithWill(final String clientId, final String willTopic, final String willPayload)
    {
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        final byte[] name = { 0, 4, 'M', 'Q', 'T', 'T' };
        body.writeBytes(name);
        body.write(4); // 3.1.1
        body.write(0x02 | 0x04 | 0x08); // clean session, will flag, will QoS 1
        body.write(0);
        body.write(30); // keep alive
        utf8(body, clientId);
        utf8(body, willTopic);
        utf8(body, willPayload);
        final ByteArrayOutputStream packet = new ByteArrayOutputStream();
        packet.write(0x10);
        packet.write(body.size());
        packet.writeBytes(body.toByteArray());
        return packet.toByteArray();
    }

    private static void utf8(final ByteArrayOutputStream out, final String s)
    {
        final byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(b.length >> 8);
        out.write(b.length & 0xFF);
        out.writeBytes(b);
    }

    /** Client id → nodes whose admin API lists it as a connected client, over every live node. */
    private static Map<String, List<Integer>> owners(final String prefix)
    {
        final Map<String, List<Integer>> owners = new HashMap<>();
        for (final int node : survivors())
        {
            for (final JsonNode c : admin(node, "clients?filter=" + prefix + "&limit=1000").get("clients"))
            {
                owners.computeIfAbsent(c.get("clientId").asText(), (k) -> new ArrayList<>()).add(node);
            }
        }
        return owners;
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** A GET on the node's admin API, following its request queue (202, then the answer). */
    private static JsonNode admin(final int node, final String path)
    {
        try
        {
            final String token = Files.readString(cluster.node(node).dataDir.resolve("auth").resolve("admin-token")).trim();
            final String base = "http://127.0.0.1:" + cluster.node(node).httpPort();
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/admin/v1/" + path))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            final ObjectMapper json = new ObjectMapper();
            final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
            JsonNode body = json.readTree(r.body());
            if (r.statusCode() == 202)
            {
                final String answer = body.get("answer").asText();
                do
                {
                    r = HTTP.send(HttpRequest.newBuilder(URI.create(base + answer))
                        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
                    body = json.readTree(r.body());
                }
                while (r.statusCode() == 202 && System.nanoTime() < deadline);
            }
            assertEquals(200, r.statusCode(), r.body());
            return body;
        }
        catch (final IOException ex)
        {
            throw new AssertionError(ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new AssertionError(ex);
        }
    }

    private static Path webDir()
    {
        Path d = Path.of("").toAbsolutePath();
        while (d != null && !Files.isDirectory(d.resolve("web").resolve("test")))
        {
            d = d.getParent();
        }
        return d == null ? null : d.resolve("web");
    }

    private static final class PahoV5Callback implements org.eclipse.paho.mqttv5.client.MqttCallback
    {
        private final BlockingQueue<Msg> in;

        PahoV5Callback(final BlockingQueue<Msg> in)
        {
            this.in = in;
        }

        public void disconnected(final org.eclipse.paho.mqttv5.client.MqttDisconnectResponse response)
        {
        }

        public void mqttErrorOccurred(final org.eclipse.paho.mqttv5.common.MqttException exception)
        {
        }

        public void messageArrived(final String topic, final org.eclipse.paho.mqttv5.common.MqttMessage message)
        {
            in.add(new Msg(topic, new String(message.getPayload(), StandardCharsets.UTF_8), message.getQos(), message));
        }

        public void deliveryComplete(final org.eclipse.paho.mqttv5.client.IMqttToken token)
        {
        }

        public void connectComplete(final boolean reconnect, final String serverURI)
        {
        }

        public void authPacketArrived(final int reasonCode, final org.eclipse.paho.mqttv5.common.packet.MqttProperties properties)
        {
        }
    }
}
