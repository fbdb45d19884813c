package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.fixedHeaderLength;

/**
 * Flyweight decoder of an AUTH packet (MQTT 5.0 only; in 3.1.1 packet type 15 is reserved → 0x81).
 * <pre>
 *  0xF0, Remaining Length
 *  Reason Code     omitted when Remaining Length is 0 (then 0x00); 0x00, 0x18 or 0x19 (else 0x82)
 *  Property Length + properties, omitted when Remaining Length &lt; 2
 * </pre>
 */
public final class AuthDecoder
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
        reasonCode = ReasonCode.SUCCESS;
        if (!MqttVersion.isV5(version))
        {
            return -ReasonCode.MALFORMED_PACKET;
        }
        final int headerLength = fixedHeaderLength(buffer, offset, length, PacketType.AUTH, 0);
        if (headerLength < 0)
        {
            return headerLength;
        }
        final int result = ReasonAndProperties.decode(
            buffer, offset + headerLength, offset + length, version, PacketType.AUTH, properties);
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
}
