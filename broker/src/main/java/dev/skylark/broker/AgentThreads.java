package dev.skylark.broker;

import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.net.SelectorIdleStrategy;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.IdleStrategy;

import java.util.ArrayList;
import java.util.List;

/**
 * Puts the broker's agents on threads as the {@link ThreadingMode} says, starts them and stops them in order:
 * I/O agents first (they say goodbye to clients and flush), then the publish hook, then the routing agent. In
 * {@link ThreadingMode#INVOKER} no thread is started and {@link #invoke()} runs every agent once on the caller's
 * thread. Created and driven by {@link Broker}.
 */
final class AgentThreads implements AutoCloseable
{
    private final AgentRunner[] ioRunners;
    /** Null unless the routing agent has its own thread (dedicated threading). */
    private final AgentRunner routerRunner;
    /** Null without a publish hook, or in invoker mode. */
    private final AgentRunner hookRunner;
    /** Null unless in invoker mode. */
    private final AgentInvoker invoker;

    AgentThreads(final ThreadingMode mode, final IdleMode idleMode, final BrokerAgents agents, final ErrorHandler onError)
    {
        final IoAgent[] ioAgents = agents.ioAgents;
        final boolean spin = idleMode == IdleMode.SPIN;
        if (mode == ThreadingMode.INVOKER)
        {
            final List<Agent> all = new ArrayList<>(List.of(ioAgents));
            all.add(agents.router);
            if (agents.hookAgent != null)
            {
                all.add(agents.hookAgent);
            }
            all.add(agents.heartbeat);
            invoker = new AgentInvoker(onError, null, new CompositeAgent(all));
            ioRunners = new AgentRunner[0];
            routerRunner = null;
            hookRunner = null;
            return;
        }
        invoker = null;
        hookRunner = agents.hookAgent == null ? null :
            new AgentRunner(spin ? new BusySpinIdleStrategy() : agents.hookIdle, onError, null, agents.hookAgent);
        ioRunners = new AgentRunner[ioAgents.length];
        final boolean shared = mode == ThreadingMode.SHARED;
        for (int i = 0; i < ioAgents.length; i++)
        {
            final IdleStrategy idle = spin ? new BusySpinIdleStrategy() : new SelectorIdleStrategy(ioAgents[i]);
            final Agent agent = shared && i == 0 ?
                named("skylark-io-0+router", ioAgents[0], agents.router, agents.heartbeat) : ioAgents[i];
            ioRunners[i] = new AgentRunner(idle, onError, null, agent);
        }
        if (shared)
        {
            ioAgents[0].sharedWork(agents.router::hasWork);
            routerRunner = null;
        }
        else
        {
            routerRunner = new AgentRunner(spin ? new BusySpinIdleStrategy() : agents.routerIdle, onError, null,
                named("skylark-router", agents.router, agents.heartbeat));
        }
    }

    /** A composite whose thread gets a readable name (Agrona's would be {@code [[a,b,c]]}). */
    private static Agent named(final String name, final Agent... agents)
    {
        return new CompositeAgent(agents)
        {
            @Override
            public String roleName()
            {
                return name;
            }
        };
    }

    /** Starts the threads (or, in invoker mode, the agents: their {@code onStart}). */
    void start()
    {
        if (invoker != null)
        {
            invoker.start();
            return;
        }
        if (routerRunner != null)
        {
            AgentRunner.startOnThread(routerRunner);
        }
        if (hookRunner != null)
        {
            AgentRunner.startOnThread(hookRunner);
        }
        for (final AgentRunner runner : ioRunners)
        {
            AgentRunner.startOnThread(runner);
        }
    }

    /** Invoker mode: one duty cycle of every agent on the caller's thread; the work done. */
    int invoke()
    {
        if (invoker == null)
        {
            throw new IllegalStateException("doWork() is for ThreadingMode.INVOKER: the agents run on their threads");
        }
        return invoker.invoke();
    }

    @Override
    public void close()
    {
        if (invoker != null)
        {
            CloseHelper.quietClose(invoker); // every agent's onClose, I/O agents first
            return;
        }
        for (final AgentRunner runner : ioRunners)
        {
            CloseHelper.quietClose(runner);
        }
        // Then the hook: nothing more comes in; what it has not decided is not acknowledged, so not lost for QoS 1/2
        // publishers that resend.
        CloseHelper.quietClose(hookRunner);
        CloseHelper.quietClose(routerRunner);
    }
}
