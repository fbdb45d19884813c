package dev.skylark.broker.it;

import dev.skylark.broker.fuzz.Packets;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;

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
        return Packets.packet(header, parts);
    }

    static byte[] bytes(final int... values)
    {
        return Packets.bytes(values);
    }

    /** A length-prefixed UTF-8 string. */
    static byte[] str(final String value)
    {
        return Packets.str(value);
    }

    /** A v5 property block holding one Reason String: Property Length, 0x1F, the UTF-8 string. */
    static byte[] reason(final String text)
    {
        return Packets.props(Packets.concat(bytes(0x1F), str(text)));
    }

    static byte[] concat(final byte[]... parts)
    {
        return Packets.concat(parts);
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
