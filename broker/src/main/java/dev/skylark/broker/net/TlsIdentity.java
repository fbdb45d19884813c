package dev.skylark.broker.net;

import java.util.Locale;

/**
 * Which name of a verified TLS client certificate becomes the connection's user name ({@code skylark.tls.identity}).
 */
public enum TlsIdentity
{
    /** The subject's common name (the last CN when there are several). */
    CN,
    /** The first DNS name among the subject alternative names. */
    SAN_DNS,
    /** The first URI among the subject alternative names (e.g. a SPIFFE id). */
    SAN_URI,
    /** Certificates authenticate the TLS session only; they name no one. */
    NONE;

    /** The identity a property value names: {@code cn}, {@code san-dns}, {@code san-uri} or {@code none}. */
    public static TlsIdentity named(final String value)
    {
        try
        {
            return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("skylark.tls.identity must be cn, san-dns, san-uri or none: " + value, ex);
        }
    }

    /** The property value of this identity. */
    public String propertyValue()
    {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
