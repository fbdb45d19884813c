package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.fixedHeaderLength;

/**
 * Flyweight decoder of a CONNACK packet.
 * <pre>
 *  0x20, Remaining Length
 *  Acknowledge Flags   bit 0 session present, bits 7-1 reserved (→ 0x81)
 *  Reason Code         v5: a CONNACK reason code (else 0x82); v3.1.1: return code 0..5 (else 0x81)
 *  v5: Property Length + properties (may be omitted when Remaining Length is 2)
 * </pre>
 */
public final class ConnAckDecoder
{
    public static final int FLAGS_OFFSET = 2;
    public static final int REASON_CODE_OFFSET = 3;
    public static final int SESSION_PRESENT_FLAG = 0x01;

    private final PropertiesDecoder properties = new PropertiesDecoder();
    private DirectBuffer buffer;
    private boolean sessionPresent;
    private int reasonCode;

    /**
     * @return 0 when valid, else a negative reason code.
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length, final int version)
    {
        this.buffer = buffer;
        properties.wrapEmpty();
        final int headerLength = fixedHeaderLength(buffer, offset, length, PacketType.CONNACK, 0);
        if (headerLength < 0)
        {
            return headerLength;
        }

        final int limit = offset + length;
        int pos = offset + headerLength;
        if (pos + 2 > limit)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        final int ackFlags = buffer.getByte(pos) & 0xFF;
        reasonCode = buffer.getByte(pos + 1) & 0xFF;
        sessionPresent = (ackFlags & SESSION_PRESENT_FLAG) != 0;
        pos += 2;
        if ((ackFlags & ~SESSION_PRESENT_FLAG) != 0)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        if (MqttVersion.isV5(version))
        {
            if (pos < limit)
            {
                final int consumed = properties.wrapWithLength(buffer, pos, limit, PacketType.CONNACK);
                if (consumed < 0)
                {
                    return consumed;
                }
                pos += consumed;
            }
            if (!ReasonCode.isValidFor(PacketType.CONNACK, reasonCode))
            {
                return -ReasonCode.PROTOCOL_ERROR;
            }
        }
        else if (reasonCode > ReasonCode.V3_NOT_AUTHORIZED)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        return pos == limit ? 0 : -ReasonCode.MALFORMED_PACKET;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    public boolean sessionPresent()
    {
        return sessionPresent;
    }

    /** v5 reason code, or the v3.1.1 return code. */
    public int reasonCode()
    {
        return reasonCode;
    }

    /** CONNACK properties; look up any of them by {@link Property} identifier. */
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

    /** Session Expiry Interval, or -1 if absent. */
    public long sessionExpiryInterval()
    {
        return properties.value(Property.SESSION_EXPIRY_INTERVAL);
    }

    /** Receive Maximum, or -1 if absent. */
    public int receiveMaximum()
    {
        return (int)properties.value(Property.RECEIVE_MAXIMUM);
    }

    /** Maximum QoS 0/1, or -1 if absent (QoS 2 supported). */
    public int maximumQos()
    {
        return (int)properties.value(Property.MAXIMUM_QOS);
    }

    /** Maximum Packet Size, or -1 if absent. */
    public long maximumPacketSize()
    {
        return properties.value(Property.MAXIMUM_PACKET_SIZE);
    }

    /** Topic Alias Maximum, or -1 if absent. */
    public int topicAliasMaximum()
    {
        return (int)properties.value(Property.TOPIC_ALIAS_MAXIMUM);
    }

    /** Server Keep Alive, or -1 if absent. */
    public int serverKeepAlive()
    {
        return (int)properties.value(Property.SERVER_KEEP_ALIVE);
    }

    /** Allocating convenience; null if absent. */
    public String assignedClientIdentifier()
    {
        return properties.string(Property.ASSIGNED_CLIENT_IDENTIFIER);
    }

    /** Allocating convenience; null if absent. */
    public String reasonString()
    {
        return properties.string(Property.REASON_STRING);
    }
}
