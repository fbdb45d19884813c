/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Run-wide state the main thread sets and the agents read: the publishing schedule and the first failure.
 * <p>
 * The main thread writes {@link #measureStartNs} and {@link #measureEndNs} before the volatile {@link #startNs};
 * agents read {@link #startNs()} first, so they see a consistent schedule.
 */
public final class LoadControl
{
    /** Exit code when the broker cannot be reached or a connection does not complete in time. */
    public static final int EXIT_UNREACHABLE = 2;
    /** Exit code when the broker refuses CONNECT or SUBSCRIBE. */
    public static final int EXIT_REFUSED = 3;
    /** Exit code for a protocol error or a connection lost during the run. */
    public static final int EXIT_PROTOCOL = 4;
    /** Exit code when QoS &gt; 0 messages were lost. */
    public static final int EXIT_LOSS = 5;

    private volatile long startNs = Long.MAX_VALUE;
    private long measureStartNs = Long.MAX_VALUE;
    private long measureEndNs = Long.MAX_VALUE;
    private final AtomicReference<Failure> failure = new AtomicReference<>();

    /**
     * A failure with the process exit code it maps to.
     *
     * @param exitCode one of the {@code EXIT_*} constants.
     * @param message  for the user.
     */
    public record Failure(int exitCode, String message)
    {
    }

    /**
     * Publish the schedule: publishing starts at {@code startNs}, measuring at {@code startNs + warmupNs}, and both
     * stop at the end of the measured duration.
     *
     * @param startNs    when publishers begin.
     * @param warmupNs   how long before measuring.
     * @param durationNs how long to measure.
     */
    public void schedule(final long startNs, final long warmupNs, final long durationNs)
    {
        measureStartNs = startNs + warmupNs;
        measureEndNs = measureStartNs + durationNs;
        this.startNs = startNs;
    }

    public long startNs()
    {
        return startNs;
    }

    public long measureStartNs()
    {
        return measureStartNs;
    }

    public long measureEndNs()
    {
        return measureEndNs;
    }

    /**
     * Record a failure; the first one wins.
     *
     * @param exitCode one of the {@code EXIT_*} constants.
     * @param message  for the user.
     */
    public void fail(final int exitCode, final String message)
    {
        failure.compareAndSet(null, new Failure(exitCode, message));
    }

    /**
     * @return the first failure or null.
     */
    public Failure failure()
    {
        return failure.get();
    }
}
