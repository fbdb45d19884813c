package dev.skylark.broker.it;

import org.agrona.concurrent.NanoClock;

import java.util.concurrent.TimeUnit;

/**
 * The real monotonic clock plus an offset a test moves forward: handed to a broker whose agents run on their own
 * threads ({@code Broker.Context.nanoClock}), it lets expiry and delay features see time pass without the test
 * waiting for it. For a broker driven by hand (invoker threading) use a {@code CachedNanoClock} instead.
 */
final class AdjustableClock implements NanoClock
{
    private volatile long offsetNs;

    @Override
    public long nanoTime()
    {
        return System.nanoTime() + offsetNs;
    }

    /** Moves the broker's time forward: every agent sees it at its next duty cycle. */
    synchronized void advanceMs(final long ms)
    {
        offsetNs += TimeUnit.MILLISECONDS.toNanos(ms);
    }
}
