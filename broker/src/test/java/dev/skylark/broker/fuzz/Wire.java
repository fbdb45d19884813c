package dev.skylark.broker.fuzz;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One fuzzing connection, raw TCP or MQTT over WebSocket, with what the broker answers fed to a
 * {@link ResponseOracle}. It binds to a loopback source address of its own (127.0.0.x) and ends with a reset
 * rather than a FIN where it can, so that a hundred thousand short connections neither run out of ephemeral ports
 * nor leave the machine full of TIME_WAIT sockets.
 */
abstract class Wire implements Closeable
{
    final Socket socket;
    final OutputStream out;
    final InputStream in;
    final ResponseOracle oracle = new ResponseOracle();
    private final byte[] readBuffer = new byte[16 * 1024];
    private boolean eof;

    Wire(final InetAddress local, final int port) throws IOException
    {
        socket = new Socket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(local, 0));
        socket.setTcpNoDelay(true);
        socket.setSoLinger(true, 0);
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        out = socket.getOutputStream();
        in = socket.getInputStream();
    }

    static Wire tcp(final InetAddress local, final int port) throws IOException
    {
        return new Tcp(local, port);
    }

    static Wire webSocket(final InetAddress local, final int port, final Random random) throws IOException
    {
        return new WebSocket(local, port, random);
    }

    /** Sends MQTT bytes (over WebSocket: in valid binary frames). */
    abstract void send(byte[] mqtt) throws IOException;

    /** Sends bytes exactly as given, frames and all. */
    void sendRaw(final byte[] bytes) throws IOException
    {
        try
        {
            out.write(bytes);
        }
        catch (final SocketException closed)
        {
            // the broker closed first; what it said is still to be read
        }
    }

    /** Stops sending (FIN): the broker must close the connection once it has read everything. */
    void halfClose() throws IOException
    {
        try
        {
            socket.shutdownOutput();
        }
        catch (final SocketException closed)
        {
            // already closed by the broker
        }
    }

    boolean isEof()
    {
        return eof;
    }

    /**
     * Reads until the oracle has seen {@code pings} PINGRESPs in all (true) or the connection ended (false).
     *
     * @throws AssertionError if neither happens before the deadline, or the answer breaks the specification.
     */
    boolean awaitPings(final long pings, final long deadlineNs) throws IOException
    {
        while (oracle.pingResponses < pings)
        {
            if (!read(deadlineNs))
            {
                return false;
            }
        }
        return true;
    }

    /** Reads until the oracle has seen {@code packets} packets in all; false if the connection ended first. */
    boolean awaitPackets(final long packets, final long deadlineNs) throws IOException
    {
        while (oracle.packets < packets)
        {
            if (!read(deadlineNs))
            {
                return false;
            }
        }
        return true;
    }

    /** Reads until the broker closes the connection. */
    void awaitClose(final long deadlineNs) throws IOException
    {
        while (read(deadlineNs))
        {
            // keep reading
        }
    }

    /** One read: false at the end of the stream (or a reset). */
    private boolean read(final long deadlineNs) throws IOException
    {
        if (eof)
        {
            return false;
        }
        final long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadlineNs - System.nanoTime());
        if (remainingMs <= 0)
        {
            throw new AssertionError("the broker neither answered nor closed the connection in time");
        }
        socket.setSoTimeout((int)Math.max(1, Math.min(remainingMs, Integer.MAX_VALUE)));
        int count;
        try
        {
            count = in.read(readBuffer);
        }
        catch (final SocketTimeoutException ex)
        {
            throw new AssertionError("the broker neither answered nor closed the connection in time");
        }
        catch (final SocketException reset)
        {
            count = -1;
        }
        if (count < 0)
        {
            eof = true;
            onEnd();
            return false;
        }
        onRead(readBuffer, count);
        return true;
    }

    abstract void onRead(byte[] bytes, int length);

    abstract void onEnd();

    /** Ends the connection with a reset: no TIME_WAIT on either side. */
    @Override
    public void close()
    {
        try
        {
            socket.close();
        }
        catch (final IOException ignored)
        {
            // closing anyway
        }
    }

    private static final class Tcp extends Wire
    {
        Tcp(final InetAddress local, final int port) throws IOException
        {
            super(local, port);
        }

        @Override
        void send(final byte[] mqtt) throws IOException
        {
            sendRaw(mqtt);
        }

        @Override
        void onRead(final byte[] bytes, final int length)
        {
            oracle.onBytes(bytes, 0, length);
        }

        @Override
        void onEnd()
        {
            oracle.onClose();
        }
    }

    /**
     * MQTT over WebSocket: the upgrade request goes out at once (frames may follow it before the answer, as the
     * broker allows); answers are checked as server frames (unmasked, no reserved bits, control frames whole and at
     * most 125 bytes, a valid close code, nothing after a close) and their binary payloads fed to the MQTT oracle.
     */
    static final class WebSocket extends Wire
    {
        static final String REQUEST = "GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" +
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
            "Sec-WebSocket-Protocol: mqtt\r\n\r\n";

        private final Random random;
        private byte[] pending = new byte[1024];
        private int pendingLength;
        private boolean headDone;
        private boolean expectUpgrade = true;
        int status = -1;
        /** Close code the broker sent (1005 for a close frame without one), -1 before its close frame. */
        int closeCode = -1;
        long pongs;

        WebSocket(final InetAddress local, final int port, final Random random) throws IOException
        {
            super(local, port);
            this.random = random;
        }

        /** Sends the upgrade request (a fuzz case may send a mutated one instead, and expects any HTTP answer). */
        void upgrade(final byte[] request, final boolean expect101) throws IOException
        {
            expectUpgrade = expect101;
            sendRaw(request);
        }

        @Override
        void send(final byte[] mqtt) throws IOException
        {
            sendRaw(frames(mqtt));
        }

        /** Valid client frames for MQTT bytes: one binary frame, or a fragmented message with a ping inside. */
        byte[] frames(final byte[] mqtt)
        {
            final int fragments = mqtt.length < 2 || random.nextInt(4) != 0 ? 1 : 2 + random.nextInt(2);
            if (fragments == 1)
            {
                return frame(0x82, mqtt, 0, mqtt.length, random);
            }
            final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(mqtt.length + 40);
            int at = 0;
            for (int i = 0; i < fragments; i++)
            {
                final int end = i == fragments - 1 ? mqtt.length : at + random.nextInt(mqtt.length - at + 1);
                final int opcode = (i == 0 ? 0x02 : 0x00) | (i == fragments - 1 ? 0x80 : 0);
                out.writeBytes(frame(opcode, mqtt, at, end - at, random));
                if (i == 0 && random.nextBoolean())
                {
                    out.writeBytes(frame(0x89, new byte[]{'f', 'z'}, 0, 2, random)); // a ping between fragments
                }
                at = end;
            }
            return out.toByteArray();
        }

        /** A masked client frame. */
        static byte[] frame(final int b0, final byte[] payload, final int offset, final int length, final Random random)
        {
            final int header = length <= 125 ? 2 : length <= 0xFFFF ? 4 : 10;
            final byte[] out = new byte[header + 4 + length];
            out[0] = (byte)b0;
            if (length <= 125)
            {
                out[1] = (byte)(0x80 | length);
            }
            else if (length <= 0xFFFF)
            {
                out[1] = (byte)(0x80 | 126);
                out[2] = (byte)(length >> 8);
                out[3] = (byte)length;
            }
            else
            {
                out[1] = (byte)(0x80 | 127);
                for (int i = 0; i < 8; i++)
                {
                    out[2 + i] = (byte)((long)length >>> (56 - 8 * i));
                }
            }
            final int key = random.nextInt();
            for (int i = 0; i < 4; i++)
            {
                out[header + i] = (byte)(key >>> (24 - 8 * i));
            }
            for (int i = 0; i < length; i++)
            {
                out[header + 4 + i] = (byte)(payload[offset + i] ^ out[header + (i & 3)]);
            }
            return out;
        }

        @Override
        void onRead(final byte[] bytes, final int length)
        {
            if (pendingLength + length > pending.length)
            {
                pending = java.util.Arrays.copyOf(pending, Math.max(2 * pending.length, pendingLength + length));
            }
            if (headDone && status != 101)
            {
                return; // the body of an HTTP answer, then the close
            }
            System.arraycopy(bytes, 0, pending, pendingLength, length);
            pendingLength += length;
            int at = 0;
            if (!headDone)
            {
                final int headEnd = indexOf(pending, pendingLength, "\r\n\r\n");
                if (headEnd < 0)
                {
                    check(pendingLength < 16 * 1024, "an HTTP answer head over 16 KB");
                    return;
                }
                final String head = new String(pending, 0, headEnd, StandardCharsets.ISO_8859_1);
                check(head.matches("(?s)HTTP/1\\.1 [1-5][0-9][0-9] [^\r\n]*(\r\n[!-9;-~]+:[^\r\n]*)*"),
                    "malformed HTTP answer head: " + head);
                status = Integer.parseInt(head.substring(9, 12));
                if (expectUpgrade)
                {
                    check(status == 101, "the upgrade was refused: " + head);
                    check(head.toLowerCase(java.util.Locale.ROOT).contains("\r\nsec-websocket-protocol: mqtt"),
                        "the upgrade did not select the mqtt subprotocol: " + head);
                }
                headDone = true;
                at = headEnd + 4;
                if (status != 101)
                {
                    pendingLength = 0;
                    return;
                }
            }
            while (true)
            {
                final int frameLength = serverFrame(pending, at, pendingLength - at);
                if (frameLength == 0)
                {
                    break;
                }
                at += frameLength;
            }
            System.arraycopy(pending, at, pending, 0, pendingLength - at);
            pendingLength -= at;
        }

        /** Checks and consumes one server frame; 0 if it is not all here yet. */
        private int serverFrame(final byte[] b, final int at, final int available)
        {
            if (available < 2)
            {
                return 0;
            }
            final int b0 = b[at] & 0xFF;
            final int b1 = b[at + 1] & 0xFF;
            check(closeCode < 0, "a frame after the broker's close frame");
            check((b0 & 0x70) == 0, "reserved bits set in a server frame");
            check((b1 & 0x80) == 0, "a masked server frame [RFC 6455 5.1]");
            final int opcode = b0 & 0x0F;
            long length = b1 & 0x7F;
            int header = 2;
            if (length == 126)
            {
                if (available < 4)
                {
                    return 0;
                }
                length = ((b[at + 2] & 0xFF) << 8) | (b[at + 3] & 0xFF);
                header = 4;
            }
            else if (length == 127)
            {
                if (available < 10)
                {
                    return 0;
                }
                length = 0;
                for (int i = 0; i < 8; i++)
                {
                    length = (length << 8) | (b[at + 2 + i] & 0xFF);
                }
                header = 10;
                check(length >= 0 && length < Integer.MAX_VALUE, "a server frame of " + length + " bytes");
            }
            if (available < header + length)
            {
                return 0;
            }
            final int payload = at + header;
            switch (opcode)
            {
                case 0x0, 0x2 -> oracle.onBytes(b, payload, (int)length);
                case 0x8 ->
                {
                    check((b0 & 0x80) != 0 && length <= 125 && length != 1, "malformed close frame");
                    closeCode = length == 0 ? 1005 : ((b[payload] & 0xFF) << 8) | (b[payload + 1] & 0xFF);
                    check(closeCode == 1005 || (closeCode >= 1000 && closeCode <= 1003) ||
                        (closeCode >= 1007 && closeCode <= 1011) || (closeCode >= 3000 && closeCode <= 4999),
                        "close code " + closeCode + " may not be sent [RFC 6455 7.4]");
                }
                case 0x9, 0xA ->
                {
                    check((b0 & 0x80) != 0 && length <= 125, "malformed control frame");
                    if (opcode == 0xA)
                    {
                        pongs++;
                    }
                }
                default -> throw new AssertionError("broker response violates RFC 6455 or MQTT 6.0: opcode " +
                    opcode + (opcode == 1 ? " (text: MQTT goes in binary frames)" : ""));
            }
            return header + (int)length;
        }

        @Override
        void onEnd()
        {
            if (headDone && status == 101)
            {
                check(pendingLength == 0, "the connection closed in the middle of a frame");
                oracle.onClose();
            }
        }

        private static int indexOf(final byte[] bytes, final int length, final String what)
        {
            outer:
            for (int i = 0; i + what.length() <= length; i++)
            {
                for (int j = 0; j < what.length(); j++)
                {
                    if (bytes[i + j] != what.charAt(j))
                    {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }

        private static void check(final boolean condition, final String what)
        {
            if (!condition)
            {
                throw new AssertionError("broker response violates RFC 6455 or HTTP/1.1: " + what);
            }
        }
    }
}
