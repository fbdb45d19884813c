package dev.skylark.broker.auth;

import java.util.Locale;

/** How clients authenticate ({@code skylark.auth.mode}). */
public enum AuthMode
{
    /** The CONNECT password is a signed JWT whose {@code sub} is the client id. */
    TOKEN,
    /** User name and password checked against a Mosquitto-format password file ({@code skylark.auth.password.file}). */
    PASSWORD,
    /** A verified TLS client certificate is enough: its name ({@code skylark.tls.identity}) is the user name. */
    CERTIFICATE,
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
            throw new IllegalArgumentException(
                "skylark.auth.mode must be token, password, certificate or none: " + value, ex);
        }
    }

    /**
     * The modes of a comma-separated list ({@code token,password}), in the order they are tried; {@code none} only
     * alone.
     *
     * @throws IllegalArgumentException on an unknown, repeated or empty mode, or {@code none} with others.
     */
    public static java.util.List<AuthMode> list(final String value)
    {
        final java.util.List<AuthMode> modes = new java.util.ArrayList<>();
        for (final String part : value.split(",", -1))
        {
            final AuthMode mode = named(part.trim());
            if (modes.contains(mode))
            {
                throw new IllegalArgumentException("skylark.auth.mode names " + mode.propertyValue() + " twice: " + value);
            }
            modes.add(mode);
        }
        if (modes.contains(NONE) && modes.size() > 1)
        {
            throw new IllegalArgumentException("skylark.auth.mode=none cannot be combined with other modes: " + value);
        }
        return java.util.List.copyOf(modes);
    }

    /** The property value of a list of modes. */
    public static String propertyValue(final java.util.List<AuthMode> modes)
    {
        final StringBuilder text = new StringBuilder();
        for (final AuthMode mode : modes)
        {
            text.append(text.length() == 0 ? "" : ",").append(mode.propertyValue());
        }
        return text.toString();
    }

    /** The property value of this mode. */
    public String propertyValue()
    {
        return name().toLowerCase(Locale.ROOT);
    }
}
