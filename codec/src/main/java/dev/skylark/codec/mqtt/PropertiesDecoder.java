package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.getUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.getUint32;
import static dev.skylark.codec.mqtt.MqttPrimitives.readBinaryLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.readUtf8Length;
import static dev.skylark.codec.mqtt.MqttPrimitives.readVarInt;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntValue;

/**
 * Flyweight over an MQTT 5.0 property block (the bytes after the Property Length), which validates the whole block
 * on {@link #wrap(DirectBuffer, int, int, int)} and then offers two zero-allocation views:
 * <ul>
 *   <li>lookup of single-valued properties by identifier ({@link #has(int)}, {@link #value(int)},
 *       {@link #valueOffset(int)}, {@link #valueLength(int)}); for a repeatable property the first instance;</li>
 *   <li>a cursor over every (identifier, value) in wire order ({@link #next()}, {@link #nextUserProperty()},
 *       {@link #forEachUserProperty(UserPropertyHandler)}).</li>
 * </ul>
 * <pre>
 * +----------------------+------------------------+----------------------+-----
 * | Property Length (VBI)| Identifier (VBI) value | Identifier (VBI) value | ...
 * +----------------------+------------------------+----------------------+-----
 *                        ^ offset given to wrap   (length = Property Length)
 * </pre>
 * Validation: unknown identifier, truncated value, bad UTF-8, or a property not allowed in the packet kind
 * → {@code -MALFORMED_PACKET}; a repeated single-valued property or an out-of-range value → {@code -PROTOCOL_ERROR}.
 * One instance per decoder, reused; not thread safe.
 */
public final class PropertiesDecoder
{
    private final int[] valuePositions = new int[Property.MAX_ID + 1];

    private DirectBuffer buffer;
    private int offset;
    private int limit;
    private long presentMask;
    private int userPropertyCount;
    private int subscriptionIdentifierCount;

    private int cursor;
    private int id;
    private long value;
    private int valueOffset;
    private int valueLength;
    private int keyOffset;
    private int keyLength;

    /**
     * Wraps and validates a property block of {@code length} bytes at {@code offset}.
     *
     * @param packetKind a {@link PacketType} or {@link Property#WILL_PROPERTIES}.
     * @return 0 when valid, else a negative reason code.
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length, final int packetKind)
    {
        this.buffer = buffer;
        this.offset = offset;
        this.limit = offset + length;
        this.presentMask = 0;
        this.userPropertyCount = 0;
        this.subscriptionIdentifierCount = 0;

        int pos = offset;
        while (pos < limit)
        {
            final int next = parse(pos);
            if (next < 0)
            {
                this.limit = offset;
                return next;
            }

            final int result = check(packetKind);
            if (result < 0)
            {
                this.limit = offset;
                return result;
            }

            final long bit = 1L << id;
            if ((presentMask & bit) == 0)
            {
                presentMask |= bit;
                valuePositions[id] = valueOffset(pos, next);
            }
            pos = next;
        }

        rewind();
        return 0;
    }

    /**
     * Reads a Property Length at {@code offset} and wraps the block that follows, which must end by {@code limit}.
     *
     * @return bytes consumed (length varint + block) or a negative reason code.
     */
    public int wrapWithLength(final DirectBuffer buffer, final int offset, final int limit, final int packetKind)
    {
        final long vbi = readVarInt(buffer, offset, limit);
        if (vbi < 0)
        {
            wrapEmpty();
            return -ReasonCode.MALFORMED_PACKET;
        }

        final int start = offset + varIntLength(vbi);
        final int length = varIntValue(vbi);
        if (length > limit - start)
        {
            wrapEmpty();
            return -ReasonCode.MALFORMED_PACKET;
        }

        final int result = wrap(buffer, start, length, packetKind);
        return result < 0 ? result : varIntLength(vbi) + length;
    }

