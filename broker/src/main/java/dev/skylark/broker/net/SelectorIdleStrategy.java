package dev.skylark.broker.net;

import org.agrona.concurrent.IdleStrategy;

/**
 * Idles an {@link IoAgent} by blocking in its selector, so an idle broker burns no core yet wakes at once when a
 * socket is ready or another thread calls {@link IoAgent#wakeup()}. A few empty cycles spin first, so a busy
 * agent does not pay for select() between bursts.
 */
public final class SelectorIdleStrategy implements IdleStrategy
{
    private static final int SPINS = 64;
    private final IoAgent agent;
    private int idleCycles;

    public SelectorIdleStrategy(final IoAgent agent)
    {
        this.agent = agent;
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
            agent.idleInSelect();
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
