package dev.skylark.broker.it;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A client that speaks MQTT as byte literals, so a test can send exactly what it means and read exactly what the
 * broker answers.
 */
final class RawClient implements Closeable
{
    private final Socket socket;
    private final InputStream in;

    RawClient(final int port) throws IOException
    {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(5000);
        in = socket.getInputStream();
    }

    /** Writes a packet: the fixed-header byte, then the remaining length computed from the parts. */
    RawClient send(final int header, final byte[]... parts) throws IOException
    {
        socket.getOutputStream().write(packet(header, parts));
        return this;
    }

    /** Writes bytes as they are (several packets at once, or deliberately broken ones). */
    RawClient sendRaw(final byte[] bytes) throws IOException
    {
        socket.getOutputStream().write(bytes);
        return this;
    }

    static byte[] packet(final int header, final byte[]... parts)
    {
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (final byte[] part : parts)
        {
            body.writeBytes(part);
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(header);
        int length = body.size();
        do
        {
            int digit = length % 128;
            length /= 128;
            out.write(length > 0 ? digit | 0x80 : digit);
        }
        while (length > 0);
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    static byte[] bytes(final int... values)
    {
        final byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++)
        {
            bytes[i] = (byte)values[i];
        }
        return bytes;
    }

    /** A length-prefixed UTF-8 string. */
    static byte[] str(final String value)
    {
        final byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        final byte[] out = new byte[2 + utf8.length];
        out[0] = (byte)(utf8.length >> 8);
        out[1] = (byte)utf8.length;
        System.arraycopy(utf8, 0, out, 2, utf8.length);
        return out;
    }

    /** A v5 property block holding one Reason String: Property Length, 0x1F, the UTF-8 string. */
    static byte[] reason(final String text)
    {
        final byte[] property = concat(bytes(0x1F), str(text));
        final byte[] length = packet(0, property); // its remaining length is the property block's length
        return java.util.Arrays.copyOfRange(length, 1, length.length);
    }

    static byte[] concat(final byte[]... parts)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] part : parts)
        {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** Reads one whole packet (fixed header included), or null at end of stream. */
    byte[] read() throws IOException
    {
        final int first = in.read();
        if (first < 0)
        {
            return null;
        }
        final ByteArrayOutputStream header = new ByteArrayOutputStream();
        header.write(first);
        int length = 0;
        int multiplier = 1;
        int digit;
        do
        {
            digit = in.read();
            header.write(digit);
            length += (digit & 0x7F) * multiplier;
            multiplier *= 128;
        }
        while ((digit & 0x80) != 0);
        header.writeBytes(in.readNBytes(length));
        return header.toByteArray();
    }

    /** Reads the next packet and checks its type (high nibble). */
    byte[] expect(final int packetType) throws IOException
    {
        final byte[] packet = read();
        assertNotNull(packet, "expected packet type " + packetType + " but the connection closed");
        assertEquals(packetType, (packet[0] & 0xFF) >> 4, "packet type");
        return packet;
    }

    /** The connection is closed by the broker (EOF or reset). */
    void assertClosed() throws IOException
    {
        try
        {
            assertEquals(-1, in.read(), "connection should be closed");
        }
        catch (final SocketException reset)
        {
            // closed with RST: also closed
        }
    }

    /** True when nothing arrives within the given time (for "must not be delivered" checks). */
    boolean silentFor(final int millis) throws IOException
    {
        socket.setSoTimeout(millis);
        try
        {
            return in.read() < 0;
        }
        catch (final SocketTimeoutException expected)
        {
            return true;
        }
        finally
        {
            socket.setSoTimeout(5000);
        }
    }

    @Override
    public void close() throws IOException
    {
        socket.close();
    }
}
