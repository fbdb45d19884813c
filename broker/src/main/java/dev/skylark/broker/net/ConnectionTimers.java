package dev.skylark.broker.net;

import org.agrona.DeadlineTimerWheel;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The timers of one {@link IoAgent}'s connections on an Agrona {@link DeadlineTimerWheel}: each connection holds at
 * most one timer, at the next time its handler (or its HTTP request timeout) needs it. Called by the agent only:
 * {@link #poll(long)} every duty cycle, {@link #schedule} when a deadline moves, {@link #cancel} on close, and
 * {@link #nextDeadlineNs(long)} before blocking in select().
 * <p>
 * A timer fires when {@code nowNs >= deadline}, never before. The wheel cannot say when its next timer is due, so
 * a count and a lower bound of the deadlines per spoke are kept beside it; when the wheel leaves a tick, what is
 * left in that spoke belongs to a later turn, which raises the bound. Select then wakes at the first non-empty
 * spoke's bound (rarely early, after a cancellation), not on every tick, and {@link #poll} skips the wheel while
 * the current spoke's bound is still ahead within the current tick.
 */
final class ConnectionTimers implements DeadlineTimerWheel.TimerHandler
{
    /** No timer (a timer id is never negative). */
    static final long NO_TIMER = -1;
    /** About 1 ms per tick (a power of two of nanoseconds, as the wheel requires). */
    static final int TICK_SHIFT = 20;
    static final int TICKS_PER_WHEEL = 1024;
    private static final int SPOKE_MASK = TICKS_PER_WHEEL - 1;
    private static final int INITIAL_TICK_ALLOCATION = 16;
    /** Most timers handled per duty cycle, so a burst of expiries cannot starve reading. */
    private static final int EXPIRY_LIMIT = 4096;

    private final DeadlineTimerWheel wheel;
    private final long startNs;
    private final Long2ObjectHashMap<Connection> byTimerId = new Long2ObjectHashMap<>();
    private final ArrayList<Connection> expired = new ArrayList<>();
    private final int[] spokeCounts = new int[TICKS_PER_WHEEL];
    /** Per spoke, no later than its earliest deadline (Long.MAX_VALUE when empty). */
    private final long[] spokeMinNs = new long[TICKS_PER_WHEEL];

    ConnectionTimers(final long startNs)
    {
        this.startNs = startNs;
        this.wheel = new DeadlineTimerWheel(
            TimeUnit.NANOSECONDS, startNs, 1L << TICK_SHIFT, TICKS_PER_WHEEL, INITIAL_TICK_ALLOCATION);
        java.util.Arrays.fill(spokeMinNs, Long.MAX_VALUE);
    }

    /** For tests: duty cycles that polled the wheel (the others had nothing due in the current tick). */
    long wheelPolls;

    /** Number of armed timers. */
    int size()
    {
        return byTimerId.size();
    }

    /**
     * Arms the connection's timer at {@code deadlineNs} unless it already fires no later; Long.MAX_VALUE means
     * "nothing to wait for" and leaves an armed timer alone.
     */
    void scheduleEarlier(final Connection connection, final long deadlineNs)
    {
        if (deadlineNs == Long.MAX_VALUE ||
            (connection.timerId != NO_TIMER && connection.timerDeadlineNs - deadlineNs <= 0))
        {
            return;
        }
        cancel(connection);
        arm(connection, deadlineNs);
    }

    /** Replaces the connection's timer (or cancels it for Long.MAX_VALUE). */
    void schedule(final Connection connection, final long deadlineNs)
    {
        cancel(connection);
        if (deadlineNs != Long.MAX_VALUE)
        {
            arm(connection, deadlineNs);
        }
    }

    void cancel(final Connection connection)
    {
        final long timerId = connection.timerId;
        if (timerId != NO_TIMER)
        {
            wheel.cancelTimer(timerId);
            byTimerId.remove(timerId);
            removed(connection);
        }
    }

    private void arm(final Connection connection, final long deadlineNs)
    {
        final long timerId = wheel.scheduleTimer(deadlineNs);
        final long tick = Math.max((deadlineNs - startNs) >> TICK_SHIFT, currentTick());
        final int spoke = (int)tick & SPOKE_MASK;
        connection.timerId = timerId;
        connection.timerDeadlineNs = deadlineNs;
        connection.timerSpoke = spoke;
        byTimerId.put(timerId, connection);
        spokeCounts[spoke]++;
        if (deadlineNs < spokeMinNs[spoke])
        {
            spokeMinNs[spoke] = deadlineNs;
        }
    }

    private void removed(final Connection connection)
    {
        final int spoke = connection.timerSpoke;
        if (--spokeCounts[spoke] == 0)
        {
            spokeMinNs[spoke] = Long.MAX_VALUE;
        }
        connection.timerId = NO_TIMER;
        connection.timerDeadlineNs = Long.MAX_VALUE;
    }

    private long currentTick()
    {
        return ((wheel.currentTickTime() - startNs) >> TICK_SHIFT) - 1;
    }

    /**
     * Expires every timer due at {@code nowNs} (catching the wheel up tick by tick after an idle spell) and calls
     * each connection's {@link Connection#onTimer(long)}, re-arming it at the deadline that returns.
     *
     * @return timers expired.
     */
    int poll(final long nowNs)
    {
        if (byTimerId.isEmpty())
        {
            if (wheel.currentTickTime() <= nowNs)
            {
                wheel.currentTickTime(nowNs); // nothing armed: skip the empty ticks at once
            }
            return 0;
        }
        // Most duty cycles come within the tick the wheel is at, with nothing in its spoke due yet: then a wheel poll
        // would only scan the spoke's slots (16 and more) to expire nothing and not move. Its bound says so at once.
        if (nowNs < wheel.currentTickTime() && spokeMinNs[(int)currentTick() & SPOKE_MASK] > nowNs)
        {
            return 0;
        }
        wheelPolls++;
        int count = 0;
        while (count < EXPIRY_LIMIT)
        {
            final long tick = currentTick();
            count += wheel.poll(nowNs, this, EXPIRY_LIMIT - count);
            final long passed = currentTick();
            if (passed == tick)
            {
                break;
            }
            // what is left in the spoke just passed belongs to a later turn of the wheel
            final int spoke = (int)tick & SPOKE_MASK;
            final long nextTurnNs = startNs + ((tick + TICKS_PER_WHEEL) << TICK_SHIFT);
            if (spokeCounts[spoke] > 0 && spokeMinNs[spoke] < nextTurnNs)
            {
                spokeMinNs[spoke] = nextTurnNs;
            }
        }
        final int size = expired.size();
        for (int i = 0; i < size; i++)
        {
            final Connection connection = expired.get(i);
            if (!connection.isClosed() && connection.timerId == NO_TIMER)
            {
                final long nextNs = connection.onTimer(nowNs);
                if (!connection.isClosed())
                {
                    scheduleEarlier(connection, nextNs);
                }
            }
        }
        expired.clear();
        return count;
    }

    @Override
    public boolean onTimerExpiry(final TimeUnit timeUnit, final long now, final long timerId)
    {
        final Connection connection = byTimerId.remove(timerId);
        if (connection != null)
        {
            removed(connection);
            expired.add(connection);
        }
        return true;
    }

    /**
     * No later than the earliest armed deadline, looking at most {@code horizonNs} ahead (Long.MAX_VALUE when no
     * timer is due within it).
     */
    long nextDeadlineNs(final long nowNs, final long horizonNs)
    {
        if (byTimerId.isEmpty())
        {
            return Long.MAX_VALUE;
        }
        final long first = currentTick();
        final long last = Math.max(first, (nowNs + horizonNs - startNs) >> TICK_SHIFT);
        long earliest = Long.MAX_VALUE;
        for (long tick = first; tick <= last && tick < first + TICKS_PER_WHEEL; tick++)
        {
            final int spoke = (int)tick & SPOKE_MASK;
            if (spokeCounts[spoke] > 0 && spokeMinNs[spoke] < earliest)
            {
                earliest = spokeMinNs[spoke];
                if (earliest <= startNs + ((tick + 1) << TICK_SHIFT))
                {
                    break; // due within this tick: no later spoke can be earlier
                }
            }
        }
        return earliest;
    }
}
