/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.IdleStrategy;

import static dev.skylark.benchmarks.load.ClientPacketEncoder.INSUFFICIENT_CAPACITY;
import static dev.skylark.benchmarks.load.ClientPacketEncoder.PINGREQ;

/**
 * One selector thread's work: drives any mix of publisher and subscriber {@link ClientConnection}s over
 * non-blocking sockets. The agent keeps the duty cycle and the selector and wires its parts, which all run on its
 * thread: {@link ClientConnector} (connects and handshakes), {@link PublishPacer} (publishing schedule),
 * {@link ClientInputAdapter} (reading, decoding, latency), {@link ClientSendEndPoint} (flushing) and
 * {@link ClientLifecycle} (READY count, closing and failures).
 * <p>
 * Duty cycle: one clock read, {@code selectNow} dispatching reads/writes/connects, then each ready publisher (round
 * robin) appends up to {@link PublishPacer#PUBLISH_BATCH} pre-encoded PUBLISH packets to its send buffer and flushes
 * once, a keep-alive tick, and the counters published. Back pressure: a publisher writes only while its send buffer
 * has room and, for QoS &gt; 0, while its in-flight window is open; a full send buffer waits for {@code OP_WRITE}.
 * Subscribers always read; they only stop when their send buffer (acks) is full, and resume on {@code OP_WRITE}.
 * Nothing allocates per message.
 * <p>
 * {@link #doWork()} never blocks; {@link SelectorIdleStrategy} blocks in {@code select} (or parks until the next
 * scheduled send when paced) so idle agents leave the cores to the broker. That select handles the keys it finds
 * ready itself, so the run's schedule is read in the handler too until the agent has seen it.
 */
final class ClientAgent implements Agent
{
    static final long HIGHEST_TRACKABLE_NS = TimeUnit.SECONDS.toNanos(60);
    private static final long TICK_NS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long IDLE_SELECT_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final String name;
    private final LoadControl control;
    private final AgentCounters counters = new AgentCounters();
    private final ClientConnection[] connections;
    private final Consumer<SelectionKey> selectHandler = this::onSelected;
    private final Selector selector;
    private final ClientLifecycle lifecycle;
    private final ClientSendEndPoint sender;
    private final ClientConnector connector;
    private final ClientInputAdapter input;

    /**
     * Record acknowledgement latency (PUBACK/PUBCOMP) into this recorder; give it only to the agent that owns the
     * publishers (its single writer). Call before the agent starts.
     */
    void ackRecorder(final SingleWriterRecorder ackRecorder)
    {
        input.ackRecorder(ackRecorder);
    }
    private final PublishPacer pacer;

    private long startNs = Long.MAX_VALUE;
    private long nextTickNs;

    ClientAgent(
        final String name,
        final LoadConfig config,
        final LoadControl control,
        final SingleWriterRecorder recorder,
        final ClientConnection[] connections) throws IOException
    {
        this.name = name;
        this.control = control;
        this.connections = connections;
        int maxRx = 0;
        for (final ClientConnection c : connections)
        {
            maxRx = Math.max(maxRx, c.rx.capacity());
        }
        this.selector = Selector.open();
        this.lifecycle = new ClientLifecycle(config, control);
        this.sender = new ClientSendEndPoint(lifecycle);
        this.connector = new ClientConnector(config, control, connections, selector, sender, lifecycle);
        this.input = new ClientInputAdapter(config, control, recorder, maxRx, sender, connector, lifecycle);
        this.connector.inputAdapter(input);
        this.pacer = new PublishPacer(config, connections, sender);
    }

    /**
     * The counters of every agent of the run, read to bound flat-out publishing by {@code --max-outstanding}.
     *
     * @param allCounters of all agents, this one included.
     */
    void allCounters(final AgentCounters[] allCounters)
    {
        pacer.allCounters(allCounters);
    }

    public String roleName()
    {
        return "skylark-load-" + name;
    }

    AgentCounters counters()
    {
        return counters;
    }

    /**
     * Wake the selector from another thread, e.g. after the schedule was published.
     */
    void wakeup()
    {
        selector.wakeup();
    }

    public void onStart()
    {
        connector.connectMore();
    }

    public int doWork()
    {
        final long nowNs = System.nanoTime();
        sender.nowNs(nowNs);
        readSchedule();

        int workCount = 0;
        if (connector.hasMoreToConnect())
        {
            workCount += connector.connectMore();
        }
        try
        {
            workCount += selector.selectNow(selectHandler);
        }
        catch (final IOException ex)
        {
            control.fail(LoadControl.EXIT_PROTOCOL, "selector failed: " + ex);
        }

        if (pacer.hasPublishers())
        {
            workCount += pacer.publish(nowNs);
        }

        if (nowNs - nextTickNs >= 0)
        {
            nextTickNs = nowNs + TICK_NS;
            keepAlive(nowNs);
        }

        publishCounters();

        return workCount;
    }

    public void onClose()
    {
        lifecycle.onClosing();
        for (final ClientConnection c : connections)
        {
            if (c.role == ClientConnection.Role.PUBLISHER)
            {
                sender.disconnect(c);
            }
        }
        for (final ClientConnection c : connections)
        {
            if (c.role == ClientConnection.Role.SUBSCRIBER)
            {
                sender.disconnect(c);
            }
        }
        try
        {
            selector.close();
        }
        catch (final IOException ignore)
        {
        }
        publishCounters();
    }

