package dev.skylark.broker.ws;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue #15 over WebSocket: a client that never reads and floods pings (each answered with a pong) and PINGREQs is
 * no longer read past the outbound limit, so its keep-alive runs out and it is disconnected.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebSocketReplyBoundTest
{
    private Broker broker;

    @AfterEach
    void stop()
    {
        if (broker != null)
        {
            broker.close();
        }
    }

    @Test
    void pingFloodFromAClientThatNeverReadsIsHeldThenDisconnected() throws Exception
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0).bindAddress("127.0.0.1")
            .outboundBufferMax(4096));
        try (Socket flooder = new Socket())
        {
            flooder.setReceiveBufferSize(4096);
            flooder.connect(new InetSocketAddress("127.0.0.1", broker.httpPort()));
            final OutputStream out = flooder.getOutputStream();
            out.write(WebSocketTest.upgrade("/mqtt", "Sec-WebSocket-Protocol: mqtt\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            final byte[] connect = {
                0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 1,  // CONNECT 3.1.1, clean, keep-alive 1 s
                0, 1, 'w' };                                        // client id "w"
            out.write(WebSocketTest.binary(connect));

            final ByteArrayOutputStream flood = new ByteArrayOutputStream();
            final byte[] ping = WebSocketTest.frame(0x89, new byte[125], true);                // ping, 125 bytes
            final byte[] pingreqs = WebSocketTest.binary(new byte[] { (byte)0xC0, 0, (byte)0xC0, 0 });
            while (flood.size() < 64 * 1024)
            {
                flood.writeBytes(ping);
                flood.writeBytes(pingreqs);
            }
            final byte[] chunk = flood.toByteArray();
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            long sent = 0;
            boolean disconnected = false;
            while (!disconnected && System.nanoTime() - deadlineNs < 0)
            {
                try
                {
                    out.write(chunk);
                    sent += chunk.length;
                }
                catch (final IOException closedByTheBroker)
                {
                    disconnected = true;
                }
            }
            assertTrue(disconnected, "the flooder is disconnected; it sent " + sent + " bytes");
            assertTrue(sent < 64L * 1024 * 1024, "it was not read without bound: " + sent + " bytes taken");
        }
    }
}
