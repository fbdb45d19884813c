package dev.skylark.broker.fuzz;

/**
 * What the broker's framer must make of the bytes of one case, sent from a packet boundary: MQTT framing is fully
 * specified (type byte, Remaining Length of 1 to 4 bytes, minimal, then the body), so the client can tell where
 * every packet ends. The case is then completed with zero bytes up to the end of its last packet, so that a
 * PINGREQ behind it is a packet of its own and its PINGRESP marks the end of the case; unless a Remaining Length
 * is malformed or over the broker's maximum packet size, when the broker must close the connection instead.
 */
final class StreamModel
{
    /** The broker must close: a Remaining Length longer than 4 bytes or not minimal. */
    static final int MALFORMED_LENGTH = 1;
    /** The broker must close: the packet is larger than its maximum packet size. */
    static final int TOO_LARGE = 2;

    /**
     * Bytes to append so the case ends on a packet boundary; when {@link #mustClose} is set, only the byte that
     * ends a Remaining Length cut short (the broker cannot refuse a length it has not seen).
     */
    int padding;
    /** Whole packets in the case (padding included). */
    int packets;
    /** PINGREQ packets among them ({@code C0 00}): each gets a PINGRESP while the connection is up. */
    int pings;
    /** 0, {@link #MALFORMED_LENGTH} or {@link #TOO_LARGE}. */
    int mustClose;
    /** Index of the packet whose header makes the broker close. */
    int mustCloseAt;

    StreamModel analyse(final byte[] bytes, final int maxPacketSize)
    {
        padding = 0;
        packets = 0;
        pings = 0;
        mustClose = 0;
        mustCloseAt = -1;
        int at = 0;
        while (at < bytes.length)
        {
            final int available = bytes.length - at;
            if (available == 1)
            {
                padding = 1; // a Remaining Length of 0
                packets++;
                return this;
            }
            long value = 0;
            int lengthBytes = 0;
            int last = 0;
            boolean complete = false;
            for (int i = 0; i < 4 && at + 1 + i < bytes.length; i++)
            {
                last = bytes[at + 1 + i] & 0xFF;
                value |= (long)(last & 0x7F) << (7 * i);
                lengthBytes = i + 1;
                if ((last & 0x80) == 0)
                {
                    complete = true;
                    break;
                }
            }
            if (!complete)
            {
                if (lengthBytes == 4)
                {
                    return close(MALFORMED_LENGTH);
                }
                // The Remaining Length stops mid-way: end it with one more byte (minimal, value 1 there) and pad.
                // (Until that byte comes, the broker cannot know the length: it may wait for it.)
                final long total = 1 + (lengthBytes + 1) + (value | (1L << (7 * lengthBytes)));
                padding = 1;
                if (total > maxPacketSize)
                {
                    return close(TOO_LARGE);
                }
                padding = (int)(total - available);
                packets++;
                return this;
            }
            if (last == 0 && lengthBytes > 1)
            {
                return close(MALFORMED_LENGTH);
            }
            final long total = 1 + lengthBytes + value;
            if (total > maxPacketSize)
            {
                return close(TOO_LARGE);
            }
            if ((bytes[at] & 0xFF) == 0xC0 && value == 0)
            {
                pings++;
            }
            packets++;
            if (total > available)
            {
                padding = (int)(total - available);
                return this;
            }
            at += (int)total;
        }
        return this;
    }

    /** The case's bytes, completed. */
    static byte[] padded(final byte[] bytes, final StreamModel model)
    {
        if (model.padding == 0)
        {
            return bytes;
        }
        final byte[] out = java.util.Arrays.copyOf(bytes, bytes.length + model.padding);
        if (bytes.length > 0 && model.padding > 0)
        {
            completeLength(bytes, out);
        }
        return out;
    }

    /**
     * When the last packet's Remaining Length stopped mid-way, the first padding byte must end it: 0x01 (so the
     * length stays minimal) rather than 0x00.
     */
    private static void completeLength(final byte[] bytes, final byte[] out)
    {
        // Walk to the last packet's start again.
        int at = 0;
        while (at < bytes.length)
        {
            int i = 0;
            long value = 0;
            while (i < 4 && at + 1 + i < bytes.length && (bytes[at + 1 + i] & 0x80) != 0)
            {
                value |= (long)(bytes[at + 1 + i] & 0x7F) << (7 * i);
                i++;
            }
            if (at + 1 + i >= bytes.length)
            {
                if (i > 0)
                {
                    out[bytes.length] = 1; // the Remaining Length's last byte
                }
                return;
            }
            value |= (long)(bytes[at + 1 + i] & 0x7F) << (7 * i);
            at += (int)(1 + i + 1 + value);
        }
    }

    private StreamModel close(final int why)
    {
        mustClose = why;
        mustCloseAt = packets;
        return this;
    }
}
