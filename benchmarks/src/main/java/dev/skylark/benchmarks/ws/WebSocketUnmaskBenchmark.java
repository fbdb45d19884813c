package dev.skylark.benchmarks.ws;

import dev.skylark.codec.ws.WebSocketFrameDecoder;
import dev.skylark.codec.ws.WebSocketFrameEncoder;
import dev.skylark.codec.ws.WebSocketFrameHandler;
import dev.skylark.codec.ws.WebSocketMasking;
import dev.skylark.codec.ws.WebSocketOpcode;
import dev.skylark.benchmarks.BenchmarkJvm;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Decoding a masked binary frame in place: header parse + 8-bytes-per-step unmasking + one handler call.
 * <p>
 * Unmasking is its own inverse, so decoding the same bytes again re-masks them: each invocation flips the
 * payload between masked and unmasked and the frame header is untouched, so the input stays a valid frame and
 * there is no per-invocation copy to subtract. Throughput in bytes/s = ops/s × payloadLength.
 * {@link #unmaskOnly} isolates the XOR loop; {@link #unmaskByteAtATime} is the naive baseline.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = { BenchmarkJvm.ADD_EXPORTS_MISC, BenchmarkJvm.ADD_EXPORTS_NIO })
public class WebSocketUnmaskBenchmark
{
    private static final int MASK_KEY = 0x37FA213D;

    @Param({ "1024", "65536" })
    int payloadLength;

    private final UnsafeBuffer buffer = new UnsafeBuffer(0, 0);
    private final WebSocketFrameDecoder decoder = new WebSocketFrameDecoder(1 << 20);
    private final SinkHandler handler = new SinkHandler();
    private int frameLength;
    private int headerLength;

    @Setup
    public void setup()
    {
        headerLength = WebSocketFrameEncoder.maskedHeaderLength(payloadLength);
        frameLength = headerLength + payloadLength;
        // Start the frame at an odd offset so the 8-byte steps are unaligned, as they are in a receive buffer.
        buffer.wrap(BufferUtil.allocateDirectAligned(frameLength + 64, 64), 0, frameLength + 64);
        final int offset = 1;
        WebSocketFrameEncoder.encodeMaskedHeader(
            buffer, offset, WebSocketOpcode.BINARY, true, MASK_KEY, payloadLength);
        for (int i = 0; i < payloadLength; i++)
        {
            buffer.putByte(offset + headerLength + i, (byte)i);
        }
        WebSocketMasking.mask(buffer, offset + headerLength, payloadLength, MASK_KEY, 0);
    }

    @Benchmark
    public long decodeFrame()
    {
        final int consumed = decoder.onBytes(buffer, 1, frameLength, handler);
        return consumed + handler.checksum;
    }

    @Benchmark
    public int unmaskOnly()
    {
        return WebSocketMasking.mask(buffer, 1 + headerLength, payloadLength, MASK_KEY, 0) + buffer.getByte(5);
    }

    @Benchmark
    public int unmaskByteAtATime()
    {
        return WebSocketMasking.maskSimple(buffer, 1 + headerLength, payloadLength, MASK_KEY, 0) + buffer.getByte(5);
    }

    static final class SinkHandler implements WebSocketFrameHandler
    {
        long checksum;

        @Override
        public boolean onData(final DirectBuffer buffer, final int offset, final int length)
        {
            checksum += length + buffer.getByte(offset + length - 1);
            return true;
        }

        @Override
        public void onPing(final DirectBuffer buffer, final int offset, final int length)
        {
        }

        @Override
        public void onPong(final DirectBuffer buffer, final int offset, final int length)
        {
        }

        @Override
        public void onClose(final int code, final DirectBuffer reason, final int offset, final int length)
        {
        }
    }
}
