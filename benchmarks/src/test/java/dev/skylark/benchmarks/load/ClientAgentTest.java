/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One {@link ClientAgent} driven by hand against a made-up broker on a loopback socket, for interleavings of the
 * agent's duty cycle, its idle select and the run's schedule that a real run only meets now and then.
 */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class ClientAgentTest
{
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int PAYLOAD = 64;
    private static final byte[] CONNACK = { 0x20, 0x02, 0x00, 0x00 };
    private static final byte[] SUBACK_QOS_1 = { (byte)0x90, 0x03, 0x00, ClientConnection.SUBSCRIBE_PACKET_ID, 0x01 };

    private final ServerSocketChannel server;
    private final ByteBuffer fromClient = ByteBuffer.allocate(4096);
    private SocketChannel broker;
    private ClientAgent agent;

    ClientAgentTest() throws IOException
    {
        server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void close() throws IOException
    {
        if (null != agent)
        {
            agent.onClose();
        }
        if (null != broker)
        {
            broker.close();
        }
        server.close();
    }

    /**
     * CI once failed with gaps=48 (and nothing lost): the subscribers' agent was blocked in the select of its idle
     * strategy when the run's schedule was published, and got the CPU back only after the first deliveries had
     * arrived. That select handled them before any duty cycle had read the schedule: they counted as sent before the
     * run, and the next delivery counted their sequence numbers as missing.
     */
    @Test
    void shouldCountDeliveriesHandledInTheIdleSelectAgainstTheScheduleJustPublished() throws IOException
    {
        final int port = ((InetSocketAddress)server.getLocalAddress()).getPort();
        final LoadConfig config = LoadConfig.parse(new String[]{ "--host", "127.0.0.1", "--port",
            Integer.toString(port), "--publishers", "1", "--subscribers", "1", "--qos", "1", "--quiet" });
        final LoadControl control = new LoadControl();
        agent = new ClientAgent("subscribers", config, control, new LatencyLog().recorder(),
            new ClientConnectionFactory(config).subscribers());
        agent.allCounters(new AgentCounters[]{ agent.counters() });
        final AgentCounters counters = agent.counters();

        agent.onStart();
        broker = server.accept();
        broker.configureBlocking(false);
        awaitPacket(0x10); // CONNECT
        write(CONNACK);
        awaitPacket(0x80); // SUBSCRIBE
        write(SUBACK_QOS_1);
        while (1 != counters.get(AgentCounters.READY))
        {
            agent.doWork();
        }
        agent.doWork(); // a duty cycle without a schedule, as while waiting for the others to be READY

        // The schedule is published, the first delivery arrives, and the agent's thread only then returns to the
        // select of idle(), which dispatches it at once; a duty cycle follows, then the next delivery.
        final long nowNs = System.nanoTime();
        control.schedule(nowNs - 300 * MS, 100 * MS, 10_000 * MS); // now is in the measured window
        final PublishTemplate template = ClientPacketEncoder.publishTemplate(
            config.protocolVersion, config.publishTopic(0), 1, PAYLOAD);
        publish(template, 1, nowNs, 0);
        agent.idle();
        agent.doWork();
        assertEquals(1, counters.get(AgentCounters.RECEIVED_TOTAL));
        publish(template, 2, nowNs, 1);
        while (counters.get(AgentCounters.RECEIVED_TOTAL) < 2)
        {
            agent.doWork();
        }

        assertEquals(0, counters.get(AgentCounters.GAPS), "gaps");
        assertEquals(0, counters.get(AgentCounters.OUT_OF_ORDER), "out of order");
        assertEquals(2, counters.get(AgentCounters.RECEIVED_IN_WINDOW), "received of those sent in the window");
        assertEquals(0, counters.get(AgentCounters.STALE), "sent before the run");
    }

    private void publish(final PublishTemplate template, final int packetId, final long stampNs, final int sequence)
        throws IOException
    {
        final ByteBuffer packet = ByteBuffer.allocate(template.length());
        template.writeTo(packet, packetId, stampNs, 0, sequence);
        write(packet.flip());
    }

    private void write(final byte[] bytes) throws IOException
    {
        write(ByteBuffer.wrap(bytes));
    }

    private void write(final ByteBuffer bytes) throws IOException
    {
        while (bytes.hasRemaining())
        {
            broker.write(bytes);
        }
    }

    /**
     * Runs the agent's duty cycle until the made-up broker has read a whole packet of {@code type}, and drops it.
     */
    private void awaitPacket(final int type) throws IOException
    {
        while (true)
        {
            agent.doWork();
            broker.read(fromClient);
            if (fromClient.position() >= 2)
            {
                int length = 0;
                int shift = 0;
                int i = 1;
                int digit;
                do
                {
                    digit = fromClient.get(i++);
                    length |= (digit & 0x7F) << shift;
                    shift += 7;
                }
                while ((digit & 0x80) != 0 && i < fromClient.position());
                if ((digit & 0x80) == 0 && fromClient.position() >= i + length)
                {
                    assertTrue((fromClient.get(0) & 0xF0) == type, "packet type");
                    fromClient.flip().position(i + length);
                    fromClient.compact();
                    return;
                }
            }
        }
    }
}
