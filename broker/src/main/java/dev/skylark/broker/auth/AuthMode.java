package dev.skylark.broker.auth;

import java.util.Locale;

/** How clients authenticate ({@code skylark.auth.mode}). */
public enum AuthMode
{
    /** The CONNECT password is a signed JWT whose {@code sub} is the client id. */
    TOKEN,
    /** No authentication: local development only. */
    NONE;

    /** The mode a property value names ({@code token}, {@code none}). */
    public static AuthMode named(final String value)
    {
        try
        {
            return valueOf(value.toUpperCase(Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("skylark.auth.mode must be token or none: " + value, ex);
        }
    }

    /** The property value of this mode. */
    public String propertyValue()
    {
        return name().toLowerCase(Locale.ROOT);
    }
}
