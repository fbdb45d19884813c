package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.fixedHeaderLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.getUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.readUtf8Length;

/**
 * Flyweight decoder of a SUBSCRIBE packet with a zero-allocation cursor over its entries.
 * <pre>
 *  0x82, Remaining Length           flags must be 0b0010 (else 0x81)
 *  Packet Identifier (2)            non-zero (else 0x81)
 *  v5: Property Length + properties Subscription Identifier (0 → 0x82), User Properties
 *  Payload, at least one entry (else 0x82):
 *    Topic Filter (string)          bad UTF-8 → 0x81; a syntactically invalid filter is NOT a decode failure:
 *                                   see {@link #filterStatus()} (the broker answers that entry with 0x8F)
 *    Subscription Options (1)       bits 1-0 max QoS (3 → 0x81 v3 / 0x82 v5)
 *                                   v5: bit 2 No Local, bit 3 Retain As Published, bits 5-4 Retain Handling (3 → 0x82),
 *                                   bits 7-6 reserved (→ 0x81); v3.1.1: bits 7-2 reserved (→ 0x81)
 *                                   v5: No Local on a shared subscription → 0x82
 *  At most {@link #MAX_ENTRIES} entries (else 0x97 Quota exceeded: the SUBACK and the broker's internal
 *  command count entries in 16 bits; the spec sets no number, so this is the broker's limit)
 * </pre>
 * Usage: {@code if (d.wrap(...) == 0) while (d.nextEntry()) { d.filterOffset(); d.qos(); ... }}
 */
public final class SubscribeDecoder
{
    public static final int PACKET_ID_OFFSET = 2;
    public static final int FLAGS = 0x02;
    /** Most entries one SUBSCRIBE may carry; more is refused whole with {@code -QUOTA_EXCEEDED}. */
    public static final int MAX_ENTRIES = 65_535;

    public static final int OPTION_QOS_MASK = 0x03;
    public static final int OPTION_NO_LOCAL = 0x04;
    public static final int OPTION_RETAIN_AS_PUBLISHED = 0x08;
    public static final int OPTION_RETAIN_HANDLING_MASK = 0x30;
    public static final int OPTION_RETAIN_HANDLING_SHIFT = 4;

    private final PropertiesDecoder properties = new PropertiesDecoder();
    private DirectBuffer buffer;
    private int version;
    private int packetId;
    private int entriesOffset;
    private int limit;
    private int entryCount;

    private int cursor;
    private int filterOffset;
    private int filterLength;
    private int options;

    /**
     * Wraps and validates one whole SUBSCRIBE, including every entry.
     *
     * @return 0 when valid, else a negative reason code.
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length, final int version)
    {
        this.buffer = buffer;
        this.version = version;
        properties.wrapEmpty();
        packetId = 0;
        entryCount = 0;
        entriesOffset = limit = cursor = 0;

        final int headerLength = fixedHeaderLength(buffer, offset, length, PacketType.SUBSCRIBE, FLAGS);
        if (headerLength < 0)
        {
            return headerLength;
        }

        final int end = offset + length;
        int pos = offset + headerLength;
        if (pos + 2 > end)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }
        packetId = getUint16(buffer, pos);
        pos += 2;
        if (packetId == 0)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }

        final boolean v5 = MqttVersion.isV5(version);
        if (v5)
        {
            final int consumed = properties.wrapWithLength(buffer, pos, end, PacketType.SUBSCRIBE);
            if (consumed < 0)
            {
                return consumed;
            }
            pos += consumed;
        }

        if (pos == end)
        {
            return -ReasonCode.PROTOCOL_ERROR;
        }

        entriesOffset = pos;
        while (pos < end)
        {
            final int fLength = readUtf8Length(buffer, pos, end);
            if (fLength < 0)
            {
                return fLength;
            }
            final int fOffset = pos + 2;
            pos += 2 + fLength;
            if (pos >= end)
            {
                return -ReasonCode.MALFORMED_PACKET;
            }

            final int opts = buffer.getByte(pos++) & 0xFF;
            if ((opts & (v5 ? 0xC0 : 0xFC)) != 0)
            {
                return -ReasonCode.MALFORMED_PACKET;
            }
            if ((opts & OPTION_QOS_MASK) == 3)
            {
                return v5 ? -ReasonCode.PROTOCOL_ERROR : -ReasonCode.MALFORMED_PACKET;
            }
            if ((opts & OPTION_RETAIN_HANDLING_MASK) == OPTION_RETAIN_HANDLING_MASK)
            {
                return -ReasonCode.PROTOCOL_ERROR;
            }
            if ((opts & OPTION_NO_LOCAL) != 0 && Topics.isShared(buffer, fOffset, fLength))
            {
                return -ReasonCode.PROTOCOL_ERROR;
            }
            if (++entryCount > MAX_ENTRIES)
            {
                return -ReasonCode.QUOTA_EXCEEDED;
            }
        }

        limit = end;
        cursor = entriesOffset;
        return 0;
    }

    public DirectBuffer buffer()
    {
        return buffer;
    }

    public int version()
    {
        return version;
    }

    public int packetId()
    {
        return packetId;
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

    /** Subscription Identifier (1..268,435,455), or 0 when absent. */
    public int subscriptionIdentifier()
    {
        return properties.has(Property.SUBSCRIPTION_IDENTIFIER) ?
            (int)properties.value(Property.SUBSCRIPTION_IDENTIFIER) : 0;
    }

    /** Number of (filter, options) entries. */
    public int entryCount()
    {
        return entryCount;
    }

    /** Restarts the entry cursor. */
    public void rewind()
    {
        cursor = entriesOffset;
    }

    /** Advances to the next entry; false after the last. */
    public boolean nextEntry()
    {
        if (cursor >= limit)
        {
            return false;
        }
        filterLength = getUint16(buffer, cursor);
        filterOffset = cursor + 2;
        options = buffer.getByte(filterOffset + filterLength) & 0xFF;
        cursor = filterOffset + filterLength + 1;
        return true;
    }

    public int filterOffset()
    {
        return filterOffset;
    }

    public int filterLength()
    {
        return filterLength;
    }

    /** Allocating convenience, off the hot path. */
    public String filter()
    {
        return MqttPrimitives.string(buffer, filterOffset, filterLength);
    }

    /** 0 if the current filter is a valid (possibly shared) topic filter, else {@code -TOPIC_FILTER_INVALID}. */
    public int filterStatus()
    {
        return Topics.validateTopicFilter(buffer, filterOffset, filterLength);
    }

    /** The raw Subscription Options byte. */
    public int options()
    {
        return options;
    }

    public int qos()
    {
        return options & OPTION_QOS_MASK;
    }

    public boolean noLocal()
    {
        return (options & OPTION_NO_LOCAL) != 0;
    }

    public boolean retainAsPublished()
    {
        return (options & OPTION_RETAIN_AS_PUBLISHED) != 0;
    }

    /** 0 send retained on subscribe, 1 only if the subscription is new, 2 never. */
    public int retainHandling()
    {
        return (options & OPTION_RETAIN_HANDLING_MASK) >> OPTION_RETAIN_HANDLING_SHIFT;
    }
}
