package dev.skylark.codec.ws;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.ByteArrayOutputStream;

/** Builds a byte sequence of frames for decoder tests. */
final class Wire
{
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Wire masked(final int opcode, final boolean fin, final int maskKey, final byte[] payload)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[payload.length + 14]);
        final int length = WebSocketFrameEncoder.encodeMaskedFrame(
            buffer, 0, opcode, fin, maskKey, new UnsafeBuffer(payload), 0, payload.length);
        out.write(buffer.byteArray(), 0, length);
        return this;
    }

    Wire unmasked(final int opcode, final boolean fin, final byte[] payload)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[payload.length + 14]);
        final int length = WebSocketFrameEncoder.encodeFrame(
            buffer, 0, opcode, fin, new UnsafeBuffer(payload), 0, payload.length);
        out.write(buffer.byteArray(), 0, length);
        return this;
    }

    Wire raw(final int... bytes)
    {
        for (final int b : bytes)
        {
            out.write(b);
        }
        return this;
    }

    Wire raw(final byte[] bytes)
    {
        out.writeBytes(bytes);
        return this;
    }

    byte[] bytes()
    {
        return out.toByteArray();
    }

    static byte[] pattern(final int length, final int seed)
    {
        final byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(i * 31 + seed);
        }
        return bytes;
    }
}
