package dev.skylark.codec.ws;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebSocketFramePropertiesTest
{
    private static final Set<Integer> ERROR_CODES = Set.of(-1002, -1003, -1007, -1009);

    @Provide
    Arbitrary<byte[]> payloads()
    {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(3000);
    }

    @Provide
    Arbitrary<int[]> chunkings()
    {
        return Arbitraries.integers().between(1, 700).array(int[].class).ofMinSize(1).ofMaxSize(20);
    }

    @Property(tries = 300)
    void randomFramesMasksAndChunkingsGiveTheSameStream(
        @ForAll @Size(min = 1, max = 8) final List<@From("payloads") byte[]> payloads,
        @ForAll @Size(min = 8, max = 8) final List<Integer> masks,
        @ForAll("chunkings") final int[] chunks,
        @ForAll @IntRange(min = 0, max = 9) final int baseOffset,
        @ForAll @IntRange(min = 0, max = 3) final int pauseEvery)
    {
        final Wire wire = new Wire();
        final ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int i = 0; i < payloads.size(); i++)
        {
            final byte[] payload = payloads.get(i);
            final boolean last = i == payloads.size() - 1;
            // Alternate whole messages and a fragmented tail, with a ping in between.
            final int opcode = i == 0 || (i % 3 == 0) ? WebSocketOpcode.BINARY : WebSocketOpcode.CONTINUATION;
            final boolean fin = last || ((i + 1) % 3 == 0);
            wire.masked(opcode, fin, masks.get(i), payload);
            if (i % 2 == 1)
            {
                wire.masked(WebSocketOpcode.PING, true, masks.get(i) ^ 0x5A5A5A5A, new byte[i * 7]);
            }
            expected.writeBytes(payload);
        }

        final RecordingHandler handler = new RecordingHandler();
        handler.pauseEvery = pauseEvery;
        final WebSocketFrameDecoder decoder = new WebSocketFrameDecoder(1 << 16);
        assertEquals(Feeder.OK, Feeder.feed(decoder, wire.bytes(), chunks, baseOffset, handler));
        assertArrayEquals(expected.toByteArray(), handler.bytes());
        assertTrue(decoder.isAtFrameBoundary());
    }

    @Property(tries = 1000)
    void garbageNeverThrows(
        @ForAll @Size(max = 400) final byte[] garbage,
        @ForAll("chunkings") final int[] chunks,
        @ForAll final WebSocketFrameDecoder.Role role)
    {
        final WebSocketFrameDecoder decoder =
            new WebSocketFrameDecoder(role, 200, WebSocketFrameDecoder.TextFramePolicy.DELIVER);
        final int result = Feeder.feed(decoder, garbage, chunks, 3, new RecordingHandler());
        assertTrue(result == Feeder.OK || ERROR_CODES.contains(result), "result " + result);
    }

    @Property(tries = 1000)
    void garbageHandshakeNeverThrows(@ForAll @Size(max = 600) final byte[] garbage, @ForAll final boolean prefixed)
    {
        final byte[] prefix = "GET /mqtt HTTP/1.1\r\nHost: h\r\n".getBytes();
        final byte[] input = prefixed ? new Wire().raw(prefix).raw(garbage).raw("\r\n\r\n".getBytes()).bytes() : garbage;
        final int result = new HttpUpgradeRequestDecoder(512).decode(new UnsafeBuffer(input), 0, input.length);
        assertTrue(result >= -9 && result <= input.length, "result " + result);
    }

    @Property(tries = 500)
    void maskingMatchesByteAtATimeReference(
        @ForAll @Size(max = 100) final byte[] data,
        @ForAll final int maskKey,
        @ForAll @IntRange(min = 0, max = 3) final int phase,
        @ForAll @IntRange(min = 0, max = 7) final int offset)
    {
        final UnsafeBuffer fast = new UnsafeBuffer(new byte[data.length + 8]);
        final UnsafeBuffer slow = new UnsafeBuffer(new byte[data.length + 8]);
        fast.putBytes(offset, data);
        slow.putBytes(offset, data);
        assertEquals(
            WebSocketMasking.maskSimple(slow, offset, data.length, maskKey, phase),
            WebSocketMasking.mask(fast, offset, data.length, maskKey, phase));
        assertArrayEquals(slow.byteArray(), fast.byteArray());
    }

    @Property(tries = 300)
    void maskingSplitAnywhereEqualsMaskingWhole(
        @ForAll @Size(max = 64) final byte[] data,
        @ForAll final int maskKey,
        @ForAll @IntRange(min = 0, max = 64) final int splitAt)
    {
        final int split = Math.min(splitAt, data.length);
        final UnsafeBuffer whole = new UnsafeBuffer(data.clone());
        final UnsafeBuffer parts = new UnsafeBuffer(data.clone());
        WebSocketMasking.mask(whole, 0, data.length, maskKey, 0);
        final int phase = WebSocketMasking.mask(parts, 0, split, maskKey, 0);
        WebSocketMasking.mask(parts, split, data.length - split, maskKey, phase);
        assertArrayEquals(whole.byteArray(), parts.byteArray());
    }
}
