package dev.skylark.broker.tls;

import dev.skylark.broker.Broker;
import dev.skylark.broker.net.SelfSignedCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Issue #15, "Secrets on disk": the self-signed keystore is the owner's only and has a random password. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SelfSignedKeystoreTest
{
    private static String permissions(final Path path) throws IOException
    {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    private static KeyStore load(final Path keystore, final char[] password) throws Exception
    {
        final KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore))
        {
            keys.load(in, password);
        }
        return keys;
    }

    private static void assertOwnerOnly(final SelfSignedCertificate.Files files) throws IOException
    {
        assertEquals("rwx------", permissions(files.keystore().getParent()), "tls folder");
        assertEquals("rw-------", permissions(files.keystore()), "keystore.p12");
        assertEquals("rw-------", permissions(files.keystorePassword()), "keystore.password");
        assertEquals("rw-------", permissions(files.privateKey()), "key.pem");
    }

    @Test
    void keystoreIsOwnerOnlyWithARandomPasswordReusedOnRestart(@TempDir final Path dataDir) throws Exception
    {
        assumeTrue(dataDir.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX file system");
        final Path tls = dataDir.resolve("tls");
        final Broker first = Broker.launch(new Broker.Context().authMode("none").dataDir(dataDir.toString())
            .mqttPort(0).httpPort(-1).mqttsPort(0).tlsSelfSigned(true).bindAddress("127.0.0.1"));
        first.close();
        final SelfSignedCertificate.Files files = SelfSignedCertificate.ensure(tls, List.of("localhost"));
        assertOwnerOnly(files);
        final char[] password = files.password();
        assertEquals(32, password.length, "24 random bytes, base64url");
        assertNotNull(load(files.keystore(), password).getKey("skylark", password), "the key, under that password");
        assertThrows(IOException.class, () -> load(files.keystore(), "skylark".toCharArray()),
            "the former fixed password no longer opens it");
        final byte[] certificate = Files.readAllBytes(files.certificate());

        final Broker second = Broker.launch(new Broker.Context().authMode("none").dataDir(dataDir.toString())
            .mqttPort(0).httpPort(-1).mqttsPort(0).tlsSelfSigned(true).bindAddress("127.0.0.1"));
        second.close();
        assertArrayEquals(certificate, Files.readAllBytes(files.certificate()), "restart: the same certificate");
        assertArrayEquals(password, files.password(), "restart: the password read back, not replaced");
        assertNotNull(load(files.keystore(), files.password()).getKey("skylark", files.password()));
        assertOwnerOnly(files);
    }

    @Test
    void aKeystoreWithTheFormerFixedPasswordGetsARandomOne(@TempDir final Path dir) throws Exception
    {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX file system");
        final SelfSignedCertificate.Files files = SelfSignedCertificate.create(dir, List.of("localhost"), 2);
        // As an older broker left it: fixed password, no password file, default permissions.
        final KeyStore keys = load(files.keystore(), files.password());
        final KeyStore.Entry entry = keys.getEntry("skylark", new KeyStore.PasswordProtection(files.password()));
        final KeyStore legacy = KeyStore.getInstance("PKCS12");
        legacy.load(null, null);
        legacy.setEntry("skylark", entry, new KeyStore.PasswordProtection("skylark".toCharArray()));
        try (OutputStream out = Files.newOutputStream(files.keystore()))
        {
            legacy.store(out, "skylark".toCharArray());
        }
        Files.delete(files.keystorePassword());
        Files.setPosixFilePermissions(files.keystore(), PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));

        SelfSignedCertificate.ensure(dir, List.of("localhost"));
        assertOwnerOnly(files);
        assertNotEquals("skylark", new String(files.password()));
        assertNotNull(load(files.keystore(), files.password()).getKey("skylark", files.password()));
    }
}
