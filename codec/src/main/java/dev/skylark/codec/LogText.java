package dev.skylark.codec;

/**
 * Makes text a client controls (client ids, user names, topics, JWT {@code kid}/{@code alg}, HTTP paths) safe to put
 * in a log line: control characters (C0, DEL, C1, U+2028/U+2029) are written as escapes ({@code \n}, {@code \r},
 * {@code \t}, {@code \xNN}, {@code \}{@code uNNNN}), a backslash as two, so no one can forge a line or hide part of
 * one; and a field is cut at {@link #FIELD_MAX} characters, the rest counted ({@code …(+N)}). Text that needs
 * neither comes back as the same {@code String}, so the common case allocates nothing. Every place such text reaches
 * a log line goes through here; the connection log also passes whole lines through {@link #line}.
 */
public final class LogText
{
    /** Longest client-controlled field kept in a log line, characters. */
    public static final int FIELD_MAX = 256;
    /** Longest whole log line kept (its fields already capped), characters. */
    public static final int LINE_MAX = 4096;

    private LogText()
    {
    }

    /** A client-controlled field: control characters escaped, cut at {@link #FIELD_MAX}; "null" for null. */
    public static String of(final CharSequence text)
    {
        return escape(text, FIELD_MAX);
    }

    /**
     * A whole line built from escaped fields: control characters escaped, cut at {@link #LINE_MAX}; a backslash is
     * left as it is (the fields' escapes are not escaped twice).
     */
    public static String line(final CharSequence text)
    {
        return escape(text, LINE_MAX, false);
    }

    /** Control characters and backslashes escaped and the text cut at {@code max} characters. */
    public static String escape(final CharSequence text, final int max)
    {
        return escape(text, max, true);
    }

    private static String escape(final CharSequence text, final int max, final boolean backslash)
    {
        if (text == null)
        {
            return "null";
        }
        final int length = text.length();
        if (length <= max && clean(text, backslash))
        {
            return text.toString();
        }
        final int kept = Math.min(length, max);
        final StringBuilder out = new StringBuilder(kept + 16);
        for (int i = 0; i < kept; i++)
        {
            final char c = text.charAt(i);
            if (c == '\\' && backslash)
            {
                out.append("\\\\");
            }
            else if (c == '\n')
            {
                out.append("\\n");
            }
            else if (c == '\r')
            {
                out.append("\\r");
            }
            else if (c == '\t')
            {
                out.append("\\t");
            }
            else if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
            {
                out.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xF, 16));
            }
            else if (c == '\u2028' || c == '\u2029')
            {
                out.append("\\u").append(Integer.toHexString(c));
            }
            else
            {
                out.append(c);
            }
        }
        if (length > kept)
        {
            out.append("…(+").append(length - kept).append(')');
        }
        return out.toString();
    }

    private static boolean clean(final CharSequence text, final boolean backslash)
    {
        for (int i = 0, length = text.length(); i < length; i++)
        {
            final char c = text.charAt(i);
            if (c < 0x20 || (c == '\\' && backslash) || (c >= 0x7F && c <= 0x9F) || c == '\u2028' || c == '\u2029')
            {
                return false;
            }
        }
        return true;
    }
}
