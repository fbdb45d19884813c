package dev.skylark.broker.hook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperties;
import com.hivemq.client.mqtt.mqtt5.datatypes.Mqtt5UserProperty;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PayloadFormatIndicator;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import dev.skylark.broker.Broker;
import dev.skylark.broker.auth.TokenIssuer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.hook.HookTests.await;
import static dev.skylark.broker.hook.HookTests.counter;
import static dev.skylark.broker.hook.HookTests.publishes;
import static dev.skylark.broker.hook.HookTests.receive;
import static dev.skylark.broker.hook.HookTests.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The publish hook end to end: signed batches, changes and drops that subscribers see, topics that bypass it. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PublishHookTest
{
    @TempDir
    Path dataDir;
    private HookServer hook;
    private Broker broker;
    private final List<Mqtt5BlockingClient> clients = new ArrayList<>();

    @AfterEach
    void stop()
    {
        HookTests.disconnectAll(clients);
        if (broker != null)
        {
            broker.close();
        }
        if (hook != null)
        {
            hook.close();
        }
    }

    /**
     * The hook verifies each request's signature with the key {@code skylark keys} prints, redacts one message,
     * drops one, moves one to another topic (which drops it) and passes the rest: the subscriber sees exactly that.
     */
    @Test
    void subscribersSeeWhatTheHookReturns() throws Exception
    {
        hook = new HookServer((request) ->
        {
            final ArrayNode answer = HookServer.JSON.createArrayNode();
            for (final JsonNode message : request.messages())
            {
                final ObjectNode copy = ((ObjectNode)message).deepCopy();
                switch (message.path("payload").asText())
                {
                    case "drop me", "drop me too" -> { }
                    case "secret 42" ->
                    {
                        copy.put("payload", "[redacted]");
                        ((ObjectNode)copy.get("userProperties")).put("redacted", "yes");
                        answer.add(copy);
                    }
                    case "move me" -> answer.add(copy.put("topic", "elsewhere"));
                    default -> answer.add(copy);
                }
            }
            return HookServer.Answer.ok(answer);
        });
        broker = Broker.launch(new Broker.Context().authMode("token").mqttPort(0).httpPort(-1)
            .bindAddress("127.0.0.1").dataDir(dataDir.toString()).hookPublish(hook.url()));
        final Map<String, String> tokens = broker.auth().issuer().issue(
            new TokenIssuer.Request(0, List.of("hook-pub", "hook-sub"), 3600, null, null));
        final Mqtt5BlockingClient sub = connectWithToken("hook-sub", tokens.get("hook-sub"));
        final Mqtt5BlockingClient pub = connectWithToken("hook-pub", tokens.get("hook-pub"));

        try (Mqtt5BlockingClient.Mqtt5Publishes received = publishes(sub))
        {
            sub.subscribeWith().topicFilter("t/#").qos(MqttQos.AT_LEAST_ONCE).send();
            final long before = System.currentTimeMillis();
            final Mqtt5PublishResult hello = pub.publishWith().topic("t/1").qos(MqttQos.AT_LEAST_ONCE)
                .payload("hello".getBytes(StandardCharsets.UTF_8))
                .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UTF_8).contentType("text/plain")
                .userProperties().add("a", "1").add("a", "2").add("b", "3").applyUserProperties()
                .send();
            final Mqtt5PublishResult dropped = pub.publishWith().topic("t/1").qos(MqttQos.AT_LEAST_ONCE)
                .payload("drop me".getBytes(StandardCharsets.UTF_8))
                .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UTF_8).send();
            // Dropped at QoS 2: PUBREC 0x00, and the exchange completes (PUBREL, PUBCOMP) as for a routed one.
            pub.publishWith().topic("t/1").qos(MqttQos.EXACTLY_ONCE)
                .payload("drop me too".getBytes(StandardCharsets.UTF_8))
                .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UTF_8).send();
            pub.publishWith().topic("t/1").qos(MqttQos.EXACTLY_ONCE)
                .payload("secret 42".getBytes(StandardCharsets.UTF_8))
                .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UTF_8).send();
            pub.publishWith().topic("t/1").qos(MqttQos.AT_LEAST_ONCE)
                .payload("move me".getBytes(StandardCharsets.UTF_8))
                .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UTF_8).send();
            pub.publishWith().topic("t/2").qos(MqttQos.AT_MOST_ONCE).payload(new byte[]{0, 1, 2, (byte)0xFF}).send();
            final long after = System.currentTimeMillis();

            assertEquals(0, ((Mqtt5PublishResult.Mqtt5Qos1Result)hello).getPubAck().getReasonCode().getCode());
            assertEquals(0, ((Mqtt5PublishResult.Mqtt5Qos1Result)dropped).getPubAck().getReasonCode().getCode(),
                "a message the hook drops is still acknowledged as accepted");

            final Mqtt5Publish first = receive(received);
            assertEquals("hello", text(first));
            assertEquals("text/plain", first.getContentType().orElseThrow().toString());
            assertEquals(List.of("a=1", "a=2", "b=3"), userProperties(first.getUserProperties()));
            final Mqtt5Publish second = receive(received);
            assertEquals("[redacted]", text(second));
            assertEquals(List.of("redacted=yes"), userProperties(second.getUserProperties()));
            assertEquals(Mqtt5PayloadFormatIndicator.UTF_8, second.getPayloadFormatIndicator().orElseThrow());
            final Mqtt5Publish third = receive(received);
            assertEquals("t/2", third.getTopic().toString(), "nothing of 'drop me' or 'move me' in between");
            assertArrayEquals(new byte[]{0, 1, 2, (byte)0xFF}, third.getPayloadAsBytes());

            // What the hook saw: signed requests, the documented fields.
            final String jwks = HookTests.publicKeys(dataDir);
            final List<HookServer.Request> requests = new ArrayList<>(hook.requests);
            for (final HookServer.Request request : requests)
            {
                assertTrue(HookTests.verify(jwks, request), "signature verifies with the public key");
                assertEquals("application/json", request.contentType());
                final long timestamp = Long.parseLong(request.timestamp());
                assertTrue(timestamp >= before && timestamp <= System.currentTimeMillis());
            }
            final List<JsonNode> seen = HookTests.allMessages(requests);
            assertEquals(6, seen.size());
            final JsonNode m1 = seen.get(0);
            assertTrue(m1.get("mid").isTextual());
            assertEquals("t/1", m1.get("topic").asText());
            assertEquals("hook-pub", m1.get("clientId").asText());
            assertEquals(jti(tokens.get("hook-pub")), m1.get("jti").asText());
            assertTrue(m1.get("receivedAt").asLong() >= before && m1.get("receivedAt").asLong() <= after);
            assertEquals(1, m1.get("qos").asInt());
            assertFalse(m1.get("retain").asBoolean());
            assertEquals("text/plain", m1.get("contentType").asText());
            assertEquals(1, m1.get("payloadFormatIndicator").asInt());
            assertEquals("{\"a\":[\"1\",\"2\"],\"b\":\"3\"}", m1.get("userProperties").toString());
            assertEquals("hello", m1.get("payload").asText());
            assertNull(m1.get("encoding"), "text payloads carry no encoding marker");
            final JsonNode binary = seen.get(5);
            assertEquals(0, binary.get("payloadFormatIndicator").asInt());
            assertEquals("base64", binary.get("encoding").asText());
            assertArrayEquals(new byte[]{0, 1, 2, (byte)0xFF}, Base64.getDecoder().decode(binary.get("payload").asText()));
            assertEquals(6, seen.stream().map((m) -> m.get("mid").asText()).distinct().count(), "ids are unique");
        }
        assertEquals(6, counter(broker, "skylark_hook_messages_sent_total"));
        assertEquals(3, counter(broker, "skylark_hook_messages_delivered_total"));
        assertEquals(1, counter(broker, "skylark_hook_messages_changed_total"));
        assertEquals(3, counter(broker, "skylark_hook_messages_dropped_total"));
        assertEquals(0, counter(broker, "skylark_hook_failures_total"));
    }

    /**
     * The publisher disconnects while its messages wait at the hook: QoS 0 and 1 are still delivered (it will not
     * resend them), QoS 2 is not (it was never acknowledged, and its exactly-once state went with the session).
     */
    @Test
    void messagesOfAPublisherThatLeftAreStillDeliveredAtQos0And1() throws Exception
    {
        final java.util.concurrent.CountDownLatch hookResumes = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        hook = new HookServer((request) ->
        {
            if (calls.getAndIncrement() == 0)
            {
                hookResumes.await();
            }
            return HookServer.Answer.ok(request.messages());
        });
        broker = Broker.launch(HookTests.context(dataDir, hook));
        final Mqtt5BlockingClient sub = HookTests.connect(broker, "sub", clients);
        final Mqtt5BlockingClient other = HookTests.connect(broker, "other", clients);
        final Mqtt5BlockingClient pub = Mqtt5Client.builder().identifier("leaver")
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        pub.connectWith().cleanStart(true).send();
        try (Mqtt5BlockingClient.Mqtt5Publishes received = publishes(sub))
        {
            sub.subscribeWith().topicFilter("l/#").qos(MqttQos.EXACTLY_ONCE).send();
            pub.toAsync().publishWith().topic("l/held").qos(MqttQos.AT_MOST_ONCE).payload("held".getBytes()).send();
            HookTests.await("the hook to hold the first request", () -> hook.requests.size() == 1);
            pub.toAsync().publishWith().topic("l/0").qos(MqttQos.AT_MOST_ONCE).payload("q0".getBytes()).send();
            pub.toAsync().publishWith().topic("l/1").qos(MqttQos.AT_LEAST_ONCE).payload("q1".getBytes()).send();
            pub.toAsync().publishWith().topic("l/2").qos(MqttQos.EXACTLY_ONCE).payload("q2".getBytes()).send();
            HookTests.await("three messages to wait for the hook",
                () -> counter(broker, "skylark_hook_queue_bytes") > 0 && queuedRecords() == 3);
            pub.disconnect();
            HookTests.await("the publisher to be gone", () -> broker.connectionCount() == 2);
            hookResumes.countDown();
            other.publishWith().topic("l/end").qos(MqttQos.AT_LEAST_ONCE).payload("end".getBytes()).send();
            final java.util.Set<String> seen = new java.util.HashSet<>();
            while (seen.size() < 4)
            {
                seen.add(text(receive(received)));
            }
            assertEquals(java.util.Set.of("held", "q0", "q1", "end"), seen);
            // The hook handed q2 on before "end", so the routing agent has seen it: it was not routed.
            assertEquals(5, counter(broker, "skylark_hook_messages_delivered_total"));
            assertEquals(4, counter(broker, "skylark_publishes_routed_total"), "held, q0, q1 and end; not q2");
        }
    }

    private int queuedRecords()
    {
        long bytes = counter(broker, "skylark_hook_queue_bytes");
        int records = 0;
        for (final String topic : List.of("l/0", "l/1", "l/2"))
        {
            bytes -= org.agrona.BitUtil.align(HookRecord.length("leaver".length(), 0, topic.length(), 0, 2) +
                org.agrona.concurrent.ringbuffer.RecordDescriptor.HEADER_LENGTH,
                org.agrona.concurrent.ringbuffer.RecordDescriptor.ALIGNMENT);
            records++;
        }
        return bytes == 0 ? records : -1;
    }

    /** Topics outside the hook's filters never reach it; those inside do, also for v3.1.1 publishers. */
    @Test
    void topicsOutsideTheFiltersBypassTheHook() throws Exception
    {
        hook = new HookServer(HookServer.ECHO);
        broker = Broker.launch(HookTests.context(dataDir, hook).hookPublish(hook.url(), "hooked/#", "exact/topic"));
        final Mqtt5BlockingClient sub = HookTests.connect(broker, "sub", clients);
        final Mqtt5BlockingClient pub = HookTests.connect(broker, "pub", clients);
        try (Mqtt5BlockingClient.Mqtt5Publishes received = publishes(sub))
        {
            sub.subscribeWith().topicFilter("#").qos(MqttQos.AT_LEAST_ONCE).send();
            for (final String topic : List.of("plain/1", "hooked/1", "exact/topic", "exact/topic/not", "hooked"))
            {
                pub.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE).payload(topic.getBytes()).send();
                assertEquals(topic, receive(received).getTopic().toString());
            }
            final com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient v3 = com.hivemq.client.mqtt.mqtt3.Mqtt3Client
                .builder().identifier("pub3").serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
            v3.connect();
            v3.publishWith().topic("hooked/v3").qos(MqttQos.AT_LEAST_ONCE).payload("three".getBytes()).send();
            final Mqtt5Publish fromV3 = receive(received);
            assertEquals("three", text(fromV3));
            assertTrue(fromV3.getUserProperties().asList().isEmpty());
            v3.disconnect();
        }
        final List<JsonNode> seen = HookTests.allMessages(new ArrayList<>(hook.requests));
        assertEquals(List.of("hooked/1", "exact/topic", "hooked", "hooked/v3"),
            seen.stream().map((m) -> m.get("topic").asText()).toList());
        assertNull(seen.get(0).get("jti"), "no token, no jti");
        final String jwks = HookTests.publicKeys(dataDir);
        for (final HookServer.Request request : hook.requests)
        {
            assertTrue(HookTests.verify(jwks, request), "auth mode none signs with the same data-dir key");
        }
        assertEquals(4, counter(broker, "skylark_hook_messages_sent_total"));
        assertEquals(4, counter(broker, "skylark_hook_messages_delivered_total"));
        assertEquals(0, counter(broker, "skylark_hook_messages_changed_total"), "an echo changes nothing");
    }

    /**
     * Messages that arrive while a request is out go together in the next one: held at the first request, the
     * other publishes queue up, and the next request carries all of them, in publish order.
     */
    @Test
    void messagesThatArriveTogetherGoInOneRequest() throws Exception
    {
        final java.util.concurrent.CountDownLatch firstHeld = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        hook = new HookServer((request) ->
        {
            if (calls.getAndIncrement() == 0)
            {
                firstHeld.await();
            }
            return HookServer.Answer.ok(request.messages());
        });
        broker = Broker.launch(HookTests.context(dataDir, hook));
        final Mqtt5BlockingClient sub = HookTests.connect(broker, "sub", clients);
        final Mqtt5BlockingClient pub = HookTests.connect(broker, "pub", clients);
        final int count = 50;
        try (Mqtt5BlockingClient.Mqtt5Publishes received = publishes(sub))
        {
            sub.subscribeWith().topicFilter("b/#").qos(MqttQos.AT_LEAST_ONCE).send();
            final List<CompletableFuture<Mqtt5PublishResult>> acks = new ArrayList<>();
            acks.add(pub.toAsync().publishWith().topic("b/0").qos(MqttQos.AT_LEAST_ONCE).payload("m0".getBytes()).send());
            assertEquals(1, hook.requests.take().messages().size(), "the first message goes at once, alone");
            for (int i = 1; i < count; i++)
            {
                acks.add(pub.toAsync().publishWith().topic("b/" + i).qos(MqttQos.AT_LEAST_ONCE)
                    .payload(("m" + i).getBytes()).send());
            }
            final int firstSize = 1;
            final int recordBytes = HookRecord.length(3, 0, 4, 0, 3);
            int waiting = 0;
            for (int i = firstSize; i < count; i++)
            {
                waiting += align(HookRecord.length(3, 0, ("b/" + i).length(), 0, ("m" + i).length()));
            }
            final int expected = waiting;
            await("the rest to queue for the hook", () -> counter(broker, "skylark_hook_queue_bytes") == expected);
            assertTrue(recordBytes > 0);
            firstHeld.countDown();
            for (int i = 0; i < count; i++)
            {
                assertEquals(0, ((Mqtt5PublishResult.Mqtt5Qos1Result)acks.get(i).get(10, TimeUnit.SECONDS))
                    .getPubAck().getReasonCode().getCode());
                assertEquals("m" + i, text(receive(received)), "publish order kept");
            }
            assertEquals(count - firstSize, hook.requests.take().messages().size(), "one request for the rest");
            assertTrue(hook.requests.isEmpty());
            assertEquals(2, counter(broker, "skylark_hook_requests_total"));
        }
    }

    /** Bytes a ring record takes: its header and the message, aligned as Agrona aligns records. */
    private static int align(final int length)
    {
        return org.agrona.BitUtil.align(length + org.agrona.concurrent.ringbuffer.RecordDescriptor.HEADER_LENGTH,
            org.agrona.concurrent.ringbuffer.RecordDescriptor.ALIGNMENT);
    }

    private Mqtt5BlockingClient connectWithToken(final String id, final String token)
    {
        final Mqtt5BlockingClient client = Mqtt5Client.builder().identifier(id)
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        client.connectWith().cleanStart(true).simpleAuth().password(token.getBytes(StandardCharsets.US_ASCII))
            .applySimpleAuth().send();
        clients.add(client);
        return client;
    }

    private static String jti(final String token) throws Exception
    {
        final byte[] claims = Base64.getUrlDecoder().decode(token.split("\\.")[1]);
        return HookServer.JSON.readTree(claims).get("jti").asText();
    }

    private static List<String> userProperties(final Mqtt5UserProperties properties)
    {
        return properties.asList().stream()
            .map((Mqtt5UserProperty p) -> p.getName() + "=" + p.getValue()).toList();
    }
}
