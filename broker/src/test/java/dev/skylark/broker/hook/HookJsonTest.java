package dev.skylark.broker.hook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.skylark.broker.routing.MessageLayout;
import dev.skylark.broker.status.Counters;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.PropertiesDecoder;
import dev.skylark.codec.mqtt.PropertiesEncoder;
import dev.skylark.codec.mqtt.Property;
import dev.skylark.codec.mqtt.PublishView;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The request and answer JSON: every field, both payload encodings, what an answer may change, what it may not. */
class HookJsonTest
{
    private final ManyToOneRingBuffer queue = new ManyToOneRingBuffer(
        new UnsafeBuffer(ByteBuffer.allocateDirect(64 * 1024 + RingBufferDescriptor.TRAILER_LENGTH)));
    private final PublishHookProxy proxy = new PublishHookProxy(queue, List.of("#"), () -> { },
        new HookCounters.Io(Counters.inMemory(), "0"));
    private final HookJson json = new HookJson("run-", 4096);
    private final HookBatch batch = new HookBatch(100, 1024 * 1024);

    @BeforeEach
    void empty()
    {
        batch.clear(7);
    }

    private void offer(final String topic, final int qos, final byte[] properties, final byte[] payload)
    {
        final UnsafeBuffer p = new UnsafeBuffer(properties);
        final UnsafeBuffer t = new UnsafeBuffer(topic.getBytes(StandardCharsets.UTF_8));
        assertTrue(proxy.offer(42L, 1_000L, "dev-1".getBytes(), "jti-9".getBytes(), new PublishView()
            .flags(qos, false, qos == 1).packetId(5)
            .topic(t, 0, t.capacity()).properties(p, 0, p.capacity()).payload(new UnsafeBuffer(payload), 0, payload.length)));
    }

