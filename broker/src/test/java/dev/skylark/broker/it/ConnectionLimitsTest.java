package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.packet;
import static dev.skylark.broker.it.RawClient.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connection limits, overall and per source address, enforced at accept. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ConnectionLimitsTest
{
    private static Socket from(final String source, final int port) throws IOException
    {
        final Socket socket = new Socket();
        socket.setSoTimeout(5000);
        socket.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
        socket.connect(new InetSocketAddress("127.0.0.1", port));
        return socket;
    }

    /** CONNECT; true when CONNACK 0 comes back, false when the broker closed the socket instead. */
    private static boolean connects(final Socket socket, final String clientId) throws IOException
    {
        try
        {
            socket.getOutputStream().write(packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str(clientId)));
            final byte[] connack = socket.getInputStream().readNBytes(4);
            return connack.length == 4 && connack[0] == 0x20 && connack[3] == 0;
        }
        catch (final SocketException closed)
        {
            return false;
        }
    }

    @Test
    void overallAndPerAddressLimits() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1)
            .bindAddress("127.0.0.1").maxConnections(3, 2));
            Socket a1 = from("127.0.0.1", broker.mqttPort());
            Socket a2 = from("127.0.0.1", broker.mqttPort());
            Socket a3 = from("127.0.0.1", broker.mqttPort());
            Socket b1 = from("127.0.0.2", broker.mqttPort());
            Socket c1 = from("127.0.0.3", broker.mqttPort()))
        {
            assertTrue(connects(a1, "a1"));
            assertTrue(connects(a2, "a2"));
            assertEquals(false, connects(a3, "a3"), "third from one address: closed at accept");
            assertTrue(connects(b1, "b1"), "another address, third overall");
            assertEquals(false, connects(c1, "c1"), "fourth overall: closed at accept");

            a1.close();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            boolean accepted = false;
            while (!accepted && System.nanoTime() < deadline)
            {
                try (Socket retry = from("127.0.0.3", broker.mqttPort()))
                {
                    accepted = connects(retry, "c2");
                }
                if (!accepted)
                {
                    LockSupport.parkNanos(10_000_000);
                }
            }
            assertTrue(accepted, "a slot frees when a connection closes");
        }
    }
}
