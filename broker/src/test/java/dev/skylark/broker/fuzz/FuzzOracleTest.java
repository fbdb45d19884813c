package dev.skylark.broker.fuzz;

import org.junit.jupiter.api.Test;

import static dev.skylark.broker.fuzz.Packets.bytes;
import static dev.skylark.broker.fuzz.Packets.concat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fuzzer's own judges, on byte literals: they pass what the specification allows and catch what it does not. */
class FuzzOracleTest
{
    private static ResponseOracle feed(final byte[]... packets)
    {
        final ResponseOracle oracle = new ResponseOracle();
        final byte[] all = concat(packets);
        for (final byte b : all)
        {
            oracle.onBytes(new byte[]{b}, 0, 1); // a byte at a time: packets split anywhere
        }
        return oracle;
    }

    @Test
    void acceptsAWellFormedV5Conversation()
    {
        final ResponseOracle oracle = feed(
            bytes(0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x04, 0x00),    // CONNACK, Receive Maximum 1024
            bytes(0x90, 0x04, 0x00, 0x01, 0x00, 0x97),                // SUBACK: Quota exceeded
            bytes(0x32, 0x08, 0x00, 0x01, 't', 0x00, 0x07, 0x00, 'x', 'y'), // PUBLISH QoS 1, no properties
            bytes(0xD0, 0x00),                                        // PINGRESP
            bytes(0xE0, 0x01, 0x81));                                 // DISCONNECT Malformed Packet
        assertTrue(oracle.isV5());
        assertEquals(1, oracle.pingResponses);
        assertEquals(0x81, oracle.disconnectReason);
        assertTrue(oracle.hasEnded());
        oracle.onClose();
    }

    @Test
    void acceptsA311RefusalThenTheClose()
    {
        final ResponseOracle oracle = feed(bytes(0x20, 0x02, 0x00, 0x02));
        assertFalse(oracle.isV5());
        assertTrue(oracle.hasEnded());
        oracle.onClose();
    }

    @Test
    void catchesWhatTheSpecificationForbids()
    {
        final byte[] connack3 = bytes(0x20, 0x02, 0x00, 0x00);
        final byte[] connack5 = bytes(0x20, 0x03, 0x00, 0x00, 0x00);
        assertThrows(AssertionError.class, () -> feed(bytes(0xD0, 0x00)), "PINGRESP before CONNACK");
        assertThrows(AssertionError.class, () -> feed(connack3, bytes(0xE0, 0x00)), "DISCONNECT in 3.1.1");
        assertThrows(AssertionError.class, () -> feed(connack5, bytes(0xE0, 0x01, 0x04)), "0x04 is the client's");
        assertThrows(AssertionError.class, () -> feed(connack5, bytes(0xE0, 0x01, 0x81), bytes(0xD0, 0x00)),
            "a packet after DISCONNECT");
        assertThrows(AssertionError.class, () -> feed(bytes(0x20, 0x03, 0x00, 0x04, 0x00)), "0x04 in a CONNACK");
        assertThrows(AssertionError.class, () -> feed(bytes(0x20, 0x03, 0x01, 0x80, 0x00)),
            "session present with a refusal");
        assertThrows(AssertionError.class, () -> feed(connack3, bytes(0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01)),
            "PUBLISH QoS 3");
        assertThrows(AssertionError.class, () -> feed(connack3, bytes(0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00)),
            "packet id 0");
        assertThrows(AssertionError.class, () -> feed(connack3, bytes(0x30, 0x04, 0x00, 0x01, '#', 'x')),
            "a wildcard in a delivered topic");
        assertThrows(AssertionError.class, () -> feed(connack3, bytes(0x90, 0x03, 0x00, 0x01, 0x97)),
            "0x97 is not a 3.1.1 SUBACK code");
        assertThrows(AssertionError.class, () -> feed(connack3, bytes(0x62, 0x03, 0x00, 0x01, 0x00)),
            "a 3.1.1 PUBREL is 2 bytes");
        assertThrows(AssertionError.class, () -> feed(connack5, bytes(0x40, 0x04, 0x00, 0x01, 0x00, 0x01)),
            "properties longer than the packet");
        assertThrows(AssertionError.class, () -> feed(connack5, bytes(0x10, 0x00)), "CONNECT from a server");
        assertThrows(AssertionError.class, () -> feed(connack5, bytes(0xD0, 0x80, 0x00)), "non-minimal length");
        assertThrows(AssertionError.class, () -> feed(connack5, bytes(0xD0)).onClose(), "cut off mid-packet");
    }

    @Test
    void streamModelCompletesCasesToAPacketBoundary()
    {
        final StreamModel model = new StreamModel();
        model.analyse(bytes(0x30, 0x03, 0x00, 0x01), 16_384);
        assertEquals(1, model.padding, "one body byte missing");
        assertEquals(0, model.mustClose);

        final byte[] cut = bytes(0x30, 0x85);                  // Remaining Length cut short after one byte
        model.analyse(cut, 16_384);
        assertEquals(134, model.padding, "0x85 0x01 = 133: the ending byte and 133 body bytes");
        final byte[] padded = StreamModel.padded(cut, model);
        assertArrayEquals(bytes(0x30, 0x85, 0x01), java.util.Arrays.copyOf(padded, 3));
        assertEquals(136, padded.length);

        model.analyse(bytes(0xC0, 0x00, 0xC0, 0x00, 0x30), 16_384);
        assertEquals(2, model.pings);
        assertEquals(1, model.padding, "a lone type byte gets Remaining Length 0");

        assertEquals(StreamModel.MALFORMED_LENGTH, model.analyse(bytes(0x30, 0xFF, 0xFF, 0xFF, 0xFF), 16_384).mustClose);
        assertEquals(StreamModel.MALFORMED_LENGTH, model.analyse(bytes(0x30, 0x80, 0x00), 16_384).mustClose);
        assertEquals(StreamModel.TOO_LARGE, model.analyse(bytes(0x30, 0xFF, 0x7F), 16_384).mustClose);
        assertEquals(StreamModel.TOO_LARGE, model.analyse(bytes(0xC0, 0x00, 0x30, 0xC1, 0xC1), 16_384).mustClose);
        assertEquals(1, model.mustCloseAt, "the second packet");
        assertEquals(1, model.padding, "the byte that ends the cut-short length goes out first");
    }
}
