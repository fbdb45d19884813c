package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Copies a validated v5 property block while leaving out one property, e.g. the Topic Alias of an inbound PUBLISH
 * (it means nothing to other connections) or the Will Delay Interval of a will (not a PUBLISH property).
 * The block must already have passed {@link PropertiesDecoder}; this walks it by each property's type.
 */
public final class PropertyFilter
{
    private PropertyFilter()
    {
    }

    /**
     * @param src       a validated property block, without its Property Length.
     * @param excludeId the property identifier to leave out (all occurrences).
     * @return bytes written to {@code dst}.
     */
    public static int copyWithout(
        final DirectBuffer src,
        final int offset,
        final int length,
        final int excludeId,
        final MutableDirectBuffer dst,
        final int dstOffset)
    {
        final int end = offset + length;
        int position = offset;
        int written = 0;
        while (position < end)
        {
            final int id = src.getByte(position) & 0xFF;
            final int propertyLength = 1 + valueLength(src, position + 1, end, Property.type(id));
            if (id != excludeId)
            {
                dst.putBytes(dstOffset + written, src, position, propertyLength);
                written += propertyLength;
            }
            position += propertyLength;
        }
        return written;
    }

    /**
     * The offset of the value of the first occurrence of a property in a validated block, or -1 when absent.
     */
    public static int valueOffset(final DirectBuffer src, final int offset, final int length, final int id)
    {
        final int end = offset + length;
        int position = offset;
        while (position < end)
        {
            final int propertyId = src.getByte(position) & 0xFF;
            if (propertyId == id)
            {
                return position + 1;
            }
            position += 1 + valueLength(src, position + 1, end, Property.type(propertyId));
        }
        return -1;
    }

    /** True when the block holds the property at least once. */
    public static boolean contains(final DirectBuffer src, final int offset, final int length, final int id)
    {
        final int end = offset + length;
        int position = offset;
        while (position < end)
        {
            final int propertyId = src.getByte(position) & 0xFF;
            if (propertyId == id)
            {
                return true;
            }
            position += 1 + valueLength(src, position + 1, end, Property.type(propertyId));
        }
        return false;
    }

    private static int valueLength(final DirectBuffer src, final int position, final int end, final int type)
    {
        switch (type)
        {
            case Property.TYPE_BYTE:
                return 1;
            case Property.TYPE_TWO_BYTE_INTEGER:
                return 2;
            case Property.TYPE_FOUR_BYTE_INTEGER:
                return 4;
            case Property.TYPE_VARIABLE_BYTE_INTEGER:
                return MqttPrimitives.varIntLength(MqttPrimitives.readVarInt(src, position, end));
            case Property.TYPE_UTF8_STRING:
            case Property.TYPE_BINARY_DATA:
                return 2 + MqttPrimitives.getUint16(src, position);
            case Property.TYPE_UTF8_STRING_PAIR:
                final int keyLength = 2 + MqttPrimitives.getUint16(src, position);
                return keyLength + 2 + MqttPrimitives.getUint16(src, position + keyLength);
            default:
                throw new IllegalArgumentException("property block was not validated: unknown type " + type);
        }
    }
}
