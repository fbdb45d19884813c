package dev.skylark.broker.net;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What a lone message costs the I/O agent in system calls: a busy duty cycle asks the selector for ready keys at
 * most every 20 µs or 16 cycles (each ask is an epoll_wait; at 5,000 msgs/s asking every cycle cost 130 µs of CPU per
 * message), a standing clock does not stop it reading, and work handed over while it handles the keys of a blocking
 * select() costs no selector.wakeup().
 */
@Timeout(30)
class IoAgentPollingTest
{
    private static final long US = TimeUnit.MICROSECONDS.toNanos(1);
    private static final ByteBuffer PINGREQ = ByteBuffer.wrap(new byte[] { (byte)0xC0, 0 });

    private final CachedNanoClock clock = new CachedNanoClock();
    private IoAgent agent;
    private SocketChannel client;
    private int packets;
    private boolean wakeOnPacket;

    private final class CountingHandler implements ConnectionHandler
    {
        @Override
        public boolean onPacket(final DirectBuffer buffer, final int offset, final int length, final long nowNs)
        {
            packets++;
            if (wakeOnPacket)
            {
                agent.wakeup(); // what handing a PUBLISH to the routing agent does
            }
            return true;
        }

        @Override
        public void onFramingError(final int reasonCode)
        {
        }

        @Override
        public long onTick(final long nowNs)
        {
            return NO_DEADLINE;
        }

        @Override
        public void onShutdown()
        {
        }

        @Override
        public void onClosed(final String cause)
        {
        }
    }


    @AfterEach
    void close() throws IOException
    {
        if (agent != null)
        {
            agent.onClose();
        }
        if (client != null)
        {
            client.close();
        }
    }

    /** An agent on the hand-moved clock with one accepted connection; the clock stands still throughout. */
    private void start() throws IOException
    {
        clock.update(1_000_000_000L);
        agent = new IoAgent(0, clock, (connection) -> new CountingHandler(), new NoHook(), 1024, 1 << 20);
        final ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        agent.addListener(listener);
        client = SocketChannel.open(listener.getLocalAddress());
        final long giveUpNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (agent.connectionCount() == 0 && System.nanoTime() < giveUpNs)
        {
            agent.doWork();
        }
        assertEquals(1, agent.connectionCount(), "connection accepted");
    }

    private void sendPingreq() throws IOException
    {
        client.write(PINGREQ.duplicate());
    }

    @Test
    void busyCyclesAskTheSelectorEvery16CyclesWhenTheClockStandsStill() throws IOException
    {
        start();
        final long polls = agent.selectorPolls;
        for (int i = 0; i < 1_600; i++)
        {
            agent.doWork();
        }
        assertEquals(100, agent.selectorPolls - polls, "one poll per 16 cycles");

        // and still reads what arrives
        sendPingreq();
        final long giveUpNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (packets == 0 && System.nanoTime() < giveUpNs)
        {
            agent.doWork();
        }
        assertEquals(1, packets, "read with a standing clock");
    }

    @Test
    void busyCyclesAskTheSelectorOnceEvery20Microseconds() throws IOException
    {
        start();
        long polls = agent.selectorPolls;
        for (int i = 0; i < 100; i++)
        {
            clock.advance(20 * US);
            agent.doWork();
        }
        assertEquals(100, agent.selectorPolls - polls, "20 µs apart: every cycle");

        polls = agent.selectorPolls;
        for (int i = 0; i < 100; i++)
        {
            clock.advance(5 * US);
            agent.doWork();
        }
        assertEquals(25, agent.selectorPolls - polls, "5 µs apart: every fourth cycle");
    }

    @Test
    void workHandedOverWhileHandlingTheKeysOfABlockingSelectCostsNoWakeup() throws IOException
    {
        start();
        wakeOnPacket = true;
        sendPingreq();
        final long giveUpNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (packets == 0 && System.nanoTime() < giveUpNs)
        {
            agent.idleInSelect(); // blocks until the PINGREQ is readable, then reads it right there
        }
        assertEquals(1, packets);
        assertEquals(0, agent.selectorWakeups, "awake while handling keys: no selector.wakeup() system call");
    }
}
