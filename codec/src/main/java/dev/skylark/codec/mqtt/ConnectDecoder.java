package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.fixedHeaderLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.getUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.readBinaryLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.readUtf8Length;

/**
 * Flyweight decoder of a CONNECT packet (MQTT 3.1, 3.1.1 and 5.0). The protocol level is read from the packet;
 * {@link #protocolVersion()} is readable even when {@link #wrap(DirectBuffer, int, int)} returns
 * {@code -UNSUPPORTED_PROTOCOL_VERSION}, so the broker knows which CONNACK format to answer with (-1 if the
 * packet ended before the level).
 * <pre>
 *  0x10, Remaining Length
 *  Protocol Name     00 04 'M' 'Q' 'T' 'T' (levels 4, 5) or 00 06 'MQIsdp' (level 3)   else 0x84
 *  Protocol Level    3, 4 or 5                                                          else 0x84
 *  Connect Flags     7 user name | 6 password | 5 will retain | 4-3 will QoS | 2 will | 1 clean start | 0 reserved
 *                    reserved bit, will QoS 3, will QoS/retain without will, v3 password without user name → 0x81
 *  Keep Alive        2 bytes
 *  v5: Property Length + properties
 *  Payload           Client Identifier (string)
 *                    [v5 Will Properties] [Will Topic (string)] [Will Payload (binary)]   if will flag
 *                    [User Name (string)]                                               if user name flag
 *                    [Password (binary)]                                                if password flag
 * </pre>
 * A Will Topic with wildcards yields 0x90; Authentication Data without Authentication Method yields 0x82.
 */
public final class ConnectDecoder
{
    public static final int PROTOCOL_NAME_OFFSET = 2;

    public static final int FLAG_RESERVED = 0x01;
    public static final int FLAG_CLEAN_START = 0x02;
    public static final int FLAG_WILL = 0x04;
    public static final int FLAG_WILL_QOS_MASK = 0x18;
    public static final int FLAG_WILL_QOS_SHIFT = 3;
    public static final int FLAG_WILL_RETAIN = 0x20;
    public static final int FLAG_PASSWORD = 0x40;
    public static final int FLAG_USER_NAME = 0x80;

    private final PropertiesDecoder properties = new PropertiesDecoder();
    private final PropertiesDecoder willProperties = new PropertiesDecoder();

    private DirectBuffer buffer;
    private int protocolVersion;
    private int connectFlags;
    private int keepAlive;
    private int clientIdOffset;
    private int clientIdLength;
    private int willTopicOffset;
    private int willTopicLength;
    private int willPayloadOffset;
    private int willPayloadLength;
    private int userNameOffset;
    private int userNameLength;
    private int passwordOffset;
    private int passwordLength;

