/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.skylark.benchmarks.load.ClientPacketEncoder.MQTT_3_1_1;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.MQTT_5;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientPacketCodecTest
{
    private final ClientPacketDecoder decoder = new ClientPacketDecoder(64 * 1024);

    @ParameterizedTest
    @CsvSource({
        "4, 0, 16", "4, 1, 64", "4, 2, 64", "5, 0, 64", "5, 1, 16",
        // remaining length crossing the 1 -> 2 and 2 -> 3 byte varint boundaries
        "4, 0, 106", "4, 0, 107", "5, 1, 16359", "5, 1, 16360" })
    void shouldEncodePublishAndParseItBack(final int version, final int qos, final int payloadLength)
    {
        final PublishTemplate template = ClientPacketEncoder.publishTemplate(version, "devices/7/telemetry", qos,
            payloadLength);
        final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);

        assertEquals(template.length(), template.writeTo(buffer, 4242, 123_456_789_012L, 7, 99));
        assertEquals(template.length(), buffer.position());

        assertEquals(template.length(), decoder.wrap(buffer, 0, buffer.position()));
        assertEquals(ClientPacketEncoder.PUBLISH, decoder.type());
        assertEquals(qos, decoder.publishQos());
        if (qos > 0)
        {
            assertEquals(4242, decoder.publishPacketId());
        }
        final int payload = decoder.publishPayloadOffset(version);
        assertEquals(payloadLength, decoder.endOffset() - payload);
        assertEquals(123_456_789_012L, buffer.getLong(payload + PayloadDescriptor.TIMESTAMP_OFFSET));
        assertEquals(7, buffer.getInt(payload + PayloadDescriptor.PUBLISHER_OFFSET));
        assertEquals(99, buffer.getInt(payload + PayloadDescriptor.SEQUENCE_OFFSET));
    }

    @Test
    void shouldReportIncompleteForEverySplitUntilTheLastByte()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(1024);
        final PublishTemplate template = ClientPacketEncoder.publishTemplate(MQTT_5, "devices/1/telemetry", 1, 200);
        template.writeTo(buffer, 1, 1L, 1, 1);
        final int length = buffer.position();

        for (int received = 0; received < length; received++)
        {
            assertEquals(ClientPacketDecoder.INCOMPLETE, decoder.wrap(buffer, 0, received), "bytes " + received);
        }
        assertEquals(length, decoder.wrap(buffer, 0, length));
    }

    @Test
    void shouldFrameCoalescedPackets()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(1024);
        ClientPacketEncoder.encodeAck(buffer, ClientPacketEncoder.PUBACK, 1);
        ClientPacketEncoder.encodeAck(buffer, ClientPacketEncoder.PUBREL, 2);
        ClientPacketEncoder.encodeEmpty(buffer, ClientPacketEncoder.PINGREQ);
        final int limit = buffer.position();

        assertEquals(4, decoder.wrap(buffer, 0, limit));
        assertEquals(ClientPacketEncoder.PUBACK, decoder.type());
        assertEquals(1, decoder.packetId());
        assertEquals(0, decoder.ackReasonCode());

        assertEquals(4, decoder.wrap(buffer, 4, limit));
        assertEquals(0x60, decoder.type());
        assertEquals(0x2, decoder.flags());
        assertEquals(2, decoder.packetId());

        assertEquals(2, decoder.wrap(buffer, 8, limit));
        assertEquals(ClientPacketEncoder.PINGREQ, decoder.type());
    }

    @Test
    void shouldRejectFiveByteRemainingLength()
    {
        final ByteBuffer buffer = ByteBuffer.wrap(new byte[]{
            0x30,                                   // PUBLISH QoS 0
            (byte)0xFF, (byte)0xFF, (byte)0xFF, (byte)0xFF, 0x01 });  // varint continues past 4 bytes

        assertEquals(ClientPacketDecoder.MALFORMED, decoder.wrap(buffer, 0, buffer.limit()));
    }

    @Test
    void shouldRejectPacketLargerThanLimitAsSoonAsLengthIsKnown()
    {
        final ClientPacketDecoder small = new ClientPacketDecoder(100);
        final ByteBuffer buffer = ByteBuffer.wrap(new byte[]{
            0x30,          // PUBLISH QoS 0
            0x62 });       // remaining length 98 -> 100 bytes total: fits
        assertEquals(ClientPacketDecoder.INCOMPLETE, small.wrap(buffer, 0, buffer.limit()));

        buffer.put(1, (byte)0x63);  // remaining length 99 -> 101 bytes total: too large
        assertEquals(ClientPacketDecoder.MALFORMED, small.wrap(buffer, 0, buffer.limit()));
    }

    @Test
    void shouldEncodeConnect311WithCredentials()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(256);
        final int length = ClientPacketEncoder.encodeConnect(buffer, MQTT_3_1_1, "c1", 60, "u", "pw");

        final byte[] expected = {
            0x10, 21,                                  // CONNECT, remaining length
            0, 4, 'M', 'Q', 'T', 'T',                  // protocol name
            4,                                         // protocol level 3.1.1
            (byte)0xC2,                                // username | password | clean session
            0, 60,                                     // keep-alive
            0, 2, 'c', '1',                            // client id
            0, 1, 'u',                                 // username
            0, 2, 'p', 'w' };                          // password
        assertEquals(expected.length, length);
        final byte[] actual = new byte[length];
        buffer.flip().get(actual);
        assertArrayEquals(expected, actual);
    }

    @Test
    void shouldEncodePersistentConnect311WithCleanSessionZero()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(256);
        final int length = ClientPacketEncoder.encodeConnect(buffer, MQTT_3_1_1, "c1", 60, null, null, 3600);

        final byte[] expected = {
            0x10, 14,                                  // CONNECT, remaining length
            0, 4, 'M', 'Q', 'T', 'T',                  // protocol name
            4,                                         // protocol level 3.1.1
            0x00,                                      // Clean Session 0: the broker keeps the session
            0, 60,                                     // keep-alive
            0, 2, 'c', '1' };                          // client id
        assertEquals(expected.length, length);
        final byte[] actual = new byte[length];
        buffer.flip().get(actual);
        assertArrayEquals(expected, actual);
    }

    @Test
    void shouldEncodePersistentConnect5WithCleanStartAndSessionExpiry()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(256);
        final int length = ClientPacketEncoder.encodeConnect(buffer, MQTT_5, "c1", 60, "u", null, 3600);

        final byte[] expected = {
            0x10, 23,                                  // CONNECT, remaining length
            0, 4, 'M', 'Q', 'T', 'T',                  // protocol name
            5,                                         // protocol level 5.0
            (byte)0x82,                                // username | Clean Start 1 (no earlier session's messages)
            0, 60,                                     // keep-alive
            5,                                         // property length
            0x11, 0, 0, 0x0E, 0x10,                    // Session Expiry Interval 3600 s
            0, 2, 'c', '1',                            // client id
            0, 1, 'u' };                               // username
        assertEquals(expected.length, length);
        final byte[] actual = new byte[length];
        buffer.flip().get(actual);
        assertArrayEquals(expected, actual);
    }

    @Test
    void shouldEncodeCleanConnect5WithoutProperties()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(256);
        final int length = ClientPacketEncoder.encodeConnect(buffer, MQTT_5, "c1", 60, null, null);

        final byte[] expected = {
            0x10, 15,                                  // CONNECT, remaining length
            0, 4, 'M', 'Q', 'T', 'T',                  // protocol name
            5,                                         // protocol level 5.0
            0x02,                                      // Clean Start 1
            0, 60,                                     // keep-alive
            0,                                         // no properties
            0, 2, 'c', '1' };                          // client id
        assertEquals(expected.length, length);
        final byte[] actual = new byte[length];
        buffer.flip().get(actual);
        assertArrayEquals(expected, actual);
    }

    @Test
    void shouldLeaveBufferUntouchedWhenPersistentConnectDoesNotFit()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(24);
        assertEquals(ClientPacketEncoder.INSUFFICIENT_CAPACITY,
            ClientPacketEncoder.encodeConnect(buffer, MQTT_5, "c1", 60, "u", null, 3600));
        assertEquals(0, buffer.position());
    }

    @Test
    void shouldEncodeDisconnectEndingTheSession()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(16);
        final int length = ClientPacketEncoder.encodeDisconnectEndingSession(buffer);

        final byte[] expected = {
            (byte)0xE0, 7,                             // DISCONNECT, remaining length
            0,                                         // normal disconnection
            5, 0x11, 0, 0, 0, 0 };                     // Session Expiry Interval 0: the session ends now
        assertEquals(expected.length, length);
        assertEquals(ClientPacketEncoder.DISCONNECT_END_SESSION_LENGTH, length);
        final byte[] actual = new byte[length];
        buffer.flip().get(actual);
        assertArrayEquals(expected, actual);
        assertEquals(ClientPacketEncoder.INSUFFICIENT_CAPACITY,
            ClientPacketEncoder.encodeDisconnectEndingSession(ByteBuffer.allocate(8)));
    }

    @Test
    void shouldEncodeSubscribe5()
    {
        final ByteBuffer buffer = ByteBuffer.allocate(256);
        ClientPacketEncoder.encodeSubscribe(buffer, MQTT_5, 1, "$share/g/a/+", 1);

        final byte[] expected = {
            (byte)0x82, 18,                            // SUBSCRIBE, remaining length
            0, 1,                                      // packet id
            0,                                         // no properties
            0, 12, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'a', '/', '+',
            1 };                                       // options: QoS 1
        final byte[] actual = new byte[buffer.position()];
        buffer.flip().get(actual);
        assertArrayEquals(expected, actual);
    }

    @Test
    void shouldReadReceiveMaximumAmongOtherConnackProperties()
    {
        final ByteBuffer buffer = ByteBuffer.wrap(new byte[]{
            0x20, 19,                                  // CONNACK, remaining length
            0, 0,                                      // flags, success
            16,                                        // properties length
            0x22, 0, 10,                               // topic alias maximum 10
            0x1F, 0, 2, 'o', 'k',                      // reason string "ok"
            0x21, 0, 20,                               // receive maximum 20
            0x24, 1,                                   // maximum QoS 1
            0x13, 0, 30 });                            // server keep alive 30
        assertEquals(21, decoder.wrap(buffer, 0, buffer.limit()));
        assertEquals(ClientPacketEncoder.CONNACK, decoder.type());
        assertEquals(0, decoder.connackReasonCode());
        assertEquals(20, decoder.connackReceiveMaximum(65535));
        assertEquals(30, decoder.connackServerKeepAlive(60));
    }

    @Test
    void shouldUseDefaultsForConnack311AndReadRefusal()
    {
        final ByteBuffer buffer = ByteBuffer.wrap(new byte[]{
            0x20, 2,                                   // CONNACK, remaining length
            0, 5 });                                   // flags, not authorized
        assertEquals(4, decoder.wrap(buffer, 0, buffer.limit()));
        assertEquals(5, decoder.connackReasonCode());
        assertEquals(65535, decoder.connackReceiveMaximum(65535));
    }

    @Test
    void shouldRejectConnackPropertyOverrunningItsLength()
    {
        final ByteBuffer buffer = ByteBuffer.wrap(new byte[]{
            0x20, 6,                                   // CONNACK, remaining length
            0, 0,                                      // flags, success
            2,                                         // properties length 2 ...
            0x21, 0, 20 });                            // ... but receive maximum needs 3
        assertEquals(8, decoder.wrap(buffer, 0, buffer.limit()));
        assertEquals(ClientPacketDecoder.MALFORMED, decoder.connackReceiveMaximum(65535));
    }

    @Test
    void shouldReadSubackReasonCodeAfterProperties()
    {
        final ByteBuffer buffer = ByteBuffer.wrap(new byte[]{
            (byte)0x90, 8,                             // SUBACK, remaining length
            0, 1,                                      // packet id
            4, 0x1F, 0, 1, 'x',                        // properties: reason string "x"
            (byte)0x87 });                             // not authorized
        assertEquals(10, decoder.wrap(buffer, 0, buffer.limit()));
        assertEquals(1, decoder.packetId());
        assertEquals(0x87, decoder.subackReasonCode(MQTT_5));
    }

    @Test
    void shouldAllocateFreePacketIdsAndWrap()
    {
        final ClientConnection c = new ClientConnection(ClientConnection.Role.PUBLISHER, 0, "p", 64, 64,
            ClientPacketEncoder.publishTemplate(MQTT_3_1_1, "t", 1, 16), 3, 0);

        assertEquals(1, c.acquirePacketId());
        assertEquals(2, c.acquirePacketId());
        assertTrue(c.releasePacketId(1));
        assertFalse(c.releasePacketId(1), "double ack");
        assertFalse(c.releasePacketId(77), "unknown id");
        assertEquals(1, c.inflight);

        for (int i = 3; i <= 65535; i++)
        {
            assertEquals(i, c.acquirePacketId());
            assertTrue(c.releasePacketId(i));
        }
        assertEquals(1, c.acquirePacketId(), "wraps to 1");
        assertEquals(3, c.acquirePacketId(), "skips 2, still in flight");
    }
}