    /** Wraps an empty block (MQTT 3.1.1 packets, or a v5 packet that omits its properties). */
    public void wrapEmpty()
    {
        offset = 0;
        limit = 0;
        cursor = 0;
        presentMask = 0;
        userPropertyCount = 0;
        subscriptionIdentifierCount = 0;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    /** Offset of the first property (after the Property Length). */
    public int offset()
    {
        return offset;
    }

    /** Length of the block, excluding the Property Length varint. */
    public int length()
    {
        return limit - offset;
    }

    public int userPropertyCount()
    {
        return userPropertyCount;
    }

    public int subscriptionIdentifierCount()
    {
        return subscriptionIdentifierCount;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Lookup by identifier
    // ------------------------------------------------------------------------------------------------------------

    public boolean has(final int propertyId)
    {
        return propertyId > 0 && propertyId <= Property.MAX_ID && (presentMask & (1L << propertyId)) != 0;
    }

    /**
     * Value of an integer property (byte, two/four byte or variable byte integer), or {@link Property#ABSENT}.
     */
    public long value(final int propertyId)
    {
        if (!has(propertyId))
        {
            return Property.ABSENT;
        }

        final int pos = valuePositions[propertyId];
        switch (Property.type(propertyId))
        {
            case Property.TYPE_BYTE:
                return buffer.getByte(pos) & 0xFF;
            case Property.TYPE_TWO_BYTE_INTEGER:
                return getUint16(buffer, pos);
            case Property.TYPE_FOUR_BYTE_INTEGER:
                return getUint32(buffer, pos);
            case Property.TYPE_VARIABLE_BYTE_INTEGER:
                return varIntValue(readVarInt(buffer, pos, limit));
            default:
                return Property.ABSENT;
        }
    }

    /** Offset of the bytes of a string or binary property, or -1 if absent. */
    public int valueOffset(final int propertyId)
    {
        return has(propertyId) ? valuePositions[propertyId] + 2 : -1;
    }

    /** Byte length of a string or binary property, or -1 if absent (0 is an empty value). */
    public int valueLength(final int propertyId)
    {
        return has(propertyId) ? getUint16(buffer, valuePositions[propertyId]) : -1;
    }

    /** A string property as a String, or null if absent; allocates, off the hot path. */
    public String string(final int propertyId)
    {
        return has(propertyId) ?
            MqttPrimitives.string(buffer, valueOffset(propertyId), valueLength(propertyId)) : null;
    }

    /** A binary property as a new byte[], or null if absent; allocates, off the hot path. */
    public byte[] bytes(final int propertyId)
    {
        return has(propertyId) ?
            MqttPrimitives.bytes(buffer, valueOffset(propertyId), valueLength(propertyId)) : null;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Cursor
    // ------------------------------------------------------------------------------------------------------------

    /** Restarts the cursor at the first property. */
    public void rewind()
    {
        cursor = offset;
        id = 0;
    }

    /** Advances to the next property; false at the end of the block. */
    public boolean next()
    {
        if (cursor >= limit)
        {
            return false;
        }

        final int next = parse(cursor);
        if (next < 0)
        {
            cursor = limit;
            return false;
        }
        cursor = next;
        return true;
    }

    /** Advances to the next User Property; false when there is none left. */
    public boolean nextUserProperty()
    {
        while (next())
        {
            if (id == Property.USER_PROPERTY)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Visits every User Property in order, then rewinds the cursor.
     *
     * @return number of user properties visited.
     */
    public int forEachUserProperty(final UserPropertyHandler handler)
    {
        rewind();
        int count = 0;
        while (nextUserProperty())
        {
            handler.onUserProperty(buffer, keyOffset, keyLength, valueOffset, valueLength);
            count++;
        }
        rewind();
        return count;
    }

    /** Identifier at the cursor. */
    public int id()
    {
        return id;
    }

    /** Integer value at the cursor (byte, two/four byte, variable byte integer types). */
    public long value()
    {
        return value;
    }

    /** Offset of the value at the cursor: string/binary bytes, the pair's value string, or the integer itself. */
    public int valueOffset()
    {
        return valueOffset;
    }

    /** Length of the value at the cursor. */
    public int valueLength()
    {
        return valueLength;
    }

    /** Offset of the key of a User Property at the cursor. */
    public int keyOffset()
    {
        return keyOffset;
    }

    public int keyLength()
    {
        return keyLength;
    }

    /** Allocating convenience: the key of the User Property at the cursor. */
    public String key()
    {
        return MqttPrimitives.string(buffer, keyOffset, keyLength);
    }

    /** Allocating convenience: the string value at the cursor. */
    public String stringValue()
    {
        return MqttPrimitives.string(buffer, valueOffset, valueLength);
    }

    // ------------------------------------------------------------------------------------------------------------

    private int valueOffset(final int propertyPos, final int next)
    {
        // identifiers are all one byte; the value starts right after it
        return propertyPos + 1;
    }

    private int parse(final int pos)
    {
        final long vbi = readVarInt(buffer, pos, limit);
        if (vbi < 0)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        id = varIntValue(vbi);
        int p = pos + varIntLength(vbi);
        keyOffset = 0;
        keyLength = 0;
        value = 0;
        switch (Property.type(id))
        {
            case Property.TYPE_BYTE:
                if (p + 1 > limit)
                {
                    return -ReasonCode.MALFORMED_PACKET;
                }
                value = buffer.getByte(p) & 0xFF;
                valueOffset = p;
                valueLength = 1;
                return p + 1;

            case Property.TYPE_TWO_BYTE_INTEGER:
                if (p + 2 > limit)
                {
                    return -ReasonCode.MALFORMED_PACKET;
                }
                value = getUint16(buffer, p);
                valueOffset = p;
                valueLength = 2;
                return p + 2;

            case Property.TYPE_FOUR_BYTE_INTEGER:
                if (p + 4 > limit)
                {
                    return -ReasonCode.MALFORMED_PACKET;
                }
                value = getUint32(buffer, p);
                valueOffset = p;
                valueLength = 4;
                return p + 4;

            case Property.TYPE_VARIABLE_BYTE_INTEGER:
            {
                final long v = readVarInt(buffer, p, limit);
                if (v < 0)
                {
                    return -ReasonCode.MALFORMED_PACKET;
                }
                value = varIntValue(v);
                valueOffset = p;
                valueLength = varIntLength(v);
                return p + valueLength;
            }

            case Property.TYPE_UTF8_STRING:
            {
                final int length = readUtf8Length(buffer, p, limit);
                if (length < 0)
                {
                    return length;
                }
                valueOffset = p + 2;
                valueLength = length;
                return p + 2 + length;
            }

            case Property.TYPE_BINARY_DATA:
            {
                final int length = readBinaryLength(buffer, p, limit);
                if (length < 0)
                {
                    return length;
                }
                valueOffset = p + 2;
                valueLength = length;
                return p + 2 + length;
            }

            case Property.TYPE_UTF8_STRING_PAIR:
            {
                final int kLength = readUtf8Length(buffer, p, limit);
                if (kLength < 0)
                {
                    return kLength;
                }
                keyOffset = p + 2;
                keyLength = kLength;
                p += 2 + kLength;
                final int vLength = readUtf8Length(buffer, p, limit);
                if (vLength < 0)
                {
                    return vLength;
                }
                valueOffset = p + 2;
                valueLength = vLength;
                return p + 2 + vLength;
            }

            default:
                return -ReasonCode.MALFORMED_PACKET;
        }
    }

    private int check(final int packetKind)
    {
        if (!Property.isAllowed(id, packetKind))
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        if ((presentMask & (1L << id)) != 0 && !Property.isRepeatable(id, packetKind))
        {
            return -ReasonCode.PROTOCOL_ERROR;
        }

        switch (id)
        {
            case Property.PAYLOAD_FORMAT_INDICATOR:
            case Property.REQUEST_PROBLEM_INFORMATION:
            case Property.REQUEST_RESPONSE_INFORMATION:
            case Property.MAXIMUM_QOS:
            case Property.RETAIN_AVAILABLE:
            case Property.WILDCARD_SUBSCRIPTION_AVAILABLE:
            case Property.SUBSCRIPTION_IDENTIFIER_AVAILABLE:
            case Property.SHARED_SUBSCRIPTION_AVAILABLE:
                if (value > 1)
                {
                    return -ReasonCode.PROTOCOL_ERROR;
                }
                break;

            case Property.TOPIC_ALIAS:
                if (value == 0)
                {
                    return -ReasonCode.TOPIC_ALIAS_INVALID; // 0 is never a valid alias [MQTT-3.3.2-8]
                }
                break;

            case Property.RECEIVE_MAXIMUM:
            case Property.MAXIMUM_PACKET_SIZE:
            case Property.SUBSCRIPTION_IDENTIFIER:
                if (value == 0)
                {
                    return -ReasonCode.PROTOCOL_ERROR;
                }
                break;

            case Property.USER_PROPERTY:
                userPropertyCount++;
                break;

            default:
                break;
        }

        if (id == Property.SUBSCRIPTION_IDENTIFIER)
        {
            subscriptionIdentifierCount++;
        }

        return 0;
    }
}
