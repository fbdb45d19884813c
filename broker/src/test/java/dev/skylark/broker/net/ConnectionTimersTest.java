package dev.skylark.broker.net;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.CachedNanoClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The I/O agent's timer wheel, driven by hand with a controlled clock: a deadline fires at the first duty cycle with
 * {@code nowNs >= deadline} and not one earlier, a deadline moved earlier takes effect, a closed connection's timer
 * is gone, and a sweep version change calls every handler once.
 */
@Timeout(30)
class ConnectionTimersTest
{
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
    private final CachedNanoClock clock = new CachedNanoClock();
    private final List<TestHandler> handlers = new ArrayList<>();
    private final List<SocketChannel> clients = new ArrayList<>();
    private IoAgent agent;
    private long firstDeadlineNs = 5_000 * MS;

    private final class TestHandler implements ConnectionHandler
    {
        final Connection connection;
        final List<Long> ticks = new ArrayList<>();
        long nextDeadlineNs;
        boolean closed;

        TestHandler(final Connection connection)
        {
            this.connection = connection;
            this.nextDeadlineNs = connection.nowNs() + firstDeadlineNs;
        }

        @Override
        public boolean onPacket(final DirectBuffer buffer, final int offset, final int length, final long nowNs)
        {
            return true;
        }

        @Override
        public void onFramingError(final int reasonCode)
        {
        }

        @Override
        public long onTick(final long nowNs)
        {
            ticks.add(nowNs);
            return nextDeadlineNs;
        }

        @Override
        public void onShutdown()
        {
        }

        @Override
        public void onClosed(final String cause)
        {
            closed = true;
        }
    }

    @AfterEach
    void close() throws IOException
    {
        if (agent != null)
        {
            agent.onClose();
        }
        for (final SocketChannel client : clients)
        {
            client.close();
        }
    }

    private void start(final AtomicLong sweepVersion) throws IOException
    {
        clock.update(1_000_000 * MS);
        agent = new IoAgent(0, clock, (connection) ->
        {
            final TestHandler handler = new TestHandler(connection);
            handlers.add(handler);
            return handler;
        }, new NoHook(), 1024, 1 << 20);
        if (sweepVersion != null)
        {
            agent.sweepOnChange(sweepVersion::get);
        }
        final ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        agent.addListener(listener);
        clients.add(SocketChannel.open(listener.getLocalAddress()));
        final long giveUpNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (handlers.isEmpty() && System.nanoTime() < giveUpNs)
        {
            agent.doWork();
        }
        assertEquals(1, handlers.size(), "connection accepted");
    }


    /** Moves the clock and runs one duty cycle. */
    private void at(final long nowNs)
    {
        clock.update(nowNs);
        agent.doWork();
    }

    @Test
    void firesAtTheDeadlineNotBefore() throws IOException
    {
        start(null);
        final TestHandler handler = handlers.get(0);
        assertEquals(1, handler.ticks.size(), "asked for its first deadline when attached");
        final long deadlineNs = handler.nextDeadlineNs;
        handler.nextDeadlineNs = deadlineNs + 60_000 * MS; // what it answers when the timer fires

        at(deadlineNs - MS);
        assertEquals(1, handler.ticks.size(), "1 ms before: not yet");
        at(deadlineNs - 1);
        assertEquals(1, handler.ticks.size(), "1 ns before: not yet");
        at(deadlineNs);
        assertEquals(2, handler.ticks.size(), "at the deadline");
        assertEquals(deadlineNs, handler.ticks.get(1));
        at(deadlineNs + MS);
        assertEquals(2, handler.ticks.size(), "once");

        // re-armed at the answer, across many turns of the wheel
        final long nextNs = handler.nextDeadlineNs;
        handler.nextDeadlineNs = ConnectionHandler.NO_DEADLINE;
        at(nextNs - MS);
        assertEquals(2, handler.ticks.size());
        at(nextNs + MS);
        assertEquals(3, handler.ticks.size());
        at(nextNs + 3_600_000 * MS);
        assertEquals(3, handler.ticks.size(), "NO_DEADLINE: no timer");
        assertEquals(0, agent.timers().size());
    }

    @Test
    void dutyCyclesWithNothingDueInTheCurrentTickDoNotScanTheWheel() throws IOException
    {
        start(null);
        final TestHandler handler = handlers.get(0);
        final long deadlineNs = handler.nextDeadlineNs;
        handler.nextDeadlineNs = ConnectionHandler.NO_DEADLINE;
        final ConnectionTimers timers = agent.timers();
        at(clock.nanoTime() + 1); // catches the wheel up to the clock
        final long polls = timers.wheelPolls;
        for (int i = 0; i < 1_000; i++)
        {
            at(clock.nanoTime() + 100); // many duty cycles within one tick (about 1 ms), the timer 5 s away
        }
        assertTrue(timers.wheelPolls - polls <= 1, "wheel polled " + (timers.wheelPolls - polls) + " times");

        at(deadlineNs - 1);
        assertEquals(1, handler.ticks.size(), "1 ns before: not yet");
        at(deadlineNs);
        assertEquals(2, handler.ticks.size(), "at the deadline");
    }

