package dev.skylark.broker.status;

import org.agrona.concurrent.status.AtomicCounter;

import java.util.Locale;

/**
 * A latency histogram kept in the counters file, for one writer thread: one counter per bucket (not cumulative), the
 * sum in microseconds and the count. Recording is a bounded scan of the bucket bounds and two plain release stores:
 * no lock, no allocation. {@link PrometheusRenderer} turns the counters named {@code NAME_bucket}, {@code NAME_sum_us}
 * and {@code NAME_count} into a Prometheus histogram {@code NAME} in seconds ({@code _bucket{le}}, {@code _sum},
 * {@code _count}).
 */
public final class CounterHistogram
{
    /** Upper bounds of the buckets, microseconds: 100 µs to 10 s; larger values go to the +Inf bucket. */
    public static final long[] BOUNDS_US = {
        100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
        10_000_000};

    static final String BUCKET_SUFFIX = "_bucket";
    static final String SUM_SUFFIX = "_sum_us";
    static final String COUNT_SUFFIX = "_count";
    static final String INFINITY = "+Inf";

    private final AtomicCounter[] buckets = new AtomicCounter[BOUNDS_US.length + 1];
    private final AtomicCounter sumUs;
    private final AtomicCounter count;

    /**
     * @param name a metric name ending in {@code _seconds}, e.g. {@code skylark_hook_request_seconds}.
     * @param help what it measures (the family's help).
     */
    public CounterHistogram(final Counters counters, final String name, final String help)
    {
        if (!name.endsWith("_seconds"))
        {
            throw new IllegalArgumentException("a latency histogram's name ends in _seconds: " + name);
        }
        for (int i = 0; i < buckets.length; i++)
        {
            buckets[i] = counters.counter(name + BUCKET_SUFFIX, help, "le", i < BOUNDS_US.length ?
                seconds(BOUNDS_US[i]) : INFINITY);
        }
        sumUs = counters.counter(name + SUM_SUFFIX, help + " (sum, microseconds)", null);
        count = counters.counter(name + COUNT_SUFFIX, help + " (count)", null);
    }

    /** Records one duration, in microseconds. */
    public void recordMicros(final long micros)
    {
        int i = 0;
        while (i < BOUNDS_US.length && micros > BOUNDS_US[i])
        {
            i++;
        }
        buckets[i].incrementRelease();
        sumUs.getAndAddRelease(micros);
        count.incrementRelease();
    }

    static String seconds(final long micros)
    {
        return String.format(Locale.ROOT, "%s", micros / 1e6);
    }
}
