package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.fixedHeaderLength;

/**
 * Flyweight decoder of a DISCONNECT packet.
 * <pre>
 *  0xE0, Remaining Length   v3.1.1: exactly 0
 *  v5: Reason Code          omitted when Remaining Length is 0 (then 0x00); must be a DISCONNECT code (else 0x82)
 *  v5: Property Length + properties, omitted when Remaining Length &lt; 2
 * </pre>
 */
public final class DisconnectDecoder
{
    private final PropertiesDecoder properties = new PropertiesDecoder();
    private DirectBuffer buffer;
    private int reasonCode;

    /**
     * @return 0 when valid, else a negative reason code.
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length, final int version)
    {
        this.buffer = buffer;
        properties.wrapEmpty();
        reasonCode = ReasonCode.NORMAL_DISCONNECTION;
        final int headerLength = fixedHeaderLength(buffer, offset, length, PacketType.DISCONNECT, 0);
        if (headerLength < 0)
        {
            return headerLength;
        }
        final int result = ReasonAndProperties.decode(
            buffer, offset + headerLength, offset + length, version, PacketType.DISCONNECT, properties);
        if (result < 0)
        {
            return result;
        }
        reasonCode = result;
        return 0;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int reasonCode()
    {
        return reasonCode;
    }

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

    /** Allocating convenience; null if absent. */
    public String reasonString()
    {
        return properties.string(Property.REASON_STRING);
    }

    /** Allocating convenience; null if absent. */
    public String serverReference()
    {
        return properties.string(Property.SERVER_REFERENCE);
    }
}
