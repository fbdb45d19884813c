package dev.skylark.broker.net;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;

/**
 * Builds the server's {@link SSLContext} from a PEM certificate chain and PKCS#8 private key, or from a PKCS#12
 * keystore, with an optional CA bundle for client certificates; and configures each engine: TLS 1.3 and 1.2 only,
 * AEAD cipher suites with forward secrecy only.
 */
public final class TlsContexts
{
    /** Protocols offered, newest first. */
    public static final String[] PROTOCOLS = { "TLSv1.3", "TLSv1.2" };

    /** Cipher suites allowed, in order of preference (those the JDK lacks are skipped). */
    private static final String[] CIPHER_SUITES = {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    };

    private TlsContexts()
    {
    }

    /**
     * @param certificatePem PEM certificate chain (leaf first), or null when a keystore is given.
     * @param privateKeyPem  PEM PKCS#8 private key ("BEGIN PRIVATE KEY"), or null.
     * @param keystore       PKCS#12 file, or null.
     * @param password       keystore password (may be empty).
     * @param caBundle       PEM CA certificates that client certificates must chain to, or null.
     */
    public static SSLContext serverContext(
        final Path certificatePem, final Path privateKeyPem, final Path keystore, final char[] password,
        final Path caBundle) throws IOException, GeneralSecurityException
    {
        return serverContext(keyManager(certificatePem, privateKeyPem, keystore, password), caBundle);
    }

    /**
     * A server context whose key manager is given, e.g. a {@link ReloadableKeyManager} that a reload can point at a
     * new certificate (new handshakes use it; connections already open keep theirs).
     */
    public static SSLContext serverContext(final X509ExtendedKeyManager keyManager, final Path caBundle)
        throws IOException, GeneralSecurityException
    {
        TrustManagerFactory tmf = null;
        if (caBundle != null)
        {
            final KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (final Certificate ca : readCertificates(caBundle))
            {
                trust.setCertificateEntry("ca" + i++, ca);
            }
            tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
        }
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(new KeyManager[]{ keyManager }, tmf == null ? null : tmf.getTrustManagers(), null);
        return context;
    }

    /** The key manager of a PEM certificate chain and key, or of a PKCS#12 keystore (parameters as above). */
    public static X509ExtendedKeyManager keyManager(
        final Path certificatePem, final Path privateKeyPem, final Path keystore, final char[] password)
        throws IOException, GeneralSecurityException
    {
        final KeyStore keys;
        final char[] keyPassword;
        if (keystore != null)
        {
            keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore))
            {
                keys.load(in, password);
            }
            keyPassword = password;
        }
        else
        {
            final List<Certificate> chain = readCertificates(certificatePem);
            if (chain.isEmpty())
            {
                throw new GeneralSecurityException("no certificate in " + certificatePem);
            }
            keyPassword = new char[0];
            keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("skylark", readPrivateKey(privateKeyPem), keyPassword, chain.toArray(new Certificate[0]));
        }
        final KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, keyPassword);
        for (final KeyManager manager : kmf.getKeyManagers())
        {
            if (manager instanceof X509ExtendedKeyManager)
            {
                return (X509ExtendedKeyManager)manager;
            }
        }
        throw new GeneralSecurityException("no X.509 key manager for the TLS key");
    }

    /** TLS 1.2/1.3, modern suites, server mode, client certificates as configured. */
    static void configureServerEngine(final SSLEngine engine, final ListenerSpec.ClientAuth clientAuth)
    {
        engine.setUseClientMode(false);
        final SSLParameters parameters = engine.getSSLParameters();
        parameters.setProtocols(PROTOCOLS);
        parameters.setCipherSuites(supportedSuites(engine.getSupportedCipherSuites()));
        parameters.setUseCipherSuitesOrder(true);
        parameters.setNeedClientAuth(clientAuth == ListenerSpec.ClientAuth.REQUIRED);
        if (clientAuth == ListenerSpec.ClientAuth.OPTIONAL)
        {
            parameters.setWantClientAuth(true);
        }
        engine.setSSLParameters(parameters);
    }

    private static String[] supportedSuites(final String[] supported)
    {
        final List<String> available = List.of(supported);
        final List<String> chosen = new ArrayList<>();
        for (final String suite : CIPHER_SUITES)
        {
            if (available.contains(suite))
            {
                chosen.add(suite);
            }
        }
        return chosen.toArray(new String[0]);
    }

    /**
     * The name of a client certificate that {@code identity} picks, or null (no certificate, {@link TlsIdentity#NONE},
     * or no such name in it).
     */
    public static String identityOf(final X509Certificate certificate, final TlsIdentity identity)
    {
        if (certificate == null || identity == null || identity == TlsIdentity.NONE)
        {
            return null;
        }
        if (identity == TlsIdentity.CN)
        {
            String cn = null;
            try
            {
                for (final Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName(X500Principal.RFC2253)).getRdns())
                {
                    if ("CN".equalsIgnoreCase(rdn.getType()) && rdn.getValue() instanceof String value)
                    {
                        cn = value; // RDNs come in order from the root: the last CN is the most specific
                    }
                }
            }
            catch (final InvalidNameException ex)
            {
                return null;
            }
            return cn == null || cn.isEmpty() ? null : cn;
        }
        final int type = identity == TlsIdentity.SAN_DNS ? 2 : 6; // RFC 5280 GeneralName: dNSName 2, URI 6
        try
        {
            final Collection<List<?>> names = certificate.getSubjectAlternativeNames();
            if (names != null)
            {
                for (final List<?> name : names)
                {
                    if (name.size() >= 2 && Integer.valueOf(type).equals(name.get(0)) && name.get(1) instanceof String value &&
                        !value.isEmpty())
                    {
                        return value;
                    }
                }
            }
        }
        catch (final java.security.cert.CertificateParsingException ex)
        {
            return null;
        }
        return null;
    }

    /** Every certificate in a PEM (or DER) file. */
    public static List<Certificate> readCertificates(final Path file) throws IOException, GeneralSecurityException
    {
        try (InputStream in = Files.newInputStream(file))
        {
            final Collection<? extends Certificate> certificates =
                CertificateFactory.getInstance("X.509").generateCertificates(in);
            return new ArrayList<>(certificates);
        }
    }

    /** A PKCS#8 PEM private key (EC, RSA or Ed25519). PKCS#1/SEC1 keys need {@code openssl pkcs8 -topk8 -nocrypt}. */
    public static PrivateKey readPrivateKey(final Path file) throws IOException, GeneralSecurityException
    {
        final String pem = Files.readString(file, StandardCharsets.US_ASCII);
        final String begin = "-----BEGIN PRIVATE KEY-----";
        final int start = pem.indexOf(begin);
        final int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (start < 0 || end < start)
        {
            throw new GeneralSecurityException(file + " holds no PKCS#8 'BEGIN PRIVATE KEY' block (convert it with " +
                "'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8.pem')");
        }
        final byte[] der = Base64.getMimeDecoder().decode(pem.substring(start + begin.length(), end));
        final PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        GeneralSecurityException last = null;
        for (final String algorithm : new String[]{ "EC", "RSA", "Ed25519", "EdDSA" })
        {
            try
            {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            }
            catch (final GeneralSecurityException ex)
            {
                last = ex;
            }
        }
        throw new GeneralSecurityException("unsupported private key in " + file, last);
    }
}
