package dev.skylark.broker.auth;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A raw MQTT client for exact reason codes: builds packets byte by byte and reads whole packets back. */
final class RawMqtt implements AutoCloseable
{
    final Socket socket;
    private final DataInputStream in;

    RawMqtt(final int port) throws IOException
    {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(5000);
        in = new DataInputStream(socket.getInputStream());
    }

    /** A packet read back: its first byte and its body (after the remaining length). */
    record Packet(int header, byte[] body)
    {
        int type()
        {
            return header >>> 4;
        }
    }

    /**
     * CONNECT: fixed header 0x10, remaining length; "MQTT", level 4 or 5, flags, keep alive; (v5) empty properties;
     * payload client id, [will properties (v5), will topic, will payload], [user name], [password].
     */
    static byte[] connect(final int level, final String clientId, final String userName, final byte[] password,
        final String willTopic, final String willPayload, final int keepAliveS)
    {
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        string(body, "MQTT".getBytes(StandardCharsets.UTF_8));
        body.write(level);
        int flags = 0x02; // clean start
        if (willTopic != null)
        {
            flags |= 0x04 | 0x08; // will, QoS 1
        }
        if (userName != null)
        {
            flags |= 0x80;
        }
        if (password != null)
        {
            flags |= 0x40;
        }
        body.write(flags);
        body.write(keepAliveS >>> 8);
        body.write(keepAliveS & 0xFF);
        if (level == 5)
        {
            body.write(0); // no CONNECT properties
        }
        string(body, clientId.getBytes(StandardCharsets.UTF_8));
        if (willTopic != null)
        {
            if (level == 5)
            {
                body.write(0); // no will properties
            }
            string(body, willTopic.getBytes(StandardCharsets.UTF_8));
            string(body, willPayload.getBytes(StandardCharsets.UTF_8));
        }
        if (userName != null)
        {
            string(body, userName.getBytes(StandardCharsets.UTF_8));
        }
        if (password != null)
        {
            string(body, password);
        }
        return packet(0x10, body.toByteArray());
    }

    /** SUBSCRIBE packet id 1, one filter at QoS 1: 0x82, length, packet id, [(v5) no properties], filter, options. */
    static byte[] subscribe(final int level, final String filter)
    {
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(0);
        body.write(1);
        if (level == 5)
        {
            body.write(0);
        }
        string(body, filter.getBytes(StandardCharsets.UTF_8));
        body.write(1);
        return packet(0x82, body.toByteArray());
    }

    /** PUBLISH QoS 1 packet id 7: 0x32, length, topic, packet id, [(v5) no properties], payload. */
    static byte[] publishQos1(final int level, final String topic, final String payload)
    {
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        string(body, topic.getBytes(StandardCharsets.UTF_8));
        body.write(0);
        body.write(7);
        if (level == 5)
        {
            body.write(0);
        }
        body.writeBytes(payload.getBytes(StandardCharsets.UTF_8));
        return packet(0x32, body.toByteArray());
    }

    /**
     * MQTT 5 CONNECT with the given property block (without its length): "MQTT", 5, flags (clean start, [user name],
     * [password]), keep alive 60, properties, client id, [user name], [password].
     */
    static byte[] connectV5(final String clientId, final byte[] properties, final String userName, final byte[] password)
    {
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        string(body, "MQTT".getBytes(StandardCharsets.UTF_8));
        body.write(5);
        body.write(0x02 | (userName != null ? 0x80 : 0) | (password != null ? 0x40 : 0));
        body.write(0);
        body.write(60);
        varInt(body, properties.length);
        body.writeBytes(properties);
        string(body, clientId.getBytes(StandardCharsets.UTF_8));
        if (userName != null)
        {
            string(body, userName.getBytes(StandardCharsets.UTF_8));
        }
        if (password != null)
        {
            string(body, password);
        }
        return packet(0x10, body.toByteArray());
    }

