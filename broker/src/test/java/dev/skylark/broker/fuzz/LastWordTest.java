package dev.skylark.broker.fuzz;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.skylark.broker.fuzz.Packets.bytes;
import static dev.skylark.broker.fuzz.Packets.concat;
import static dev.skylark.broker.fuzz.Packets.packet;
import static dev.skylark.broker.fuzz.Packets.props;
import static dev.skylark.broker.fuzz.Packets.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A broker's DISCONNECT, refusing CONNACK or WebSocket close frame is its last word on a connection
 * [MQTT-3.14.4-1, RFC 6455 5.5.1], even for a subscriber in the middle of a flood of deliveries: the ones that
 * reach its I/O thread while the connection closes are not written after it. Found by the live fuzzer: a
 * WebSocket protocol error closed the WebSocket while the MQTT session was still connected, and the next
 * deliveries went out as data frames after the close frame. The {@link ResponseOracle} and {@link Wire} check
 * "nothing after the last word".
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LastWordTest
{
    @Test
    void nothingFollowsTheLastWordWhileDeliveriesPour() throws Exception
    {
        final AtomicBoolean stop = new AtomicBoolean();
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0)
            .bindAddress("127.0.0.1"));
            Wire publisher = Wire.tcp(InetAddress.getLoopbackAddress(), broker.mqttPort()))
        {
            publisher.send(concat(packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("flooder")), Packets.PINGREQ));
            assertTrue(publisher.awaitPings(1, deadline()));
            final ByteArrayOutputStream batch = new ByteArrayOutputStream();
            for (int i = 0; i < 32; i++)
            {
                batch.writeBytes(packet(0x30, str("flood/x"), new byte[100]));
            }
            final Thread flood = new Thread(() ->
            {
                try
                {
                    while (!stop.get())
                    {
                        publisher.sendRaw(batch.toByteArray());
                    }
                }
                catch (final Exception end)
                {
                    // the test is over
                }
            });
            flood.start();
            try
            {
                for (int round = 0; round < 3; round++)
                {
                    webSocketProtocolError(broker.httpPort(), round);
                    mqttProtocolError(broker.mqttPort(), round);
                }
            }
            finally
            {
                stop.set(true);
                publisher.close(); // unblocks a write held up by back pressure
                flood.join(5000);
            }
        }
    }

    /** A subscriber receiving the flood over WebSocket sends an unmasked frame: close 1002, and nothing after it. */
    private static void webSocketProtocolError(final int port, final int round) throws Exception
    {
        try (Wire.WebSocket ws = (Wire.WebSocket)Wire.webSocket(InetAddress.getLoopbackAddress(), port, new Random(round)))
        {
            ws.upgrade(Wire.WebSocket.REQUEST.getBytes(java.nio.charset.StandardCharsets.US_ASCII), true);
            ws.send(concat(packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 0), props(), str("ws" + round)),
                packet(0x82, bytes(0, 1), props(), str("flood/#"), bytes(0))));
            assertTrue(ws.awaitPackets(50, deadline()), "deliveries flow");
            ws.sendRaw(bytes(0x82, 0x02, 0xC0, 0x00)); // PINGREQ in an unmasked frame
            ws.awaitClose(deadline());                  // Wire fails on a frame after the close frame
            assertEquals(1002, ws.closeCode);
        }
    }

    /** A subscriber receiving the flood sends a PUBLISH with QoS 3: DISCONNECT 0x81, and nothing after it. */
    private static void mqttProtocolError(final int port, final int round) throws Exception
    {
        try (Wire tcp = Wire.tcp(InetAddress.getLoopbackAddress(), port))
        {
            tcp.send(concat(packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 0), props(), str("tcp" + round)),
                packet(0x82, bytes(0, 1), props(), str("flood/#"), bytes(0))));
            assertTrue(tcp.awaitPackets(50, deadline()), "deliveries flow");
            tcp.send(packet(0x36, str("flood/x"), bytes(0, 1), props(), bytes('x')));
            tcp.awaitClose(deadline());                 // the oracle fails on a packet after the DISCONNECT
            assertEquals(0x81, tcp.oracle.disconnectReason);
        }
    }

    private static long deadline()
    {
        return System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    }
}
