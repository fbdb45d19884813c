/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The publishing schedule driven by hand with a made-up clock: open-loop send times (publisher {@code i} of
 * {@code P} at {@code start + i * interval / P + k * interval}) stamped as the intended time, the measured window,
 * the send lag, and flat out the {@code --max-outstanding} bound. The packets go to a real loopback socket and are
 * read back.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class PublishPacerTest
{
    private static final long START_NS = 1_000_000_000L;
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int PAYLOAD = 64;

    private final Selector selector;
    private final ServerSocketChannel server;
    private SocketChannel[] accepted = new SocketChannel[0];

    PublishPacerTest() throws IOException
    {
        selector = Selector.open();
        server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void close() throws IOException
    {
        for (final SocketChannel channel : accepted)
        {
            channel.close();
        }
        server.close();
        selector.close();
    }

    @Test
    void shouldSendAtTheIntendedTimesOfTheOpenLoopSchedule() throws IOException
    {
        // 2 publishers, 2,000 msgs/s in total: each sends every 1 ms, publisher 1 half a period after publisher 0
        final LoadConfig config = LoadConfig.parse(new String[]{ "--publishers", "2", "--rate", "2000", "--quiet" });
        final ClientConnection[] publishers = publishers(config);
        final PublishPacer pacer = new PublishPacer(config, publishers, sender(config));
        pacer.schedule(START_NS, START_NS + 5 * MS, START_NS + 10 * MS);

        assertEquals(0, pacer.publish(START_NS - 1), "before the start");

        assertEquals(1, pacer.publish(START_NS), "publisher 0 at the start");
        assertEquals(START_NS + MS / 2, pacer.nextDueNs(), "publisher 1 is due half a period later");

        // late: everything due up to now goes out, stamped with the time it was due
        assertEquals(5, pacer.publish(START_NS + 2 * MS + 600_000));
        assertEquals(0, pacer.maxSendLagNs(), "lag counts in the measured window only");
        assertEquals(START_NS + 3 * MS, pacer.nextDueNs());

        assertEquals(5, pacer.publish(START_NS + 5 * MS + 100_000), "up to 5 ms for publisher 0, 4.5 ms for 1");
        assertEquals(100_000, pacer.maxSendLagNs(), "publisher 0's send due at 5 ms");

        // after the window: the sends due in it still go out, none after it
        assertEquals(9, pacer.publish(START_NS + 20 * MS));
        assertEquals(Long.MAX_VALUE, pacer.nextDueNs());
        assertEquals(0, pacer.publish(START_NS + 30 * MS));

        assertEquals(20, pacer.sentTotal(), "rate x (warm-up + duration)");
        assertEquals(10, pacer.sentInWindow(), "stamped at 5 ms up to 10 ms");
        for (int p = 0; p < 2; p++)
        {
            final ByteBuffer received = read(accepted[p], 10 * publishers[p].template.length());
            for (int k = 0; k < 10; k++)
            {
                final int payload = (k + 1) * publishers[p].template.length() - PAYLOAD;
                assertEquals(START_NS + k * MS + p * MS / 2,
                    received.getLong(payload + PayloadDescriptor.TIMESTAMP_OFFSET), "publisher " + p + " send " + k);
                assertEquals(p, received.getInt(payload + PayloadDescriptor.PUBLISHER_OFFSET));
                assertEquals(k, received.getInt(payload + PayloadDescriptor.SEQUENCE_OFFSET));
            }
        }
    }

    @Test
    void shouldPauseFlatOutPublishersAtMaxOutstanding() throws IOException
    {
        final LoadConfig config = LoadConfig.parse(new String[]{ "--publishers", "2", "--max-outstanding", "100",
            "--quiet" });
        final ClientConnection[] publishers = publishers(config);
        final PublishPacer pacer = new PublishPacer(config, publishers, sender(config));
        final AgentCounters counters = new AgentCounters();
        pacer.allCounters(new AgentCounters[]{ counters });
        pacer.schedule(START_NS, START_NS, START_NS + 10 * MS);

        assertEquals(100, pacer.publish(START_NS), "a batch of 64, then the 36 left");
        assertEquals(0, pacer.publish(START_NS + 1), "100 outstanding");
        assertEquals(1, pacer.outstandingPauses());
        assertEquals(START_NS + 1 + TimeUnit.MICROSECONDS.toNanos(50), pacer.nextDueNs(), "checks again soon");

        counters.set(AgentCounters.RECEIVED_TOTAL, 30);
        assertEquals(30, pacer.publish(START_NS + 2), "30 delivered, 30 more allowed");
        assertEquals(130, pacer.sentInWindow());

        pacer.schedule(START_NS, START_NS, START_NS + 2);
        counters.set(AgentCounters.RECEIVED_TOTAL, 130);
        assertEquals(0, pacer.publish(START_NS + 2), "the window is over");
        read(accepted[0], 64 * publishers[0].template.length());
    }

    private ClientConnection[] publishers(final LoadConfig config) throws IOException
    {
        final ClientConnection[] publishers = new ClientConnection[config.publishers];
        accepted = new SocketChannel[publishers.length];
        for (int i = 0; i < publishers.length; i++)
        {
            final PublishTemplate template = ClientPacketEncoder.publishTemplate(
                config.protocolVersion, "p/" + i, config.qos, PAYLOAD);
            final ClientConnection c = new ClientConnection(
                ClientConnection.Role.PUBLISHER, i, "pub-" + i, 1024, 64 * 1024, template, 0, 0);
            c.channel = SocketChannel.open(server.getLocalAddress());
            accepted[i] = server.accept();
            c.channel.configureBlocking(false);
            c.interestOps = SelectionKey.OP_READ;
            c.key = c.channel.register(selector, c.interestOps, c);
            c.state = ClientConnection.State.READY;
            publishers[i] = c;
        }

        return publishers;
    }

    private static ClientSendEndPoint sender(final LoadConfig config)
    {
        return new ClientSendEndPoint(new ClientLifecycle(config, new LoadControl()));
    }

    private static ByteBuffer read(final SocketChannel channel, final int length) throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining())
        {
            if (channel.read(buffer) < 0)
            {
                break;
            }
        }

        return buffer.flip();
    }
}
