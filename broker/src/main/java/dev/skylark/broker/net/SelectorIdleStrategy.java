package dev.skylark.broker.net;

import org.agrona.concurrent.IdleStrategy;

/**
 * Idles an {@link IoAgent} by blocking in its selector, so an idle broker burns no core yet wakes at once when a
 * socket is ready or another thread calls {@link IoAgent#wakeup()}. A few empty cycles spin first, so a busy
 * agent does not pay for select() between bursts.
 * <p>
 * Few: an empty cycle is not cheap (a {@code selectNow} system call, and in shared threading the routing agent's
 * cycle too, a few microseconds in all), so 64 of them spun for 100-200 us after every packet, about the gap between
 * messages at 5,000 msgs/s: at moderate load the thread never slept and burned 0.5-0.9 of a core. With 8 it spins
 * some 10-20 us, then blocks in select() until the next packet.
 */
public final class SelectorIdleStrategy implements IdleStrategy
{
    /** Empty duty cycles spun before blocking in select(). */
    static final int SPINS = 8;
    private final Runnable select;
    private int idleCycles;

    public SelectorIdleStrategy(final IoAgent agent)
    {
        this(agent::idleInSelect);
    }

    /** @param select blocks until a socket is ready or the agent is woken (for tests: anything that counts). */
    SelectorIdleStrategy(final Runnable select)
    {
        this.select = select;
    }

    @Override
    public void idle(final int workCount)
    {
        if (workCount > 0)
        {
            idleCycles = 0;
            return;
        }
        idle();
    }

    @Override
    public void idle()
    {
        if (++idleCycles > SPINS)
        {
            select.run();
        }
        else
        {
            Thread.onSpinWait();
        }
    }

    @Override
    public void reset()
    {
        idleCycles = 0;
    }

    @Override
    public String alias()
    {
        return "selector";
    }
}
