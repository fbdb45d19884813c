/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A deliberately small MQTT 3.1.1 / 5.0 <em>client</em> packet writer for the load generator.
 * <p>
 * It writes only what the load generator sends, with absolute puts into a {@link ByteBuffer} (big-endian, as MQTT),
 * and returns the number of bytes written or {@link #INSUFFICIENT_CAPACITY} when the packet does not fit, leaving the
 * buffer untouched. Nothing here allocates except {@link #encodeConnect} and {@link #encodeSubscribe}, which run once
 * per connection. The project's real codec lives in the {@code codec} module and may replace this later.
 * <pre>
 *   PUBLISH (one pre-encoded template per publisher, patched per message):
 *   +--------+-----------+-------------+---------+-----------+-------------+------------------------+
 *   | 0x3X   | rem. len  | topic len   | topic   | packet id | v5 props=0  | payload (see           |
 *   | 1 byte | 1-4 bytes | 2 bytes     | n bytes | 2 (QoS>0) | 1 (v5 only) | {@link PayloadDescriptor}) |
 *   +--------+-----------+-------------+---------+-----------+-------------+------------------------+
 * </pre>
 */
public final class ClientPacketEncoder
{
    /** Returned when the packet does not fit into the remaining space of the buffer. */
    public static final int INSUFFICIENT_CAPACITY = -1;

    public static final int MQTT_3_1_1 = 4;
    public static final int MQTT_5 = 5;

    public static final int CONNECT = 0x10;
    public static final int CONNACK = 0x20;
    public static final int PUBLISH = 0x30;
    public static final int PUBACK = 0x40;
    public static final int PUBREC = 0x50;
    public static final int PUBREL = 0x62;
    public static final int PUBCOMP = 0x70;
    public static final int SUBSCRIBE = 0x82;
    public static final int SUBACK = 0x90;
    public static final int PINGREQ = 0xC0;
    public static final int PINGRESP = 0xD0;
    public static final int DISCONNECT = 0xE0;

    /** Largest value a variable byte integer can hold (4 bytes). */
    public static final int MAX_VARINT = 268_435_455;

    private static final int CONNECT_FLAG_CLEAN = 0x02;
    private static final int CONNECT_FLAG_PASSWORD = 0x40;
    private static final int CONNECT_FLAG_USERNAME = 0x80;
    /** MQTT 5 property identifier of the Session Expiry Interval (four-byte integer, seconds). */
    private static final int PROPERTY_SESSION_EXPIRY_INTERVAL = 0x11;

    private ClientPacketEncoder()
    {
    }

    /**
     * Number of bytes needed for a variable byte integer.
     *
     * @param value to encode, 0 to {@link #MAX_VARINT}.
     * @return 1 to 4.
     */
    public static int varIntLength(final int value)
    {
        if (value < 0 || value > MAX_VARINT)
        {
            throw new IllegalArgumentException("variable byte integer out of range: " + value);
        }

        return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
    }

    /**
     * Write a variable byte integer at an absolute index.
     *
     * @param buffer to write to.
     * @param index  at which to write.
     * @param value  to write.
     * @return bytes written.
     */
    public static int putVarInt(final ByteBuffer buffer, final int index, final int value)
    {
        int remaining = value;
        int i = index;
        do
        {
            int b = remaining & 0x7F;
            remaining >>>= 7;
            if (remaining > 0)
            {
                b |= 0x80;
            }
            buffer.put(i++, (byte)b);
        }
        while (remaining > 0);

        return i - index;
    }

    /**
     * Encode a CONNECT with a clean session/clean start, no will, no v5 properties: the broker keeps nothing of this
     * client after it disconnects.
     *
     * @param buffer          to append to at its position, which is advanced.
     * @param protocolVersion {@link #MQTT_3_1_1} or {@link #MQTT_5}.
     * @param clientId        client identifier.
     * @param keepAliveS      keep-alive in seconds.
     * @param username        or null.
     * @param password        or null.
     * @return bytes written or {@link #INSUFFICIENT_CAPACITY}.
     */
    public static int encodeConnect(
        final ByteBuffer buffer,
        final int protocolVersion,
        final String clientId,
        final int keepAliveS,
        final String username,
        final String password)
    {
        return encodeConnect(buffer, protocolVersion, clientId, keepAliveS, username, password, 0);
    }

    /**
     * Encode a CONNECT, no will; with {@code sessionExpiryS > 0} for a <em>persistent</em> session, which the broker
     * keeps (and queues and journals QoS 1/2 messages for) while the client is away:
     * <ul>
     *   <li>MQTT 3.1.1: Clean Session 0. The broker resumes an existing session of this client id, so the caller
     *   must use a client id no earlier run used;</li>
     *   <li>MQTT 5: Clean Start 1 (any earlier session of this client id is discarded, so nothing queued for it
     *   leaks into this connection) plus the Session Expiry Interval property (0x11) of {@code sessionExpiryS}.</li>
     * </ul>
     * With {@code sessionExpiryS == 0} this is {@link #encodeConnect(ByteBuffer, int, String, int, String, String)}.
     *
     * @param buffer          to append to at its position, which is advanced.
     * @param protocolVersion {@link #MQTT_3_1_1} or {@link #MQTT_5}.
     * @param clientId        client identifier.
     * @param keepAliveS      keep-alive in seconds.
     * @param username        or null.
     * @param password        or null.
     * @param sessionExpiryS  0 = clean session; &gt; 0 = persistent session, in 5.0 kept this many seconds after the
     *                        connection ends (3.1.1 has no expiry: the broker's own limit applies).
     * @return bytes written or {@link #INSUFFICIENT_CAPACITY}.
     */
    public static int encodeConnect(
        final ByteBuffer buffer,
        final int protocolVersion,
        final String clientId,
        final int keepAliveS,
        final String username,
        final String password,
        final int sessionExpiryS)
    {
        if (sessionExpiryS < 0)
        {
            throw new IllegalArgumentException("session expiry must be >= 0: " + sessionExpiryS);
        }
        final byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        final byte[] user = null == username ? null : username.getBytes(StandardCharsets.UTF_8);
        final byte[] pass = null == password ? null : password.getBytes(StandardCharsets.UTF_8);
        final boolean v5 = MQTT_5 == protocolVersion;

        final boolean persistent = sessionExpiryS > 0;
        // v5 properties: none, or Session Expiry Interval (identifier byte + four-byte integer)
        final int propertiesLength = v5 && persistent ? 1 + 4 : 0;
        int remainingLength = 2 + 4 + 1 + 1 + 2 + (v5 ? 1 + propertiesLength : 0) + 2 + id.length;
        // 3.1.1 persistent: Clean Session 0; 5.0 always Clean Start 1 (a persistent session starts fresh)
        int flags = persistent && !v5 ? 0 : CONNECT_FLAG_CLEAN;
        if (null != user)
        {
            remainingLength += 2 + user.length;
            flags |= CONNECT_FLAG_USERNAME;
        }
        if (null != pass)
        {
            remainingLength += 2 + pass.length;
            flags |= CONNECT_FLAG_PASSWORD;
        }

        final int total = 1 + varIntLength(remainingLength) + remainingLength;
        if (buffer.remaining() < total)
        {
            return INSUFFICIENT_CAPACITY;
        }

        buffer.put((byte)CONNECT);
        buffer.position(buffer.position() + putVarInt(buffer, buffer.position(), remainingLength));
        buffer.putShort((short)4).put((byte)'M').put((byte)'Q').put((byte)'T').put((byte)'T');
        buffer.put((byte)protocolVersion).put((byte)flags).putShort((short)keepAliveS);
        if (v5)
        {
            buffer.put((byte)propertiesLength);
            if (persistent)
            {
                buffer.put((byte)PROPERTY_SESSION_EXPIRY_INTERVAL).putInt(sessionExpiryS);
            }
        }
        buffer.putShort((short)id.length).put(id);
        if (null != user)
        {
            buffer.putShort((short)user.length).put(user);
        }
        if (null != pass)
        {
            buffer.putShort((short)pass.length).put(pass);
        }

        return total;
    }

    /**
     * Encode a SUBSCRIBE for a single topic filter.
     *
     * @param buffer          to append to at its position, which is advanced.
     * @param protocolVersion {@link #MQTT_3_1_1} or {@link #MQTT_5}.
     * @param packetId        1 to 65535.
     * @param topicFilter     the filter, e.g. {@code devices/+/telemetry} or {@code $share/g/devices/+/telemetry}.
     * @param qos             maximum QoS requested.
     * @return bytes written or {@link #INSUFFICIENT_CAPACITY}.
     */
    public static int encodeSubscribe(
        final ByteBuffer buffer,
        final int protocolVersion,
        final int packetId,
        final String topicFilter,
        final int qos)
    {
        final byte[] filter = topicFilter.getBytes(StandardCharsets.UTF_8);
        final boolean v5 = MQTT_5 == protocolVersion;
        final int remainingLength = 2 + (v5 ? 1 : 0) + 2 + filter.length + 1;
        final int total = 1 + varIntLength(remainingLength) + remainingLength;
        if (buffer.remaining() < total)
        {
            return INSUFFICIENT_CAPACITY;
        }

        buffer.put((byte)SUBSCRIBE);
        buffer.position(buffer.position() + putVarInt(buffer, buffer.position(), remainingLength));
        buffer.putShort((short)packetId);
        if (v5)
        {
            buffer.put((byte)0);
        }
        buffer.putShort((short)filter.length).put(filter).put((byte)qos);

        return total;
    }

    /**
     * Build a PUBLISH template: a complete packet whose packet id (QoS &gt; 0) and payload header are patched per
     * message, see {@link PublishTemplate}.
     *
     * @param protocolVersion {@link #MQTT_3_1_1} or {@link #MQTT_5}.
     * @param topic           topic name.
     * @param qos             0, 1 or 2.
     * @param payloadLength   at least {@link PayloadDescriptor#HEADER_LENGTH}.
     * @return the template.
     */
    public static PublishTemplate publishTemplate(
        final int protocolVersion, final String topic, final int qos, final int payloadLength)
    {
        if (payloadLength < PayloadDescriptor.HEADER_LENGTH)
        {
            throw new IllegalArgumentException(
                "payload must be at least " + PayloadDescriptor.HEADER_LENGTH + " bytes: " + payloadLength);
        }

        final byte[] topicBytes = topic.getBytes(StandardCharsets.UTF_8);
        final boolean v5 = MQTT_5 == protocolVersion;
        final int remainingLength = 2 + topicBytes.length + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0) + payloadLength;
        final int total = 1 + varIntLength(remainingLength) + remainingLength;
        final ByteBuffer buffer = ByteBuffer.allocateDirect(total);

        buffer.put((byte)(PUBLISH | (qos << 1)));
        buffer.position(buffer.position() + putVarInt(buffer, buffer.position(), remainingLength));
        buffer.putShort((short)topicBytes.length).put(topicBytes);
        final int packetIdOffset = qos > 0 ? buffer.position() : -1;
        if (qos > 0)
        {
            buffer.putShort((short)0);
        }
        if (v5)
        {
            buffer.put((byte)0);
        }
        final int payloadOffset = buffer.position();
        buffer.clear();

        return new PublishTemplate(buffer, total, packetIdOffset, payloadOffset);
    }

    /**
     * Encode a two-byte acknowledgement: PUBACK, PUBREC, PUBREL or PUBCOMP with reason code success (omitted, valid
     * for both 3.1.1 and 5.0).
     *
     * @param buffer   to append to at its position, which is advanced.
     * @param type     first byte including the fixed flags, e.g. {@link #PUBREL}.
     * @param packetId the packet id being acknowledged.
     * @return bytes written or {@link #INSUFFICIENT_CAPACITY}.
     */
    public static int encodeAck(final ByteBuffer buffer, final int type, final int packetId)
    {
        if (buffer.remaining() < 4)
        {
            return INSUFFICIENT_CAPACITY;
        }

        buffer.put((byte)type).put((byte)2).putShort((short)packetId);

        return 4;
    }

    /** Bytes of {@link #encodeDisconnectEndingSession}. */
    public static final int DISCONNECT_END_SESSION_LENGTH = 9;

    /**
     * Encode an MQTT 5 DISCONNECT, normal disconnection, with the Session Expiry Interval set to 0: the broker ends
     * the persistent session this client opened with a non-zero interval (MQTT 5 3.14.2.2.2) when the connection
     * closes.
     *
     * @param buffer to append to at its position, which is advanced.
     * @return bytes written or {@link #INSUFFICIENT_CAPACITY}.
     */
    public static int encodeDisconnectEndingSession(final ByteBuffer buffer)
    {
        if (buffer.remaining() < DISCONNECT_END_SESSION_LENGTH)
        {
            return INSUFFICIENT_CAPACITY;
        }

        buffer.put((byte)DISCONNECT).put((byte)7)           // remaining length: reason code, properties
            .put((byte)0)                                   // normal disconnection
            .put((byte)5)                                   // property length
            .put((byte)PROPERTY_SESSION_EXPIRY_INTERVAL).putInt(0);

        return DISCONNECT_END_SESSION_LENGTH;
    }

    /**
     * Encode a packet without variable header or payload: PINGREQ or DISCONNECT (normal disconnection in 5.0).
     *
     * @param buffer to append to at its position, which is advanced.
     * @param type   {@link #PINGREQ} or {@link #DISCONNECT}.
     * @return bytes written or {@link #INSUFFICIENT_CAPACITY}.
     */
    public static int encodeEmpty(final ByteBuffer buffer, final int type)
    {
        if (buffer.remaining() < 2)
        {
            return INSUFFICIENT_CAPACITY;
        }

        buffer.put((byte)type).put((byte)0);

        return 2;
    }
}
