package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

import static dev.skylark.codec.mqtt.MqttPrimitives.packetLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.putBinary;
import static dev.skylark.codec.mqtt.MqttPrimitives.putFixedHeader;
import static dev.skylark.codec.mqtt.MqttPrimitives.putUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntSize;

/**
 * Encoder of a CONNECT packet (layout in {@link ConnectDecoder}). Fields are set with fluent setters that keep
 * references to the caller's buffers (nothing is copied until {@link #encode(MutableDirectBuffer, int)});
 * {@link #reset()} clears them. Reusable; setters taking {@code String} allocate.
 * The protocol name follows the version: "MQIsdp" for 3 (MQTT 3.1), "MQTT" for 4 and 5.
 */
public final class ConnectEncoder
{
    private static final UnsafeBuffer EMPTY = new UnsafeBuffer(new byte[0]);

    private int version;
    private int flags;
    private int keepAlive;
    private DirectBuffer propertiesBuffer;
    private int propertiesOffset;
    private int propertiesLength;
    private DirectBuffer clientIdBuffer;
    private int clientIdOffset;
    private int clientIdLength;
    private DirectBuffer willPropertiesBuffer;
    private int willPropertiesOffset;
    private int willPropertiesLength;
    private DirectBuffer willTopicBuffer;
    private int willTopicOffset;
    private int willTopicLength;
    private DirectBuffer willPayloadBuffer;
    private int willPayloadOffset;
    private int willPayloadLength;
    private DirectBuffer userNameBuffer;
    private int userNameOffset;
    private int userNameLength;
    private DirectBuffer passwordBuffer;
    private int passwordOffset;
    private int passwordLength;

    public ConnectEncoder()
    {
        reset();
    }

    /** Back to defaults: MQTT 5, clean start, keep alive 60, empty client id, nothing else. */
    public ConnectEncoder reset()
    {
        version = MqttVersion.V5;
        flags = ConnectDecoder.FLAG_CLEAN_START;
        keepAlive = 60;
        propertiesBuffer = EMPTY;
        propertiesOffset = propertiesLength = 0;
        clientIdBuffer = EMPTY;
        clientIdOffset = clientIdLength = 0;
        willPropertiesBuffer = EMPTY;
        willPropertiesOffset = willPropertiesLength = 0;
        willTopicBuffer = willPayloadBuffer = userNameBuffer = passwordBuffer = EMPTY;
        willTopicOffset = willTopicLength = willPayloadOffset = willPayloadLength = 0;
        userNameOffset = userNameLength = passwordOffset = passwordLength = 0;
        return this;
    }

    public ConnectEncoder version(final int version)
    {
        this.version = version;
        return this;
    }

    public ConnectEncoder cleanStart(final boolean cleanStart)
    {
        flags = cleanStart ? flags | ConnectDecoder.FLAG_CLEAN_START : flags & ~ConnectDecoder.FLAG_CLEAN_START;
        return this;
    }

    public ConnectEncoder keepAlive(final int seconds)
    {
        this.keepAlive = seconds;
        return this;
    }

    /** CONNECT property block (v5), without its Property Length. */
    public ConnectEncoder properties(final DirectBuffer buffer, final int offset, final int length)
    {
        propertiesBuffer = buffer;
        propertiesOffset = offset;
        propertiesLength = length;
        return this;
    }

    public ConnectEncoder clientId(final DirectBuffer buffer, final int offset, final int length)
    {
        clientIdBuffer = buffer;
        clientIdOffset = offset;
        clientIdLength = length;
        return this;
    }

    public ConnectEncoder clientId(final String clientId)
    {
        final UnsafeBuffer b = utf8(clientId);
        return clientId(b, 0, b.capacity());
    }

    /** Sets the will flag, QoS and retain; the will topic and payload are given separately. */
    public ConnectEncoder will(final int qos, final boolean retain)
    {
        flags = (flags & ~(ConnectDecoder.FLAG_WILL_QOS_MASK | ConnectDecoder.FLAG_WILL_RETAIN)) |
            ConnectDecoder.FLAG_WILL | (qos << ConnectDecoder.FLAG_WILL_QOS_SHIFT) |
            (retain ? ConnectDecoder.FLAG_WILL_RETAIN : 0);
        return this;
    }

    public ConnectEncoder willProperties(final DirectBuffer buffer, final int offset, final int length)
    {
        willPropertiesBuffer = buffer;
        willPropertiesOffset = offset;
        willPropertiesLength = length;
        return this;
    }

    public ConnectEncoder willTopic(final DirectBuffer buffer, final int offset, final int length)
    {
        willTopicBuffer = buffer;
        willTopicOffset = offset;
        willTopicLength = length;
        return this;
    }

