package dev.skylark.broker.tls;

import dev.skylark.broker.cli.SkylarkMain;
import dev.skylark.broker.net.TlsContexts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CertCommandTest
{
    @Test
    void selfSignedWritesCertificateKeyAndKeystore(@TempDir final Path dir) throws Exception
    {
        final ByteArrayOutputStream text = new ByteArrayOutputStream();
        final int exit = SkylarkMain.cert(new String[]{ "cert", "self-signed", "--host", "broker.test", "--host",
            "127.0.0.1", "--out", dir.toString(), "--days", "10" }, new PrintStream(text, true, StandardCharsets.UTF_8));
        assertEquals(0, exit);
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("--tls.cert"));
        final X509Certificate certificate = (X509Certificate)TlsContexts.readCertificates(dir.resolve("cert.pem")).get(0);
        assertTrue(certificate.getSubjectX500Principal().getName().contains("CN=broker.test"));
        final List<String> names = certificate.getSubjectAlternativeNames().stream()
            .map((entry) -> String.valueOf(entry.get(1))).toList();
        assertTrue(names.contains("broker.test") && names.contains("127.0.0.1"), names.toString());
        assertNotNull(TlsContexts.readPrivateKey(dir.resolve("key.pem")));
        assertTrue(Files.exists(dir.resolve("keystore.p12")));
    }
}
