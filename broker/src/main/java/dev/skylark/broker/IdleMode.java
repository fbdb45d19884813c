package dev.skylark.broker;

import java.util.Locale;

/** What an agent thread does when it found no work ({@code skylark.idle.strategy}). */
public enum IdleMode
{
    /** Park (or block in select) until woken: no core burnt. */
    PARK,
    /** Busy-spin: lowest latency, one core per thread. */
    SPIN;

    /** The mode a property value names ({@code park}, {@code spin}). */
    public static IdleMode named(final String value)
    {
        try
        {
            return valueOf(value.toUpperCase(Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(Configuration.IDLE_STRATEGY_PROP_NAME + " must be park or spin: " +
                value, ex);
        }
    }
}
