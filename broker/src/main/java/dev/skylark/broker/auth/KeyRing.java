package dev.skylark.broker.auth;

import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.OctetKeyPairJsonWebKey;
import org.jose4j.jwk.OkpJwkGenerator;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.lang.JoseException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The broker's own Ed25519 signing keys, kept as a private JWK set in {@code <data.dir>/auth/signing-keys.json}
 * (permissions 0600). The newest key signs; every key in the file verifies, so after {@link #rotate()} tokens
 * signed by the previous key stay valid. At most {@link #MAX_KEYS} keys are kept: rotating twice retires the
 * oldest. Another process may rotate (the {@code skylark keys rotate} command): {@link #refreshIfChanged()}
 * re-reads the file.
 */
public final class KeyRing
{
    static final String FILE_NAME = "signing-keys.json";
    public static final int MAX_KEYS = 2;
    private static final DateTimeFormatter KID_TIME =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC);

    private final Path file;
    private final SecureRandom random = new SecureRandom();
    private volatile List<OctetKeyPairJsonWebKey> keys = List.of();
    private FileTime seenModified;
    private boolean created;

    private KeyRing(final Path authDir)
    {
        this.file = authDir.resolve(FILE_NAME);
    }

    /** Loads the key file, creating it with a fresh key pair when absent. */
    public static KeyRing openOrCreate(final Path authDir)
    {
        final KeyRing ring = new KeyRing(authDir);
        synchronized (ring)
        {
            if (!Files.exists(ring.file))
            {
                ring.keys = List.of(ring.generate());
                ring.persist();
                ring.created = true;
            }
            else
            {
                ring.refreshIfChanged();
            }
        }
        return ring;
    }

    /** True when {@link #openOrCreate(Path)} generated the first key pair (a first start). */
    public boolean created()
    {
        return created;
    }

    /** The key that signs new tokens (the newest). */
    public OctetKeyPairJsonWebKey signingKey()
    {
        final List<OctetKeyPairJsonWebKey> current = keys;
        return current.get(current.size() - 1);
    }

    /** The signing key's id and private key, read together (another thread may rotate in between two reads). */
    public record SigningKey(String keyId, java.security.PrivateKey privateKey)
    {
    }

    /** The newest key as a JDK key, for signing outside this package (e.g. the publish hook's requests). */
    public SigningKey currentSigningKey()
    {
        final OctetKeyPairJsonWebKey key = signingKey();
        return new SigningKey(key.getKeyId(), key.getPrivateKey());
    }

    /** Every key that verifies, oldest first. */
    public List<OctetKeyPairJsonWebKey> keys()
    {
        return keys;
    }

    /** The public JWK set (no private parts), ready to publish. */
    public String publicJwks()
    {
        return new JsonWebKeySet(new ArrayList<JsonWebKey>(keys)).toJson(JsonWebKey.OutputControlLevel.PUBLIC_ONLY);
    }

    /** Adds a new signing key; the oldest is retired when more than {@link #MAX_KEYS} would remain. */
    public synchronized String rotate()
    {
        refreshIfChanged();
        final List<OctetKeyPairJsonWebKey> next = new ArrayList<>(keys);
        final OctetKeyPairJsonWebKey key = generate();
        next.add(key);
        while (next.size() > MAX_KEYS)
        {
            next.remove(0);
        }
        keys = List.copyOf(next);
        persist();
        return key.getKeyId();
    }

    /** Re-reads the file when its modification time changed; returns true when it did. */
    public synchronized boolean refreshIfChanged()
    {
        try
        {
            final FileTime modified;
            try
            {
                modified = Files.getLastModifiedTime(file);
            }
            catch (final NoSuchFileException ex)
            {
                return false;
            }
            if (modified.equals(seenModified))
            {
                return false;
            }
            final JsonWebKeySet set = new JsonWebKeySet(Files.readString(file, StandardCharsets.UTF_8));
            final List<OctetKeyPairJsonWebKey> loaded = new ArrayList<>();
            for (final JsonWebKey key : set.getJsonWebKeys())
            {
                if (key instanceof OctetKeyPairJsonWebKey okp && okp.getPrivateKey() != null)
                {
                    loaded.add(okp);
                }
            }
            if (loaded.isEmpty())
            {
                throw new IllegalStateException(file + " holds no Ed25519 private key");
            }
            keys = List.copyOf(loaded);
            seenModified = modified;
            return true;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read " + file + ": " + ex.getMessage(), ex);
        }
        catch (final JoseException ex)
        {
            throw new IllegalStateException("cannot parse " + file + ": " + ex.getMessage(), ex);
        }
    }

    private OctetKeyPairJsonWebKey generate()
    {
        try
        {
            final OctetKeyPairJsonWebKey key = OkpJwkGenerator.generateJwk(OctetKeyPairJsonWebKey.SUBTYPE_ED25519);
            final byte[] suffix = new byte[3];
            random.nextBytes(suffix);
            key.setKeyId("ed25519-" + KID_TIME.format(Instant.now()) + "-" +
                Base64.getUrlEncoder().withoutPadding().encodeToString(suffix));
            key.setAlgorithm(AlgorithmIdentifiers.EDDSA);
            key.setUse("sig");
            return key;
        }
        catch (final JoseException ex)
        {
            throw new IllegalStateException("cannot generate an Ed25519 key (needs Java 15+): " + ex.getMessage(), ex);
        }
    }

    private void persist()
    {
        final String json = new JsonWebKeySet(new ArrayList<JsonWebKey>(keys))
            .toJson(JsonWebKey.OutputControlLevel.INCLUDE_PRIVATE);
        SecureFiles.writeOwnerOnly(file, json);
        try
        {
            seenModified = Files.getLastModifiedTime(file);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