    private static byte[] properties(final int payloadFormatIndicator, final String contentType, final String... pairs)
    {
        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);
        final PropertiesEncoder encoder = new PropertiesEncoder().wrap(buffer, 0);
        encoder.messageExpiryInterval(60);
        if (payloadFormatIndicator == 1)
        {
            encoder.payloadFormatIndicator(1);
        }
        if (contentType != null)
        {
            encoder.contentType(contentType);
        }
        for (int i = 0; i < pairs.length; i += 2)
        {
            encoder.userProperty(pairs[i], pairs[i + 1]);
        }
        final byte[] bytes = new byte[encoder.length()];
        buffer.getBytes(0, bytes);
        return bytes;
    }

    private ArrayNode request()
    {
        queue.controlledRead(batch);
        try
        {
            return (ArrayNode)HookServer.JSON.readTree(json.encode(batch));
        }
        catch (final java.io.IOException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    private void answer(final JsonNode answer) throws MalformedAnswerException
    {
        json.decode(answer.toString().getBytes(StandardCharsets.UTF_8), batch);
    }

    @Test
    void requestCarriesEveryField()
    {
        offer("a/b", 1, properties(1, "text/plain", "k", "v", "twice", "1", "twice", "2"), "héllo".getBytes(StandardCharsets.UTF_8));
        offer("a/c", 0, new byte[0], new byte[]{(byte)0xC3, 0x28});
        offer("a/d", 0, properties(1, null), new byte[]{(byte)0xC3, 0x28}); // marked UTF-8 but is not: base64
        final ArrayNode request = request();
        assertEquals(3, request.size());
        final JsonNode first = request.get(0);
        assertEquals("run-7", first.get("mid").asText());
        assertEquals("a/b", first.get("topic").asText());
        assertEquals("dev-1", first.get("clientId").asText());
        assertEquals("jti-9", first.get("jti").asText());
        assertEquals(1_000L, first.get("receivedAt").asLong());
        assertEquals(1, first.get("qos").asInt());
        assertTrue(first.get("retain").asBoolean());
        assertEquals("text/plain", first.get("contentType").asText());
        assertEquals(1, first.get("payloadFormatIndicator").asInt());
        assertEquals("{\"k\":\"v\",\"twice\":[\"1\",\"2\"]}", first.get("userProperties").toString());
        assertEquals("héllo", first.get("payload").asText());
        assertNull(first.get("encoding"));

        final JsonNode second = request.get(1);
        assertEquals("run-8", second.get("mid").asText());
        assertNull(second.get("contentType"));
        assertEquals(0, second.get("payloadFormatIndicator").asInt());
        assertEquals("{}", second.get("userProperties").toString());
        assertEquals("wyg=", second.get("payload").asText());
        assertEquals("base64", second.get("encoding").asText());
        assertEquals("base64", request.get(2).get("encoding").asText());
    }

    @Test
    void answerDecidesEachMessage() throws Exception
    {
        for (int i = 0; i < 6; i++)
        {
            offer("t/" + i, 1, properties(1, "text/plain", "k", "v"), ("p" + i).getBytes());
        }
        final ArrayNode request = request();
        final ArrayNode answer = HookServer.JSON.createArrayNode();
        answer.add(request.get(0));                                                     // unchanged
        answer.add(((ObjectNode)request.get(1).deepCopy()).put("payload", "new"));       // payload changed
        final ObjectNode props = request.get(2).deepCopy();
        props.putNull("contentType");
        props.put("payloadFormatIndicator", 0);
        props.putObject("userProperties").put("x", "y").putArray("z").add("1").add("2");
        props.put("payload", "AAE=").put("encoding", "base64");
        answer.add(props);                                                               // properties changed
        answer.add(((ObjectNode)request.get(3).deepCopy()).put("topic", "t/other"));      // topic changed: dropped
        answer.add(((ObjectNode)request.get(4).deepCopy()).put("mid", "run-999"));        // id changed: dropped
        answer.add(((ObjectNode)request.get(0).deepCopy()).put("payload", "second answer ignored"));
        final ObjectNode minimal = HookServer.JSON.createObjectNode().put("mid", request.get(5).get("mid").asText());
        answer.add(minimal);                                                             // only the id: unchanged
        answer(answer);

        assertEquals(HookBatch.ORIGINAL, batch.outcome(0));
        assertEquals(HookBatch.CHANGED, batch.outcome(1));
        assertArrayEquals("new".getBytes(), batch.changedPayload(1));
        final Decoded one = decoded(batch.changedProperties(1));
        assertEquals("text/plain", one.contentType);
        assertEquals(1, one.payloadFormatIndicator);
        assertEquals(List.of("k=v"), one.userProperties);
        assertEquals(60, one.expiry, "other properties pass unchanged");

        assertEquals(HookBatch.CHANGED, batch.outcome(2));
        assertArrayEquals(new byte[]{0, 1}, batch.changedPayload(2));
        final Decoded two = decoded(batch.changedProperties(2));
        assertNull(two.contentType);
        assertEquals(0, two.payloadFormatIndicator);
        assertEquals(List.of("x=y", "z=1", "z=2"), two.userProperties);
        assertEquals(60, two.expiry);

        assertEquals(HookBatch.DROPPED, batch.outcome(3));
        assertEquals(HookBatch.DROPPED, batch.outcome(4));
        assertEquals(HookBatch.ORIGINAL, batch.outcome(5));
    }

    @Test
    void leftOutMessagesAreDropped() throws Exception
    {
        offer("t/1", 0, new byte[0], "a".getBytes());
        offer("t/2", 0, new byte[0], "b".getBytes());
        final ArrayNode request = request();
        answer(HookServer.JSON.createArrayNode().add(request.get(1)));
        assertEquals(HookBatch.DROPPED, batch.outcome(0));
        assertEquals(HookBatch.ORIGINAL, batch.outcome(1));
    }

    @Test
    void malformedAnswersAreRefusedWhole()
    {
        offer("t/1", 1, new byte[0], "a".getBytes());
        final ObjectNode message = (ObjectNode)request().get(0);
        final List<String> bad = new ArrayList<>();
        bad.add("not json");
        bad.add("{\"mid\": \"run-7\"}");
        bad.add("[1]");
        bad.add("[{\"payload\": \"no id\"}]");
        bad.add(array(message.deepCopy().put("payload", "%%%").put("encoding", "base64")));
        bad.add(array(message.deepCopy().put("encoding", "gzip")));
        bad.add(array(message.deepCopy().put("payloadFormatIndicator", 2)));
        bad.add(array(message.deepCopy().put("contentType", 5)));
        bad.add(array(message.deepCopy().put("payload", 5)));
        bad.add(array(((ObjectNode)message.deepCopy()).set("userProperties", HookServer.JSON.createArrayNode())));
        bad.add(array(((ObjectNode)message.deepCopy()).set("userProperties",
            HookServer.JSON.createObjectNode().put("bell", "\u0007"))));
        final ObjectNode tooLarge = message.deepCopy().put("payload", "x".repeat(5000));
        tooLarge.remove("encoding");
        bad.add(array(tooLarge));
        bad.add(array(message.deepCopy().put("payloadFormatIndicator", 1).put("payload", "wyg=")
            .put("encoding", "base64"))); // marked UTF-8, is not
        for (final String answer : bad)
        {
            assertThrows(MalformedAnswerException.class,
                () -> json.decode(answer.getBytes(StandardCharsets.UTF_8), batch),
                answer.length() > 200 ? answer.substring(0, 200) : answer);
        }
        assertFalse(bad.isEmpty());
    }

    private static String array(final JsonNode message)
    {
        return HookServer.JSON.createArrayNode().add(message).toString();
    }

    private record Decoded(String contentType, int payloadFormatIndicator, List<String> userProperties, long expiry)
    {
    }

    private static Decoded decoded(final byte[] block)
    {
        final PropertiesDecoder decoder = new PropertiesDecoder();
        assertEquals(0, decoder.wrap(new UnsafeBuffer(block), 0, block.length, PacketType.PUBLISH));
        String contentType = null;
        int indicator = 0;
        long expiry = -1;
        final List<String> users = new ArrayList<>();
        while (decoder.next())
        {
            switch (decoder.id())
            {
                case Property.CONTENT_TYPE -> contentType = decoder.stringValue();
                case Property.PAYLOAD_FORMAT_INDICATOR -> indicator = (int)decoder.value();
                case Property.USER_PROPERTY -> users.add(decoder.key() + "=" + decoder.stringValue());
                case Property.MESSAGE_EXPIRY_INTERVAL -> expiry = decoder.value();
                default -> { }
            }
        }
        assertTrue(MessageLayout.TOPIC_OFFSET > 0);
        return new Decoded(contentType, indicator, users, expiry);
    }
}
