/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.nio.ByteBuffer;

/**
 * A small, reusable flyweight over one MQTT 3.1.1 / 5.0 packet received by a load-generator client: CONNACK,
 * SUBACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, PINGRESP and (5.0) DISCONNECT.
 * <p>
 * {@link #wrap(ByteBuffer, int, int)} frames a packet and returns its total length, {@link #INCOMPLETE} when more
 * bytes are needed, or {@link #MALFORMED}; the caller decides what to do. Getters read straight from the buffer with
 * absolute gets and never allocate. Validation is only as strict as a load tool needs: lengths are always checked
 * against the frame so a broker bug can never make the tool read out of bounds.
 * <pre>
 *   +-------------+------------------+------------------------------------------+
 *   | type, flags | remaining length | body (variable header + payload)          |
 *   | 1 byte      | 1-4 bytes        | remaining length bytes                    |
 *   +-------------+------------------+------------------------------------------+
 * </pre>
 */
public final class ClientPacketDecoder
{
    /** More bytes are needed before the packet can be framed. */
    public static final int INCOMPLETE = 0;
    /** Bad remaining length, a packet larger than allowed, or fields that overrun the packet. */
    public static final int MALFORMED = -1;

    private static final int PROPERTY_SERVER_KEEP_ALIVE = 0x13;
    private static final int PROPERTY_RECEIVE_MAXIMUM = 0x21;

    private final int maxPacketLength;
    private ByteBuffer buffer;
    private int offset;
    private int bodyOffset;
    private int bodyLength;
    private int varIntLength;

    /**
     * @param maxPacketLength largest whole packet accepted, e.g. the receive buffer capacity.
     */
    public ClientPacketDecoder(final int maxPacketLength)
    {
        this.maxPacketLength = maxPacketLength;
    }

    /**
     * Frame the packet starting at {@code offset}.
     *
     * @param buffer holding received bytes.
     * @param offset of the first byte of the packet.
     * @param limit  index one past the last received byte.
     * @return total packet length, {@link #INCOMPLETE} or {@link #MALFORMED}.
     */
    public int wrap(final ByteBuffer buffer, final int offset, final int limit)
    {
        this.buffer = buffer;
        this.offset = offset;

        int value = 0;
        int shift = 0;
        int i = offset + 1;
        while (true)
        {
            if (i >= limit)
            {
                return INCOMPLETE;
            }
            final int b = buffer.get(i++) & 0xFF;
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
            shift += 7;
            if (shift > 21)
            {
                return MALFORMED;
            }
        }

        final int total = (i - offset) + value;
        if (total > maxPacketLength)
        {
            return MALFORMED;
        }

        bodyOffset = i;
        bodyLength = value;

        return limit - offset < total ? INCOMPLETE : total;
    }

    /**
     * @return packet type in the high nibble with the low nibble cleared, e.g. {@link ClientPacketEncoder#PUBLISH}.
     */
    public int type()
    {
        return buffer.get(offset) & 0xF0;
    }

    /**
     * @return low nibble of the first byte.
     */
    public int flags()
    {
        return buffer.get(offset) & 0x0F;
    }

    public int bodyOffset()
    {
        return bodyOffset;
    }

    public int bodyLength()
    {
        return bodyLength;
    }

    /**
     * Packet id of PUBACK, PUBREC, PUBREL, PUBCOMP or SUBACK (first two body bytes).
     *
     * @return packet id or {@link #MALFORMED}.
     */
    public int packetId()
    {
        return bodyLength < 2 ? MALFORMED : buffer.getShort(bodyOffset) & 0xFFFF;
    }

    /**
     * Reason code of PUBACK, PUBREC, PUBREL, PUBCOMP (5.0; omitted means success) or of a 5.0 DISCONNECT.
     *
     * @return reason code, 0 when absent.
     */
    public int ackReasonCode()
    {
        if (type() == ClientPacketEncoder.DISCONNECT)
        {
            return bodyLength < 1 ? 0 : buffer.get(bodyOffset) & 0xFF;
        }

        return bodyLength < 3 ? 0 : buffer.get(bodyOffset + 2) & 0xFF;
    }

    /**
     * CONNACK return code (3.1.1) or reason code (5.0): 0 means accepted.
     *
     * @return code or {@link #MALFORMED}.
     */
    public int connackReasonCode()
    {
        return bodyLength < 2 ? MALFORMED : buffer.get(bodyOffset + 1) & 0xFF;
    }

    /**
     * Receive Maximum the server announces in a 5.0 CONNACK: how many QoS &gt; 0 publishes it accepts in flight.
     *
     * @param defaultValue when absent (65535 per the spec).
     * @return the value, defaultValue or {@link #MALFORMED}.
     */
    public int connackReceiveMaximum(final int defaultValue)
    {
        return connackTwoByteProperty(PROPERTY_RECEIVE_MAXIMUM, defaultValue);
    }

