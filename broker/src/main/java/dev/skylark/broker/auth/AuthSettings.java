package dev.skylark.broker.auth;

import java.nio.file.Path;

/**
 * Token verification settings (see {@code Configuration}: {@code skylark.auth.*}).
 *
 * @param dataDir             the broker's data directory; keys and revocations live in its {@code auth/} folder.
 * @param clockSkewS          seconds of leeway on {@code exp} and {@code nbf}.
 * @param maxLifetimeS        0, or the longest a token is honoured, counted from its {@code iat} (or the CONNECT
 *                            when it has none): also bounds tokens without {@code exp}.
 * @param disconnectOnExpiry  close live connections when their token expires.
 * @param maxTokenBytes       longer passwords are refused before any parsing.
 * @param jwksFile            null, or a JWK set file of further public keys (EdDSA, ES256, RS256) to accept.
 * @param hs256SecretFile     null, or a file holding an HS256 shared secret (at least 32 bytes) to accept.
 * @param audience            null, or the {@code aud} every token must name (and {@code token issue} writes).
 * @param issuer              null, or the {@code iss} every token must carry (and {@code token issue} writes).
 * @param passwordFile        null, or the Mosquitto-format password file of {@code skylark.auth.mode=password}.
 */
public record AuthSettings(
    Path dataDir,
    long clockSkewS,
    long maxLifetimeS,
    boolean disconnectOnExpiry,
    int maxTokenBytes,
    Path jwksFile,
    Path hs256SecretFile,
    String audience,
    String issuer,
    Path passwordFile)
{
    /** Without audience, issuer or password file. */
    public AuthSettings(
        final Path dataDir,
        final long clockSkewS,
        final long maxLifetimeS,
        final boolean disconnectOnExpiry,
        final int maxTokenBytes,
        final Path jwksFile,
        final Path hs256SecretFile)
    {
        this(dataDir, clockSkewS, maxLifetimeS, disconnectOnExpiry, maxTokenBytes, jwksFile, hs256SecretFile, null,
            null, null);
    }

    public AuthSettings
    {
        audience = audience == null || audience.isEmpty() ? null : audience;
        issuer = issuer == null || issuer.isEmpty() ? null : issuer;
    }

    public static AuthSettings defaults(final Path dataDir)
    {
        return new AuthSettings(dataDir, 30, 0, true, 8192, null, null);
    }

    /** The same settings with a token audience and issuer (null: not checked, not written). */
    public AuthSettings withAudienceAndIssuer(final String audience, final String issuer)
    {
        return new AuthSettings(dataDir, clockSkewS, maxLifetimeS, disconnectOnExpiry, maxTokenBytes, jwksFile,
            hs256SecretFile, audience, issuer, passwordFile);
    }

    public Path authDir()
    {
        return dataDir.resolve("auth");
    }
}
