package dev.skylark.codec.ws;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Property-style tests driven by a seeded random generator: deterministic, and the seed is in every message so a
 * failure can be replayed. (Plain JUnit rather than jqwik, whose engine asks AI agents not to use it.)
 */
class WebSocketFramePropertiesTest
{
    private static final long SEED = 0x5EED_CAFEL;
    private static final Set<Integer> ERROR_CODES = Set.of(-1002, -1003, -1007, -1009);

    private static byte[] bytes(final Random random, final int maxSize)
    {
        final byte[] bytes = new byte[random.nextInt(maxSize + 1)];
        random.nextBytes(bytes);
        return bytes;
    }

    private static int[] chunkings(final Random random)
    {
        final int[] chunks = new int[1 + random.nextInt(20)];
        for (int i = 0; i < chunks.length; i++)
        {
            chunks[i] = 1 + random.nextInt(700);
        }
        return chunks;
    }

    @Test
    void randomFramesMasksAndChunkingsGiveTheSameStream()
    {
        final Random random = new Random(SEED);
        for (int trial = 0; trial < 300; trial++)
        {
            final int count = 1 + random.nextInt(8);
            final Wire wire = new Wire();
            final ByteArrayOutputStream expected = new ByteArrayOutputStream();
            for (int i = 0; i < count; i++)
            {
                final byte[] payload = bytes(random, 3000);
                final int mask = random.nextInt();
                final boolean last = i == count - 1;
                // Alternate whole messages and a fragmented tail, with a ping in between.
                final int opcode = i == 0 || (i % 3 == 0) ? WebSocketOpcode.BINARY : WebSocketOpcode.CONTINUATION;
                final boolean fin = last || ((i + 1) % 3 == 0);
                wire.masked(opcode, fin, mask, payload);
                if (i % 2 == 1)
                {
                    wire.masked(WebSocketOpcode.PING, true, mask ^ 0x5A5A5A5A, new byte[i * 7]);
                }
                expected.writeBytes(payload);
            }

            final RecordingHandler handler = new RecordingHandler();
            handler.pauseEvery = random.nextInt(4);
            final WebSocketFrameDecoder decoder = new WebSocketFrameDecoder(1 << 16);
            final String where = "seed " + SEED + " trial " + trial;
            assertEquals(Feeder.OK, Feeder.feed(decoder, wire.bytes(), chunkings(random), random.nextInt(10), handler),
                where);
            assertArrayEquals(expected.toByteArray(), handler.bytes(), where);
            assertTrue(decoder.isAtFrameBoundary(), where);
        }
    }

    @Test
    void garbageNeverThrows()
    {
        final Random random = new Random(SEED + 1);
        for (int trial = 0; trial < 1000; trial++)
        {
            final WebSocketFrameDecoder.Role role = random.nextBoolean() ?
                WebSocketFrameDecoder.Role.SERVER : WebSocketFrameDecoder.Role.CLIENT;
            final WebSocketFrameDecoder decoder =
                new WebSocketFrameDecoder(role, 200, WebSocketFrameDecoder.TextFramePolicy.DELIVER);
            final int result = Feeder.feed(decoder, bytes(random, 400), chunkings(random), 3, new RecordingHandler());
            assertTrue(result == Feeder.OK || ERROR_CODES.contains(result), "trial " + trial + " result " + result);
        }
    }

    @Test
    void garbageHandshakeNeverThrows()
    {
        final Random random = new Random(SEED + 2);
        final byte[] prefix = "GET /mqtt HTTP/1.1\r\nHost: h\r\n".getBytes();
        for (int trial = 0; trial < 1000; trial++)
        {
            final byte[] garbage = bytes(random, 600);
            final byte[] input = random.nextBoolean() ?
                new Wire().raw(prefix).raw(garbage).raw("\r\n\r\n".getBytes()).bytes() : garbage;
            final int result = new HttpUpgradeRequestDecoder(512).decode(new UnsafeBuffer(input), 0, input.length);
            assertTrue(result >= -9 && result <= input.length, "trial " + trial + " result " + result);
        }
    }

    @Test
    void maskingMatchesByteAtATimeReference()
    {
        final Random random = new Random(SEED + 3);
        for (int trial = 0; trial < 500; trial++)
        {
            final byte[] data = bytes(random, 100);
            final int maskKey = random.nextInt();
            final int phase = random.nextInt(4);
            final int offset = random.nextInt(8);
            final UnsafeBuffer fast = new UnsafeBuffer(new byte[data.length + 8]);
            final UnsafeBuffer slow = new UnsafeBuffer(new byte[data.length + 8]);
            fast.putBytes(offset, data);
            slow.putBytes(offset, data);
            assertEquals(
                WebSocketMasking.maskSimple(slow, offset, data.length, maskKey, phase),
                WebSocketMasking.mask(fast, offset, data.length, maskKey, phase), "trial " + trial);
            assertArrayEquals(slow.byteArray(), fast.byteArray(), "trial " + trial);
        }
    }

    @Test
    void maskingSplitAnywhereEqualsMaskingWhole()
    {
        final Random random = new Random(SEED + 4);
        for (int trial = 0; trial < 300; trial++)
        {
            final byte[] data = bytes(random, 64);
            final int maskKey = random.nextInt();
            final int split = Math.min(random.nextInt(65), data.length);
            final UnsafeBuffer whole = new UnsafeBuffer(data.clone());
            final UnsafeBuffer parts = new UnsafeBuffer(data.clone());
            WebSocketMasking.mask(whole, 0, data.length, maskKey, 0);
            final int phase = WebSocketMasking.mask(parts, 0, split, maskKey, 0);
            WebSocketMasking.mask(parts, split, data.length - split, maskKey, phase);
            assertArrayEquals(whole.byteArray(), parts.byteArray(), "trial " + trial);
        }
    }
}