    /**
     * Block until there may be work: in {@code select} for I/O, bounded by the next scheduled send when paced.
     */
    void idle()
    {
        long timeoutNs = IDLE_SELECT_NS;
        final long now = System.nanoTime();
        if (startNs != Long.MAX_VALUE && startNs - now > 0)
        {
            timeoutNs = Math.min(timeoutNs, startNs - now);
        }
        final long nextDueNs = pacer.nextDueNs();
        if (nextDueNs != Long.MAX_VALUE)
        {
            timeoutNs = Math.min(timeoutNs, nextDueNs - now);
        }
        if (timeoutNs <= 0)
        {
            return;
        }

        try
        {
            if (timeoutNs >= 1_000_000)
            {
                selector.select(selectHandler, timeoutNs / 1_000_000);
            }
            else if (0 == selector.selectNow(selectHandler))
            {
                LockSupport.parkNanos(timeoutNs);
            }
        }
        catch (final IOException ex)
        {
            control.fail(LoadControl.EXIT_PROTOCOL, "selector failed: " + ex);
        }
    }

    private void keepAlive(final long nowNs)
    {
        for (final ClientConnection c : connections)
        {
            if (c.state == ClientConnection.State.READY && nowNs - c.lastSendNs > c.keepAliveNs / 2)
            {
                if (ClientPacketEncoder.encodeEmpty(c.tx, PINGREQ) != INSUFFICIENT_CAPACITY)
                {
                    sender.flush(c);
                }
            }
        }
    }

    /**
     * Hand the run's schedule, as {@link LoadControl} has it now, to the parts that need it: once per duty cycle,
     * and from the select handler for as long as this agent has not seen the schedule yet.
     */
    private void readSchedule()
    {
        final long startNs = control.startNs();
        final long measureStartNs = control.measureStartNs();
        final long measureEndNs = control.measureEndNs();
        this.startNs = startNs;
        pacer.schedule(startNs, measureStartNs, measureEndNs);
        input.schedule(startNs, measureStartNs, measureEndNs);
    }

    private void onSelected(final SelectionKey key)
    {
        if (Long.MAX_VALUE == startNs)
        {
            // In the select of idle(), before the next duty cycle, a run's first deliveries are handled here
            // when this thread had no CPU from the schedule's wakeup until they came. Against the schedule of the
            // duty cycle before (none) they counted as sent before the run, stayed out of the sequence check (the
            // next delivery then counted them as gaps: CI's gaps=48) and, stamped in the window, as not received.
            readSchedule();
        }
        final ClientConnection c = (ClientConnection)key.attachment();
        try
        {
            final int readyOps = key.readyOps();
            if ((readyOps & SelectionKey.OP_CONNECT) != 0)
            {
                connector.onConnectable(c);
                return;
            }
            if (c.state == ClientConnection.State.TLS_HANDSHAKE)
            {
                connector.continueHandshake(c);
                return;
            }
            if ((readyOps & SelectionKey.OP_WRITE) != 0)
            {
                sender.flush(c);
                if (c.readBlocked && c.state != ClientConnection.State.CLOSED)
                {
                    input.resumeReading(c);
                }
            }
            if ((readyOps & SelectionKey.OP_READ) != 0 && c.state != ClientConnection.State.CLOSED)
            {
                input.onReadable(c);
            }
        }
        catch (final IOException ex)
        {
            if (c.state == ClientConnection.State.CONNECTING)
            {
                lifecycle.unreachable(c, ex);
            }
            else
            {
                lifecycle.connectionLost(c, ex.toString());
            }
        }
    }

    private void publishCounters()
    {
        final AgentCounters counters = this.counters;
        final PublishPacer pacer = this.pacer;
        final ClientInputAdapter input = this.input;
        counters.set(AgentCounters.READY, lifecycle.ready());
        counters.set(AgentCounters.SENT_TOTAL, pacer.sentTotal());
        counters.set(AgentCounters.SENT_IN_WINDOW, pacer.sentInWindow());
        counters.set(AgentCounters.INFLIGHT, pacer.inflight());
        counters.set(AgentCounters.RECEIVED_TOTAL, input.receivedTotal());
        counters.set(AgentCounters.RECEIVED_IN_WINDOW, input.receivedInWindow());
        counters.set(AgentCounters.ARRIVED_IN_WINDOW, input.arrivedInWindow());
        counters.set(AgentCounters.GAPS, input.gaps());
        counters.set(AgentCounters.OUT_OF_ORDER, input.outOfOrder());
        counters.set(AgentCounters.BAD_ACKS, input.badAcks());
        counters.set(AgentCounters.MAX_SEND_LAG_NS, pacer.maxSendLagNs());
        counters.set(AgentCounters.READ_BACK_PRESSURE, input.readBackPressure());
        counters.set(AgentCounters.STALE, input.staleMessages());
        counters.set(AgentCounters.OUTSTANDING_PAUSES, pacer.outstandingPauses());
    }

    /**
     * Idle strategy that hands idle time back to its agent's selector.
     */
    static final class SelectorIdleStrategy implements IdleStrategy
    {
        private final ClientAgent agent;

        SelectorIdleStrategy(final ClientAgent agent)
        {
            this.agent = agent;
        }

        public void idle(final int workCount)
        {
            if (workCount <= 0)
            {
                agent.idle();
            }
        }

        public void idle()
        {
            agent.idle();
        }

        public void reset()
        {
        }
    }
}
