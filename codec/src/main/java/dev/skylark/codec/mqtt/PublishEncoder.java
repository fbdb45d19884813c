package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static dev.skylark.codec.mqtt.MqttPrimitives.getUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.packetLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.putBinary;
import static dev.skylark.codec.mqtt.MqttPrimitives.putFixedHeader;
import static dev.skylark.codec.mqtt.MqttPrimitives.putUint16;
import static dev.skylark.codec.mqtt.MqttPrimitives.readVarInt;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntLength;
import static dev.skylark.codec.mqtt.MqttPrimitives.varIntSize;

/**
 * Encoder of a PUBLISH packet, MQTT 3.1.1 and 5.0; stateless and allocation free.
 * <pre>
 *  offset + 0                      flags byte 0011 DQQR            ← {@link #FLAGS_OFFSET}, patch with {@link #patchFlags}
 *  offset + 1                      Remaining Length (1..4 bytes)
 *  offset + 1 + rlLen              Topic Name (2 + topicLength)
 *  offset + 3 + rlLen + topicLength  Packet Identifier (QoS &gt; 0)   ← {@link #packetIdOffset}, patch with {@link #patchPacketId}
 *                                  v5: Property Length + properties
 *                                  payload
 * </pre>
 * Encode once, fan out many: the DUP/QoS/RETAIN bits and the packet identifier can be patched per subscriber as
 * long as the presence of the packet identifier (QoS 0 vs QoS &gt; 0) stays the same.
 */
public final class PublishEncoder
{
    /** Offset of the byte holding type, DUP, QoS and RETAIN. */
    public static final int FLAGS_OFFSET = 0;

    private PublishEncoder()
    {
    }

    /** The low nibble of the first byte for the given QoS, DUP and RETAIN. */
    public static int flags(final int qos, final boolean dup, final boolean retain)
    {
        return (dup ? PublishDecoder.DUP_FLAG : 0) | (qos << PublishDecoder.QOS_SHIFT) |
            (retain ? PublishDecoder.RETAIN_FLAG : 0);
    }

    /** Remaining Length of a PUBLISH with these field sizes. */
    public static int remainingLength(
        final int version, final int qos, final int topicLength, final int propertiesLength, final int payloadLength)
    {
        return 2 + topicLength + (qos > 0 ? 2 : 0) +
            (MqttVersion.isV5(version) ? varIntSize(propertiesLength) + propertiesLength : 0) + payloadLength;
    }

    /** Whole encoded length, to size a buffer before {@link #encode}. */
    public static int encodedLength(
        final int version, final int qos, final int topicLength, final int propertiesLength, final int payloadLength)
    {
        return packetLength(remainingLength(version, qos, topicLength, propertiesLength, payloadLength));
    }

    /** Whole encoded length of {@code publish}, to size a buffer before {@link #encode}. */
    public static int encodedLength(final int version, final PublishView publish)
    {
        return encodedLength(version, publish.qos(), publish.topicLength(), publish.propertiesLength(),
            publish.payloadLength());
    }

    /**
     * Encodes a PUBLISH from its view: QoS, DUP, RETAIN, packet identifier (written only when QoS &gt; 0), topic,
     * properties (ignored in v3; the buffer may be null when their length is 0) and payload.
     *
     * @return bytes written.
     */
    public static int encode(
        final MutableDirectBuffer buffer, final int offset, final int version, final PublishView publish)
    {
        final int qos = publish.qos();
        final int propertiesLength = publish.propertiesLength();
        final int payloadLength = publish.payloadLength();
        final int remainingLength = remainingLength(version, qos, publish.topicLength(), propertiesLength, payloadLength);

        int pos = offset + putFixedHeader(buffer, offset, PacketType.PUBLISH, publish.headerFlags(), remainingLength);
        pos += putBinary(buffer, pos, publish.topicBuffer(), publish.topicOffset(), publish.topicLength());
        if (qos > 0)
        {
            putUint16(buffer, pos, publish.packetId());
            pos += 2;
        }
        if (MqttVersion.isV5(version))
        {
            pos += PropertiesEncoder.putBlock(
                buffer, pos, publish.propertiesBuffer(), publish.propertiesOffset(), propertiesLength);
        }
        if (payloadLength > 0)
        {
            buffer.putBytes(pos, publish.payloadBuffer(), publish.payloadOffset(), payloadLength);
            pos += payloadLength;
        }

        return pos - offset;
    }

    /** Offset of the packet identifier of an encoded PUBLISH (meaningful only for QoS &gt; 0). */
    public static int packetIdOffset(final DirectBuffer buffer, final int offset)
    {
        final int rlLength = varIntLength(readVarInt(buffer, offset + 1, offset + 1 + MqttPrimitives.VARINT_MAX_LENGTH));
        final int topicPos = offset + 1 + rlLength;
        return topicPos + 2 + getUint16(buffer, topicPos);
    }

    /** Rewrites DUP, QoS and RETAIN of an encoded PUBLISH. QoS 0 ↔ &gt; 0 changes the layout: re-encode instead. */
    public static void patchFlags(final MutableDirectBuffer buffer, final int offset, final int flags)
    {
        buffer.putByte(offset + FLAGS_OFFSET, (byte)((PacketType.PUBLISH << 4) | (flags & 0x0F)));
    }

    /** Rewrites the packet identifier of an encoded PUBLISH with QoS &gt; 0. */
    public static void patchPacketId(final MutableDirectBuffer buffer, final int offset, final int packetId)
    {
        putUint16(buffer, packetIdOffset(buffer, offset), packetId);
    }
}
