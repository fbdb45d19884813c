package dev.skylark.broker.auth;

import org.agrona.concurrent.EpochClock;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.lang.JoseException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Token authentication of one broker (or of one CLI invocation): the key ring, the revocation list, the
 * {@link TokenAuthenticator} the I/O agents share, the {@link TokenIssuer} and the admin bearer token, all kept in
 * {@code <data.dir>/auth/}. When started with {@link #watch(long)}, a daemon thread re-reads the revocation list
 * and the key file when another process (the CLI) changed them.
 */
public final class AuthService implements AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(AuthService.class.getName());
    static final String ADMIN_TOKEN_FILE = "admin-token";

    private final AuthSettings settings;
    private final KeyRing keyRing;
    private final RevocationList revocations;
    private final TokenAuthenticator authenticator;
    private final TokenIssuer issuer;
    private final String adminToken;
    private final PasswordFile passwords;
    private ScheduledExecutorService watcher;

    private AuthService(final AuthSettings settings, final EpochClock clock)
    {
        this.settings = settings;
        final Path dir = settings.authDir();
        SecureFiles.ensureDirectory(dir);
        keyRing = KeyRing.openOrCreate(dir);
        revocations = new RevocationList(dir);
        authenticator = new TokenAuthenticator(settings, keyRing, revocations, clock,
            loadJwks(settings.jwksFile()), loadSecret(settings.hs256SecretFile()));
        issuer = new TokenIssuer(keyRing, clock, settings.audience(), settings.issuer());
        passwords = settings.passwordFile() == null ? null : new PasswordFile(settings.passwordFile());
        adminToken = loadOrCreateAdminToken(dir.resolve(ADMIN_TOKEN_FILE));
    }

    /** Opens (creating on first use) the key ring, revocation list and admin token under the data directory. */
    public static AuthService open(final AuthSettings settings, final EpochClock clock)
    {
        return new AuthService(settings, clock);
    }

    /** Polls the revocation and key files every {@code intervalMs} on a daemon thread (until {@link #close()}). */
    public synchronized AuthService watch(final long intervalMs)
    {
        if (watcher == null)
        {
            watcher = Executors.newSingleThreadScheduledExecutor((r) ->
            {
                final Thread thread = new Thread(r, "skylark-auth-watch");
                thread.setDaemon(true);
                return thread;
            });
            watcher.scheduleWithFixedDelay(this::refresh, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    /** Re-reads the revocation list, keys and password file if their files changed. */
    public void refresh()
    {
        refreshTokenFiles();
        try
        {
            if (passwords != null && passwords.refreshIfChanged())
            {
                LOG.log(Level.INFO, "password file " + passwords.path() + " reloaded: " + passwords.size() + " user(s)");
            }
        }
        catch (final RuntimeException ex)
        {
            LOG.log(Level.WARNING, "password file not reloaded, the previous users stay: " + ex.getMessage());
        }
    }

    private void refreshTokenFiles()
    {
        try
        {
            if (revocations.refreshIfChanged())
            {
                LOG.log(Level.INFO, "revocation list reloaded: " + revocations.list().size() + " revoked token id(s)");
            }
            if (keyRing.refreshIfChanged())
            {
                LOG.log(Level.INFO, "signing keys reloaded: " + keyRing.keys().size() + " key(s), signing with " +
                    keyRing.signingKey().getKeyId());
            }
        }
        catch (final RuntimeException ex)
        {
            LOG.log(Level.WARNING, "cannot reload auth files: " + ex.getMessage());
        }
    }

    /**
     * Re-reads every auth file now, changed or not (the SIGHUP handler calls this): revocations, keys and the
     * password file. A password file that no longer parses keeps the previous users.
     *
     * @return null when all reloaded, else why not (also logged).
     */
    public String reload()
    {
        refreshTokenFiles();
        if (passwords != null)
        {
            try
            {
                passwords.reload();
                LOG.log(Level.INFO, "password file " + passwords.path() + " reloaded: " + passwords.size() + " user(s)");
            }
            catch (final RuntimeException ex)
            {
                LOG.log(Level.WARNING, "password file not reloaded, the previous users stay: " + ex.getMessage());
                return ex.getMessage();
            }
        }
        return null;
    }

    /** The password file of {@code skylark.auth.mode=password}, or null when none is configured. */
    public PasswordFile passwords()
    {
        return passwords;
    }

    public AuthSettings settings()
    {
        return settings;
    }

    public Authenticator authenticator()
    {
        return authenticator;
    }

    public TokenAuthenticator tokenAuthenticator()
    {
        return authenticator;
    }

    public AuthCounters counters()
    {
        return authenticator.counters();
    }

    public KeyRing keyRing()
    {
        return keyRing;
    }

    public RevocationList revocations()
    {
        return revocations;
    }

    public TokenIssuer issuer()
    {
        return issuer;
    }

    /** The admin API's bearer token (kept in {@code auth/admin-token}, 0600). */
    public String adminToken()
    {
        return adminToken;
    }

    /** Constant-time check of an admin bearer token. */
    boolean isAdminToken(final String candidate)
    {
        return candidate != null && MessageDigest.isEqual(
            candidate.getBytes(StandardCharsets.UTF_8), adminToken.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public synchronized void close()
    {
        if (watcher != null)
        {
            watcher.shutdownNow();
            watcher = null;
        }
    }

    private static String loadOrCreateAdminToken(final Path file)
    {
        try
        {
            if (Files.exists(file))
            {
                final String token = Files.readString(file, StandardCharsets.UTF_8).trim();
                if (!token.isEmpty())
                {
                    return token;
                }
            }
            final byte[] bytes = new byte[32];
            new SecureRandom().nextBytes(bytes);
            final String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            SecureFiles.writeOwnerOnly(file, token + "\n");
            return token;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read " + file + ": " + ex.getMessage(), ex);
        }
    }

    private static List<JsonWebKey> loadJwks(final Path file)
    {
        if (file == null)
        {
            return List.of();
        }
        try
        {
            final List<JsonWebKey> keys = new JsonWebKeySet(Files.readString(file, StandardCharsets.UTF_8)).getJsonWebKeys();
            for (final JsonWebKey key : keys)
            {
                if (key.getKeyId() == null)
                {
                    throw new IllegalArgumentException("every key in " + file + " needs a 'kid'");
                }
            }
            return keys;
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read JWK set " + file + ": " + ex.getMessage(), ex);
        }
        catch (final JoseException ex)
        {
            throw new IllegalArgumentException("cannot parse JWK set " + file + ": " + ex.getMessage(), ex);
        }
    }

    private static byte[] loadSecret(final Path file)
    {
        if (file == null)
        {
            return null;
        }
        try
        {
            final byte[] secret = Files.readString(file, StandardCharsets.UTF_8).trim().getBytes(StandardCharsets.UTF_8);
            if (secret.length < 32)
            {
                throw new IllegalArgumentException("HS256 secret in " + file + " must be at least 32 bytes");
            }
            return secret;
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read HS256 secret " + file + ": " + ex.getMessage(), ex);
        }
    }
}
