package dev.skylark.broker.net;

import dev.skylark.codec.mqtt.MqttFramer;
import org.agrona.BufferUtil;
import org.agrona.CloseHelper;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A selector I/O thread's work: accept (agent 0 owns the listeners and deals connections out round robin), read and
 * frame, run the {@link DutyCycleHook} (deliveries from the routing agent), expire the connections' timers
 * ({@link ConnectionTimers}) and lingering closes ({@link LingeringClose}), and flush every connection written to in
 * this cycle with one write each. The clock is read once per duty cycle and passed down as {@code nowNs}.
 * <p>
 * Listeners come in kinds ({@link ListenerSpec}: raw MQTT, HTTP + WebSocket, each with or without TLS); agent 0
 * owns them all and hands each accepted socket over with its kind, so every agent serves every kind.
 * <p>
 * Owns its connections outright: nothing else touches them. Idle, it blocks in {@code select()} (see
 * {@link SelectorIdleStrategy}); other threads that hand it work call {@link #wakeup()}.
 */
public final class IoAgent implements Agent
{
    private static final System.Logger LOG = System.getLogger(IoAgent.class.getName());
    private static final int RECEIVE_BUFFER_SIZE = 64 * 1024;
    /**
     * Longest wait in select(): work composed on this thread (the routing agent in shared threading) and the sweep
     * check rely on a wake-up at least this often.
     */
    private static final long IDLE_MAX_NS = TimeUnit.MILLISECONDS.toNanos(100);
    /**
     * A busy duty cycle asks the selector for ready keys at most this often. Each ask is a system call (epoll_wait,
     * 2–3 µs on a virtual machine) and usually finds nothing in the few cycles that route and write what the last
     * one read; an agent with nothing to do blocks in select(), which returns at once if a key is ready, so a
     * socket waits at most this long while the agent is busy.
     */
    private static final long MIN_POLL_INTERVAL_NS = TimeUnit.MICROSECONDS.toNanos(20);
    /**
     * ... or after this many duty cycles, whatever the clock says: a clock that stands still (a hand-moved one in
     * invoker threading) must not stop the agent reading its sockets. More than the cycles a lone message takes
     * (read, route, write, {@link SelectorIdleStrategy}'s spins), so at moderate load it is not reached.
     */
    private static final int MAX_CYCLES_WITHOUT_POLL = 16;
    /** How often the sweep version is looked at (one read per agent, not one per connection). */
    private static final long SWEEP_CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Bits of a connection id that name its agent. */
    public static final int AGENT_INDEX_BITS = 8;

    private final int index;
    private final Selector selector;
    private final NanoClock clock;
    private final ConnectionHandlerFactory handlerFactory;
    private final DutyCycleHook hook;
    private final int maxPacketSize;
    private final int outboundLimit;
    private final ManyToOneConcurrentArrayQueue<Accepted> handedOver = new ManyToOneConcurrentArrayQueue<>(4096);
    private final Long2ObjectHashMap<Connection> connections = new Long2ObjectHashMap<>();
    private final ArrayList<Connection> flushQueue = new ArrayList<>();
    private final ArrayList<Connection> resumeQueue = new ArrayList<>();
    private final ArrayList<Connection> connectionScratch = new ArrayList<>();
    private final LingeringClose lingeringClose = new LingeringClose();
    private final ByteBuffer receiveBuffer = BufferUtil.allocateDirectAligned(RECEIVE_BUFFER_SIZE, 64);
    private final UnsafeBuffer receiveView = new UnsafeBuffer(receiveBuffer);
    private final List<ServerSocketChannel> listeners = new ArrayList<>();
    private final BufferPool bufferPool = new BufferPool();
    /** The framers' carry-over buffers come from the pool (one adapter for all connections). */
    private final MqttFramer.CarryOverBuffers carryOverBuffers = new MqttFramer.CarryOverBuffers()
    {
        @Override
        public ByteBuffer acquire(final int minCapacity)
        {
            return bufferPool.acquire(minCapacity);
        }

        @Override
        public void release(final ByteBuffer buffer)
        {
            bufferPool.release(buffer);
        }
    };
    private BufferPool tlsBufferPool;
    private IoAgent[] peers = { this };
    private int nextPeer;
    private long nextConnectionSequence = 1;
    private final ConnectionTimers timers;
    /** The clock read of the current duty cycle. */
    private long nowNs;
    /** In a blocking select(): the time read before it may be up to a wait old when a key becomes ready. */
    private boolean wokeFromSelect;
    private java.util.function.LongSupplier sweepVersion;
    private long seenSweepVersion;
    private long nextSweepCheckNs;
    private volatile boolean sleeping;
    private final java.util.function.Consumer<SelectionKey> selectedKeyHandler = this::onSelectedKey;
    private long selectNowNs;
    private int cyclesSincePoll;
    /** For tests: selectNow() calls of busy duty cycles, and selector.wakeup() calls (each a system call). */
    long selectorPolls;
    long selectorWakeups;
    private ConnectionLimiter limiter = new ConnectionLimiter(0, 0);
    private AtomicCounter openConnections;
    private java.util.function.BooleanSupplier sharedWork = () -> false;
    private final AcceptBackoff acceptBackoff = new AcceptBackoff();
    /** Listeners not watched while {@link #acceptBackoff} pauses accepting (at most the listeners there are). */
    private final List<SelectionKey> pausedListeners = new ArrayList<>();

    public IoAgent(
        final int index,
        final NanoClock clock,
        final ConnectionHandlerFactory handlerFactory,
        final DutyCycleHook hook,
        final int maxPacketSize,
        final int outboundLimit)
    {
        this.index = index;
        this.clock = clock;
        this.handlerFactory = handlerFactory;
        this.hook = hook;
        this.maxPacketSize = maxPacketSize;
        this.outboundLimit = outboundLimit;
        this.nowNs = clock.nanoTime();
        this.selectNowNs = nowNs - MIN_POLL_INTERVAL_NS;
        this.timers = new ConnectionTimers(nowNs);
        try
        {
            this.selector = Selector.open();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** The agent index encoded in a connection id. */
    public static int agentIndexOf(final long connectionId)
    {
        return (int)(connectionId & ((1 << AGENT_INDEX_BITS) - 1));
    }

    public int index()
    {
        return index;
    }

    /** All agents, so that agent 0 can deal accepted connections to the others. */
    public void peers(final IoAgent[] peers)
    {
        this.peers = peers.clone();
    }

    /**
     * Work of another agent composed on this agent's thread (the routing agent in shared threading), checked before
     * blocking in select() so a command that just arrived is never slept on.
     */
    public void sharedWork(final java.util.function.BooleanSupplier sharedWork)
    {
        this.sharedWork = sharedWork;
    }

    /**
     * A version that changes when every connection must be looked at at once, e.g. a token revocation list's epoch:
     * the agent reads it every 100 ms and, when it changed, calls every handler's
     * {@link ConnectionHandler#onTick(long)} once. Set before the agent starts.
     */
    public void sweepOnChange(final java.util.function.LongSupplier version)
    {
        this.sweepVersion = version;
        this.seenSweepVersion = version.getAsLong();
    }

    /** Registers a bound raw MQTT/TCP listener with this agent (call before the agent thread starts). */
    public void addListener(final ServerSocketChannel listener) throws IOException
    {
        addListener(listener, ListenerSpec.mqtt());
    }

    /** Registers a bound listener of any kind with this agent (call before the agent thread starts). */
    public void addListener(final ServerSocketChannel listener, final ListenerSpec spec) throws IOException
    {
        listener.configureBlocking(false);
        listener.register(selector, SelectionKey.OP_ACCEPT, spec);
        listeners.add(listener);
    }

    /** A socket accepted by agent 0 for another agent, with the kind of listener it came through. */
    private record Accepted(SocketChannel channel, ListenerSpec spec)
    {
    }

    ConnectionHandlerFactory handlerFactory()
    {
        return handlerFactory;
    }

    /** Wakes the agent if it is blocked in select(); cheap when it is not. */
    public void wakeup()
    {
        if (sleeping)
        {
            selectorWakeups++;
            selector.wakeup();
        }
    }

    @Override
    public String roleName()
    {
        return "skylark-io-" + index;
    }

    @Override
    public int doWork()
    {
        final long nowNs = clock.nanoTime();
        this.nowNs = nowNs;
        int work = registerHandedOver(nowNs);
        if (++cyclesSincePoll >= MAX_CYCLES_WITHOUT_POLL || nowNs - selectNowNs >= MIN_POLL_INTERVAL_NS)
        {
            work += poll(nowNs);
        }
        work += hook.doWork(nowNs);
        work += resumePaused(nowNs);
        work += timers.poll(nowNs);
        work += lingeringClose.closeExpired(nowNs);
        work += resumeAccepting(nowNs);
        if (sweepVersion != null && nowNs - nextSweepCheckNs >= 0)
        {
            nextSweepCheckNs = nowNs + SWEEP_CHECK_INTERVAL_NS;
            work += sweepIfChanged(nowNs);
        }
        work += flushAll();
        return work;
    }

    /**
     * Blocks in select() until I/O is ready, {@link #wakeup()} is called or the next deadline is due; used by
     * {@link SelectorIdleStrategy} instead of parking.
     */
    void idleInSelect()
    {
        sleeping = true;
        try
        {
            if (hook.hasWork() || !handedOver.isEmpty() || sharedWork.getAsBoolean())
            {
                return;
            }
            final long nowNs = clock.nanoTime();
            final long waitMs = hook.hasRetries() ? 1 : idleWaitMs(nowNs);
            selectNowNs = nowNs;
            cyclesSincePoll = 0;
            this.nowNs = nowNs;
            wokeFromSelect = true; // the first ready key reads the clock again: the wait may have been long
            selector.select(selectedKeyHandler, waitMs); // ready keys are handled right here, as in poll()
            wokeFromSelect = false;
        }
        catch (final IOException ex)
        {
            LOG.log(Level.WARNING, "select failed", ex);
        }
        finally
        {
            sleeping = false;
        }
    }

    /** Until the next timer, lingering deadline or sweep check, at most {@link #IDLE_MAX_NS}; at least 1 ms. */
    private long idleWaitMs(final long nowNs)
    {
        long deadlineNs = Math.min(nowNs + IDLE_MAX_NS, timers.nextDeadlineNs(nowNs, IDLE_MAX_NS));
        deadlineNs = Math.min(deadlineNs, lingeringClose.nextDeadlineNs());
        if (acceptBackoff.isPaused())
        {
            deadlineNs = Math.min(deadlineNs, acceptBackoff.resumeAtNs());
        }
        if (sweepVersion != null)
        {
            deadlineNs = Math.min(deadlineNs, nextSweepCheckNs);
        }
        final long waitNs = deadlineNs - nowNs;
        return waitNs <= 0 ? 1 : Math.max(1, (waitNs + 999_999) / 1_000_000);
    }

    /**
     * Handles ready keys through {@link Selector#selectNow(java.util.function.Consumer)}: no selected-key set and no
     * iterator, so polling allocates nothing.
     */
    private int poll(final long nowNs)
    {
        selectNowNs = nowNs;
        cyclesSincePoll = 0;
        selectorPolls++;
        try
        {
            return selector.selectNow(selectedKeyHandler);
        }
        catch (final IOException ex)
        {
            LOG.log(Level.WARNING, "select failed", ex);
            return 0;
        }
    }

    private void onSelectedKey(final SelectionKey key)
    {
        if (wokeFromSelect)
        {
            wokeFromSelect = false;
            // awake from here on: what these keys hand the routing agent (on this thread, or one that wakes us)
            // must not cost a selector.wakeup() write and the drain read of the next select
            sleeping = false;
            selectNowNs = clock.nanoTime();
            nowNs = selectNowNs;
        }
        if (!key.isValid())
        {
            return;
        }
        final Object attachment = key.attachment();
        if (attachment instanceof ListenerSpec)
        {
            accept(key, (ServerSocketChannel)key.channel(), (ListenerSpec)attachment, selectNowNs);
            return;
        }
        final Connection connection = (Connection)attachment;
        if (key.isWritable())
        {
            connection.flush();
        }
        if (key.isValid() && key.isReadable() && !connection.isReadingPaused())
        {
            connection.read(receiveBuffer, receiveView, selectNowNs);
        }
    }

    private void accept(
        final SelectionKey key, final ServerSocketChannel listener, final ListenerSpec spec, final long nowNs)
    {
        for (int i = 0; i < 64; i++)
        {
            final SocketChannel channel;
            try
            {
                channel = listener.accept();
            }
            catch (final IOException ex)
            {
                pauseAccepting(key, ex, nowNs);
                return;
            }
            if (channel == null)
            {
                return;
            }
            acceptBackoff.onSuccess();
            final InetAddress peer = peerAddress(channel);
            if (!limiter.tryAcquire(peer))
            {
                LOG.log(Level.DEBUG, () -> "connection limit reached: closing a connection from " + peer);
                CloseHelper.quietClose(channel); // before any TLS or WebSocket work
                continue;
            }
            final IoAgent target = peers[nextPeer];
            nextPeer = (nextPeer + 1) % peers.length;
            if (target == this)
            {
                register(channel, spec, nowNs);
            }
            else if (target.handedOver.offer(new Accepted(channel, spec)))
            {
                target.wakeupAlways();
            }
            else
            {
                LOG.log(Level.WARNING, "I/O agent " + target.index + " is not taking connections; closing one");
                CloseHelper.quietClose(channel);
            }
        }
    }

    /**
     * accept() failed (out of file descriptors, most often): the connection stays in the backlog and the listener
     * stays ready, so it is not watched until the backoff ends; logged at most once per period.
     */
    private void pauseAccepting(final SelectionKey key, final IOException ex, final long nowNs)
    {
        final long delayNs = acceptBackoff.onFailure(nowNs);
        if (key.isValid())
        {
            key.interestOps(0);
            if (!pausedListeners.contains(key))
            {
                pausedListeners.add(key);
            }
        }
        final long failures = acceptBackoff.failuresToLog(nowNs);
        if (failures > 0)
        {
            LOG.log(Level.WARNING, "accept failed: " + ex.getMessage() + "; not accepting for " +
                TimeUnit.NANOSECONDS.toMillis(delayNs) + " ms (" + failures + " failure(s) since the last line)");
        }
    }

    /** Watches the paused listeners again once the backoff is over. */
    private int resumeAccepting(final long nowNs)
    {
        if (!acceptBackoff.resume(nowNs))
        {
            return 0;
        }
        for (int i = 0; i < pausedListeners.size(); i++)
        {
            final SelectionKey key = pausedListeners.get(i);
            if (key.isValid())
            {
                key.interestOps(SelectionKey.OP_ACCEPT);
            }
        }
        pausedListeners.clear();
        return 1;
    }

    private static InetAddress peerAddress(final SocketChannel channel)
    {
        try
        {
            return ((InetSocketAddress)channel.getRemoteAddress()).getAddress();
        }
        catch (final IOException | RuntimeException ex)
        {
            return null;
        }
    }

    /** Shares the broker's connection limits (set before the agents start). */
    public void limiter(final ConnectionLimiter limiter)
    {
        this.limiter = limiter;
    }

    ConnectionLimiter limiter()
    {
        return limiter;
    }

    /** A gauge kept at this agent's number of open connections (set before the agent starts). */
    public void openConnectionsGauge(final AtomicCounter gauge)
    {
        this.openConnections = gauge;
    }

    private void updateOpenConnections()
    {
        if (openConnections != null)
        {
            openConnections.setRelease(connections.size());
        }
    }

    private void wakeupAlways()
    {
        selector.wakeup();
    }

    private int registerHandedOver(final long nowNs)
    {
        int count = 0;
        Accepted accepted;
        while ((accepted = handedOver.poll()) != null)
        {
            register(accepted.channel(), accepted.spec(), nowNs);
            count++;
        }
        return count;
    }

    private void register(final SocketChannel channel, final ListenerSpec spec, final long nowNs)
    {
        try
        {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            final long id = (nextConnectionSequence++ << AGENT_INDEX_BITS) | index;
            final Connection connection = new Connection(id, channel, this, maxPacketSize, outboundLimit, spec, nowNs);
            connection.peer = peerAddress(channel);
            final SelectionKey key = channel.register(selector, SelectionKey.OP_READ, connection);
            connection.init(key, spec.webSocket() == null ? handlerFactory.newHandler(connection) : null);
            connections.put(id, connection);
            timers.schedule(connection, connection.onTimer(nowNs));
            updateOpenConnections();
        }
        catch (final IOException | RuntimeException ex)
        {
            LOG.log(Level.DEBUG, "could not register a connection: " + ex.getMessage());
            limiter.release(peerAddress(channel));
            CloseHelper.quietClose(channel);
        }
    }

    /** The clock read of the current duty cycle. */
    long nowNs()
    {
        return nowNs;
    }

    ConnectionTimers timers()
    {
        return timers;
    }

    BufferPool bufferPool()
    {
        return bufferPool;
    }

    MqttFramer.CarryOverBuffers carryOverBuffers()
    {
        return carryOverBuffers;
    }

    LingeringClose lingeringClose()
    {
        return lingeringClose;
    }

    /** The pool of TLS record buffers, made on first use; a larger record size replaces it. */
    BufferPool tlsBufferPool(final int recordSize)
    {
        if (tlsBufferPool == null || tlsBufferPool.bufferSize() < recordSize)
        {
            tlsBufferPool = new BufferPool(recordSize);
        }
        return tlsBufferPool;
    }

    /** The open connection with this id, or null (it may have closed since the id was handed out). */
    public Connection connection(final long connectionId)
    {
        return connections.get(connectionId);
    }

    void queueFlush(final Connection connection)
    {
        flushQueue.add(connection);
    }

    void queueResume(final Connection connection)
    {
        resumeQueue.add(connection);
    }

    void onConnectionClosed(final Connection connection)
    {
        timers.cancel(connection);
        if (connections.remove(connection.id()) != null)
        {
            limiter.release(connection.peer);
            updateOpenConnections();
        }
    }

    private int resumePaused(final long nowNs)
    {
        final int size = resumeQueue.size();
        if (size == 0)
        {
            return 0;
        }
        for (int i = 0; i < size; i++)
        {
            resumeQueue.get(i).drainPending(nowNs);
        }
        resumeQueue.subList(0, size).clear();
        return size;
    }

    private int flushAll()
    {
        final int size = flushQueue.size();
        if (size == 0)
        {
            return 0;
        }
        for (int i = 0; i < flushQueue.size(); i++)
        {
            flushQueue.get(i).flush();
        }
        flushQueue.clear();
        return size;
    }

    /** The sweep version changed (e.g. a token was revoked): every connection's handler looks once. */
    private int sweepIfChanged(final long nowNs)
    {
        final long version = sweepVersion.getAsLong();
        if (version == seenSweepVersion)
        {
            return 0;
        }
        seenSweepVersion = version;
        snapshotConnections();
        final int size = connectionScratch.size();
        for (int i = 0; i < size; i++)
        {
            final Connection connection = connectionScratch.get(i);
            final long nextNs = connection.onTimer(nowNs);
            if (!connection.isClosed())
            {
                timers.scheduleEarlier(connection, nextNs);
            }
        }
        connectionScratch.clear();
        return size;
    }

    /**
     * Copies the open connections into the scratch list (ticking may close some, which changes the map). Iterating
     * the map's cached iterator instead of {@code addAll} avoids a fresh array per tick, which at 100k connections
     * was 800 KB of garbage ten times a second.
     */
    private void snapshotConnections()
    {
        connectionScratch.clear();
        for (final Connection connection : connections.values())
        {
            connectionScratch.add(connection);
        }
    }

    /** Number of open connections (approximate when read from another thread). */
    public int connectionCount()
    {
        return connections.size();
    }

    @Override
    public void onClose()
    {
        for (final ServerSocketChannel listener : listeners)
        {
            CloseHelper.quietClose(listener);
        }
        connectionScratch.clear();
        snapshotConnections();
        for (final Connection connection : connectionScratch)
        {
            connection.onShutdown();
            connection.flush();
            connection.close("broker shutting down");
        }
        lingeringClose.closeAll();
        Accepted accepted;
        while ((accepted = handedOver.poll()) != null)
        {
            CloseHelper.quietClose(accepted.channel());
        }
        CloseHelper.quietClose(selector);
    }


}
