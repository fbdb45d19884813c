package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.str;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The routing agent on I/O thread 0 (skylark.threading=shared), with delivery rings small enough that a burst fills
 * them: the routing agent must drain its own thread's ring while it waits, never wait for itself.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SharedThreadingTest
{
    @Test
    void aBurstThroughSmallRingsArrivesWholeAndInOrder() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .sharedThreading(true).ioThreads(1).maxPacketSize(4096)
            .inboundRingCapacity(64 * 1024).outboundRingCapacity(64 * 1024));
            RawClient subscriber = new RawClient(broker.mqttPort());
            RawClient publisher = new RawClient(broker.mqttPort()))
        {
            subscriber.send(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("sub")).expect(2);
            subscriber.send(0x82, bytes(0, 1), str("burst"), bytes(1)).expect(9);
            publisher.send(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("pub")).expect(2);

            final int messages = 1500;
            final byte[] payload = new byte[1000];
            final java.io.ByteArrayOutputStream burst = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < messages; i++)
            {
                payload[0] = (byte)(i >> 8);
                payload[1] = (byte)i;
                burst.writeBytes(RawClient.packet(0x30, str("burst"), payload)); // QoS 0
            }
            publisher.sendRaw(burst.toByteArray());

            for (int i = 0; i < messages; i++)
            {
                final byte[] packet = subscriber.expect(3);
                final byte[] body = Arrays.copyOfRange(packet, packet.length - payload.length, packet.length);
                assertEquals(i, ((body[0] & 0xFF) << 8) | (body[1] & 0xFF), "message order");
            }
            assertEquals(0, broker.agentErrors());
            assertArrayEquals(bytes(0xD0, 0), subscriber.send(0xC0).expect(13), "still responsive");
        }
    }
}
