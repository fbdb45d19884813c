/**
 * MQTT 3.1.1 and 5.0 codec: zero-copy flyweights over Agrona buffers.
 * <ul>
 *   <li>{@link dev.skylark.codec.mqtt.MqttFramer} cuts a byte stream into whole packets (static
 *       {@code frameLength} or a streaming instance with {@code onBytes}).</li>
 *   <li>One reusable decoder per packet type, {@code int wrap(buffer, offset, length, version)} over one whole
 *       packet, returning 0 or the negative {@link dev.skylark.codec.mqtt.ReasonCode} the specification requires:
 *       {@code ConnectDecoder} (reads the version itself), {@code ConnAckDecoder}, {@code PublishDecoder},
 *       {@code PubAckDecoder} (PUBACK, PUBREC, PUBREL, PUBCOMP), {@code SubscribeDecoder},
 *       {@code SubAckDecoder} (SUBACK and UNSUBACK), {@code UnsubAckDecoder}, {@code UnsubscribeDecoder},
 *       {@code PingDecoder}, {@code DisconnectDecoder}, {@code AuthDecoder}. Strings and binary fields are
 *       offset/length views into the wrapped buffer; {@code String} getters allocate and are for cold paths.</li>
 *   <li>Encoders write into a {@code MutableDirectBuffer} and return the bytes written, allocating nothing:
 *       static {@code PublishEncoder}, {@code PubAckEncoder}, {@code ConnAckEncoder}, {@code SubAckEncoder},
 *       {@code UnsubAckEncoder}, {@code DisconnectEncoder}, {@code AuthEncoder}, {@code PingEncoder}; fluent
 *       reusable {@code ConnectEncoder}, {@code SubscribeEncoder}, {@code UnsubscribeEncoder}.</li>
 *   <li>v5 properties: {@link dev.skylark.codec.mqtt.Property} (identifiers, types, allowed packets),
 *       {@link dev.skylark.codec.mqtt.PropertiesDecoder} (validation, lookup, cursor, user-property visitor),
 *       {@link dev.skylark.codec.mqtt.PropertiesEncoder} (builds a block to hand to packet encoders).</li>
 *   <li>{@link dev.skylark.codec.mqtt.Topics}: topic name/filter validation, shared subscriptions, a reference
 *       matcher; {@link dev.skylark.codec.mqtt.MqttPrimitives}: varints, UTF-8, fixed header.</li>
 * </ul>
 * Absent optional integer properties read as {@code -1} ({@link dev.skylark.codec.mqtt.Property#ABSENT}), except
 * Topic Alias and Subscription Identifier, which read as 0 (never valid on the wire). Absent string/binary views
 * have length -1.
 */
package dev.skylark.codec.mqtt;
