/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The load generator's WebSocket client side (RFC 6455): the HTTP/1.1 upgrade request and response check, masked
 * client frames written in place in a send buffer, and a streaming deframer of the broker's frames into the MQTT
 * receive buffer. Nothing on the per-message path allocates.
 */
final class WebSocketFraming
{
    /** Room reserved in front of every open frame's payload: 2 + 8 length bytes + 4 mask bytes. */
    static final int MAX_CLIENT_HEADER = 14;
    static final int OPCODE_CONTINUATION = 0x0;
    static final int OPCODE_TEXT = 0x1;
    static final int OPCODE_BINARY = 0x2;
    static final int OPCODE_CLOSE = 0x8;
    static final int OPCODE_PING = 0x9;
    static final int OPCODE_PONG = 0xA;
    static final int MAX_CONTROL_PAYLOAD = 125;
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private WebSocketFraming()
    {
    }

    /**
     * @param payloadLength bytes of payload.
     * @return length of a masked client frame header for it.
     */
    static int clientHeaderLength(final long payloadLength)
    {
        return payloadLength < 126 ? 6 : payloadLength < 65536 ? 8 : 14;
    }

    /**
     * Turn the bytes {@code [payloadStart, payloadEnd)} of {@code buffer} into one masked client frame that starts at
     * {@code frameStart}: write the header there and slide the payload left over any unused header room while
     * masking it in place.
     *
     * @param buffer       holding the payload, absolute indices.
     * @param frameStart   where the frame must begin; {@code payloadStart - frameStart} must be at least the header.
     * @param payloadStart first payload byte.
     * @param payloadEnd   after the last payload byte.
     * @param opcode       of the frame (FIN is always set).
     * @param mask         masking key, big-endian: the first key byte is the high byte.
     * @return index after the frame.
     */
    static int frameInPlace(
        final ByteBuffer buffer,
        final int frameStart,
        final int payloadStart,
        final int payloadEnd,
        final int opcode,
        final int mask)
    {
        final int length = payloadEnd - payloadStart;
        final int headerLength = clientHeaderLength(length);
        final int gap = payloadStart - frameStart - headerLength;
        if (gap < 0)
        {
            throw new IllegalArgumentException("no room for the frame header");
        }

        // Mask, moving left by gap: reading at i happens before anything at or after i is overwritten.
        final long mask64 = ((long)mask << 32) | (mask & 0xFFFF_FFFFL);
        int i = payloadStart;
        final int longEnd = payloadStart + (length & ~7);
        while (i < longEnd)
        {
            buffer.putLong(i - gap, buffer.getLong(i) ^ mask64);
            i += 8;
        }
        while (i < payloadEnd)
        {
            final int shift = (3 - ((i - payloadStart) & 3)) << 3;
            buffer.put(i - gap, (byte)(buffer.get(i) ^ (mask >>> shift)));
            i++;
        }

        int h = frameStart;
        buffer.put(h++, (byte)(0x80 | opcode));
        if (length < 126)
        {
            buffer.put(h++, (byte)(0x80 | length));
        }
        else if (length < 65536)
        {
            buffer.put(h++, (byte)(0x80 | 126));
            buffer.putShort(h, (short)length);
            h += 2;
        }
        else
        {
            buffer.put(h++, (byte)(0x80 | 127));
            buffer.putLong(h, length);
            h += 8;
        }
        buffer.putInt(h, mask);

        return frameStart + headerLength + length;
    }

    /**
     * @return a random masking key (never allocates).
     */
    static int randomMask()
    {
        return ThreadLocalRandom.current().nextInt();
    }

    /**
     * @return a random base64 16-byte {@code Sec-WebSocket-Key}.
     */
    static String randomKey()
    {
        final byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        return Base64.getEncoder().encodeToString(nonce);
    }

