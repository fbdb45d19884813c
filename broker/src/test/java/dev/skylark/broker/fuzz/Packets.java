package dev.skylark.broker.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Byte builders for MQTT packets written as literals (shared by the fuzzer and the raw-socket tests). */
public final class Packets
{
    public static final byte[] PINGREQ = {(byte)0xC0, 0};

    private Packets()
    {
    }

    /** The fixed-header byte, the Remaining Length computed from the parts, then the parts. */
    public static byte[] packet(final int header, final byte[]... parts)
    {
        final byte[] body = concat(parts);
        final ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 5);
        out.write(header);
        out.writeBytes(varint(body.length));
        out.writeBytes(body);
        return out.toByteArray();
    }

    public static byte[] varint(final int value)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(4);
        int rest = value;
        do
        {
            final int digit = rest & 0x7F;
            rest >>>= 7;
            out.write(rest > 0 ? digit | 0x80 : digit);
        }
        while (rest > 0);
        return out.toByteArray();
    }

    public static byte[] bytes(final int... values)
    {
        final byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++)
        {
            bytes[i] = (byte)values[i];
        }
        return bytes;
    }

    /** A length-prefixed UTF-8 string. */
    public static byte[] str(final String value)
    {
        final byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        final byte[] out = new byte[2 + utf8.length];
        out[0] = (byte)(utf8.length >> 8);
        out[1] = (byte)utf8.length;
        System.arraycopy(utf8, 0, out, 2, utf8.length);
        return out;
    }

    /** A v5 property block: its length as a varint, then the properties. */
    public static byte[] props(final byte[]... properties)
    {
        final byte[] body = concat(properties);
        return concat(varint(body.length), body);
    }

    public static byte[] concat(final byte[]... parts)
    {
        int length = 0;
        for (final byte[] part : parts)
        {
            length += part.length;
        }
        final byte[] out = new byte[length];
        int at = 0;
        for (final byte[] part : parts)
        {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }

    public static String hex(final byte[] bytes, final int limit)
    {
        final StringBuilder out = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, limit); i++)
        {
            out.append(String.format("%02x", bytes[i] & 0xFF));
        }
        if (bytes.length > limit)
        {
            out.append("...(").append(bytes.length).append(" bytes)");
        }
        return out.toString();
    }
}
