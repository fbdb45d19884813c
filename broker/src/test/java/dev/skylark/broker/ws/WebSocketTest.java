package dev.skylark.broker.ws;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Raw-socket conversations with the HTTP listener: handshake edge cases and MQTT inside WebSocket frames. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WebSocketTest
{
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    private static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    private static final byte[] CONNECT = {
        0x10, 13,                         // CONNECT, remaining length 13
        0, 4, 'M', 'Q', 'T', 'T', 4,      // protocol name, level 4
        0x02, 0, 60,                      // clean session, keep alive 60
        0, 1, 'w'                         // client id "w"
    };
    private static final byte[] CONNACK = { 0x20, 2, 0, 0 };
    private static final byte[] PINGREQ = { (byte)0xC0, 0 };
    private static final byte[] PINGRESP = { (byte)0xD0, 0 };

    private Broker broker;

    @BeforeEach
    void start()
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0).bindAddress("127.0.0.1")
            .httpTrustedProxies("127.0.0.1"));
    }

    @AfterEach
    void stop()
    {
        broker.close();
    }

    private Socket open() throws IOException
    {
        final Socket socket = new Socket("127.0.0.1", broker.httpPort());
        socket.setSoTimeout(5000);
        return socket;
    }

    static String upgrade(final String path, final String extraHeaders)
    {
        return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders + "\r\n";
    }

    /** Reads a response head up to the blank line. */
    static String readHead(final InputStream in) throws IOException
    {
        final ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4)
        {
            final int b = in.read();
            if (b < 0)
            {
                break;
            }
            head.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3)) ?
                matched + 1 : 0;
        }
        return head.toString(StandardCharsets.US_ASCII);
    }

    static String readAll(final InputStream in) throws IOException
    {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    /** A masked client frame. */
    static byte[] frame(final int b0, final byte[] payload, final boolean masked)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(b0);
        final int maskBit = masked ? 0x80 : 0;
        if (payload.length <= 125)
        {
            out.write(maskBit | payload.length);
        }
        else if (payload.length <= 0xFFFF)
        {
            out.write(maskBit | 126);
            out.write(payload.length >>> 8);
            out.write(payload.length & 0xFF);
        }
        else
        {
            out.write(maskBit | 127);
            for (int shift = 56; shift >= 0; shift -= 8)
            {
                out.write((int)((long)payload.length >>> shift) & 0xFF);
            }
        }
        final byte[] key = { 0x37, (byte)0xFA, 0x21, 0x3D };
        if (masked)
        {
            out.writeBytes(key);
        }
        for (int i = 0; i < payload.length; i++)
        {
            out.write(masked ? payload[i] ^ key[i & 3] : payload[i]);
        }
        return out.toByteArray();
    }

    static byte[] binary(final byte[] payload)
    {
        return frame(0x82, payload, true);
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

    /** Reads one server frame: returns {opcode byte, payload...}; asserts it is unmasked. */
    static byte[] readFrame(final InputStream in) throws IOException
    {
        final int b0 = in.read();
        final int b1 = in.read();
        assertEquals(0, b1 & 0x80, "server frames are not masked");
        int length = b1 & 0x7F;
        if (length == 126)
        {
            length = (in.read() << 8) | in.read();
        }
        else if (length == 127)
        {
            final long wide = new java.io.DataInputStream(in).readLong();
            assertTrue(wide > 0xFFFF && wide < Integer.MAX_VALUE, "minimal 64-bit length");
            length = (int)wide;
        }
        final byte[] payload = in.readNBytes(length);
        final byte[] result = new byte[1 + payload.length];
        result[0] = (byte)b0;
        System.arraycopy(payload, 0, result, 1, payload.length);
        return result;
    }

    /** Reads binary frames until {@code length} MQTT bytes have arrived. */
    static byte[] readMqtt(final InputStream in, final int length) throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (out.size() < length)
        {
            final byte[] f = readFrame(in);
            assertEquals((byte)0x82, f[0], "binary frame with FIN");
            out.write(f, 1, f.length - 1);
        }
        return out.toByteArray();
    }

    private static void assertClosed(final InputStream in) throws IOException
    {
        try
        {
            while (in.read() >= 0)
            {
                // drain what was sent before the close
            }
        }
        catch (final SocketException reset)
        {
            // RST: closed too
        }
    }

    private Socket handshake(final String headers) throws IOException
    {
        final Socket socket = open();
        socket.getOutputStream().write(upgrade("/mqtt", headers).getBytes(StandardCharsets.US_ASCII));
        final String head = readHead(socket.getInputStream());
        assertTrue(head.startsWith("HTTP/1.1 101 "), head);
        assertTrue(head.contains("Sec-WebSocket-Accept: " + ACCEPT + "\r\n"), head);
        return socket;
    }

    @Test
    void mqttSubprotocolIsSelectedAndMqttFlowsInBinaryFrames() throws IOException
    {
        try (Socket socket = open())
        {
            socket.getOutputStream().write(
                upgrade("/mqtt", "Sec-WebSocket-Protocol: chat, mqtt\r\n").getBytes(StandardCharsets.US_ASCII));
            final InputStream in = socket.getInputStream();
            final String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), head);
            assertTrue(head.contains("Sec-WebSocket-Protocol: mqtt\r\n"), head);
            socket.getOutputStream().write(binary(CONNECT));
            assertArrayEquals(CONNACK, readMqtt(in, 4));
            socket.getOutputStream().write(binary(PINGREQ));
            assertArrayEquals(PINGRESP, readMqtt(in, 2));
        }
    }

    @Test
    void mqttV31SubprotocolIsAccepted() throws IOException
    {
        try (Socket socket = open())
        {
            socket.getOutputStream().write(
                upgrade("/mqtt", "Sec-WebSocket-Protocol: mqttv3.1\r\n").getBytes(StandardCharsets.US_ASCII));
            final String head = readHead(socket.getInputStream());
            assertTrue(head.contains("Sec-WebSocket-Protocol: mqttv3.1\r\n"), head);
        }
    }

    @Test
    void noSubprotocolIsAcceptedWithoutProtocolHeader() throws IOException
    {
        try (Socket socket = handshake(""))
        {
            socket.getOutputStream().write(binary(CONNECT));
            assertArrayEquals(CONNACK, readMqtt(socket.getInputStream(), 4));
        }
    }

    @Test
    void otherSubprotocolsOnlyAreRefusedWith400AndABody() throws IOException
    {
        try (Socket socket = open())
        {
            socket.getOutputStream().write(
                upgrade("/mqtt", "Sec-WebSocket-Protocol: chat, stomp\r\n").getBytes(StandardCharsets.US_ASCII));
            final String response = readAll(socket.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
            assertTrue(response.endsWith("subprotocol mqtt required\n"), response);
        }
    }

    @Test
    void missingKeyIs400() throws IOException
    {
        try (Socket socket = open())
        {
            socket.getOutputStream().write(("GET /mqtt HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n" +
                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            final String response = readAll(socket.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 400 "), response);
            assertTrue(response.endsWith("missing Sec-WebSocket-Key\n"), response);
        }
    }

    @Test
    void wrongKeyIs400() throws IOException
    {
        try (Socket socket = open())
        {
            socket.getOutputStream().write(upgrade("/mqtt", "").replace(KEY, "short==")
                .getBytes(StandardCharsets.US_ASCII));
            final String response = readAll(socket.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 400 "), response);
            assertTrue(response.endsWith("invalid Sec-WebSocket-Key\n"), response);
        }
    }

    @Test
    void wrongVersionIs426WithTheSupportedVersion() throws IOException
    {
        try (Socket socket = open())
        {
            socket.getOutputStream().write(upgrade("/mqtt", "").replace("Version: 13", "Version: 8")
                .getBytes(StandardCharsets.US_ASCII));
            final String response = readAll(socket.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 426 "), response);
            assertTrue(response.contains("Sec-WebSocket-Version: 13\r\n"), response);
        }
    }

    @Test
    void oversizedHeadersAre431() throws IOException
    {
        try (Socket socket = open())
        {
            final String big = "X-Filler: " + "a".repeat(9000) + "\r\n";
            final OutputStream out = socket.getOutputStream();
            try
            {
                out.write(upgrade("/mqtt", big).getBytes(StandardCharsets.US_ASCII));
            }
            catch (final SocketException closedEarly)
            {
                // the broker may answer and close before the whole head is sent
            }
            final String head = readHead(socket.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 431 "), head);
        }
    }

    @Test
    void wrongPathIs404() throws IOException
    {
        try (Socket socket = open())
        {
            socket.getOutputStream().write(upgrade("/other", "").getBytes(StandardCharsets.US_ASCII));
            final String response = readAll(socket.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 404 "), response);
        }
    }

    @Test
    void unmaskedClientFrameIsAProtocolErrorClose1002() throws IOException
    {
        try (Socket socket = handshake(""))
        {
            socket.getOutputStream().write(frame(0x82, CONNECT, false));
            final InputStream in = socket.getInputStream();
            final byte[] close = readFrame(in);
            assertEquals((byte)0x88, close[0]);
            assertEquals(1002, ((close[1] & 0xFF) << 8) | (close[2] & 0xFF));
            assertClosed(in);
        }
    }

    @Test
    void textFrameIsRefusedWith1003() throws IOException
    {
        try (Socket socket = handshake(""))
        {
            socket.getOutputStream().write(frame(0x81, CONNECT, true));
            final byte[] close = readFrame(socket.getInputStream());
            assertEquals((byte)0x88, close[0]);
            assertEquals(1003, ((close[1] & 0xFF) << 8) | (close[2] & 0xFF));
        }
    }

    @Test
    void mqttPacketFragmentedAcrossFramesAndWrites() throws IOException
    {
        try (Socket socket = handshake(""))
        {
            final OutputStream out = socket.getOutputStream();
            // CONNECT split over three frames: a non-final binary frame and two continuations
            final byte[] a = java.util.Arrays.copyOfRange(CONNECT, 0, 1);
            final byte[] b = java.util.Arrays.copyOfRange(CONNECT, 1, 9);
            final byte[] c = java.util.Arrays.copyOfRange(CONNECT, 9, CONNECT.length);
            final byte[] all = concat(frame(0x02, a, true), frame(0x00, b, true), frame(0x80, c, true));
            for (final byte value : all)
            {
                out.write(value); // one byte per write: frame headers and payloads split everywhere
                out.flush();
            }
            assertArrayEquals(CONNACK, readMqtt(socket.getInputStream(), 4));
        }
    }

    @Test
    void severalMqttPacketsInOneFrame() throws IOException
    {
        try (Socket socket = handshake(""))
        {
            socket.getOutputStream().write(binary(concat(CONNECT, PINGREQ, PINGREQ)));
            assertArrayEquals(concat(CONNACK, PINGRESP, PINGRESP), readMqtt(socket.getInputStream(), 8));
        }
    }

    @Test
    void framesSentRightBehindTheRequestAreKept() throws IOException
    {
        try (Socket socket = open())
        {
            socket.getOutputStream().write(concat(upgrade("/mqtt", "").getBytes(StandardCharsets.US_ASCII),
                binary(CONNECT)));
            final InputStream in = socket.getInputStream();
            assertTrue(readHead(in).startsWith("HTTP/1.1 101 "));
            assertArrayEquals(CONNACK, readMqtt(in, 4));
        }
    }

    @Test
    void largeMessageRoundTripsThroughA64BitLengthFrame() throws IOException
    {
        try (Socket socket = handshake(""))
        {
            final OutputStream out = socket.getOutputStream();
            final InputStream in = socket.getInputStream();
            out.write(binary(CONNECT));
            assertArrayEquals(CONNACK, readMqtt(in, 4));
            out.write(binary(new byte[]{ (byte)0x82, 6, 0, 1, 0, 1, 'b', 0 })); // SUBSCRIBE id 1, "b", QoS 0
            assertArrayEquals(new byte[]{ (byte)0x90, 3, 0, 1, 0 }, readMqtt(in, 5));
            final int remaining = 3 + 100_000;
            final byte[] publish = new byte[4 + remaining];
            publish[0] = 0x30;
            publish[1] = (byte)(0x80 | (remaining & 0x7F));
            publish[2] = (byte)(0x80 | ((remaining >> 7) & 0x7F));
            publish[3] = (byte)(remaining >> 14);
            publish[5] = 1;
            publish[6] = 'b';
            for (int i = 7; i < publish.length; i++)
            {
                publish[i] = (byte)(i * 31);
            }
            out.write(binary(publish));
            assertArrayEquals(publish, readMqtt(in, publish.length));
        }
    }

    @Test
    void pingIsAnsweredWithPongAndCloseWithClose() throws IOException
    {
        try (Socket socket = handshake(""))
        {
            final OutputStream out = socket.getOutputStream();
            final InputStream in = socket.getInputStream();
            out.write(binary(CONNECT));
            assertArrayEquals(CONNACK, readMqtt(in, 4));
            out.write(frame(0x89, new byte[]{ 'h', 'i' }, true));
            assertArrayEquals(new byte[]{ (byte)0x8A, 'h', 'i' }, readFrame(in));
            out.write(frame(0x88, new byte[]{ 0x03, (byte)0xE8 }, true)); // close 1000
            final byte[] close = readFrame(in);
            assertEquals((byte)0x88, close[0]);
            assertEquals(1000, ((close[1] & 0xFF) << 8) | (close[2] & 0xFF));
            assertClosed(in);
        }
    }

    @Test
    void mqttDisconnectEndsWithANormalCloseFrame() throws IOException
    {
        try (Socket socket = handshake(""))
        {
            final InputStream in = socket.getInputStream();
            socket.getOutputStream().write(binary(concat(CONNECT, new byte[]{ (byte)0xE0, 0 }))); // CONNECT, DISCONNECT
            assertArrayEquals(CONNACK, readMqtt(in, 4));
            final byte[] close = readFrame(in);
            assertEquals((byte)0x88, close[0]);
            assertEquals(1000, ((close[1] & 0xFF) << 8) | (close[2] & 0xFF));
            assertClosed(in);
        }
    }

    @Test
    void shutdownSaysDisconnect0x8BThenClose1001() throws IOException
    {
        try (Socket socket = handshake(""))
        {
            final InputStream in = socket.getInputStream();
            socket.getOutputStream().write(binary(new byte[]{
                0x10, 14,                         // CONNECT, remaining length 14
                0, 4, 'M', 'Q', 'T', 'T', 5,      // protocol name, level 5
                0x02, 0, 60,                      // clean start, keep alive 60
                0,                                // no properties
                0, 1, 'v'                         // client id "v"
            }));
            final byte[] connack = readFrame(in);
            assertEquals((byte)0x82, connack[0]);
            assertEquals(0x20, connack[1]);
            broker.close();
            final byte[] disconnect = readFrame(in);
            assertEquals((byte)0x82, disconnect[0]);
            assertEquals((byte)0xE0, disconnect[1]);
            assertEquals((byte)0x8B, disconnect[3]);
            final byte[] close = readFrame(in);
            assertEquals((byte)0x88, close[0]);
            assertEquals(1001, ((close[1] & 0xFF) << 8) | (close[2] & 0xFF));
        }
    }

    @Test
    void abruptCloseLeavesTheBrokerServing() throws IOException
    {
        try (Socket socket = handshake(""))
        {
            socket.getOutputStream().write(binary(CONNECT));
            assertArrayEquals(CONNACK, readMqtt(socket.getInputStream(), 4));
            socket.getOutputStream().write(new byte[]{ (byte)0x82, (byte)0x85, 1, 2 }); // half a frame header
            socket.setSoLinger(true, 0);
        }
        try (Socket socket = handshake(""))
        {
            socket.getOutputStream().write(binary(CONNECT));
            assertArrayEquals(CONNACK, readMqtt(socket.getInputStream(), 4));
        }
    }

    @Test
    void healthzAndDemoPageAreServed() throws IOException
    {
        try (Socket socket = open())
        {
            socket.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            final String response = readAll(socket.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
            assertTrue(response.endsWith("\r\n\r\nok\n"), response);
        }
        try (Socket socket = open())
        {
            socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            final String response = readAll(socket.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
            assertTrue(response.contains("Content-Type: text/html"), response);
            assertTrue(response.contains("Skylark"), response);
        }
        try (Socket socket = open())
        {
            socket.getOutputStream().write("GET /../etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(readAll(socket.getInputStream()).startsWith("HTTP/1.1 404 "));
        }
    }

    @Test
    void disallowedOriginIs403() throws IOException
    {
        broker.close();
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0).bindAddress("127.0.0.1")
            .wsAllowedOrigins("https://app.example"));
        try (Socket socket = open())
        {
            socket.getOutputStream().write(upgrade("/mqtt", "Origin: https://evil.example\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            assertTrue(readAll(socket.getInputStream()).startsWith("HTTP/1.1 403 "));
        }
        try (Socket socket = handshake("Origin: https://app.example\r\nX-Forwarded-For: 203.0.113.7\r\n"))
        {
            socket.getOutputStream().write(binary(CONNECT));
            assertArrayEquals(CONNACK, readMqtt(socket.getInputStream(), 4));
        }
    }

    @Test
    void strictModeRefusesAHandshakeWithoutSubprotocol() throws IOException
    {
        broker.close();
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0).bindAddress("127.0.0.1")
            .wsSubprotocolStrict(true));
        try (Socket socket = open())
        {
            socket.getOutputStream().write(upgrade("/mqtt", "").getBytes(StandardCharsets.US_ASCII));
            final String response = readAll(socket.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 400 "), response);
            assertTrue(response.contains("subprotocol mqtt required"), response);
        }
    }
}
