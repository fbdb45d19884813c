package dev.skylark.codec.ws;

import org.agrona.DirectBuffer;

/**
 * Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates (U+D800-U+DFFF), nothing above U+10FFFF.
 */
final class Utf8
{
    private Utf8()
    {
    }

    static boolean isValid(final DirectBuffer buffer, final int offset, final int length)
    {
        int i = offset;
        final int end = offset + length;
        while (i < end)
        {
            final int b0 = buffer.getByte(i) & 0xFF;
            if (b0 < 0x80)
            {
                i++;
                continue;
            }

            final int extra;
            final int min;
            int codePoint;
            if (b0 >= 0xC2 && b0 <= 0xDF)
            {
                extra = 1;
                min = 0x80;
                codePoint = b0 & 0x1F;
            }
            else if (b0 >= 0xE0 && b0 <= 0xEF)
            {
                extra = 2;
                min = 0x800;
                codePoint = b0 & 0x0F;
            }
            else if (b0 >= 0xF0 && b0 <= 0xF4)
            {
                extra = 3;
                min = 0x10000;
                codePoint = b0 & 0x07;
            }
            else
            {
                return false; // continuation byte as lead, C0/C1 overlong lead, or F5-FF
            }

            if (end - i <= extra)
            {
                return false;
            }
            for (int k = 1; k <= extra; k++)
            {
                final int b = buffer.getByte(i + k) & 0xFF;
                if ((b & 0xC0) != 0x80)
                {
                    return false;
                }
                codePoint = (codePoint << 6) | (b & 0x3F);
            }
            if (codePoint < min || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF))
            {
                return false;
            }
            i += extra + 1;
        }
        return true;
    }
}
