package dev.skylark.broker;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.Socket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Closing the broker (what SIGTERM does through the shutdown hook) says goodbye to MQTT 5 clients.
 */
class ShutdownTest
{
    @Test
    void v5ClientsGetServerShuttingDown() throws Exception
    {
        final Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
        try (Socket socket = new Socket("127.0.0.1", broker.mqttPort()))
        {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(new byte[]{
                0x10, 14,                         // CONNECT, remaining length 14
                0, 4, 'M', 'Q', 'T', 'T', 5,      // protocol name, level 5
                0x02, 0, 60,                      // clean start, keep alive 60
                0,                                // no properties
                0, 1, 'z'                         // client id "z"
            });
            final InputStream in = socket.getInputStream();
            final byte[] header = in.readNBytes(2);
            assertEquals(0x20, header[0] & 0xFF, "CONNACK");
            final byte[] connack = in.readNBytes(header[1]);
            assertEquals(0, connack[1], "reason code Success");

            broker.close();

            final byte[] why = "the broker is shutting down".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            final byte[] expected = new byte[7 + why.length];
            expected[0] = (byte)0xE0;                 // DISCONNECT
            expected[1] = (byte)(5 + why.length);     // remaining length
            expected[2] = (byte)0x8B;                 // Server shutting down
            expected[3] = (byte)(3 + why.length);     // properties length
            expected[4] = 0x1F;                       // Reason String
            expected[6] = (byte)why.length;
            System.arraycopy(why, 0, expected, 7, why.length);
            assertArrayEquals(expected, in.readNBytes(expected.length), "DISCONNECT 0x8B Server shutting down");
            assertEquals(-1, in.read(), "then the socket is closed");
        }
        finally
        {
            broker.close();
        }
    }
}
