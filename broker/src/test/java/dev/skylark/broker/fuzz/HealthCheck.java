package dev.skylark.broker.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.skylark.broker.fuzz.Packets.bytes;
import static dev.skylark.broker.fuzz.Packets.packet;
import static dev.skylark.broker.fuzz.Packets.str;

/**
 * A well-behaved pair while the fuzzers run: a publisher sends a numbered QoS 1 message every few milliseconds to a
 * topic no fuzz case uses, and a subscriber must get each one, in order, within {@link #MAX_LATENCY_MS} ms.
 */
final class HealthCheck implements Runnable, AutoCloseable
{
    static final long MAX_LATENCY_MS = 5_000;

    private final Socket publisher;
    private final Socket watcher;
    private final String topic;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Thread thread;
    volatile Throwable failure;
    volatile long delivered;
    volatile long maxLatencyNs;

    HealthCheck(final int port, final long seed) throws IOException
    {
        topic = "health/" + Long.toHexString(seed);
        watcher = open(port, "health-watcher");
        watcher.getOutputStream().write(packet(0x82, bytes(0, 1), str(topic), bytes(1)));
        expect(watcher, 0x90);
        publisher = open(port, "health-publisher");
        thread = new Thread(this, "fuzz-health");
    }

    void start()
    {
        thread.start();
    }

    private static Socket open(final int port, final String clientId) throws IOException
    {
        final Socket socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        socket.setSoTimeout((int)MAX_LATENCY_MS);
        socket.getOutputStream().write(packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str(clientId)));
        expect(socket, 0x20);
        return socket;
    }

    @Override
    public void run()
    {
        try
        {
            int sequence = 0;
            while (!stop.get())
            {
                sequence++;
                final int id = 1 + sequence % 65_535;
                final byte[] payload = Integer.toString(sequence).getBytes();
                final long startNs = System.nanoTime();
                publisher.getOutputStream().write(packet(0x32, str(topic), bytes(id >> 8, id), payload));
                final byte[] delivery = expect(watcher, 0x30);
                final long latencyNs = System.nanoTime() - startNs;
                final int idAt = headerLength(delivery) + 2 + topic.length();
                final String received = new String(delivery, idAt + 2, delivery.length - idAt - 2);
                if (!received.equals(Integer.toString(sequence)))
                {
                    throw new AssertionError("heartbeat " + sequence + " out of order: got " + received);
                }
                watcher.getOutputStream().write(packet(0x40, bytes(delivery[idAt], delivery[idAt + 1])));
                expect(publisher, 0x40);
                maxLatencyNs = Math.max(maxLatencyNs, latencyNs);
                if (latencyNs > TimeUnit.MILLISECONDS.toNanos(MAX_LATENCY_MS))
                {
                    throw new AssertionError("heartbeat " + sequence + " took " +
                        TimeUnit.NANOSECONDS.toMillis(latencyNs) + " ms");
                }
                delivered = sequence;
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
        }
        catch (final Throwable ex)
        {
            if (!stop.get())
            {
                failure = ex;
            }
        }
    }

    /** Type byte and Remaining Length. */
    private static int headerLength(final byte[] packet)
    {
        int i = 1;
        while ((packet[i] & 0x80) != 0)
        {
            i++;
        }
        return i + 1;
    }

    /** Reads one packet of the given first byte (QoS and DUP bits ignored for PUBLISH). */
    private static byte[] expect(final Socket socket, final int first) throws IOException
    {
        final InputStream in = socket.getInputStream();
        final int b0 = in.read();
        if (b0 < 0)
        {
            throw new AssertionError("a well-behaved client was disconnected");
        }
        final java.io.ByteArrayOutputStream packet = new java.io.ByteArrayOutputStream();
        packet.write(b0);
        int length = 0;
        int shift = 0;
        int digit;
        do
        {
            digit = in.read();
            packet.write(digit);
            length |= (digit & 0x7F) << shift;
            shift += 7;
        }
        while ((digit & 0x80) != 0);
        packet.writeBytes(in.readNBytes(length));
        if ((b0 & 0xF0) != (first & 0xF0))
        {
            throw new AssertionError(String.format("a well-behaved client got packet 0x%02X, expected 0x%02X", b0, first));
        }
        return packet.toByteArray();
    }

    @Override
    public void close() throws Exception
    {
        stop.set(true);
        thread.join(TimeUnit.MILLISECONDS.toMillis(2 * MAX_LATENCY_MS));
        publisher.close();
        watcher.close();
    }
}
