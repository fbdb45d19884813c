package dev.skylark.broker.ws;

import dev.skylark.broker.Broker;
import dev.skylark.broker.cli.SkylarkMain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A browser-style client: MQTT over WebSocket, no HTTP-level authentication, the token as the CONNECT password.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WebSocketTokenTest
{
    @TempDir
    Path dataDir;

    @Test
    void theConnectInsideTheTunnelCarriesTheToken() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("token").mqttPort(0).httpPort(0)
            .bindAddress("127.0.0.1").dataDir(dataDir.toString())))
        {
            final ByteArrayOutputStream issued = new ByteArrayOutputStream();
            SkylarkMain.execute(new String[]{"token", "issue", "--client-id", "browser1", "--data.dir",
                dataDir.toString()}, new PrintStream(issued, true, StandardCharsets.UTF_8));
            final Matcher token = Pattern.compile("\"browser1\"\\s*:\\s*\"([^\"]+)\"")
                .matcher(issued.toString(StandardCharsets.UTF_8));
            assertTrue(token.find(), issued.toString(StandardCharsets.UTF_8));

            assertArrayEquals(new byte[]{0x20, 2, 0, 0}, connectOverWebSocket(broker, token.group(1)), "accepted");
            assertArrayEquals(new byte[]{0x20, 2, 0, 4}, connectOverWebSocket(broker, "not-a-token"),
                "3.1.1 return code 4: bad user name or password");
        }
    }

    private static byte[] connectOverWebSocket(final Broker broker, final String password) throws Exception
    {
        try (Socket socket = new Socket("127.0.0.1", broker.httpPort()))
        {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(WebSocketTest.upgrade("/mqtt", "Sec-WebSocket-Protocol: mqtt\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            final String head = WebSocketTest.readHead(socket.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 101 "), head);

            final byte[] id = "browser1".getBytes(StandardCharsets.UTF_8);
            final byte[] secret = password.getBytes(StandardCharsets.UTF_8);
            final ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes(new byte[]{0, 4, 'M', 'Q', 'T', 'T', 4, (byte)0xC2, 0, 30}); // user, password, clean
            for (final byte[] field : new byte[][]{id, id, secret})
            {
                body.write(field.length >> 8);
                body.write(field.length);
                body.writeBytes(field);
            }
            final ByteArrayOutputStream connect = new ByteArrayOutputStream();
            connect.write(0x10);
            int length = body.size();
            do
            {
                final int digit = length % 128;
                length /= 128;
                connect.write(length > 0 ? digit | 0x80 : digit);
            }
            while (length > 0);
            connect.writeBytes(body.toByteArray());
            socket.getOutputStream().write(WebSocketTest.binary(connect.toByteArray()));
            return WebSocketTest.readMqtt(socket.getInputStream(), 4);
        }
    }
}