    /**
     * Wraps and validates one whole CONNECT packet.
     *
     * @return 0 when valid, else a negative reason code.
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length)
    {
        this.buffer = buffer;
        protocolVersion = -1;
        connectFlags = 0;
        keepAlive = 0;
        clientIdOffset = clientIdLength = 0;
        willTopicOffset = willTopicLength = -1;
        willPayloadOffset = willPayloadLength = -1;
        userNameOffset = userNameLength = -1;
        passwordOffset = passwordLength = -1;
        properties.wrapEmpty();
        willProperties.wrapEmpty();

        final int headerLength = fixedHeaderLength(buffer, offset, length, PacketType.CONNECT, 0);
        if (headerLength < 0)
        {
            return headerLength;
        }

        final int limit = offset + length;
        int pos = offset + headerLength;

        final int nameLength = readBinaryLength(buffer, pos, limit);
        if (nameLength < 0)
        {
            return nameLength;
        }
        final int nameOffset = pos + 2;
        pos += 2 + nameLength;
        if (pos >= limit)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        protocolVersion = buffer.getByte(pos++) & 0xFF;
        final boolean mqtt = isName(buffer, nameOffset, nameLength, "MQTT");
        final boolean mqisdp = isName(buffer, nameOffset, nameLength, "MQIsdp");
        if (!((mqtt && (protocolVersion == MqttVersion.V3_1_1 || protocolVersion == MqttVersion.V5)) ||
            (mqisdp && protocolVersion == MqttVersion.V3_1)))
        {
            return -ReasonCode.UNSUPPORTED_PROTOCOL_VERSION;
        }
        final boolean v5 = protocolVersion == MqttVersion.V5;

        if (pos + 3 > limit)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }
        connectFlags = buffer.getByte(pos) & 0xFF;
        keepAlive = getUint16(buffer, pos + 1);
        pos += 3;

        final int willQos = (connectFlags & FLAG_WILL_QOS_MASK) >> FLAG_WILL_QOS_SHIFT;
        if ((connectFlags & FLAG_RESERVED) != 0 || willQos == 3)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }
        if ((connectFlags & FLAG_WILL) == 0 && (willQos != 0 || (connectFlags & FLAG_WILL_RETAIN) != 0))
        {
            return -ReasonCode.MALFORMED_PACKET;
        }
        if (!v5 && (connectFlags & FLAG_PASSWORD) != 0 && (connectFlags & FLAG_USER_NAME) == 0)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        if (v5)
        {
            final int consumed = properties.wrapWithLength(buffer, pos, limit, PacketType.CONNECT);
            if (consumed < 0)
            {
                return consumed;
            }
            pos += consumed;
            if (properties.has(Property.AUTHENTICATION_DATA) && !properties.has(Property.AUTHENTICATION_METHOD))
            {
                return -ReasonCode.PROTOCOL_ERROR;
            }
        }

        final int idLength = readUtf8Length(buffer, pos, limit);
        if (idLength < 0)
        {
            return idLength;
        }
        clientIdOffset = pos + 2;
        clientIdLength = idLength;
        pos += 2 + idLength;

        if ((connectFlags & FLAG_WILL) != 0)
        {
            if (v5)
            {
                final int consumed = willProperties.wrapWithLength(buffer, pos, limit, Property.WILL_PROPERTIES);
                if (consumed < 0)
                {
                    return consumed;
                }
                pos += consumed;
            }

            final int topicLength = readUtf8Length(buffer, pos, limit);
            if (topicLength < 0)
            {
                return topicLength;
            }
            willTopicOffset = pos + 2;
            willTopicLength = topicLength;
            pos += 2 + topicLength;

            final int payloadLength = readBinaryLength(buffer, pos, limit);
            if (payloadLength < 0)
            {
                return payloadLength;
            }
            willPayloadOffset = pos + 2;
            willPayloadLength = payloadLength;
            pos += 2 + payloadLength;
        }

        if ((connectFlags & FLAG_USER_NAME) != 0)
        {
            final int nLength = readUtf8Length(buffer, pos, limit);
            if (nLength < 0)
            {
                return nLength;
            }
            userNameOffset = pos + 2;
            userNameLength = nLength;
            pos += 2 + nLength;
        }

        if ((connectFlags & FLAG_PASSWORD) != 0)
        {
            final int pLength = readBinaryLength(buffer, pos, limit);
            if (pLength < 0)
            {
                return pLength;
            }
            passwordOffset = pos + 2;
            passwordLength = pLength;
            pos += 2 + pLength;
        }

        if (pos != limit)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        if ((connectFlags & FLAG_WILL) != 0)
        {
            final int result = Topics.validateTopicName(buffer, willTopicOffset, willTopicLength);
            if (result < 0)
            {
                return result;
            }

            final int rtLength = willProperties.valueLength(Property.RESPONSE_TOPIC);
            if (rtLength >= 0 &&
                Topics.validateTopicName(buffer, willProperties.valueOffset(Property.RESPONSE_TOPIC), rtLength) < 0)
            {
                return -ReasonCode.PROTOCOL_ERROR;
            }
        }

        return 0;
    }

    private static boolean isName(final DirectBuffer buffer, final int offset, final int length, final String name)
    {
        if (length != name.length())
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (buffer.getByte(offset + i) != name.charAt(i))
            {
                return false;
            }
        }
        return true;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    /** The protocol level ({@link MqttVersion}), or -1 if the packet ended before it. */
    public int protocolVersion()
    {
        return protocolVersion;
    }

    public int connectFlags()
    {
        return connectFlags;
    }

    public boolean cleanStart()
    {
        return (connectFlags & FLAG_CLEAN_START) != 0;
    }

    public boolean hasWill()
    {
        return (connectFlags & FLAG_WILL) != 0;
    }

    public int willQos()
    {
        return (connectFlags & FLAG_WILL_QOS_MASK) >> FLAG_WILL_QOS_SHIFT;
    }

    public boolean willRetain()
    {
        return (connectFlags & FLAG_WILL_RETAIN) != 0;
    }

    public boolean hasUserName()
    {
        return (connectFlags & FLAG_USER_NAME) != 0;
    }

    public boolean hasPassword()
    {
        return (connectFlags & FLAG_PASSWORD) != 0;
    }

    /** Keep Alive in seconds. */
    public int keepAlive()
    {
        return keepAlive;
    }