    @Test
    void deadlineMovedEarlierFiresEarlierAndLaterOnesAreLazy() throws IOException
    {
        start(null);
        final TestHandler handler = handlers.get(0);
        final long nowNs = clock.nanoTime();
        handler.connection.scheduleTimer(nowNs + 40 * MS);
        handler.connection.scheduleTimer(nowNs + 4_000 * MS); // later: the earlier timer stays
        handler.nextDeadlineNs = nowNs + 7_000 * MS;
        at(nowNs + 40 * MS - 1);
        assertEquals(1, handler.ticks.size());
        at(nowNs + 40 * MS + 1);
        assertEquals(2, handler.ticks.size());
        at(nowNs + 6_999 * MS);
        assertEquals(2, handler.ticks.size(), "the 4 s request was later than the armed one: dropped");
        at(nowNs + 7_000 * MS);
        assertEquals(3, handler.ticks.size());
    }

    @Test
    void closedConnectionLosesItsTimer() throws IOException
    {
        start(null);
        final TestHandler handler = handlers.get(0);
        assertEquals(1, agent.timers().size());
        handler.connection.close("test");
        assertTrue(handler.closed);
        assertEquals(0, agent.timers().size());
        at(clock.nanoTime() + 3_600_000 * MS);
        assertEquals(1, handler.ticks.size());
    }

    @Test
    void idleWaitFollowsTheNextDeadline() throws IOException
    {
        start(null);
        final TestHandler handler = handlers.get(0);
        final long nowNs = clock.nanoTime();
        handler.connection.scheduleTimer(nowNs + 30 * MS);
        final long nextNs = agent.timers().nextDeadlineNs(nowNs, 100 * MS);
        assertTrue(nextNs <= nowNs + 30 * MS && nextNs > nowNs + 28 * MS, "next deadline " + (nextNs - nowNs));
        assertEquals(Long.MAX_VALUE, agent.timers().nextDeadlineNs(nowNs, 20 * MS), "none within 20 ms");
    }

    @Test
    void sweepVersionChangeCallsEveryHandlerOnce() throws IOException
    {
        final AtomicLong version = new AtomicLong(7);
        start(version);
        final TestHandler handler = handlers.get(0);
        final long nowNs = clock.nanoTime();
        at(nowNs + 200 * MS);
        assertEquals(1, handler.ticks.size(), "no change, no sweep");
        version.incrementAndGet();
        at(nowNs + 400 * MS);
        assertEquals(2, handler.ticks.size(), "swept");
        at(nowNs + 600 * MS);
        assertEquals(2, handler.ticks.size(), "once per change");
    }

    /**
     * Many timers, moved earlier at random, against a brute-force model: each fires at the first poll with
     * {@code nowNs >= deadline}, and the idle wait never sleeps past the earliest one.
     */
    @Test
    void randomTimersFireExactlyAndTheIdleWaitNeverOversleeps() throws IOException
    {
        start(null);
        final java.util.Random random = new java.util.Random(42);
        final int count = 300;
        final long[] deadlines = new long[count];
        final TestHandler[] timed = new TestHandler[count];
        long nowNs = clock.nanoTime();
        final ConnectionTimers timers = agent.timers();
        for (int i = 0; i < count; i++)
        {
            final Connection connection = new Connection(1000 + i, SocketChannel.open(), agent, 1024, 1 << 20,
                ListenerSpec.mqtt(), nowNs);
            timed[i] = new TestHandler(connection);
            timed[i].nextDeadlineNs = ConnectionHandler.NO_DEADLINE;
            connection.init(null, timed[i]);
            deadlines[i] = nowNs + random.nextInt(3_000) * MS + random.nextInt(1_000_000);
            timers.schedule(connection, deadlines[i]);
        }
        long previousNs = nowNs;
        final long endNs = nowNs + 4_000 * MS;
        while (nowNs < endNs)
        {
            long earliest = Long.MAX_VALUE;
            for (int i = 0; i < count; i++)
            {
                earliest = Math.min(earliest, deadlines[i]);
            }
            final long boundNs = timers.nextDeadlineNs(nowNs, 100 * MS);
            if (earliest <= nowNs + 100 * MS)
            {
                assertTrue(boundNs <= earliest, "idle wait until " + boundNs + " sleeps past " + earliest);
            }
            if (random.nextInt(10) == 0)
            {
                final int i = random.nextInt(count);
                if (deadlines[i] != Long.MAX_VALUE && deadlines[i] > nowNs + 5 * MS)
                {
                    deadlines[i] -= random.nextInt((int)((deadlines[i] - nowNs) / MS)) * MS;
                    timed[i].connection.scheduleTimer(deadlines[i]);
                }
            }
            previousNs = nowNs;
            nowNs += random.nextInt(20) * MS + random.nextInt(1_000_000);
            clock.update(nowNs);
            timers.poll(nowNs);
            for (int i = 0; i < count; i++)
            {
                if (deadlines[i] != Long.MAX_VALUE && deadlines[i] <= nowNs)
                {
                    assertEquals(List.of(nowNs), timed[i].ticks, "timer " + i + " fires at the first poll past " +
                        (deadlines[i] - previousNs) + " ns after the previous one");
                    deadlines[i] = Long.MAX_VALUE;
                    timed[i].ticks.clear();
                }
                else
                {
                    assertEquals(List.of(), timed[i].ticks, "timer " + i + " not due (or fired already)");
                }
            }
        }
        handlers.get(0).connection.close("done"); // the accepted one, armed at +5 s
        assertEquals(0, timers.size());
    }
}
