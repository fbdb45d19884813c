package dev.skylark.codec.ws;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Plays a socket: appends chunks to a receive buffer, calls the decoder until it makes no progress, and moves
 * unconsumed bytes back to the start (as the broker's connection buffer will).
 */
final class Feeder
{
    /** Sentinel result when everything was fed and the decoder did not fail. */
    static final int OK = Integer.MIN_VALUE;

    private Feeder()
    {
    }

    /**
     * @return {@link #OK}, or the first negative decoder result.
     */
    static int feed(
        final WebSocketFrameDecoder decoder,
        final byte[] wire,
        final int[] chunkSizes,
        final int baseOffset,
        final RecordingHandler handler)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[baseOffset + wire.length + 16]);
        int start = baseOffset;
        int limit = baseOffset;
        int fed = 0;
        int chunkIndex = 0;
        while (fed < wire.length || limit > start)
        {
            if (fed < wire.length)
            {
                final int size = Math.min(
                    Math.max(1, chunkSizes[chunkIndex++ % chunkSizes.length]), wire.length - fed);
                buffer.putBytes(limit, wire, fed, size);
                limit += size;
                fed += size;
            }

            while (limit > start)
            {
                final int result = decoder.onBytes(buffer, start, limit - start, handler);
                if (result < 0)
                {
                    return result;
                }
                if (result == 0)
                {
                    break;
                }
                start += result;
            }

            if (decoder.isCloseReceived())
            {
                return OK;
            }

            if (start > baseOffset)
            {
                buffer.putBytes(baseOffset, buffer, start, limit - start);
                limit = baseOffset + (limit - start);
                start = baseOffset;
            }

            if (fed == wire.length && limit > start)
            {
                // Nothing more will come: an incomplete trailer. The caller's assertion will catch it.
                return OK;
            }
        }
        return OK;
    }

    static int feedWhole(final WebSocketFrameDecoder decoder, final byte[] wire, final RecordingHandler handler)
    {
        return feed(decoder, wire, new int[]{ wire.length }, 0, handler);
    }
}
