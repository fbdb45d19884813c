package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;

/** Test helpers: exact-size buffers so any out-of-bounds read throws. */
final class Bytes
{
    private Bytes()
    {
    }

    /** Parses hex bytes separated by spaces; "'abc'" inserts ASCII characters; '#' starts a comment to end of line. */
    static UnsafeBuffer hex(final String s)
    {
        final byte[] out = new byte[s.length()];
        int n = 0;
        int i = 0;
        while (i < s.length())
        {
            final char c = s.charAt(i);
            if (Character.isWhitespace(c))
            {
                i++;
            }
            else if (c == '#')
            {
                final int eol = s.indexOf('\n', i);
                i = eol < 0 ? s.length() : eol + 1;
            }
            else if (c == '\'')
            {
                final int end = s.indexOf('\'', i + 1);
                for (final byte b : s.substring(i + 1, end).getBytes(StandardCharsets.UTF_8))
                {
                    out[n++] = b;
                }
                i = end + 1;
            }
            else
            {
                out[n++] = (byte)Integer.parseInt(s.substring(i, i + 2), 16);
                i += 2;
            }
        }
        final byte[] exact = new byte[n];
        System.arraycopy(out, 0, exact, 0, n);
        return new UnsafeBuffer(exact);
    }

    static UnsafeBuffer utf8(final String s)
    {
        return new UnsafeBuffer(s.getBytes(StandardCharsets.UTF_8));
    }

    static UnsafeBuffer exact(final DirectBuffer src, final int offset, final int length)
    {
        final byte[] bytes = new byte[length];
        src.getBytes(offset, bytes);
        return new UnsafeBuffer(bytes);
    }

    static String toHex(final DirectBuffer b, final int offset, final int length)
    {
        final StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++)
        {
            sb.append(String.format("%02x ", b.getByte(offset + i) & 0xFF));
        }
        return sb.toString().trim();
    }
}
