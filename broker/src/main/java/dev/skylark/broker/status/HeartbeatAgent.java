package dev.skylark.broker.status;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;

/**
 * Stamps the counters file once a second so {@code skylark stat} can tell a live broker from a stale file. Runs
 * composed with the routing agent on its thread.
 */
public final class HeartbeatAgent implements Agent
{
    private static final long INTERVAL_MS = 1000;
    private final CountersFile file;
    private final EpochClock clock;
    private long nextMs;

    public HeartbeatAgent(final CountersFile file, final EpochClock clock)
    {
        this.file = file;
        this.clock = clock;
    }

    @Override
    public int doWork()
    {
        final long nowMs = clock.time();
        if (nowMs >= nextMs)
        {
            nextMs = nowMs + INTERVAL_MS;
            file.heartbeat(nowMs);
            return 1;
        }
        return 0;
    }

    @Override
    public String roleName()
    {
        return "skylark-heartbeat";
    }
}
