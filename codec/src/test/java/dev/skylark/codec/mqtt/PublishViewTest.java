package dev.skylark.codec.mqtt;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The PUBLISH view: decode → view → encode gives the same bytes; flags as the wire holds them; reuse. */
class PublishViewTest
{
    @Test
    void decodedViewEncodesTheSamePacket()
    {
        final UnsafeBuffer properties = new UnsafeBuffer(new byte[64]);
        final int propertiesLength = new PropertiesEncoder().wrap(properties, 0)
            .messageExpiryInterval(30).contentType("text/plain").length();
        final UnsafeBuffer topic = Bytes.utf8("a/b/c");
        final UnsafeBuffer payload = Bytes.utf8("hello");
        final UnsafeBuffer out = new UnsafeBuffer(new byte[256]);
        for (final int version : new int[]{ MqttVersion.V3_1_1, MqttVersion.V5 })
        {
            final PublishView view = new PublishView().flags(2, true, true).packetId(513)
                .topic(topic, 0, topic.capacity()).properties(properties, 0, propertiesLength)
                .payload(payload, 0, payload.capacity());
            final int n = PublishEncoder.encode(out, 0, version, view);
            assertEquals(PublishEncoder.encodedLength(version, view), n);

            final UnsafeBuffer packet = Bytes.exact(out, 0, n);
            final PublishDecoder decoder = new PublishDecoder();
            assertEquals(0, decoder.wrap(packet, 0, n, version));
            final PublishView decoded = new PublishView().wrap(decoder);
            assertEquals(2, decoded.qos());
            assertTrue(decoded.dup());
            assertTrue(decoded.retain());
            assertEquals(513, decoded.packetId());
            assertEquals("a/b/c", decoded.topicBuffer().getStringWithoutLengthUtf8(
                decoded.topicOffset(), decoded.topicLength()));
            assertEquals(MqttVersion.isV5(version) ? propertiesLength : 0, decoded.propertiesLength());
            assertEquals("hello", decoded.payloadBuffer().getStringWithoutLengthUtf8(
                decoded.payloadOffset(), decoded.payloadLength()));

            final UnsafeBuffer again = new UnsafeBuffer(new byte[256]);
            assertEquals(n, PublishEncoder.encode(again, 0, version, decoded));
            assertEquals(Bytes.toHex(packet, 0, n), Bytes.toHex(again, 0, n), "v" + version);
        }
    }

    @Test
    void headerFlagsRoundTripEveryNibble()
    {
        final PublishView view = new PublishView();
        for (int qos = 0; qos <= 2; qos++)
        {
            for (final boolean dup : new boolean[]{ false, true })
            {
                for (final boolean retain : new boolean[]{ false, true })
                {
                    final int flags = PublishEncoder.flags(qos, dup, retain);
                    view.headerFlags(flags);
                    assertEquals(qos, view.qos());
                    assertEquals(dup, view.dup());
                    assertEquals(retain, view.retain());
                    assertEquals(flags, view.headerFlags());
                }
            }
        }
    }

    @Test
    void resetForgetsTheLastMessage()
    {
        final UnsafeBuffer bytes = Bytes.utf8("t");
        final PublishView view = new PublishView().flags(1, true, true).packetId(7)
            .topic(bytes, 0, 1).properties(bytes, 0, 1).payload(bytes, 0, 1).reset();
        assertEquals(0, view.qos());
        assertFalse(view.dup());
        assertFalse(view.retain());
        assertEquals(0, view.packetId());
        assertNull(view.topicBuffer());
        assertEquals(0, view.topicLength() + view.propertiesLength() + view.payloadLength());
    }
}