    /** CONNECT properties (v5); empty in v3. */
    public PropertiesDecoder properties()
    {
        return properties;
    }

    public int propertiesOffset()
    {
        return properties.offset();
    }

    public int propertiesLength()
    {
        return properties.length();
    }

    /** Session Expiry Interval in seconds, or -1 if absent (the specification's default is 0). */
    public long sessionExpiryInterval()
    {
        return properties.value(Property.SESSION_EXPIRY_INTERVAL);
    }

    /** Receive Maximum, or -1 if absent (default 65,535). */
    public int receiveMaximum()
    {
        return (int)properties.value(Property.RECEIVE_MAXIMUM);
    }

    /** Maximum Packet Size, or -1 if absent (no limit). */
    public long maximumPacketSize()
    {
        return properties.value(Property.MAXIMUM_PACKET_SIZE);
    }

    /** Topic Alias Maximum, or -1 if absent (default 0). */
    public int topicAliasMaximum()
    {
        return (int)properties.value(Property.TOPIC_ALIAS_MAXIMUM);
    }

    /** Request Response Information 0/1, or -1 if absent (default 0). */
    public int requestResponseInformation()
    {
        return (int)properties.value(Property.REQUEST_RESPONSE_INFORMATION);
    }

    /** Request Problem Information 0/1, or -1 if absent (default 1). */
    public int requestProblemInformation()
    {
        return (int)properties.value(Property.REQUEST_PROBLEM_INFORMATION);
    }

    public int authenticationMethodOffset()
    {
        return properties.valueOffset(Property.AUTHENTICATION_METHOD);
    }

    /** Length of the Authentication Method, or -1 if absent. */
    public int authenticationMethodLength()
    {
        return properties.valueLength(Property.AUTHENTICATION_METHOD);
    }

    public int authenticationDataOffset()
    {
        return properties.valueOffset(Property.AUTHENTICATION_DATA);
    }

    /** Length of the Authentication Data, or -1 if absent. */
    public int authenticationDataLength()
    {
        return properties.valueLength(Property.AUTHENTICATION_DATA);
    }

    public int clientIdOffset()
    {
        return clientIdOffset;
    }

    /** Client Identifier length; 0 when the client asks the server to assign one. */
    public int clientIdLength()
    {
        return clientIdLength;
    }

    /** Allocating convenience, off the hot path. */
    public String clientId()
    {
        return MqttPrimitives.string(buffer, clientIdOffset, clientIdLength);
    }

    /** Will properties (v5); empty without a will or in v3. */
    public PropertiesDecoder willProperties()
    {
        return willProperties;
    }

    public int willPropertiesOffset()
    {
        return willProperties.offset();
    }

    public int willPropertiesLength()
    {
        return willProperties.length();
    }

    /** Will Delay Interval in seconds, or -1 if absent (default 0). */
    public long willDelayInterval()
    {
        return willProperties.value(Property.WILL_DELAY_INTERVAL);
    }

    public int willTopicOffset()
    {
        return willTopicOffset;
    }

    /** Will Topic length, -1 without a will. */
    public int willTopicLength()
    {
        return willTopicLength;
    }

    /** Allocating convenience, off the hot path; null without a will. */
    public String willTopic()
    {
        return willTopicLength < 0 ? null : MqttPrimitives.string(buffer, willTopicOffset, willTopicLength);
    }

    public int willPayloadOffset()
    {
        return willPayloadOffset;
    }

    /** Will Payload length, -1 without a will. */
    public int willPayloadLength()
    {
        return willPayloadLength;
    }

    /** Allocating convenience; null without a will. */
    public byte[] willPayload()
    {
        return willPayloadLength < 0 ? null : MqttPrimitives.bytes(buffer, willPayloadOffset, willPayloadLength);
    }

    public int userNameOffset()
    {
        return userNameOffset;
    }

    /** User Name length, -1 if absent. */
    public int userNameLength()
    {
        return userNameLength;
    }

    /** Allocating convenience; null if absent. */
    public String userName()
    {
        return userNameLength < 0 ? null : MqttPrimitives.string(buffer, userNameOffset, userNameLength);
    }

    public int passwordOffset()
    {
        return passwordOffset;
    }

    /** Password length, -1 if absent. */
    public int passwordLength()
    {
        return passwordLength;
    }

    /** Allocating convenience; null if absent. */
    public byte[] password()
    {
        return passwordLength < 0 ? null : MqttPrimitives.bytes(buffer, passwordOffset, passwordLength);
    }
}