    /**
     * @param host as in the Host header (with port).
     * @param path request target.
     * @param key  Sec-WebSocket-Key.
     * @return the upgrade request head.
     */
    static byte[] upgradeRequest(final String host, final String path, final String key)
    {
        return ("GET " + path + " HTTP/1.1\r\n" +
            "Host: " + host + "\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Key: " + key + "\r\n" +
            "Sec-WebSocket-Version: 13\r\n" +
            "Sec-WebSocket-Protocol: mqtt\r\n" +
            "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * @param key Sec-WebSocket-Key sent.
     * @return the Sec-WebSocket-Accept the server must answer.
     */
    static String expectedAccept(final String key)
    {
        try
        {
            final byte[] digest = MessageDigest.getInstance("SHA-1")
                .digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /**
     * Find the end of an HTTP response head in {@code buffer[0, limit)}.
     *
     * @return index after the blank line, or -1 when not complete yet.
     */
    static int headEnd(final ByteBuffer buffer, final int limit)
    {
        for (int i = 3; i < limit; i++)
        {
            if (buffer.get(i) == '\n' && buffer.get(i - 1) == '\r' && buffer.get(i - 2) == '\n' &&
                buffer.get(i - 3) == '\r')
            {
                return i + 1;
            }
        }
        return -1;
    }

    /**
     * Check an upgrade response head.
     *
     * @param head the response head text.
     * @param key  the Sec-WebSocket-Key sent.
     * @return null when it is a valid 101 for subprotocol mqtt, else why not.
     */
    static String checkUpgradeResponse(final String head, final String key)
    {
        final String[] lines = head.split("\r\n");
        final String status = lines.length > 0 ? lines[0] : "";
        if (!status.startsWith("HTTP/1.1 101"))
        {
            return "WebSocket upgrade refused: \"" + status + "\" (expected HTTP/1.1 101)";
        }
        String accept = null;
        String protocol = null;
        for (int i = 1; i < lines.length; i++)
        {
            final int colon = lines[i].indexOf(':');
            if (colon > 0)
            {
                final String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                final String value = lines[i].substring(colon + 1).trim();
                if ("sec-websocket-accept".equals(name))
                {
                    accept = value;
                }
                else if ("sec-websocket-protocol".equals(name))
                {
                    protocol = value;
                }
            }
        }
        if (!expectedAccept(key).equals(accept))
        {
            return "WebSocket upgrade: bad Sec-WebSocket-Accept " + accept;
        }
        if (null != protocol && !"mqtt".equalsIgnoreCase(protocol))
        {
            return "WebSocket upgrade: server chose subprotocol " + protocol + ", not mqtt";
        }
        return null;
    }

    /**
     * Streaming deframer of server frames: data frame payloads go to the MQTT receive buffer, whatever the frame
     * boundaries; a complete control frame stops the call so the caller can answer it. One per connection.
     */
    static final class Deframer
    {
        static final int DATA = 0;
        static final int PING = 1;
        static final int CLOSE = 2;
        static final int PONG = 3;
        static final int ERROR = -1;

        /** Payload bytes of the current data frame not yet moved. */
        private long remaining;
        private boolean masked;
        private int mask;
        private long maskOffset;
        private boolean inFragmentedMessage;
        final byte[] control = new byte[MAX_CONTROL_PAYLOAD];
        int controlLength;
        String error;
        /** Bytes of {@code in} consumed by the last {@link #unwrap} call. */
        int consumed;

        /**
         * Move what is complete of {@code in[0, in.position())} into {@code out} (at its position, up to its limit),
         * compacting {@code in}. Stops after a control frame (returns its kind), when {@code out} is full, or when
         * only part of a header is left.
         *
         * @param in  raw bytes read from the socket, write mode.
         * @param out MQTT receive buffer, write mode.
         * @return DATA, PING, PONG, CLOSE or ERROR (see {@link #error}).
         */
        int unwrap(final ByteBuffer in, final ByteBuffer out)
        {
            final int limit = in.position();
            int offset = 0;
            int result = DATA;
            while (offset < limit)
            {
                if (remaining > 0)
                {
                    final int n = (int)Math.min(remaining, Math.min(limit - offset, out.remaining()));
                    if (0 == n)
                    {
                        break;
                    }
                    final int at = out.position();
                    out.put(at, in, offset, n);
                    if (masked)
                    {
                        for (int i = 0; i < n; i++)
                        {
                            final int shift = (3 - (int)((maskOffset + i) & 3)) << 3;
                            out.put(at + i, (byte)(out.get(at + i) ^ (mask >>> shift)));
                        }
                        maskOffset += n;
                    }
                    out.position(at + n);
                    offset += n;
                    remaining -= n;
                    continue;
                }

                // A frame header.
                if (limit - offset < 2)
                {
                    break;
                }
                final int b0 = in.get(offset) & 0xFF;
                final int b1 = in.get(offset + 1) & 0xFF;
                final int opcode = b0 & 0x0F;
                final boolean fin = (b0 & 0x80) != 0;
                final boolean isMasked = (b1 & 0x80) != 0;
                int headerLength = 2 + (isMasked ? 4 : 0);
                long length = b1 & 0x7F;
                if (126 == length)
                {
                    headerLength += 2;
                }
                else if (127 == length)
                {
                    headerLength += 8;
                }
                if (limit - offset < headerLength)
                {
                    break;
                }
                if ((b0 & 0x70) != 0)
                {
                    return fail("frame with reserved bits set (no extension was negotiated)");
                }
                int p = offset + 2;
                if (126 == length)
                {
                    length = in.getShort(p) & 0xFFFF;
                    p += 2;
                }
                else if (127 == length)
                {
                    length = in.getLong(p);
                    p += 8;
                    if (length < 0)
                    {
                        return fail("frame length out of range");
                    }
                }
                final int frameMask = isMasked ? in.getInt(p) : 0;

                if (opcode >= 0x8)
                {
                    if (!fin || length > MAX_CONTROL_PAYLOAD)
                    {
                        return fail("fragmented or oversized control frame");
                    }
                    if (limit - offset < headerLength + length)
                    {
                        break;
                    }
                    controlLength = (int)length;
                    in.get(offset + headerLength, control, 0, controlLength);
                    if (isMasked)
                    {
                        for (int i = 0; i < controlLength; i++)
                        {
                            control[i] ^= (byte)(frameMask >>> ((3 - (i & 3)) << 3));
                        }
                    }
                    offset += headerLength + controlLength;
                    switch (opcode)
                    {
                        case OPCODE_PING: result = PING; break;
                        case OPCODE_PONG: result = PONG; break;
                        case OPCODE_CLOSE: result = CLOSE; break;
                        default: return fail("unknown control opcode 0x" + Integer.toHexString(opcode));
                    }
                    break;
                }

                if (OPCODE_BINARY == opcode || OPCODE_TEXT == opcode)
                {
                    if (OPCODE_TEXT == opcode)
                    {
                        return fail("text frame (MQTT needs binary frames)");
                    }
                    if (inFragmentedMessage)
                    {
                        return fail("new data frame inside a fragmented message");
                    }
                }
                else if (OPCODE_CONTINUATION == opcode)
                {
                    if (!inFragmentedMessage)
                    {
                        return fail("continuation frame without a message");
                    }
                }
                else
                {
                    return fail("unknown opcode 0x" + Integer.toHexString(opcode));
                }
                inFragmentedMessage = !fin;
                masked = isMasked;
                mask = frameMask;
                maskOffset = 0;
                remaining = length;
                offset += headerLength;
            }

            consumed = offset;
            if (offset > 0)
            {
                in.limit(limit).position(offset);
                in.compact();
            }

            return result;
        }

        /**
         * @return the close code of the last CLOSE frame, or 1005 when it carried none.
         */
        int closeCode()
        {
            return controlLength >= 2 ? ((control[0] & 0xFF) << 8) | (control[1] & 0xFF) : 1005;
        }

        private int fail(final String message)
        {
            error = message;
            consumed = 0;
            return ERROR;
        }
    }
}
