/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The load generator's WebSocket framing: masked client frames built in place, and the deframer fed frames split
 * at every possible point.
 */
class WebSocketFramingTest
{
    @Test
    void shouldFrameInPlaceWithEveryHeaderSize()
    {
        for (final int length : new int[]{ 0, 1, 7, 125, 126, 1000, 65535, 65536, 70001 })
        {
            final byte[] payload = randomBytes(length);
            final ByteBuffer buffer = ByteBuffer.allocateDirect(length + 64);
            final int frameStart = 3;
            final int payloadStart = frameStart + WebSocketFraming.MAX_CLIENT_HEADER;
            buffer.put(payloadStart, payload);
            final int mask = 0x12345678;
            final int end = WebSocketFraming.frameInPlace(
                buffer, frameStart, payloadStart, payloadStart + length, WebSocketFraming.OPCODE_BINARY, mask);

            final int header = WebSocketFraming.clientHeaderLength(length);
            assertEquals(frameStart + header + length, end);
            assertEquals((byte)0x82, buffer.get(frameStart));
            assertEquals(0x80, buffer.get(frameStart + 1) & 0x80, "masked");
            final int len7 = buffer.get(frameStart + 1) & 0x7F;
            final long decodedLength = len7 < 126 ? len7 : len7 == 126 ?
                buffer.getShort(frameStart + 2) & 0xFFFF : buffer.getLong(frameStart + 2);
            assertEquals(length, decodedLength);
            assertEquals(mask, buffer.getInt(frameStart + header - 4));
            final byte[] unmasked = new byte[length];
            for (int i = 0; i < length; i++)
            {
                unmasked[i] = (byte)(buffer.get(frameStart + header + i) ^ (mask >>> ((3 - (i & 3)) << 3)));
            }
            assertArrayEquals(payload, unmasked, "length " + length);
        }
    }

    @Test
    void shouldDeframeSplitFramesAndSeveralPacketsPerFrame()
    {
        // Three "MQTT" chunks standing for packets: two in one frame, one fragmented over a frame and a continuation,
        // a ping in between, and a 16-bit-length frame.
        final byte[] a = randomBytes(10);
        final byte[] b = randomBytes(300);
        final byte[] c1 = randomBytes(5);
        final byte[] c2 = randomBytes(7);
        final ByteBuffer stream = ByteBuffer.allocate(1024);
        serverFrame(stream, 0x02, true, concat(a, b));
        serverFrame(stream, 0x02, false, c1);
        serverFrame(stream, 0x09, true, new byte[]{ 1, 2, 3 });
        serverFrame(stream, 0x00, true, c2);
        final byte[] wire = new byte[stream.position()];
        stream.flip().get(wire);
        final byte[] expected = concat(concat(a, b), concat(c1, c2));

        // Every split into two reads, then byte by byte.
        for (int split = 0; split <= wire.length; split++)
        {
            assertDeframes(wire, expected, new int[]{ split, wire.length - split });
        }
        final int[] ones = new int[wire.length];
        java.util.Arrays.fill(ones, 1);
        assertDeframes(wire, expected, ones);
    }

    @Test
    void shouldReportCloseAndRejectTextFrames()
    {
        final ByteBuffer in = ByteBuffer.allocate(64);
        serverFrame(in, 0x08, true, new byte[]{ 0x03, (byte)0xE9 });
        final WebSocketFraming.Deframer deframer = new WebSocketFraming.Deframer();
        assertEquals(WebSocketFraming.Deframer.CLOSE, deframer.unwrap(in, ByteBuffer.allocate(64)));
        assertEquals(1001, deframer.closeCode());

        final ByteBuffer text = ByteBuffer.allocate(64);
        serverFrame(text, 0x01, true, new byte[]{ 'x' });
        assertEquals(WebSocketFraming.Deframer.ERROR, new WebSocketFraming.Deframer().unwrap(text, ByteBuffer.allocate(64)));
    }

    @Test
    void shouldCheckUpgradeResponse()
    {
        final String key = "dGhlIHNhbXBsZSBub25jZQ==";
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketFraming.expectedAccept(key));
        assertNull(WebSocketFraming.checkUpgradeResponse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" +
            "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
            "Sec-WebSocket-Protocol: mqtt\r\n\r\n", key));
        assertTrue(WebSocketFraming.checkUpgradeResponse("HTTP/1.1 404 Not Found\r\n\r\n", key).contains("404"));
    }

    private static void assertDeframes(final byte[] wire, final byte[] expected, final int[] reads)
    {
        final WebSocketFraming.Deframer deframer = new WebSocketFraming.Deframer();
        final ByteBuffer in = ByteBuffer.allocateDirect(wire.length);
        final ByteBuffer out = ByteBuffer.allocateDirect(expected.length);
        int fed = 0;
        int pings = 0;
        for (final int read : reads)
        {
            in.put(wire, fed, read);
            fed += read;
            while (true)
            {
                final int status = deframer.unwrap(in, out);
                assertTrue(status >= 0, deframer.error);
                if (WebSocketFraming.Deframer.PING == status)
                {
                    pings++;
                    assertEquals(3, deframer.controlLength);
                    continue;
                }
                if (0 == deframer.consumed)
                {
                    break;
                }
            }
        }
        assertEquals(1, pings, "ping seen once");
        assertEquals(0, in.position(), "all consumed");
        final byte[] actual = new byte[out.position()];
        out.flip().get(actual);
        assertArrayEquals(expected, actual);
    }

    private static void serverFrame(final ByteBuffer buffer, final int opcode, final boolean fin, final byte[] payload)
    {
        buffer.put((byte)((fin ? 0x80 : 0) | opcode));
        if (payload.length < 126)
        {
            buffer.put((byte)payload.length);
        }
        else
        {
            buffer.put((byte)126).putShort((short)payload.length);
        }
        buffer.put(payload);
    }

    private static byte[] concat(final byte[] x, final byte[] y)
    {
        final byte[] r = new byte[x.length + y.length];
        System.arraycopy(x, 0, r, 0, x.length);
        System.arraycopy(y, 0, r, x.length, y.length);
        return r;
    }

    private static byte[] randomBytes(final int length)
    {
        final byte[] bytes = new byte[length];
        ThreadLocalRandom.current().nextBytes(bytes);
        return bytes;
    }
}