    public ConnectEncoder willTopic(final String topic)
    {
        final UnsafeBuffer b = utf8(topic);
        return willTopic(b, 0, b.capacity());
    }

    public ConnectEncoder willPayload(final DirectBuffer buffer, final int offset, final int length)
    {
        willPayloadBuffer = buffer;
        willPayloadOffset = offset;
        willPayloadLength = length;
        return this;
    }

    public ConnectEncoder userName(final DirectBuffer buffer, final int offset, final int length)
    {
        flags |= ConnectDecoder.FLAG_USER_NAME;
        userNameBuffer = buffer;
        userNameOffset = offset;
        userNameLength = length;
        return this;
    }

    public ConnectEncoder userName(final String userName)
    {
        final UnsafeBuffer b = utf8(userName);
        return userName(b, 0, b.capacity());
    }

    public ConnectEncoder password(final DirectBuffer buffer, final int offset, final int length)
    {
        flags |= ConnectDecoder.FLAG_PASSWORD;
        passwordBuffer = buffer;
        passwordOffset = offset;
        passwordLength = length;
        return this;
    }

    public ConnectEncoder password(final byte[] password)
    {
        return password(new UnsafeBuffer(password), 0, password.length);
    }

    private boolean v5()
    {
        return MqttVersion.isV5(version);
    }

    private int remainingLength()
    {
        final int nameLength = version == MqttVersion.V3_1 ? 6 : 4;
        int length = 2 + nameLength + 1 + 1 + 2;
        if (v5())
        {
            length += varIntSize(propertiesLength) + propertiesLength;
        }
        length += 2 + clientIdLength;
        if ((flags & ConnectDecoder.FLAG_WILL) != 0)
        {
            if (v5())
            {
                length += varIntSize(willPropertiesLength) + willPropertiesLength;
            }
            length += 2 + willTopicLength + 2 + willPayloadLength;
        }
        if ((flags & ConnectDecoder.FLAG_USER_NAME) != 0)
        {
            length += 2 + userNameLength;
        }
        if ((flags & ConnectDecoder.FLAG_PASSWORD) != 0)
        {
            length += 2 + passwordLength;
        }
        return length;
    }

    /** Bytes {@link #encode(MutableDirectBuffer, int)} will write. */
    public int encodedLength()
    {
        return packetLength(remainingLength());
    }

    /**
     * Writes the packet.
     *
     * @return bytes written.
     */
    public int encode(final MutableDirectBuffer buffer, final int offset)
    {
        int pos = offset + putFixedHeader(buffer, offset, PacketType.CONNECT, 0, remainingLength());
        if (version == MqttVersion.V3_1)
        {
            pos += putAscii(buffer, pos, "MQIsdp");
        }
        else
        {
            pos += putAscii(buffer, pos, "MQTT");
        }
        buffer.putByte(pos++, (byte)version);
        buffer.putByte(pos++, (byte)flags);
        putUint16(buffer, pos, keepAlive);
        pos += 2;
        if (v5())
        {
            pos += PropertiesEncoder.putBlock(buffer, pos, propertiesBuffer, propertiesOffset, propertiesLength);
        }
        pos += putBinary(buffer, pos, clientIdBuffer, clientIdOffset, clientIdLength);
        if ((flags & ConnectDecoder.FLAG_WILL) != 0)
        {
            if (v5())
            {
                pos += PropertiesEncoder.putBlock(
                    buffer, pos, willPropertiesBuffer, willPropertiesOffset, willPropertiesLength);
            }
            pos += putBinary(buffer, pos, willTopicBuffer, willTopicOffset, willTopicLength);
            pos += putBinary(buffer, pos, willPayloadBuffer, willPayloadOffset, willPayloadLength);
        }
        if ((flags & ConnectDecoder.FLAG_USER_NAME) != 0)
        {
            pos += putBinary(buffer, pos, userNameBuffer, userNameOffset, userNameLength);
        }
        if ((flags & ConnectDecoder.FLAG_PASSWORD) != 0)
        {
            pos += putBinary(buffer, pos, passwordBuffer, passwordOffset, passwordLength);
        }
        return pos - offset;
    }

    private static int putAscii(final MutableDirectBuffer buffer, final int offset, final String value)
    {
        putUint16(buffer, offset, value.length());
        for (int i = 0; i < value.length(); i++)
        {
            buffer.putByte(offset + 2 + i, (byte)value.charAt(i));
        }
        return 2 + value.length();
    }

    private static UnsafeBuffer utf8(final String value)
    {
        return new UnsafeBuffer(value.getBytes(StandardCharsets.UTF_8));
    }
}
