package dev.skylark.broker;

import java.util.Locale;

/** What a PUBACK/PUBREC promises ({@code skylark.durability}); see {@link Configuration#DURABILITY_PROP_NAME}. */
public enum Durability
{
    /** Journaled to a memory-mapped file: survives the broker process being killed. */
    OS,
    /** Journaled and synced (group commit): survives power loss. */
    FSYNC,
    /** Nothing journaled: state lives in memory only. */
    NONE;

    /** The mode a property value names ({@code os}, {@code fsync}, {@code none}). */
    public static Durability named(final String value)
    {
        try
        {
            return valueOf(value.toUpperCase(Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(Configuration.DURABILITY_PROP_NAME + " must be os, fsync or none: " +
                value, ex);
        }
    }

    /** The property value of this mode. */
    public String propertyValue()
    {
        return name().toLowerCase(Locale.ROOT);
    }
}
