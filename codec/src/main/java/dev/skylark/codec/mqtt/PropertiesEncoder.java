package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.putBinary;
import static dev.skylark.codec.mqtt.MqttPrimitives.putUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.putUint32;
import static dev.skylark.codec.mqtt.MqttPrimitives.putVarInt;

/**
 * Builds an MQTT 5.0 property block (without its Property Length) into a buffer; the resulting bytes
 * ({@link #buffer()}, {@link #offset()}, {@link #length()}) are then handed to a packet encoder, which writes the
 * Property Length in front of them. Typical use: encode the block into a scratch buffer once and reuse it.
 * <pre>
 * wrap(buf, off) ─▶ | id | value | id | value | ... |   length() = bytes written so far
 * </pre>
 * The encoder writes what it is told: it does not check duplicates or which packet the property belongs in
 * (see {@link Property}). Methods taking {@code String} encode it to UTF-8 and allocate; the buffer variants don't.
 */
public final class PropertiesEncoder
{
    private MutableDirectBuffer buffer;
    private int offset;
    private int position;

    public PropertiesEncoder wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        this.position = offset;
        return this;
    }

    /** Restarts an empty block at the wrapped offset. */
    public PropertiesEncoder reset()
    {
        position = offset;
        return this;
    }

    public MutableDirectBuffer buffer()
    {
        return buffer;
    }

    public int offset()
    {
        return offset;
    }

    /** Bytes written so far (the value the Property Length will carry). */
    public int length()
    {
        return position - offset;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Generic by type
    // ------------------------------------------------------------------------------------------------------------

    public PropertiesEncoder putByte(final int id, final int value)
    {
        buffer.putByte(position, (byte)id);
        buffer.putByte(position + 1, (byte)value);
        position += 2;
        return this;
    }

    public PropertiesEncoder putTwoByteInteger(final int id, final int value)
    {
        buffer.putByte(position, (byte)id);
        putUint16(buffer, position + 1, value);
        position += 3;
        return this;
    }

    public PropertiesEncoder putFourByteInteger(final int id, final long value)
    {
        buffer.putByte(position, (byte)id);
        putUint32(buffer, position + 1, value);
        position += 5;
        return this;
    }

    public PropertiesEncoder putVariableByteInteger(final int id, final int value)
    {
        buffer.putByte(position, (byte)id);
        position += 1 + putVarInt(buffer, position + 1, value);
        return this;
    }

    public PropertiesEncoder putBytes(final int id, final DirectBuffer src, final int srcOffset, final int length)
    {
        buffer.putByte(position, (byte)id);
        position += 1 + putBinary(buffer, position + 1, src, srcOffset, length);
        return this;
    }

    public PropertiesEncoder putString(final int id, final String value)
    {
        buffer.putByte(position, (byte)id);
        position += 1 + putString(buffer, position + 1, value);
        return this;
    }

    public PropertiesEncoder putBytes(final int id, final byte[] value)
    {
        buffer.putByte(position, (byte)id);
        putUint16(buffer, position + 1, value.length);
        buffer.putBytes(position + 3, value);
        position += 3 + value.length;
        return this;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Named properties
    // ------------------------------------------------------------------------------------------------------------

    public PropertiesEncoder payloadFormatIndicator(final int value)
    {
        return putByte(Property.PAYLOAD_FORMAT_INDICATOR, value);
    }

    public PropertiesEncoder messageExpiryInterval(final long seconds)
    {
        return putFourByteInteger(Property.MESSAGE_EXPIRY_INTERVAL, seconds);
    }

    public PropertiesEncoder contentType(final DirectBuffer src, final int srcOffset, final int length)
    {
        return putBytes(Property.CONTENT_TYPE, src, srcOffset, length);
    }

    public PropertiesEncoder contentType(final String value)
    {
        return putString(Property.CONTENT_TYPE, value);
    }

    public PropertiesEncoder responseTopic(final DirectBuffer src, final int srcOffset, final int length)
    {
        return putBytes(Property.RESPONSE_TOPIC, src, srcOffset, length);
    }

    public PropertiesEncoder responseTopic(final String value)
    {
        return putString(Property.RESPONSE_TOPIC, value);
    }

    public PropertiesEncoder correlationData(final DirectBuffer src, final int srcOffset, final int length)
    {
        return putBytes(Property.CORRELATION_DATA, src, srcOffset, length);
    }

    public PropertiesEncoder correlationData(final byte[] value)
    {
        return putBytes(Property.CORRELATION_DATA, value);
    }

    public PropertiesEncoder subscriptionIdentifier(final int value)
    {
        return putVariableByteInteger(Property.SUBSCRIPTION_IDENTIFIER, value);
    }

    public PropertiesEncoder sessionExpiryInterval(final long seconds)
    {
        return putFourByteInteger(Property.SESSION_EXPIRY_INTERVAL, seconds);
    }

    public PropertiesEncoder assignedClientIdentifier(final String value)
    {
        return putString(Property.ASSIGNED_CLIENT_IDENTIFIER, value);
    }

    public PropertiesEncoder assignedClientIdentifier(final DirectBuffer src, final int srcOffset, final int length)
    {
        return putBytes(Property.ASSIGNED_CLIENT_IDENTIFIER, src, srcOffset, length);
    }

    public PropertiesEncoder serverKeepAlive(final int seconds)
    {
        return putTwoByteInteger(Property.SERVER_KEEP_ALIVE, seconds);
    }

    public PropertiesEncoder authenticationMethod(final String value)
    {
        return putString(Property.AUTHENTICATION_METHOD, value);
    }

    public PropertiesEncoder authenticationMethod(final DirectBuffer src, final int srcOffset, final int length)
    {
        return putBytes(Property.AUTHENTICATION_METHOD, src, srcOffset, length);
    }

    public PropertiesEncoder authenticationData(final byte[] value)
    {
        return putBytes(Property.AUTHENTICATION_DATA, value);
    }

    public PropertiesEncoder authenticationData(final DirectBuffer src, final int srcOffset, final int length)
    {
        return putBytes(Property.AUTHENTICATION_DATA, src, srcOffset, length);
    }

    public PropertiesEncoder requestProblemInformation(final int value)
    {
        return putByte(Property.REQUEST_PROBLEM_INFORMATION, value);
    }

    public PropertiesEncoder willDelayInterval(final long seconds)
    {
        return putFourByteInteger(Property.WILL_DELAY_INTERVAL, seconds);
    }

    public PropertiesEncoder requestResponseInformation(final int value)
    {
        return putByte(Property.REQUEST_RESPONSE_INFORMATION, value);
    }

    public PropertiesEncoder responseInformation(final String value)
    {
        return putString(Property.RESPONSE_INFORMATION, value);
    }

    public PropertiesEncoder serverReference(final String value)
    {
        return putString(Property.SERVER_REFERENCE, value);
    }

    public PropertiesEncoder reasonString(final String value)
    {
        return putString(Property.REASON_STRING, value);
    }

    public PropertiesEncoder reasonString(final DirectBuffer src, final int srcOffset, final int length)
    {
        return putBytes(Property.REASON_STRING, src, srcOffset, length);
    }

    public PropertiesEncoder receiveMaximum(final int value)
    {
        return putTwoByteInteger(Property.RECEIVE_MAXIMUM, value);
    }

    public PropertiesEncoder topicAliasMaximum(final int value)
    {
        return putTwoByteInteger(Property.TOPIC_ALIAS_MAXIMUM, value);
    }

    public PropertiesEncoder topicAlias(final int value)
    {
        return putTwoByteInteger(Property.TOPIC_ALIAS, value);
    }

    public PropertiesEncoder maximumQos(final int value)
    {
        return putByte(Property.MAXIMUM_QOS, value);
    }

    public PropertiesEncoder retainAvailable(final int value)
    {
        return putByte(Property.RETAIN_AVAILABLE, value);
    }

    public PropertiesEncoder userProperty(
        final DirectBuffer keyBuffer,
        final int keyOffset,
        final int keyLength,
        final DirectBuffer valueBuffer,
        final int valueOffset,
        final int valueLength)
    {
        buffer.putByte(position, (byte)Property.USER_PROPERTY);
        position++;
        position += putBinary(buffer, position, keyBuffer, keyOffset, keyLength);
        position += putBinary(buffer, position, valueBuffer, valueOffset, valueLength);
        return this;
    }

    public PropertiesEncoder userProperty(final String key, final String value)
    {
        buffer.putByte(position, (byte)Property.USER_PROPERTY);
        position++;
        position += putString(buffer, position, key);
        position += putString(buffer, position, value);
        return this;
    }

    public PropertiesEncoder maximumPacketSize(final long value)
    {
        return putFourByteInteger(Property.MAXIMUM_PACKET_SIZE, value);
    }

    public PropertiesEncoder wildcardSubscriptionAvailable(final int value)
    {
        return putByte(Property.WILDCARD_SUBSCRIPTION_AVAILABLE, value);
    }

    public PropertiesEncoder subscriptionIdentifierAvailable(final int value)
    {
        return putByte(Property.SUBSCRIPTION_IDENTIFIER_AVAILABLE, value);
    }

    public PropertiesEncoder sharedSubscriptionAvailable(final int value)
    {
        return putByte(Property.SHARED_SUBSCRIPTION_AVAILABLE, value);
    }

    // ------------------------------------------------------------------------------------------------------------

    /**
     * Writes a 2-byte length and the UTF-8 bytes of {@code value}; allocates (off the hot path).
     *
     * @return bytes written.
     */
    public static int putString(final MutableDirectBuffer buffer, final int offset, final String value)
    {
        final int length = buffer.putStringWithoutLengthUtf8(offset + 2, value);
        putUint16(buffer, offset, length);
        return 2 + length;
    }

    /**
     * Writes a Property Length followed by a copy of the property block {@code src[srcOffset, srcOffset+length)}.
     *
     * @return bytes written.
     */
    public static int putBlock(
        final MutableDirectBuffer buffer,
        final int offset,
        final DirectBuffer src,
        final int srcOffset,
        final int length)
    {
        final int n = putVarInt(buffer, offset, length);
        if (length > 0)
        {
            buffer.putBytes(offset + n, src, srcOffset, length);
        }
        return n + length;
    }

    /** Bytes {@link #putBlock} writes for a block of {@code length} bytes. */
    public static int blockLength(final int length)
    {
        return MqttPrimitives.varIntSize(length) + length;
    }
}
