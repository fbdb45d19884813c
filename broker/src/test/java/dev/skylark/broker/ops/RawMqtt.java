package dev.skylark.broker.ops;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** Just enough MQTT 5 over a raw socket to see what the broker does at the byte level. */
final class RawMqtt
{
    private RawMqtt()
    {
    }

    /** Opens a socket and sends CONNECT (v5, clean start, keep-alive 60 s, no properties). */
    static Socket connect(final int port, final String clientId) throws IOException
    {
        final Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(10_000);
        final byte[] id = clientId.getBytes(StandardCharsets.US_ASCII);
        final byte[] connect = new byte[2 + 13 + id.length];
        int i = 0;
        connect[i++] = 0x10;                               // CONNECT
        connect[i++] = (byte)(13 + id.length);             // remaining length
        connect[i++] = 0;                                  // protocol name length
        connect[i++] = 4;
        connect[i++] = 'M';
        connect[i++] = 'Q';
        connect[i++] = 'T';
        connect[i++] = 'T';
        connect[i++] = 5;                                  // protocol level 5
        connect[i++] = 0x02;                               // clean start
        connect[i++] = 0;                                  // keep-alive 60 s
        connect[i++] = 60;
        connect[i++] = 0;                                  // no properties
        connect[i++] = 0;                                  // client id length
        connect[i++] = (byte)id.length;
        System.arraycopy(id, 0, connect, i, id.length);
        final OutputStream out = socket.getOutputStream();
        out.write(connect);
        out.flush();
        return socket;
    }

    /**
     * Reads one packet: its first byte and its body.
     *
     * @return null when the broker closed the connection first.
     */
    static Packet read(final Socket socket) throws IOException
    {
        final DataInputStream in = new DataInputStream(socket.getInputStream());
        final int type;
        try
        {
            type = in.read();
        }
        catch (final java.net.SocketException ex)
        {
            return null; // reset
        }
        if (type < 0)
        {
            return null;
        }
        int length = 0;
        int shift = 0;
        int b;
        do
        {
            b = in.readUnsignedByte();
            length |= (b & 0x7F) << shift;
            shift += 7;
        }
        while ((b & 0x80) != 0);
        final byte[] body = new byte[length];
        in.readFully(body);
        return new Packet(type, body);
    }

    /** CONNECT and wait for CONNACK; null when the broker closed the socket instead (a refused accept). */
    static Socket connectAccepted(final int port, final String clientId) throws IOException
    {
        final Socket socket = connect(port, clientId);
        final Packet connack;
        try
        {
            connack = read(socket);
        }
        catch (final IOException ex)
        {
            socket.close();
            return null;
        }
        if (connack == null)
        {
            socket.close();
            return null;
        }
        if (connack.type() != 0x20 || connack.body()[1] != 0)
        {
            socket.close();
            throw new AssertionError("not a successful CONNACK: type " + connack.type());
        }
        return socket;
    }

    record Packet(int type, byte[] body)
    {
    }
}
