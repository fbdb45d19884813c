package dev.skylark.codec.ws;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static dev.skylark.codec.ws.WebSocketFrameDecoder.Role.CLIENT;
import static dev.skylark.codec.ws.WebSocketFrameDecoder.Role.SERVER;
import static dev.skylark.codec.ws.WebSocketFrameDecoder.TextFramePolicy.DELIVER;
import static dev.skylark.codec.ws.WebSocketFrameDecoder.TextFramePolicy.REJECT;
import static dev.skylark.codec.ws.WebSocketOpcode.BINARY;
import static dev.skylark.codec.ws.WebSocketOpcode.CLOSE;
import static dev.skylark.codec.ws.WebSocketOpcode.CONTINUATION;
import static dev.skylark.codec.ws.WebSocketOpcode.PING;
import static dev.skylark.codec.ws.WebSocketOpcode.PONG;
import static dev.skylark.codec.ws.WebSocketOpcode.TEXT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebSocketFrameDecoderTest
{
    private static final int MAX = 1 << 20;
    private static final int MASK = 0x37FA213D; // RFC 6455 section 5.7

    private final RecordingHandler handler = new RecordingHandler();

    private static WebSocketFrameDecoder server()
    {
        return new WebSocketFrameDecoder(MAX);
    }

    private static byte[] bytes(final int... values)
    {
        final byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++)
        {
            bytes[i] = (byte)values[i];
        }
        return bytes;
    }

    private static byte[] ascii(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ---- RFC 6455 section 5.7 examples ----

    @Test
    void rfcSingleFrameUnmaskedText()
    {
        final WebSocketFrameDecoder decoder = new WebSocketFrameDecoder(CLIENT, MAX, DELIVER);
        final byte[] wire = bytes(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f);
        assertEquals(wire.length, decoder.onBytes(new UnsafeBuffer(wire), 0, wire.length, handler));
        assertEquals("Hello", handler.text());
        assertEquals(TEXT, decoder.messageOpcode());
    }

    @Test
    void rfcSingleFrameMaskedText()
    {
        final WebSocketFrameDecoder decoder = new WebSocketFrameDecoder(SERVER, MAX, DELIVER);
        final byte[] wire = bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
        assertEquals(wire.length, decoder.onBytes(new UnsafeBuffer(wire), 0, wire.length, handler));
        assertEquals("Hello", handler.text());
    }

    @Test
    void rfcFragmentedUnmaskedText()
    {
        final WebSocketFrameDecoder decoder = new WebSocketFrameDecoder(CLIENT, MAX, DELIVER);
        final byte[] wire = bytes(0x01, 0x03, 0x48, 0x65, 0x6c, /* */ 0x80, 0x02, 0x6c, 0x6f);
        final UnsafeBuffer buffer = new UnsafeBuffer(wire);
        assertEquals(5, decoder.onBytes(buffer, 0, 5, handler));
        assertTrue(decoder.isInFragmentedMessage());
        assertEquals(4, decoder.onBytes(buffer, 5, 4, handler));
        assertFalse(decoder.isInFragmentedMessage());
        assertEquals("Hello", handler.text());
    }

    @Test
    void rfcPingAndMaskedPong()
    {
        final byte[] ping = bytes(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f);
        final WebSocketFrameDecoder client = new WebSocketFrameDecoder(CLIENT, MAX, REJECT);
        assertEquals(ping.length, client.onBytes(new UnsafeBuffer(ping), 0, ping.length, handler));

        final byte[] pong = bytes(0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
        assertEquals(pong.length, server().onBytes(new UnsafeBuffer(pong), 0, pong.length, handler));
        assertEquals(List.of("ping:Hello", "pong:Hello"), handler.events);
    }

    @Test
    void rfc256ByteAnd64KiBUnmaskedBinary()
    {
        final byte[] wire = new Wire()
            .raw(0x82, 0x7E, 0x01, 0x00).raw(Wire.pattern(256, 1))
            .raw(0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0).raw(Wire.pattern(65536, 2))
            .bytes();
        final WebSocketFrameDecoder decoder = new WebSocketFrameDecoder(CLIENT, MAX, REJECT);
        assertEquals(wire.length, decoder.onBytes(new UnsafeBuffer(wire), 0, wire.length, handler));
        final ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(Wire.pattern(256, 1));
        expected.writeBytes(Wire.pattern(65536, 2));
        assertArrayEquals(expected.toByteArray(), handler.bytes());
    }

    // ---- lengths, masking, offsets ----

    @ParameterizedTest
    @ValueSource(ints = { 0, 1, 7, 8, 9, 125, 126, 127, 65535, 65536, 70001 })
    void maskedLengthsAtOddOffsets(final int length)
    {
        final byte[] payload = Wire.pattern(length, length);
        final byte[] wire = new Wire().masked(BINARY, true, 0xA1B2C3D4, payload).bytes();
        final int expectedHeader = length <= 125 ? 6 : length <= 65535 ? 8 : 14;
        assertEquals(expectedHeader + length, wire.length);
        for (int offset = 0; offset < 9; offset += 3)
        {
            final RecordingHandler h = new RecordingHandler();
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[wire.length + offset + 8]);
            buffer.putBytes(offset + 1, wire);
            final WebSocketFrameDecoder decoder = server();
            assertEquals(wire.length, decoder.onBytes(buffer, offset + 1, wire.length, h));
            assertArrayEquals(payload, h.bytes());
            assertTrue(decoder.isAtFrameBoundary());
        }
    }

    @Test
    void splitAtEveryByteBoundaryGivesSameStream()
    {
        final byte[] big = Wire.pattern(300, 9);
        final Wire wire = new Wire()
            .masked(BINARY, true, MASK, ascii("one"))
            .masked(PING, true, 0x01020304, ascii("p1"))
            .masked(BINARY, false, 0x11223344, big)                   // fragmented message ...
            .masked(PING, true, 0x55667788, ascii("p2"))              // ... with an interleaved ping
            .masked(CONTINUATION, false, 0x99AABBCC, ascii("mid"))
            .masked(PONG, true, 0xDDEEFF00, new byte[0])
            .masked(CONTINUATION, true, 0x0F1E2D3C, ascii("end"))
            .masked(BINARY, true, 0x12345678, new byte[0])
            .masked(CLOSE, true, 0x5A5A5A5A, bytes(0x03, 0xE8, 'b', 'y', 'e'));
        final byte[] bytes = wire.bytes();
        final ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(ascii("one"));
        expected.writeBytes(big);
        expected.writeBytes(ascii("midend"));
        final List<String> expectedEvents = List.of("ping:p1", "ping:p2", "pong:", "close:1000:bye");

        for (int split = 0; split <= bytes.length; split++)
        {
            for (int base = 0; base < 3; base++)
            {
                final RecordingHandler h = new RecordingHandler();
                final int[] chunks = split == 0 ? new int[]{ bytes.length } : new int[]{ split, bytes.length };
                assertEquals(Feeder.OK, Feeder.feed(server(), bytes, chunks, base, h), "split " + split);
                assertArrayEquals(expected.toByteArray(), h.bytes(), "split " + split);
                assertEquals(expectedEvents, h.events, "split " + split);
            }
        }

        final Random random = new Random(42);
        for (int round = 0; round < 500; round++)
        {
            final int[] chunks = new int[16];
            for (int i = 0; i < chunks.length; i++)
            {
                chunks[i] = 1 + random.nextInt(random.nextBoolean() ? 4 : 64);
            }
            final RecordingHandler h = new RecordingHandler();
            h.pauseEvery = random.nextInt(3);
            assertEquals(Feeder.OK, Feeder.feed(server(), bytes, chunks, random.nextInt(8), h));
            assertArrayEquals(expected.toByteArray(), h.bytes());
            assertEquals(expectedEvents, h.events);
        }
    }

    @Test
    void oneByteAtATime()
    {
        final byte[] payload = Wire.pattern(70000, 3);
        final byte[] wire = new Wire().masked(BINARY, true, 0xCAFEBABE, payload).bytes();
        final RecordingHandler h = new RecordingHandler();
        assertEquals(Feeder.OK, Feeder.feed(server(), wire, new int[]{ 1 }, 5, h));
        assertArrayEquals(payload, h.bytes());
    }

    @Test
    void incompleteHeaderConsumesNothing()
    {
        final byte[] wire = new Wire().masked(BINARY, true, MASK, Wire.pattern(200, 0)).bytes();
        final WebSocketFrameDecoder decoder = server();
        for (int n = 0; n < 8; n++) // 2 + 2 + 4 header bytes
        {
            assertEquals(0, decoder.onBytes(new UnsafeBuffer(wire.clone()), 0, n, handler), "n=" + n);
        }
        assertEquals(9, decoder.onBytes(new UnsafeBuffer(wire.clone()), 0, 9, handler));
        assertEquals(1, handler.bytes().length);
    }

    // ---- back pressure ----

    @Test
    void handlerPausesAndResumes()
    {
        final byte[] wire = new Wire()
            .masked(BINARY, true, MASK, ascii("abc"))
            .masked(BINARY, true, MASK, ascii("defg"))
            .bytes();
        final UnsafeBuffer buffer = new UnsafeBuffer(wire);
        final RecordingHandler h = new RecordingHandler();
        h.pauseEvery = 1;
        final WebSocketFrameDecoder decoder = server();

        assertEquals(9, decoder.onBytes(buffer, 0, wire.length, h));
        assertEquals("abc", h.text());
        assertEquals(10, decoder.onBytes(buffer, 9, 10, h)); // resumes at the second frame header
        assertEquals("abcdefg", h.text());
    }

    @Test
    void pauseMidFrameKeepsMaskPhase()
    {
        final byte[] payload = Wire.pattern(1001, 7);
        final byte[] wire = new Wire().masked(BINARY, true, 0x01234567, payload).bytes();
        final UnsafeBuffer buffer = new UnsafeBuffer(wire);
        final RecordingHandler h = new RecordingHandler();
        h.pauseEvery = 1;
        final WebSocketFrameDecoder decoder = server();

        int position = 0;
        for (final int step : new int[]{ 11, 3, 5, 13, 1 })
        {
            position += decoder.onBytes(buffer, position, step, h);
        }
        position += decoder.onBytes(buffer, position, wire.length - position, h);
        assertEquals(wire.length, position);
        assertArrayEquals(payload, h.bytes());
    }

    // ---- close ----

    @ParameterizedTest
    @ValueSource(ints = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999 })
    void validCloseCodes(final int code)
    {
        final byte[] wire = new Wire().masked(CLOSE, true, MASK, bytes(code >> 8, code, 'o', 'k')).bytes();
        final WebSocketFrameDecoder decoder = server();
        assertEquals(wire.length, decoder.onBytes(new UnsafeBuffer(wire), 0, wire.length, handler));
        assertEquals(code, handler.closeCode);
        assertEquals("ok", handler.closeReason);
        assertTrue(decoder.isCloseReceived());
    }

    @ParameterizedTest
    @ValueSource(ints = { 0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535 })
    void invalidCloseCodesAreProtocolErrors(final int code)
    {
        final byte[] wire = new Wire().masked(CLOSE, true, MASK, bytes(code >> 8, code)).bytes();
        assertEquals(-1002, server().onBytes(new UnsafeBuffer(wire), 0, wire.length, handler));
        assertEquals(-1, handler.closeCode);
    }

    @Test
    void emptyCloseReportsNoStatusAndStopsDecoding()
    {
        final byte[] wire = new Wire()
            .masked(CLOSE, true, MASK, new byte[0])
            .masked(BINARY, true, MASK, ascii("after"))
            .bytes();
        final WebSocketFrameDecoder decoder = server();
        assertEquals(6, decoder.onBytes(new UnsafeBuffer(wire), 0, wire.length, handler));
        assertEquals(WebSocketCloseCode.NO_STATUS_RECEIVED, handler.closeCode);
        assertEquals(0, decoder.onBytes(new UnsafeBuffer(wire), 6, wire.length - 6, handler));
        assertEquals(0, handler.bytes().length);
    }

    @Test
    void closeWithOneBytePayloadIsProtocolError()
    {
        final byte[] wire = new Wire().masked(CLOSE, true, MASK, bytes(0x03)).bytes();
        assertEquals(-1002, server().onBytes(new UnsafeBuffer(wire), 0, wire.length, handler));
    }

    @Test
    void closeReasonMustBeUtf8()
    {
        final byte[][] bad = {
            bytes(0xFF),                   // never valid
            bytes(0xC0, 0x80),             // overlong NUL
            bytes(0xE0, 0x80, 0xAF),       // overlong '/'
            bytes(0xED, 0xA0, 0x80),       // surrogate U+D800
            bytes(0xF4, 0x90, 0x80, 0x80), // above U+10FFFF
            bytes(0xE2, 0x82),             // truncated
            bytes(0x80),                   // lone continuation
        };
        for (final byte[] reason : bad)
        {
            final byte[] payload = new Wire().raw(0x03, 0xE8).raw(reason).bytes();
            final byte[] wire = new Wire().masked(CLOSE, true, MASK, payload).bytes();
            assertEquals(-1007, server().onBytes(new UnsafeBuffer(wire), 0, wire.length, handler));
        }

        final byte[] good = new Wire().raw(0x03, 0xE8).raw(ascii("é€\uD834\uDD1E")).bytes();
        final byte[] wire = new Wire().masked(CLOSE, true, MASK, good).bytes();
        assertEquals(wire.length, server().onBytes(new UnsafeBuffer(wire), 0, wire.length, handler));
        assertEquals("é€\uD834\uDD1E", handler.closeReason);
    }

    // ---- protocol violations, as byte literals ----

    private static int decode(final WebSocketFrameDecoder decoder, final int... wire)
    {
        final byte[] bytes = bytes(wire);
        return decoder.onBytes(new UnsafeBuffer(bytes), 0, bytes.length, new RecordingHandler());
    }

    @Test
    void rsvBitsAreProtocolErrors()
    {
        assertEquals(-1002, decode(server(), 0xC2)); // FIN + RSV1 (permessage-deflate never negotiated)
        assertEquals(-1002, decode(server(), 0xA2)); // RSV2
        assertEquals(-1002, decode(server(), 0x92)); // RSV3
    }

    @Test
    void reservedOpcodesAreProtocolErrors()
    {
        for (final int opcode : new int[]{ 3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF })
        {
            assertEquals(-1002, decode(server(), 0x80 | opcode, 0x80, 0, 0, 0, 0), "opcode " + opcode);
        }
    }

    @Test
    void maskBitMustMatchRole()
    {
        assertEquals(-1002, decode(server(), 0x82, 0x00));                      // unmasked client frame
        assertEquals(-1002, decode(new WebSocketFrameDecoder(CLIENT, MAX, REJECT),
            0x82, 0x80, 1, 2, 3, 4));                                           // masked server frame
    }

    @Test
    void nonMinimalLengthsAreProtocolErrors()
    {
        assertEquals(-1002, decode(server(), 0x82, 0xFE, 0x00, 0x7D));          // 125 in 16 bits
        assertEquals(-1002, decode(server(), 0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF)); // 65535 in 64 bits
        assertEquals(-1002, decode(server(), 0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0)); // 64-bit MSB set
    }

    @Test
    void oversizeIsMessageTooBig()
    {
        final WebSocketFrameDecoder decoder = new WebSocketFrameDecoder(1000);
        assertEquals(-1009, decode(decoder, 0x82, 0xFE, 0x03, 0xE9));            // 1001 > 1000
        assertEquals(-1009, decode(new WebSocketFrameDecoder(1000),
            0x82, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0));                            // 2^40
        assertEquals(0, decode(new WebSocketFrameDecoder(1000), 0x82, 0xFE, 0x03, 0xE8)); // 1000: need mask key

        final byte[] ok = new Wire().masked(BINARY, true, MASK, new byte[1000]).bytes();
        assertEquals(ok.length, new WebSocketFrameDecoder(1000).onBytes(new UnsafeBuffer(ok), 0, ok.length, handler));
    }

    @Test
    void controlFrameRules()
    {
        assertEquals(-1002, decode(server(), 0x89, 0xFE, 0x00, 0x7E));          // ping of 126 bytes
        assertEquals(-1002, decode(server(), 0x09, 0x80, 0, 0, 0, 0));          // fragmented ping
        assertEquals(-1002, decode(server(), 0x08, 0x80, 0, 0, 0, 0));          // fragmented close

        final byte[] ping125 = new Wire().masked(PING, true, MASK, new byte[125]).bytes();
        assertEquals(ping125.length, server().onBytes(new UnsafeBuffer(ping125), 0, ping125.length, handler));
    }

    @Test
    void fragmentationRules()
    {
        assertEquals(-1002, decode(server(), 0x80, 0x80, 0, 0, 0, 0));          // continuation without a start
        assertEquals(-1002, decode(server(), 0x00, 0x80, 0, 0, 0, 0));

        assertEquals(-1002, decode(server(),
            0x02, 0x80, 0, 0, 0, 0,                                              // binary, not FIN, empty
            0x82, 0x80, 0, 0, 0, 0));                                            // new binary inside it
    }

    @Test
    void textIsRejectedByDefault()
    {
        assertEquals(WebSocketFrameDecoder.UNSUPPORTED_DATA, decode(server(), 0x81));
        assertEquals(-1003, decode(server(), 0x81, 0x85));
    }

    @Test
    void failureIsSticky()
    {
        final WebSocketFrameDecoder decoder = server();
        assertEquals(-1002, decode(decoder, 0x82, 0x00));
        assertTrue(decoder.isFailed());
        final byte[] fine = new Wire().masked(BINARY, true, MASK, ascii("x")).bytes();
        assertEquals(-1002, decoder.onBytes(new UnsafeBuffer(fine), 0, fine.length, handler));
        decoder.reset();
        assertEquals(fine.length, decoder.onBytes(new UnsafeBuffer(fine), 0, fine.length, handler));
    }

    @Test
    void controlPayloadSplitAcrossReadsIsGathered()
    {
        final byte[] wire = new Wire().masked(PING, true, 0xDEADBEEF, ascii("0123456789")).bytes();
        final UnsafeBuffer buffer = new UnsafeBuffer(wire);
        final WebSocketFrameDecoder decoder = server();
        assertEquals(9, decoder.onBytes(buffer, 0, 9, handler));   // header (6) + 3 payload bytes
        assertEquals(List.of(), handler.events);
        assertEquals(7, decoder.onBytes(buffer, 9, 7, handler));
        assertEquals(List.of("ping:0123456789"), handler.events);
    }
}
