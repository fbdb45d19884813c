package dev.skylark.broker.hook;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.skylark.broker.routing.MessageLayout;
import dev.skylark.codec.mqtt.MqttPrimitives;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.PropertiesDecoder;
import dev.skylark.codec.mqtt.PropertiesEncoder;
import dev.skylark.codec.mqtt.Property;
import dev.skylark.codec.mqtt.PropertyFilter;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The JSON of hook requests and answers. A request is an array with one object per message:
 *
 * <pre>
 * {"mid": "m3f9k2a-17",          unique message id; identifies the message in the answer (changed: dropped)
 *  "topic": "devices/42/up",     read-only (changed: dropped)
 *  "clientId": "sky-abc", "jti": "9f2c...",   publisher, and its token id when it used a token (read-only)
 *  "receivedAt": 1764000000000,  epoch ms when the broker read it (read-only)
 *  "qos": 1, "retain": false,    read-only
 *  "contentType": "application/json",         when the publisher set one
 *  "payloadFormatIndicator": 1,               0 or 1
 *  "userProperties": {"k": "v", "twice": ["a", "b"]},   a name given more than once maps to its values in order
 *  "payload": "{\"t\":21.5}"}                 the text when payloadFormatIndicator is 1 (and it is UTF-8),
 *                                             else base64 with "encoding": "base64"
 * </pre>
 * The answer is an array of the messages to deliver, in the same form. In an answered message a field that is
 * absent keeps its value, {@code null} removes it (contentType, payloadFormatIndicator, userProperties), and
 * {@code payload} is text unless {@code "encoding": "base64"}. The first answer for a {@code mid} counts; messages
 * not answered are dropped. Other properties (expiry, response topic, correlation data) pass unchanged.
 */
final class HookJson
{
    static final String MID = "mid";
    static final String TOPIC = "topic";
    static final String CLIENT_ID = "clientId";
    static final String JTI = "jti";
    static final String RECEIVED_AT = "receivedAt";
    static final String QOS = "qos";
    static final String RETAIN = "retain";
    static final String CONTENT_TYPE = "contentType";
    static final String PAYLOAD_FORMAT_INDICATOR = "payloadFormatIndicator";
    static final String USER_PROPERTIES = "userProperties";
    static final String PAYLOAD = "payload";
    static final String ENCODING = "encoding";
    static final String BASE64 = "base64";
    private static final int MAX_STRING = MqttPrimitives.MAX_STRING_LENGTH;

    private final JsonFactory factory;
    private final ObjectMapper mapper;
    private final String midPrefix;
    private final int maxMessageBytes;
    private final PropertiesDecoder properties = new PropertiesDecoder();
    private final PropertiesEncoder encoder = new PropertiesEncoder();
    private final ExpandableArrayBuffer scratchA = new ExpandableArrayBuffer(1024);
    private final ExpandableArrayBuffer scratchB = new ExpandableArrayBuffer(1024);
    private final UnsafeBuffer view = new UnsafeBuffer(0, 0);

