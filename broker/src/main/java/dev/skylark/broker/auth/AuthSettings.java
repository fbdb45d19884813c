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
 */
public record AuthSettings(
    Path dataDir,
    long clockSkewS,
    long maxLifetimeS,
    boolean disconnectOnExpiry,
    int maxTokenBytes,
    Path jwksFile,
    Path hs256SecretFile)
{
    public static AuthSettings defaults(final Path dataDir)
    {
        return new AuthSettings(dataDir, 30, 0, true, 8192, null, null);
    }

    public Path authDir()
    {
        return dataDir.resolve("auth");
    }
}
