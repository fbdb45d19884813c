/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters one agent owns and publishes once per duty cycle (ordered writes), read by the main thread.
 */
public final class AgentCounters
{
    /** Connections that completed CONNECT (and SUBSCRIBE for subscribers). */
    public static final int READY = 0;
    /** Publishes written, including warm-up. */
    public static final int SENT_TOTAL = 1;
    /** Publishes whose stamped send time falls in the measured window. */
    public static final int SENT_IN_WINDOW = 2;
    /** QoS &gt; 0 publishes not yet acknowledged. */
    public static final int INFLIGHT = 3;
    /** Publishes received, including warm-up. */
    public static final int RECEIVED_TOTAL = 4;
    /** Publishes received whose stamped send time falls in the measured window. */
    public static final int RECEIVED_IN_WINDOW = 5;
    /** Publishes that arrived during the measured window, whatever their send time. */
    public static final int ARRIVED_IN_WINDOW = 6;
    /** Missing sequence numbers seen by non-shared subscribers. */
    public static final int GAPS = 7;
    /** Sequence numbers seen again or late by non-shared subscribers. */
    public static final int OUT_OF_ORDER = 8;
    /** Acks with a failure reason code or for a packet id not in flight. */
    public static final int BAD_ACKS = 9;
    /** Largest lag between the intended and the actual send time, when paced. */
    public static final int MAX_SEND_LAG_NS = 10;
    /** Times a connection stopped reading because its send buffer was full. */
    public static final int READ_BACK_PRESSURE = 11;

    /** Publishes received that were sent before this run started, e.g. left in the broker by an earlier run. */
    public static final int STALE = 12;

    /** Duty cycles in which flat-out publishers paused because --max-outstanding was reached. */
    public static final int OUTSTANDING_PAUSES = 13;

    private static final int COUNT = 14;

    private final AtomicLongArray values = new AtomicLongArray(COUNT);

    /**
     * Ordered write by the owning agent.
     *
     * @param counter index.
     * @param value   new value.
     */
    public void set(final int counter, final long value)
    {
        values.lazySet(counter, value);
    }

    /**
     * @param counter index.
     * @return last published value.
     */
    public long get(final int counter)
    {
        return values.get(counter);
    }

    /**
     * Sum one counter over several agents.
     *
     * @param counters of the agents.
     * @param counter  index.
     * @return the sum.
     */
    public static long sum(final AgentCounters[] counters, final int counter)
    {
        long sum = 0;
        for (final AgentCounters c : counters)
        {
            sum += c.get(counter);
        }

        return sum;
    }
}
