package dev.skylark.broker.net;

import java.util.concurrent.TimeUnit;

/**
 * What an I/O agent does when {@code accept()} fails (out of file descriptors, most often): the pending connection
 * stays in the backlog, so the listener stays ready and a naive loop spins and logs on every pass. Instead the
 * listener stops being watched for {@link #delayNs()}, 10 ms after the first failure, doubling up to 1 s while
 * failures go on, back to 10 ms after one accept succeeds; and a line is logged at most once per
 * {@link #LOG_PERIOD_NS}, with how many failures it stands for. One per I/O agent, used by its thread only.
 */
final class AcceptBackoff
{
    static final long MIN_DELAY_NS = TimeUnit.MILLISECONDS.toNanos(10);
    static final long MAX_DELAY_NS = TimeUnit.SECONDS.toNanos(1);
    static final long LOG_PERIOD_NS = MAX_DELAY_NS;

    private long delayNs;
    private long resumeAtNs;
    private boolean paused;
    private boolean logged;
    private long nextLogNs;
    private long unlogged;

    /** An accept failed at {@code nowNs}: accepting pauses; @return how long. */
    long onFailure(final long nowNs)
    {
        delayNs = delayNs == 0 ? MIN_DELAY_NS : Math.min(MAX_DELAY_NS, delayNs << 1);
        resumeAtNs = nowNs + delayNs;
        paused = true;
        unlogged++;
        return delayNs;
    }

    /** An accept succeeded: the next failure starts from the shortest delay again. */
    void onSuccess()
    {
        delayNs = 0;
    }

    /** The current pause, 0 when no failure since the last success. */
    long delayNs()
    {
        return delayNs;
    }

    boolean isPaused()
    {
        return paused;
    }

    /** When accepting resumes (meaningful while {@link #isPaused()}). */
    long resumeAtNs()
    {
        return resumeAtNs;
    }

    /** True once the pause is over; the caller watches its listeners again. */
    boolean resume(final long nowNs)
    {
        if (paused && nowNs - resumeAtNs >= 0)
        {
            paused = false;
            return true;
        }
        return false;
    }

    /**
     * @return the number of failures the caller's log line stands for (this one and those not logged before), or 0
     * when a line was logged less than {@link #LOG_PERIOD_NS} ago (this failure is then counted for the next line).
     */
    long failuresToLog(final long nowNs)
    {
        if (logged && nowNs - nextLogNs < 0)
        {
            return 0;
        }
        logged = true;
        nextLogNs = nowNs + LOG_PERIOD_NS;
        final long failures = unlogged;
        unlogged = 0;
        return failures;
    }
}