    /**
     * Server Keep Alive in a 5.0 CONNACK, which overrides the keep-alive the client asked for.
     *
     * @param defaultValue when absent.
     * @return the value, defaultValue or {@link #MALFORMED}.
     */
    public int connackServerKeepAlive(final int defaultValue)
    {
        return connackTwoByteProperty(PROPERTY_SERVER_KEEP_ALIVE, defaultValue);
    }

    /**
     * First reason code of a SUBACK: 0, 1, 2 = granted QoS; 0x80 and above = failure.
     *
     * @param protocolVersion to know whether properties precede the codes.
     * @return reason code or {@link #MALFORMED}.
     */
    public int subackReasonCode(final int protocolVersion)
    {
        int i = bodyOffset + 2;
        final int end = bodyOffset + bodyLength;
        if (ClientPacketEncoder.MQTT_5 == protocolVersion)
        {
            final int propertiesLength = readVarInt(i, end);
            if (propertiesLength < 0)
            {
                return MALFORMED;
            }
            i += varIntLength + propertiesLength;
        }

        return i >= end ? MALFORMED : buffer.get(i) & 0xFF;
    }

    /**
     * @return QoS of a PUBLISH from its fixed-header flags.
     */
    public int publishQos()
    {
        return (flags() >> 1) & 0x3;
    }

    /**
     * Packet id of a PUBLISH with QoS &gt; 0.
     *
     * @return packet id or {@link #MALFORMED}.
     */
    public int publishPacketId()
    {
        final int topicLength = bodyLength < 2 ? 0 : buffer.getShort(bodyOffset) & 0xFFFF;
        final int index = bodyOffset + 2 + topicLength;

        return index + 2 > bodyOffset + bodyLength ? MALFORMED : buffer.getShort(index) & 0xFFFF;
    }

    /**
     * Absolute index of a PUBLISH payload, skipping topic, packet id and 5.0 properties.
     *
     * @param protocolVersion to know whether properties are present.
     * @return index or {@link #MALFORMED}.
     */
    public int publishPayloadOffset(final int protocolVersion)
    {
        final int end = bodyOffset + bodyLength;
        if (bodyLength < 2)
        {
            return MALFORMED;
        }
        int i = bodyOffset + 2 + (buffer.getShort(bodyOffset) & 0xFFFF) + (publishQos() > 0 ? 2 : 0);
        if (ClientPacketEncoder.MQTT_5 == protocolVersion)
        {
            final int propertiesLength = readVarInt(i, end);
            if (propertiesLength < 0)
            {
                return MALFORMED;
            }
            i += varIntLength + propertiesLength;
        }

        return i > end ? MALFORMED : i;
    }

    /**
     * @return index one past the last byte of the packet.
     */
    public int endOffset()
    {
        return bodyOffset + bodyLength;
    }

    private int connackTwoByteProperty(final int id, final int defaultValue)
    {
        final int end = bodyOffset + bodyLength;
        int i = bodyOffset + 2;
        final int propertiesLength = readVarInt(i, end);
        if (propertiesLength < 0)
        {
            return i == end ? defaultValue : MALFORMED;
        }
        i += varIntLength;
        final int propertiesEnd = i + propertiesLength;
        if (propertiesEnd > end)
        {
            return MALFORMED;
        }

        int result = defaultValue;
        while (i < propertiesEnd)
        {
            final int property = buffer.get(i++) & 0xFF;
            final int length;
            switch (property)
            {
                case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A:
                    length = 1;
                    break;

                case 0x13: case 0x21: case 0x22: case 0x23:
                    length = 2;
                    break;

                case 0x02: case 0x11: case 0x18: case 0x27:
                    length = 4;
                    break;

                case 0x0B:
                    if (readVarInt(i, propertiesEnd) < 0)
                    {
                        return MALFORMED;
                    }
                    length = varIntLength;
                    break;

                case 0x03: case 0x08: case 0x09: case 0x12: case 0x15: case 0x16: case 0x1A: case 0x1C: case 0x1F:
                    length = i + 2 > propertiesEnd ? -1 : 2 + (buffer.getShort(i) & 0xFFFF);
                    break;

                case 0x26:
                {
                    if (i + 2 > propertiesEnd)
                    {
                        return MALFORMED;
                    }
                    final int keyEnd = i + 2 + (buffer.getShort(i) & 0xFFFF);
                    length = keyEnd + 2 > propertiesEnd ? -1 : keyEnd + 2 + (buffer.getShort(keyEnd) & 0xFFFF) - i;
                    break;
                }

                default:
                    return MALFORMED;
            }

            if (length < 0 || i + length > propertiesEnd)
            {
                return MALFORMED;
            }
            if (property == id)
            {
                result = buffer.getShort(i) & 0xFFFF;
            }
            i += length;
        }

        return result;
    }

    private int readVarInt(final int index, final int end)
    {
        int value = 0;
        int shift = 0;
        int i = index;
        while (true)
        {
            if (i >= end)
            {
                return MALFORMED;
            }
            final int b = buffer.get(i++) & 0xFF;
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                varIntLength = i - index;
                return value;
            }
            shift += 7;
            if (shift > 21)
            {
                return MALFORMED;
            }
        }
    }
}
