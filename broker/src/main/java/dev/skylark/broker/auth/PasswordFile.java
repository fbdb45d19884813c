package dev.skylark.broker.auth;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * User names and password hashes in Mosquitto's {@code mosquitto_passwd} format, one {@code user:hash} a line
 * ({@code #} comments and blank lines ignored), so an operator points Skylark at the file Mosquitto used.
 * <p>
 * Hashes, as {@code mosquitto_passwd} writes them (base64 is the standard alphabet with padding):
 * <ul>
 *   <li>{@code $6$<base64 salt>$<base64 SHA-512(password bytes || salt bytes)>} (Mosquitto 1.6 and older);</li>
 *   <li>{@code $7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512(password bytes, salt bytes, iterations,
 *       64 bytes)>} (Mosquitto 2.0's default, 101 iterations, 12-byte salt).</li>
 * </ul>
 * Plain-text lines (what {@code mosquitto_passwd -U} converts) and other schemes (e.g. {@code $argon2id$}) are
 * refused at load with the file, the line and why. The password is compared as the CONNECT's bytes; the digest is
 * compared in constant time, and an unknown user costs the same work as a known one.
 * <p>
 * Readable from any thread: the current table is one immutable map behind a volatile, replaced whole by
 * {@link #reload()} / {@link #refreshIfChanged()} (the auth watcher's poll, or SIGHUP). A file that no longer parses
 * keeps the previous table and the reload reports why.
 */
public final class PasswordFile
{
    /** PBKDF2 iterations {@code skylark passwd} writes by default: Mosquitto 2.0's own default. */
    public static final int DEFAULT_ITERATIONS = 101;
    /**
     * Most PBKDF2 iterations a line may ask for: the hash runs on an I/O thread for every CONNECT that names the user,
     * so a file line must not be able to stall it for long.
     */
    public static final int MAX_ITERATIONS = 10_000;
    /** Longest password hashed, bytes (the MQTT limit); a longer one is refused without hashing. */
    public static final int MAX_PASSWORD_BYTES = 65_535;
    private static final int SALT_BYTES = 12;
    private static final int HASH_BYTES = 64;

    /** A hash scheme of the file. */
    public enum Scheme
    {
        /** {@code $6$}: salted SHA-512. */
        SHA512("$6$"),
        /** {@code $7$}: PBKDF2-HMAC-SHA512. */
        PBKDF2_SHA512("$7$");

        private final String prefix;

        Scheme(final String prefix)
        {
            this.prefix = prefix;
        }

        public String prefix()
        {
            return prefix;
        }
    }

    /** One user's hash. */
    record Entry(Scheme scheme, int iterations, byte[] salt, byte[] hash)
    {
    }

    /** Hashed for users that do not exist, so their refusal takes as long as a wrong password. */
    private static final Entry UNKNOWN_USER = new Entry(Scheme.PBKDF2_SHA512, DEFAULT_ITERATIONS,
        new byte[SALT_BYTES], new byte[HASH_BYTES]);

    private final Path file;
    private volatile Map<String, Entry> users = Map.of();
    private volatile long epoch;
    private FileTime seenModified;
    private long seenSize = -1;

    /**
     * Loads the file.
     *
     * @throws IllegalArgumentException naming the file and line of anything not understood, or when it cannot be read.
     */
    public PasswordFile(final Path file)
    {
        this.file = file;
        users = parse(file, read(file));
        remember();
    }

    public Path path()
    {
        return file;
    }

    /** Moves whenever the table changes. */
    public long epoch()
    {
        return epoch;
    }

    /** How many users the table holds. */
    public int size()
    {
        return users.size();
    }

    /** Whether a user is in the table. */
    public boolean contains(final String user)
    {
        return users.containsKey(user);
    }

    /**
     * Checks a password (the CONNECT's bytes) for a user: false for an unknown user, a wrong password or one longer
     * than {@link #MAX_PASSWORD_BYTES}. Takes the same time for an unknown user as for a wrong password.
     */
    public boolean verify(final String user, final byte[] password)
    {
        final Entry entry = user == null ? null : users.get(user);
        final Entry checked = entry != null ? entry : UNKNOWN_USER;
        if (password == null || password.length > MAX_PASSWORD_BYTES)
        {
            return false;
        }
        final byte[] digest = digest(checked.scheme(), password, checked.salt(), checked.iterations());
        return MessageDigest.isEqual(digest, checked.hash()) & entry != null;
    }

    /**
     * Re-reads the file now (SIGHUP): the new table replaces the old one when it parses.
     *
     * @throws IllegalArgumentException naming the file and line when it does not (the old table stays).
     */
    public synchronized void reload()
    {
        final Map<String, Entry> fresh = parse(file, read(file));
        remember();
        users = fresh;
        epoch++;
    }

    /**
     * Re-reads the file when its modification time or size changed.
     *
     * @return true when a new table was loaded.
     * @throws IllegalArgumentException when it changed but does not parse (the old table stays; it is not re-read
     *                                  until it changes again).
     */
    public synchronized boolean refreshIfChanged()
    {
        final FileTime modified;
        final long size;
        try
        {
            modified = Files.getLastModifiedTime(file);
            size = Files.size(file);
        }
        catch (final NoSuchFileException ex)
        {
            return false;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read " + file + ": " + ex.getMessage(), ex);
        }
        if (modified.equals(seenModified) && size == seenSize)
        {
            return false;
        }
        final List<String> lines = read(file);
        try
        {
            if (!modified.equals(Files.getLastModifiedTime(file)) || size != Files.size(file))
            {
                return false; // written while we read it (mosquitto_passwd rewrites in place): look again next time
            }
        }
        catch (final IOException ex)
        {
            return false;
        }
        seenModified = modified;
        seenSize = size;
        users = parse(file, lines);
        epoch++;
        return true;
    }

    private void remember()
    {
        try
        {
            seenModified = Files.getLastModifiedTime(file);
            seenSize = Files.size(file);
        }
        catch (final IOException ex)
        {
            seenModified = null;
            seenSize = -1;
        }
    }

    private static List<String> read(final Path file)
    {
        try
        {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read password file " + file + ": " + ex.getMessage(), ex);
        }
    }

    /** The users of a file's lines, in file order. */
    static Map<String, Entry> parse(final Path file, final List<String> lines)
    {
        final Map<String, Entry> parsed = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++)
        {
            final String line = stripEnd(lines.get(i));
            if (line.isEmpty() || line.startsWith("#"))
            {
                continue;
            }
            final int colon = line.indexOf(':');
            final String where = file + ":" + (i + 1) + ": ";
            if (colon <= 0)
            {
                throw new IllegalArgumentException(where + "expected 'user:hash'");
            }
            final String user = line.substring(0, colon);
            if (parsed.containsKey(user))
            {
                throw new IllegalArgumentException(where + "user '" + user + "' appears twice");
            }
            parsed.put(user, parseHash(where, line.substring(colon + 1)));
        }
        return Collections.unmodifiableMap(parsed);
    }

    private static String stripEnd(final String line)
    {
        int end = line.length();
        while (end > 0 && (line.charAt(end - 1) == '\r' || line.charAt(end - 1) == '\n'))
        {
            end--;
        }
        return line.substring(0, end);
    }

    private static Entry parseHash(final String where, final String hash)
    {
        final String[] parts = hash.split("\\$", -1);
        // "$6$salt$hash" -> ["", "6", salt, hash]; "$7$it$salt$hash" -> ["", "7", it, salt, hash]
        if (parts.length < 2 || !parts[0].isEmpty())
        {
            throw new IllegalArgumentException(where + "not a hashed password (plain-text files: convert them with " +
                "'mosquitto_passwd -U FILE' or 'skylark passwd')");
        }
        try
        {
            if ("6".equals(parts[1]) && parts.length == 4)
            {
                return new Entry(Scheme.SHA512, 0, decode(parts[2]), checkedHash(decode(parts[3])));
            }
            if ("7".equals(parts[1]) && parts.length == 5)
            {
                final int iterations = Integer.parseInt(parts[2]);
                if (iterations < 1 || iterations > MAX_ITERATIONS)
                {
                    throw new IllegalArgumentException("iterations must be between 1 and " + MAX_ITERATIONS +
                        " (each CONNECT hashes on an I/O thread)");
                }
                return new Entry(Scheme.PBKDF2_SHA512, iterations, decode(parts[3]), checkedHash(decode(parts[4])));
            }
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(where + "malformed $" + parts[1] + "$ hash: " + ex.getMessage(), ex);
        }
        throw new IllegalArgumentException(where + "unsupported hash '$" + parts[1] + "$' (only $6$ sha512 and $7$ " +
            "sha512-pbkdf2, as mosquitto_passwd -H writes them)");
    }

    private static byte[] decode(final String base64)
    {
        if (base64.isEmpty())
        {
            throw new IllegalArgumentException("empty field");
        }
        return Base64.getDecoder().decode(base64);
    }

    private static byte[] checkedHash(final byte[] hash)
    {
        if (hash.length != HASH_BYTES)
        {
            throw new IllegalArgumentException("hash of " + hash.length + " bytes, " + HASH_BYTES + " expected");
        }
        return hash;
    }

    /** The hash of a password by a scheme. */
    static byte[] digest(final Scheme scheme, final byte[] password, final byte[] salt, final int iterations)
    {
        try
        {
            if (scheme == Scheme.SHA512)
            {
                final MessageDigest sha512 = MessageDigest.getInstance("SHA-512");
                sha512.update(password);
                sha512.update(salt);
                return sha512.digest();
            }
            return pbkdf2HmacSha512(password, salt, iterations);
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("SHA-512 is missing from this JDK", ex);
        }
    }

    /**
     * PBKDF2-HMAC-SHA512 (RFC 8018) of raw password bytes, one 64-byte block: the JDK's {@code PBKDF2WithHmacSHA512}
     * takes a {@code char[]} and so cannot hash a password that is not UTF-8 the way Mosquitto (bytes) does.
     */
    static byte[] pbkdf2HmacSha512(final byte[] password, final byte[] salt, final int iterations)
        throws GeneralSecurityException
    {
        final Mac mac = Mac.getInstance("HmacSHA512");
        // SecretKeySpec refuses an empty key; HMAC pads any key shorter than a block with zeros, so one zero byte
        // is the same key as none.
        mac.init(new SecretKeySpec(password.length == 0 ? new byte[1] : password, "HmacSHA512"));
        mac.update(salt);
        mac.update(new byte[]{ 0, 0, 0, 1 });
        final byte[] u = mac.doFinal();
        final byte[] t = u.clone();
        try
        {
            for (int i = 1; i < iterations; i++)
            {
                mac.update(u);
                mac.doFinal(u, 0);
                for (int j = 0; j < t.length; j++)
                {
                    t[j] ^= u[j];
                }
            }
        }
        catch (final javax.crypto.ShortBufferException ex)
        {
            throw new IllegalStateException(ex); // u is the MAC's own length
        }
        return t;
    }

    /** What {@link #edit} does to a user. */
    public enum Edit
    {
        /** Adds a user that is not in the file. */
        ADD,
        /** Changes the password of a user in the file. */
        CHANGE,
        /** Adds the user or changes its password (what {@code mosquitto_passwd} does). */
        SET,
        /** Removes a user from the file. */
        DELETE
    }

    /**
     * Adds, changes or deletes one user's line, keeping every other line (comments included) as it is, and writes the
     * file atomically with owner-only permissions; a running broker picks it up on its next poll.
     *
     * @param hash the new {@link #hash}, or null to delete.
     * @throws IllegalArgumentException when the user is missing (change, delete) or already there (add), when the user
     *                                  name cannot be in the file (empty, ':' or a line break), or the file does not
     *                                  parse.
     */
    public static void edit(final Path file, final Edit edit, final String user, final String hash)
    {
        if (user == null || user.isEmpty() || user.indexOf(':') >= 0 || user.indexOf('\n') >= 0 ||
            user.indexOf('\r') >= 0 || user.startsWith("#"))
        {
            throw new IllegalArgumentException("a user name must be non-empty, not start with '#' and hold no ':' " +
                "or line break: '" + user + "'");
        }
        final List<String> lines = Files.exists(file) ? read(file) : List.of();
        final Map<String, Entry> existing = parse(file, lines);
        final boolean present = existing.containsKey(user);
        if (edit == Edit.ADD && present)
        {
            throw new IllegalArgumentException("user '" + user + "' is already in " + file + " (use change)");
        }
        if ((edit == Edit.CHANGE || edit == Edit.DELETE) && !present)
        {
            throw new IllegalArgumentException("no user '" + user + "' in " + file);
        }
        final StringBuilder text = new StringBuilder();
        for (final String line : lines)
        {
            if (line.startsWith(user + ":"))
            {
                if (edit != Edit.DELETE)
                {
                    text.append(user).append(':').append(hash).append('\n');
                }
                continue;
            }
            text.append(line).append('\n');
        }
        if (!present)
        {
            text.append(user).append(':').append(hash).append('\n');
        }
        SecureFiles.writeOwnerOnly(file, text.toString());
    }

    /** A new {@code $7$} (or {@code $6$}) hash of a password, with a random 12-byte salt, as mosquitto_passwd writes. */
    public static String hash(final Scheme scheme, final byte[] password, final int iterations, final SecureRandom random)
    {
        if (scheme == Scheme.PBKDF2_SHA512 && (iterations < 1 || iterations > MAX_ITERATIONS))
        {
            throw new IllegalArgumentException("iterations must be between 1 and " + MAX_ITERATIONS);
        }
        final byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        final Base64.Encoder b64 = Base64.getEncoder();
        final String hash = b64.encodeToString(digest(scheme, password, salt, iterations));
        return scheme == Scheme.SHA512 ? "$6$" + b64.encodeToString(salt) + "$" + hash :
            "$7$" + iterations + "$" + b64.encodeToString(salt) + "$" + hash;
    }
}