    /**
     * @param midPrefix       unique to this broker run, so ids never repeat across restarts.
     * @param maxMessageBytes largest message (topic, properties and payload) an answer may turn a message into.
     */
    HookJson(final String midPrefix, final int maxMessageBytes)
    {
        this.midPrefix = midPrefix;
        this.maxMessageBytes = maxMessageBytes;
        this.factory = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                .maxStringLength(Math.max(StreamReadConstraints.DEFAULT_MAX_STRING_LEN, maxMessageBytes / 3 * 4 + 8))
                .maxNestingDepth(16)
                .build())
            .build();
        this.mapper = new ObjectMapper(factory);
    }

    String mid(final long sequence)
    {
        return midPrefix + sequence;
    }

    // ---------------------------------------------------------------------------------------------- request

    byte[] encode(final HookBatch batch)
    {
        final ExpandableArrayBuffer buffer = batch.buffer();
        final byte[] array = buffer.byteArray();
        final ByteArrayOutputStream out = new ByteArrayOutputStream(256 + batch.size() * 256);
        try (JsonGenerator json = factory.createGenerator(out))
        {
            json.writeStartArray();
            for (int i = 0; i < batch.size(); i++)
            {
                final int record = batch.offset(i);
                final int message = HookRecord.messageOffset(buffer, record);
                json.writeStartObject();
                json.writeStringField(MID, mid(batch.sequence(i)));
                json.writeFieldName(TOPIC);
                json.writeUTF8String(array, MessageLayout.topicOffset(message), MessageLayout.topicLength(buffer, message));
                json.writeFieldName(CLIENT_ID);
                json.writeUTF8String(array, record + HookRecord.CLIENT_ID_OFFSET, HookRecord.clientIdLength(buffer, record));
                final int jtiLength = HookRecord.jtiLength(buffer, record);
                if (jtiLength > 0)
                {
                    json.writeFieldName(JTI);
                    json.writeUTF8String(array, HookRecord.jtiOffset(buffer, record), jtiLength);
                }
                json.writeNumberField(RECEIVED_AT, HookRecord.receivedAtMs(buffer, record));
                json.writeNumberField(QOS, MessageLayout.qos(buffer, message));
                json.writeBooleanField(RETAIN, MessageLayout.retain(buffer, message));

                final Original original = original(buffer, message);
                if (original.contentType != null)
                {
                    json.writeStringField(CONTENT_TYPE, original.contentType);
                }
                json.writeNumberField(PAYLOAD_FORMAT_INDICATOR, original.payloadFormatIndicator);
                json.writeObjectFieldStart(USER_PROPERTIES);
                for (final Map.Entry<String, List<String>> property : original.userProperties.entrySet())
                {
                    final List<String> values = property.getValue();
                    if (values.size() == 1)
                    {
                        json.writeStringField(property.getKey(), values.get(0));
                    }
                    else
                    {
                        json.writeArrayFieldStart(property.getKey());
                        for (final String value : values)
                        {
                            json.writeString(value);
                        }
                        json.writeEndArray();
                    }
                }
                json.writeEndObject();

                final int payloadOffset = MessageLayout.payloadOffset(buffer, message);
                final int payloadLength = MessageLayout.payloadLength(buffer, message);
                json.writeFieldName(PAYLOAD);
                if (original.payloadFormatIndicator == 1 &&
                    MqttPrimitives.validateUtf8Data(buffer, payloadOffset, payloadLength) == 0)
                {
                    json.writeUTF8String(array, payloadOffset, payloadLength);
                }
                else
                {
                    json.writeBinary(array, payloadOffset, payloadLength);
                    json.writeStringField(ENCODING, BASE64);
                }
                json.writeEndObject();
            }
            json.writeEndArray();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    /** The three properties a hook sees and may change, as the publisher set them. */
    private record Original(String contentType, int payloadFormatIndicator, Map<String, List<String>> userProperties)
    {
    }

    private Original original(final ExpandableArrayBuffer buffer, final int message)
    {
        final int length = MessageLayout.propertiesLength(buffer, message);
        String contentType = null;
        int payloadFormatIndicator = 0;
        final Map<String, List<String>> userProperties = new LinkedHashMap<>();
        if (length > 0 && properties.wrap(buffer, MessageLayout.propertiesOffset(buffer, message), length,
            PacketType.PUBLISH) == 0)
        {
            while (properties.next())
            {
                switch (properties.id())
                {
                    case Property.CONTENT_TYPE -> contentType = properties.stringValue();
                    case Property.PAYLOAD_FORMAT_INDICATOR -> payloadFormatIndicator = (int)properties.value();
                    case Property.USER_PROPERTY ->
                        userProperties.computeIfAbsent(properties.key(), (k) -> new ArrayList<>(1))
                            .add(properties.stringValue());
                    default ->
                    {
                    }
                }
            }
        }
        return new Original(contentType, payloadFormatIndicator, userProperties);
    }

    // ---------------------------------------------------------------------------------------------- answer

    /**
     * Reads the hook's answer and decides every message of the batch: returned unchanged, returned changed, or
     * dropped (left out, or returned with another id or topic).
     *
     * @throws MalformedAnswerException when the answer cannot be used at all; the batch is then left undecided.
     */
    void decode(final byte[] body, final HookBatch batch) throws MalformedAnswerException
    {
        final JsonNode root;
        try
        {
            root = mapper.readTree(body);
        }
        catch (final JsonProcessingException ex)
        {
            throw new MalformedAnswerException("not JSON: " + ex.getOriginalMessage());
        }
        catch (final IOException ex)
        {
            throw new MalformedAnswerException("unreadable: " + ex.getMessage());
        }
        if (root == null || !root.isArray())
        {
            throw new MalformedAnswerException("not a JSON array");
        }
        final ExpandableArrayBuffer buffer = batch.buffer();
        for (final JsonNode item : root)
        {
            if (!item.isObject())
            {
                throw new MalformedAnswerException("an element is not an object");
            }
            final JsonNode mid = item.get(MID);
            if (mid == null || !mid.isTextual())
            {
                throw new MalformedAnswerException("an element has no string \"mid\"");
            }
            final int i = indexOf(mid.textValue(), batch);
            if (i < 0 || batch.outcome(i) != HookBatch.PENDING)
            {
                continue; // not one of ours (a changed id), or answered twice: the first answer counts
            }
            final int message = HookRecord.messageOffset(buffer, batch.offset(i));
            final JsonNode topic = item.get(TOPIC);
            if (topic != null && !(topic.isTextual() && sameTopic(topic.textValue(), buffer, message)))
            {
                batch.outcome(i, HookBatch.DROPPED);
                continue;
            }
            decide(item, batch, i, message);
        }
        batch.dropUndecided();
    }

    private int indexOf(final String mid, final HookBatch batch)
    {
        if (!mid.startsWith(midPrefix))
        {
            return -1;
        }
        try
        {
            final int i = batch.indexOf(Long.parseLong(mid.substring(midPrefix.length())));
            return i >= 0 && mid.equals(mid(batch.sequence(i))) ? i : -1;
        }
        catch (final NumberFormatException ex)
        {
            return -1;
        }
    }

    private static boolean sameTopic(final String topic, final ExpandableArrayBuffer buffer, final int message)
    {
        final byte[] bytes = topic.getBytes(StandardCharsets.UTF_8);
        final int length = MessageLayout.topicLength(buffer, message);
        return bytes.length == length && Arrays.equals(bytes, 0, length,
            buffer.byteArray(), MessageLayout.topicOffset(message), MessageLayout.topicOffset(message) + length);
    }

    private void decide(final JsonNode item, final HookBatch batch, final int i, final int message)
        throws MalformedAnswerException
    {
        final ExpandableArrayBuffer buffer = batch.buffer();
        final Original original = original(buffer, message);
        final int payloadOffset = MessageLayout.payloadOffset(buffer, message);
        final int payloadLength = MessageLayout.payloadLength(buffer, message);

        final byte[] payload = payload(item);
        final String contentType = item.has(CONTENT_TYPE) ?
            optionalText(item.get(CONTENT_TYPE), CONTENT_TYPE) : original.contentType;
        final int payloadFormatIndicator = item.has(PAYLOAD_FORMAT_INDICATOR) ?
            payloadFormatIndicator(item.get(PAYLOAD_FORMAT_INDICATOR)) : original.payloadFormatIndicator;
        final Map<String, List<String>> userProperties = item.has(USER_PROPERTIES) ?
            userProperties(item.get(USER_PROPERTIES)) : original.userProperties;

        final boolean samePayload = payload == null || Arrays.equals(payload, 0, payload.length,
            buffer.byteArray(), payloadOffset, payloadOffset + payloadLength);
        if (samePayload && Objects.equals(contentType, original.contentType) &&
            payloadFormatIndicator == original.payloadFormatIndicator &&
            userProperties.equals(original.userProperties))
        {
            batch.outcome(i, HookBatch.ORIGINAL);
            return;
        }

        final byte[] newPayload = payload != null ? payload :
            Arrays.copyOfRange(buffer.byteArray(), payloadOffset, payloadOffset + payloadLength);
        if (payloadFormatIndicator == 1 && MqttPrimitives.validateUtf8Data(
            view(newPayload), 0, newPayload.length) != 0)
        {
            throw new MalformedAnswerException("a payload marked as UTF-8 (payloadFormatIndicator 1) is not UTF-8");
        }
        final byte[] newProperties = properties(buffer, message, contentType, payloadFormatIndicator, userProperties);
        final int topicLength = MessageLayout.topicLength(buffer, message);
        if ((long)MessageLayout.length(topicLength, newProperties.length, 0) + newPayload.length > maxMessageBytes)
        {
            throw new MalformedAnswerException("a returned message is larger than " + maxMessageBytes + " bytes");
        }
        batch.changed(i, newProperties, newPayload);
    }

    /** The payload the hook returned, or null when it left the field out. */
    private static byte[] payload(final JsonNode item) throws MalformedAnswerException
    {
        final JsonNode payload = item.get(PAYLOAD);
        if (payload == null)
        {
            return null;
        }
        if (!payload.isTextual())
        {
            throw new MalformedAnswerException("\"payload\" is not a string");
        }
        final JsonNode encoding = item.get(ENCODING);
        if (encoding == null || encoding.isNull())
        {
            return payload.textValue().getBytes(StandardCharsets.UTF_8);
        }
        if (!encoding.isTextual() || !BASE64.equals(encoding.textValue()))
        {
            throw new MalformedAnswerException("\"encoding\" must be \"base64\" or absent");
        }
        try
        {
            return Base64.getDecoder().decode(payload.textValue());
        }
        catch (final IllegalArgumentException ex)
        {
            throw new MalformedAnswerException("\"payload\" is not base64: " + ex.getMessage());
        }
    }

    private static String optionalText(final JsonNode node, final String field) throws MalformedAnswerException
    {
        if (node.isNull())
        {
            return null;
        }
        if (!node.isTextual())
        {
            throw new MalformedAnswerException("\"" + field + "\" is not a string or null");
        }
        return node.textValue();
    }

    private static int payloadFormatIndicator(final JsonNode node) throws MalformedAnswerException
    {
        if (node.isNull())
        {
            return 0;
        }
        if (!node.isInt() || (node.intValue() != 0 && node.intValue() != 1))
        {
            throw new MalformedAnswerException("\"payloadFormatIndicator\" must be 0, 1 or null");
        }
        return node.intValue();
    }

    private static Map<String, List<String>> userProperties(final JsonNode node) throws MalformedAnswerException
    {
        final Map<String, List<String>> result = new LinkedHashMap<>();
        if (node.isNull())
        {
            return result;
        }
        if (!node.isObject())
        {
            throw new MalformedAnswerException("\"userProperties\" is not an object or null");
        }
        for (final Map.Entry<String, JsonNode> field : node.properties())
        {
            final List<String> values = new ArrayList<>(1);
            final JsonNode value = field.getValue();
            if (value.isTextual())
            {
                values.add(value.textValue());
            }
            else if (value.isArray())
            {
                for (final JsonNode element : value)
                {
                    if (!element.isTextual())
                    {
                        throw new MalformedAnswerException("user property '" + field.getKey() + "' has a value that is not a string");
                    }
                    values.add(element.textValue());
                }
            }
            else
            {
                throw new MalformedAnswerException("user property '" + field.getKey() + "' is not a string or an array of strings");
            }
            if (!values.isEmpty())
            {
                result.put(field.getKey(), values);
            }
        }
        return result;
    }

    /**
     * The original property block without content type, payload format indicator and user properties, followed by
     * the hook's values of those; checked as a PUBLISH property block so subscribers never see a bad one.
     */
    private byte[] properties(
        final ExpandableArrayBuffer buffer,
        final int message,
        final String contentType,
        final int payloadFormatIndicator,
        final Map<String, List<String>> userProperties) throws MalformedAnswerException
    {
        final int originalLength = MessageLayout.propertiesLength(buffer, message);
        int length = PropertyFilter.copyWithout(buffer, MessageLayout.propertiesOffset(buffer, message), originalLength,
            Property.CONTENT_TYPE, scratchA, 0);
        length = PropertyFilter.copyWithout(scratchA, 0, length, Property.PAYLOAD_FORMAT_INDICATOR, scratchB, 0);
        length = PropertyFilter.copyWithout(scratchB, 0, length, Property.USER_PROPERTY, scratchA, 0);
        encoder.wrap(scratchA, length);
        if (payloadFormatIndicator == 1)
        {
            encoder.payloadFormatIndicator(1);
        }
        if (contentType != null)
        {
            checkLength(contentType, "contentType");
            encoder.contentType(contentType);
        }
        for (final Map.Entry<String, List<String>> property : userProperties.entrySet())
        {
            checkLength(property.getKey(), "a user property name");
            for (final String value : property.getValue())
            {
                checkLength(value, "a user property value");
                encoder.userProperty(property.getKey(), value);
            }
        }
        length += encoder.length();
        if (length > maxMessageBytes || properties.wrap(scratchA, 0, length, PacketType.PUBLISH) != 0)
        {
            throw new MalformedAnswerException("the returned properties are not valid MQTT " +
                "(strings must be UTF-8 without control characters)");
        }
        final byte[] result = new byte[length];
        scratchA.getBytes(0, result);
        return result;
    }

    private static void checkLength(final String value, final String what) throws MalformedAnswerException
    {
        if (value.length() > MAX_STRING || value.getBytes(StandardCharsets.UTF_8).length > MAX_STRING)
        {
            throw new MalformedAnswerException(what + " is longer than " + MAX_STRING + " bytes");
        }
    }

    private UnsafeBuffer view(final byte[] bytes)
    {
        view.wrap(bytes);
        return view;
    }
}
