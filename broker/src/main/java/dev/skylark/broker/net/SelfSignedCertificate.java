package dev.skylark.broker.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for local use, made with the JDK's {@code keytool} (EC P-256, SHA256withECDSA,
 * subject alternative names for every host given) and written as {@code cert.pem} (give it to clients:
 * {@code mosquitto_sub --cafile cert.pem}), {@code key.pem} (PKCS#8) and {@code keystore.p12}, whose password is
 * random and kept beside it in {@code keystore.password}. Everything secret is the owner's only: the folder 0700, the
 * key, keystore and password files 0600 (made so before anything is written to them). {@link #ensure} reuses the
 * files on the next start; a keystore from before the random password (password {@value #LEGACY_PASSWORD}) gets a
 * random one then, and files made before are tightened to the same permissions.
 */
public final class SelfSignedCertificate
{
    /** The fixed password keystores had before the random one; only read, to move them to a random password. */
    static final String LEGACY_PASSWORD = "skylark";
    private static final String ALIAS = "skylark";
    private static final String OWNER_ONLY = "rw-------";

    /** The files made. */
    public record Files(Path certificate, Path privateKey, Path keystore, Path keystorePassword)
    {
        /** The keystore's password, read from {@link #keystorePassword()}. */
        public char[] password()
        {
            try
            {
                return java.nio.file.Files.readString(keystorePassword, StandardCharsets.US_ASCII).trim().toCharArray();
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException("cannot read the keystore password " + keystorePassword, ex);
            }
        }
    }

    private SelfSignedCertificate()
    {
    }

    /** Makes the files in {@code directory} unless {@code cert.pem} and {@code key.pem} are already there. */
    public static Files ensure(final Path directory, final List<String> hosts)
    {
        final Files files = filesIn(directory);
        if (java.nio.file.Files.exists(files.certificate()) && java.nio.file.Files.exists(files.privateKey()))
        {
            try
            {
                restrict(directory, "rwx------");
                restrict(files.privateKey(), OWNER_ONLY);
                if (java.nio.file.Files.exists(files.keystore()))
                {
                    restrict(files.keystore(), OWNER_ONLY);
                    if (!java.nio.file.Files.exists(files.keystorePassword()))
                    {
                        rekey(files);
                    }
                    restrict(files.keystorePassword(), OWNER_ONLY);
                }
                return files;
            }
            catch (final IOException ex)
            {
                throw new UncheckedIOException("cannot secure the certificate files in " + directory + ": " +
                    ex.getMessage(), ex);
            }
            catch (final GeneralSecurityException ex)
            {
                throw new IllegalStateException("cannot read the keystore " + files.keystore() + ": " +
                    ex.getMessage(), ex);
            }
        }
        return create(directory, hosts, 825);
    }

    private static Files filesIn(final Path directory)
    {
        return new Files(directory.resolve("cert.pem"), directory.resolve("key.pem"), directory.resolve("keystore.p12"),
            directory.resolve("keystore.password"));
    }

    /** A keystore made with the former fixed password: stored again under a random one, written beside it. */
    private static void rekey(final Files files) throws IOException, GeneralSecurityException
    {
        final KeyStore keystore = KeyStore.getInstance("PKCS12");
        try (InputStream in = java.nio.file.Files.newInputStream(files.keystore()))
        {
            keystore.load(in, LEGACY_PASSWORD.toCharArray());
        }
        final char[] password = newPassword(files);
        final KeyStore.PasswordProtection protection = new KeyStore.PasswordProtection(password);
        final KeyStore.Entry entry = keystore.getEntry(ALIAS, new KeyStore.PasswordProtection(
            LEGACY_PASSWORD.toCharArray()));
        final KeyStore fresh = KeyStore.getInstance("PKCS12");
        fresh.load(null, null);
        fresh.setEntry(ALIAS, entry, protection);
        final Path next = files.keystore().resolveSibling("keystore.p12.next");
        java.nio.file.Files.deleteIfExists(next);
        createOwnerOnly(next);
        try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(next))
        {
            fresh.store(out, password);
        }
        java.nio.file.Files.move(next, files.keystore(), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A random password (24 random bytes, base64url), written to the password file, made owner-only first. */
    private static char[] newPassword(final Files files) throws IOException
    {
        final byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        final String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        java.nio.file.Files.deleteIfExists(files.keystorePassword());
        createOwnerOnly(files.keystorePassword());
        java.nio.file.Files.writeString(files.keystorePassword(), password + "\n", StandardCharsets.US_ASCII);
        return password.toCharArray();
    }

    /**
     * @param hosts DNS names or IP addresses the certificate is for; the first is also the common name.
     * @param days  validity.
     */
    public static Files create(final Path directory, final List<String> hosts, final int days)
    {
        if (hosts.isEmpty())
        {
            throw new IllegalArgumentException("at least one host is needed");
        }
        final Files files = filesIn(directory);
        try
        {
            java.nio.file.Files.createDirectories(directory);
            restrict(directory, "rwx------");
            java.nio.file.Files.deleteIfExists(files.keystore());
            final String password = new String(newPassword(files));
            final List<String> san = new ArrayList<>();
            for (final String host : hosts)
            {
                san.add((host.matches("[0-9.]+") || host.contains(":") ? "ip:" : "dns:") + host);
            }
            final Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            final ProcessBuilder builder = new ProcessBuilder(
                java.nio.file.Files.isExecutable(keytool) ? keytool.toString() : "keytool",
                "-genkeypair", "-alias", ALIAS, "-keyalg", "EC", "-groupname", "secp256r1",
                "-sigalg", "SHA256withECDSA", "-validity", String.valueOf(days),
                "-dname", "CN=" + hosts.get(0) + ", O=Skylark self-signed",
                "-ext", "SAN=" + String.join(",", san),
                "-ext", "BC=ca:true", // so clients may use it directly as their CA file
                "-keystore", files.keystore().toString(), "-storetype", "PKCS12",
                "-storepass:env", "SKYLARK_KEYSTORE_PASSWORD", "-keypass:env", "SKYLARK_KEYSTORE_PASSWORD")
                .redirectErrorStream(true);
            builder.environment().put("SKYLARK_KEYSTORE_PASSWORD", password); // not on a command line others can see
            final Process process = builder.start();
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0)
            {
                process.destroy();
                throw new IOException("keytool failed: " + output.trim());
            }

            restrict(files.keystore(), OWNER_ONLY);
            final KeyStore keystore = KeyStore.getInstance("PKCS12");
            try (InputStream in = java.nio.file.Files.newInputStream(files.keystore()))
            {
                keystore.load(in, password.toCharArray());
            }
            final Key key = keystore.getKey(ALIAS, password.toCharArray());
            final Certificate certificate = keystore.getCertificate(ALIAS);
            java.nio.file.Files.writeString(files.certificate(), pem("CERTIFICATE", certificate.getEncoded()));
            java.nio.file.Files.deleteIfExists(files.privateKey());
            createOwnerOnly(files.privateKey());
            java.nio.file.Files.writeString(files.privateKey(), pem("PRIVATE KEY", key.getEncoded()));
            return files;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot make a self-signed certificate in " + directory + ": " +
                ex.getMessage(), ex);
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("cannot read the keystore keytool made: " + ex.getMessage(), ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while making a certificate", ex);
        }
    }

    /** Sets the permissions where the file system has POSIX ones (elsewhere: nothing to set). */
    private static void restrict(final Path path, final String permissions) throws IOException
    {
        try
        {
            java.nio.file.Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        }
        catch (final UnsupportedOperationException ignore)
        {
            // not a POSIX file system
        }
    }

    /** Creates an empty file that is the owner's only from the start (no window in which others may open it). */
    private static void createOwnerOnly(final Path file) throws IOException
    {
        try
        {
            java.nio.file.Files.createFile(file,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(OWNER_ONLY)));
        }
        catch (final UnsupportedOperationException notPosix)
        {
            java.nio.file.Files.createFile(file);
        }
        restrict(file, OWNER_ONLY); // the umask may have taken bits away, never added: this is exact
    }

    private static String pem(final String type, final byte[] der)
    {
        return "-----BEGIN " + type + "-----\n" +
            Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der) +
            "\n-----END " + type + "-----\n";
    }
}
