package dev.skylark.broker.session;

import dev.skylark.broker.routing.MessageLayout;
import dev.skylark.broker.routing.PublishGate;
import dev.skylark.broker.routing.RouterCommand;
import dev.skylark.broker.routing.RouterProxy;
import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PublishView;
import dev.skylark.codec.mqtt.SubscribeDecoder;
import dev.skylark.codec.mqtt.SubscribeEncoder;
import dev.skylark.codec.mqtt.UnsubscribeDecoder;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static dev.skylark.broker.routing.RouterCommand.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the connection handler's SUBSCRIBE, UNSUBSCRIBE and PUBLISH become on the routing ring, field by field as
 * {@link RouterCommand} documents them (the routing agent decodes exactly this layout).
 */
class RouterCommandEncodingTest
{
    private final ManyToOneRingBuffer ring = new ManyToOneRingBuffer(
        new UnsafeBuffer(ByteBuffer.allocateDirect(4096 + RingBufferDescriptor.TRAILER_LENGTH)));
    private final PublishGate gate = new PublishGate();
    private final int[] wakes = new int[1];
    private final RouterProxy proxy = new RouterProxy(ring, () -> wakes[0]++, gate);
    private final UnsafeBuffer packet = new UnsafeBuffer(new byte[512]);

    private int msgTypeId;
    private final ExpandableArrayBuffer record = new ExpandableArrayBuffer(512);
    private int recordLength;

    private void readOne()
    {
        assertEquals(1, ring.read((type, buffer, index, length) ->
        {
            msgTypeId = type;
            record.putBytes(0, buffer, index, length);
            recordLength = length;
        }, 1));
    }

    private static String ascii(final MutableDirectBuffer buffer, final int offset, final int length)
    {
        return buffer.getStringWithoutLengthAscii(offset, length);
    }

    @Test
    void subscribeRecordCarriesEachEntryWithTheHandlersVerdict()
    {
        final int n = new SubscribeEncoder().subscribe(MqttVersion.V5, 77)
            .filter("a/+", SubscribeEncoder.options(1, false, false, 0))
            .filter("#", SubscribeEncoder.options(2, true, true, 2))
            .encode(packet, 0);
        final SubscribeDecoder subscribe = new SubscribeDecoder();
        assertEquals(0, subscribe.wrap(packet, 0, n, MqttVersion.V5));
        final UnsafeBuffer verdicts = new UnsafeBuffer(new byte[]{ 0x01, 0x00, 0x2E, (byte)0x87 });

        assertTrue(proxy.subscribe(42L, subscribe, verdicts));
        readOne();
        assertEquals(1, wakes[0]);
        assertEquals(SUBSCRIBE, msgTypeId);
        assertEquals(SUBSCRIBE_ENTRIES_OFFSET + (4 + 3) + (4 + 1), recordLength);
        assertEquals(42L, record.getLong(CONNECTION_ID_OFFSET));
        assertEquals(77, record.getShort(PACKET_ID_OFFSET));
        assertEquals(2, record.getShort(SUBSCRIBE_COUNT_OFFSET));
        assertEquals(0, record.getInt(SUBSCRIBE_SUBSCRIPTION_ID_OFFSET), "none given: 0");
        int entry = SUBSCRIBE_ENTRIES_OFFSET;
        assertEquals(0x01, record.getByte(entry));
        assertEquals(0x00, record.getByte(entry + 1));
        assertEquals(3, record.getShort(entry + 2));
        assertEquals("a/+", ascii(record, entry + 4, 3));
        entry += 4 + 3;
        assertEquals(0x2E, record.getByte(entry));
        assertEquals(0x87, record.getByte(entry + 1) & 0xFF);
        assertEquals(1, record.getShort(entry + 2));
        assertEquals("#", ascii(record, entry + 4, 1));
    }

    @Test
    void unsubscribeRecordListsTheFilters()
    {
        final int n = new SubscribeEncoder().unsubscribe(MqttVersion.V3_1_1, 9)
            .filter("x/y", 0).filter("z", 0)
            .encode(packet, 0);
        final UnsubscribeDecoder unsubscribe = new UnsubscribeDecoder();
        assertEquals(0, unsubscribe.wrap(packet, 0, n, MqttVersion.V3_1_1));

        assertTrue(proxy.unsubscribe(5L, unsubscribe));
        readOne();
        assertEquals(UNSUBSCRIBE, msgTypeId);
        assertEquals(UNSUBSCRIBE_ENTRIES_OFFSET + (2 + 3) + (2 + 1), recordLength);
        assertEquals(5L, record.getLong(CONNECTION_ID_OFFSET));
        assertEquals(9, record.getShort(PACKET_ID_OFFSET));
        assertEquals(2, record.getShort(UNSUBSCRIBE_COUNT_OFFSET));
        assertEquals(3, record.getShort(UNSUBSCRIBE_ENTRIES_OFFSET));
        assertEquals("x/y", ascii(record, UNSUBSCRIBE_ENTRIES_OFFSET + 2, 3));
        assertEquals(1, record.getShort(UNSUBSCRIBE_ENTRIES_OFFSET + 5));
        assertEquals("z", ascii(record, UNSUBSCRIBE_ENTRIES_OFFSET + 7, 1));
    }

    @Test
    void publishRecordIsTheMessageLayoutOfTheView()
    {
        final UnsafeBuffer bytes = new UnsafeBuffer("..t/1..PP..payload".getBytes(StandardCharsets.US_ASCII));
        final PublishView view = new PublishView().flags(1, true, true).packetId(300)
            .topic(bytes, 2, 3).properties(bytes, 7, 2).payload(bytes, 11, 7);

        assertTrue(proxy.publish(8L, view));
        readOne();
        assertEquals(PUBLISH, msgTypeId);
        assertEquals(8L, record.getLong(CONNECTION_ID_OFFSET));
        final int message = PUBLISH_MESSAGE_OFFSET;
        assertEquals(PUBLISH_MESSAGE_OFFSET + MessageLayout.length(3, 2, 7), recordLength);
        assertEquals(1, MessageLayout.qos(record, message));
        assertTrue(MessageLayout.retain(record, message));
        assertEquals(300, MessageLayout.packetId(record, message));
        assertEquals("t/1", ascii(record, MessageLayout.topicOffset(message), MessageLayout.topicLength(record, message)));
        assertEquals("PP", ascii(record, MessageLayout.propertiesOffset(record, message),
            MessageLayout.propertiesLength(record, message)));
        assertEquals("payload", ascii(record, MessageLayout.payloadOffset(record, message),
            MessageLayout.payloadLength(record, message)));

        final PublishView back = MessageLayout.wrap(record, message, new PublishView());
        assertEquals(1, back.qos());
        assertTrue(back.retain());
        assertFalse(back.dup(), "DUP is not part of the message");
        assertEquals(300, back.packetId());
        assertEquals(7, back.payloadLength());
    }
}
