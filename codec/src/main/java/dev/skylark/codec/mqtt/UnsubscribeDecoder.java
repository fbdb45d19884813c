package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.fixedHeaderLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.getUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.readUtf8Length;

/**
 * Flyweight decoder of an UNSUBSCRIBE packet with a zero-allocation cursor over its topic filters.
 * <pre>
 *  0xA2, Remaining Length           flags must be 0b0010 (else 0x81)
 *  Packet Identifier (2)            non-zero (else 0x81)
 *  v5: Property Length + properties User Properties only
 *  Payload: Topic Filter (string)+  at least one (else 0x82); bad UTF-8 → 0x81; syntax see {@link #filterStatus()}
 *                                   at most {@link #MAX_ENTRIES} (else 0x97 Quota exceeded, as SUBSCRIBE)
 * </pre>
 */
public final class UnsubscribeDecoder
{
    public static final int PACKET_ID_OFFSET = 2;
    public static final int FLAGS = 0x02;
    /** Most filters one UNSUBSCRIBE may carry (the UNSUBACK and the broker's command count them in 16 bits). */
    public static final int MAX_ENTRIES = SubscribeDecoder.MAX_ENTRIES;

    private final PropertiesDecoder properties = new PropertiesDecoder();
    private DirectBuffer buffer;
    private int packetId;
    private int entriesOffset;
    private int limit;
    private int entryCount;

    private int cursor;
    private int filterOffset;
    private int filterLength;

    /**
     * @return 0 when valid, else a negative reason code.
     */
    public int wrap(final DirectBuffer buffer, final int offset, final int length, final int version)
    {
        this.buffer = buffer;
        properties.wrapEmpty();
        packetId = 0;
        entryCount = 0;
        entriesOffset = limit = cursor = 0;

        final int headerLength = fixedHeaderLength(buffer, offset, length, PacketType.UNSUBSCRIBE, FLAGS);
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

        if (MqttVersion.isV5(version))
        {
            final int consumed = properties.wrapWithLength(buffer, pos, end, PacketType.UNSUBSCRIBE);
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
            pos += 2 + fLength;
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

    public int entryCount()
    {
        return entryCount;
    }

    public void rewind()
    {
        cursor = entriesOffset;
    }

    public boolean nextEntry()
    {
        if (cursor >= limit)
        {
            return false;
        }
        filterLength = getUint16(buffer, cursor);
        filterOffset = cursor + 2;
        cursor = filterOffset + filterLength;
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

    /** 0 if the current filter is a valid topic filter, else {@code -TOPIC_FILTER_INVALID}. */
    public int filterStatus()
    {
        return Topics.validateTopicFilter(buffer, filterOffset, filterLength);
    }
}
