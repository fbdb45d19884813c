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
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for local use, made with the JDK's {@code keytool} (EC P-256, SHA256withECDSA,
 * subject alternative names for every host given) and written as {@code cert.pem} (give it to clients:
 * {@code mosquitto_sub --cafile cert.pem}), {@code key.pem} (PKCS#8, readable by the owner only) and
 * {@code keystore.p12} (password {@value #KEYSTORE_PASSWORD}).
 */
public final class SelfSignedCertificate
{
    public static final String KEYSTORE_PASSWORD = "skylark";
    private static final String ALIAS = "skylark";

    /** The files made. */
    public record Files(Path certificate, Path privateKey, Path keystore)
    {
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
            return files;
        }
        return create(directory, hosts, 825);
    }

    private static Files filesIn(final Path directory)
    {
        return new Files(directory.resolve("cert.pem"), directory.resolve("key.pem"), directory.resolve("keystore.p12"));
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
            java.nio.file.Files.deleteIfExists(files.keystore());
            final List<String> san = new ArrayList<>();
            for (final String host : hosts)
            {
                san.add((host.matches("[0-9.]+") || host.contains(":") ? "ip:" : "dns:") + host);
            }
            final Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            final Process process = new ProcessBuilder(
                java.nio.file.Files.isExecutable(keytool) ? keytool.toString() : "keytool",
                "-genkeypair", "-alias", ALIAS, "-keyalg", "EC", "-groupname", "secp256r1",
                "-sigalg", "SHA256withECDSA", "-validity", String.valueOf(days),
                "-dname", "CN=" + hosts.get(0) + ", O=Skylark self-signed",
                "-ext", "SAN=" + String.join(",", san),
                "-ext", "BC=ca:true", // so clients may use it directly as their CA file
                "-keystore", files.keystore().toString(), "-storetype", "PKCS12",
                "-storepass", KEYSTORE_PASSWORD, "-keypass", KEYSTORE_PASSWORD)
                .redirectErrorStream(true)
                .start();
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0)
            {
                process.destroy();
                throw new IOException("keytool failed: " + output.trim());
            }

            final KeyStore keystore = KeyStore.getInstance("PKCS12");
            try (InputStream in = java.nio.file.Files.newInputStream(files.keystore()))
            {
                keystore.load(in, KEYSTORE_PASSWORD.toCharArray());
            }
            final Key key = keystore.getKey(ALIAS, KEYSTORE_PASSWORD.toCharArray());
            final Certificate certificate = keystore.getCertificate(ALIAS);
            java.nio.file.Files.writeString(files.certificate(), pem("CERTIFICATE", certificate.getEncoded()));
            java.nio.file.Files.deleteIfExists(files.privateKey());
            java.nio.file.Files.createFile(files.privateKey());
            restrict(files.privateKey());
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

    private static void restrict(final Path file)
    {
        try
        {
            java.nio.file.Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        catch (final IOException | UnsupportedOperationException ignore)
        {
            // not a POSIX file system
        }
    }

    private static String pem(final String type, final byte[] der)
    {
        return "-----BEGIN " + type + "-----\n" +
            Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der) +
            "\n-----END " + type + "-----\n";
    }
}