    /** Authentication Method (0x15) and, when not null, Authentication Data (0x16), as a property block. */
    static byte[] authProperties(final String method, final byte[] data)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (method != null)
        {
            out.write(0x15);
            string(out, method.getBytes(StandardCharsets.UTF_8));
        }
        if (data != null)
        {
            out.write(0x16);
            string(out, data);
        }
        return out.toByteArray();
    }

    /** AUTH: 0xF0, remaining length, reason code, property length, properties. */
    static byte[] auth(final int reasonCode, final byte[] properties)
    {
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(reasonCode);
        varInt(body, properties.length);
        body.writeBytes(properties);
        return packet(0xF0, body.toByteArray());
    }

    /**
     * The properties of a v5 packet body whose property block starts at {@code offset}: id → value (Integer,
     * String or byte[]; user properties are skipped).
     */
    static java.util.Map<Integer, Object> properties(final byte[] body, final int offset)
    {
        final java.util.Map<Integer, Object> properties = new java.util.HashMap<>();
        if (offset >= body.length)
        {
            return properties;
        }
        int length = 0;
        int shift = 0;
        int pos = offset;
        int digit;
        do
        {
            digit = body[pos++] & 0xFF;
            length |= (digit & 0x7F) << shift;
            shift += 7;
        }
        while ((digit & 0x80) != 0);
        final int end = pos + length;
        while (pos < end)
        {
            final int id = body[pos++] & 0xFF;
            switch (id)
            {
                case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A -> properties.put(id, body[pos++] & 0xFF);
                case 0x13, 0x21, 0x22, 0x23 ->
                {
                    properties.put(id, ((body[pos] & 0xFF) << 8) | (body[pos + 1] & 0xFF));
                    pos += 2;
                }
                case 0x02, 0x11, 0x18, 0x27 ->
                {
                    properties.put(id, ((body[pos] & 0xFF) << 24) | ((body[pos + 1] & 0xFF) << 16) |
                        ((body[pos + 2] & 0xFF) << 8) | (body[pos + 3] & 0xFF));
                    pos += 4;
                }
                case 0x09, 0x16 ->
                {
                    final int n = ((body[pos] & 0xFF) << 8) | (body[pos + 1] & 0xFF);
                    properties.put(id, java.util.Arrays.copyOfRange(body, pos + 2, pos + 2 + n));
                    pos += 2 + n;
                }
                case 0x26 ->
                {
                    pos += 2 + (((body[pos] & 0xFF) << 8) | (body[pos + 1] & 0xFF));
                    pos += 2 + (((body[pos] & 0xFF) << 8) | (body[pos + 1] & 0xFF));
                }
                default ->
                {
                    final int n = ((body[pos] & 0xFF) << 8) | (body[pos + 1] & 0xFF);
                    properties.put(id, new String(body, pos + 2, n, StandardCharsets.UTF_8));
                    pos += 2 + n;
                }
            }
        }
        return properties;
    }

    private static void varInt(final ByteArrayOutputStream out, final int value)
    {
        int length = value;
        do
        {
            int digit = length % 128;
            length /= 128;
            if (length > 0)
            {
                digit |= 0x80;
            }
            out.write(digit);
        }
        while (length > 0);
    }

    private static byte[] packet(final int header, final byte[] body)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(header);
        int length = body.length;
        do
        {
            int digit = length % 128;
            length /= 128;
            if (length > 0)
            {
                digit |= 0x80;
            }
            out.write(digit);
        }
        while (length > 0);
        out.writeBytes(body);
        return out.toByteArray();
    }

    private static void string(final ByteArrayOutputStream out, final byte[] bytes)
    {
        out.write(bytes.length >>> 8);
        out.write(bytes.length & 0xFF);
        out.writeBytes(bytes);
    }

    void send(final byte[] bytes) throws IOException
    {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
    }

    Packet read() throws IOException
    {
        final int header = in.readUnsignedByte();
        int length = 0;
        int shift = 0;
        int digit;
        do
        {
            digit = in.readUnsignedByte();
            length |= (digit & 0x7F) << shift;
            shift += 7;
        }
        while ((digit & 0x80) != 0);
        final byte[] body = new byte[length];
        in.readFully(body);
        return new Packet(header, body);
    }

    /** True when the broker closed the connection (end of stream) before the timeout. */
    boolean closedByBroker() throws IOException
    {
        try
        {
            return in.read() == -1;
        }
        catch (final SocketTimeoutException ex)
        {
            return false;
        }
        catch (final IOException ex)
        {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException
    {
        socket.close();
    }
}
