package dev.skylark.broker.auth;

import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import dev.skylark.broker.Broker;
import dev.skylark.broker.net.SelfSignedCertificate;
import dev.skylark.broker.net.TlsContexts;
import dev.skylark.broker.net.TlsIdentity;
import dev.skylark.codec.mqtt.ReasonCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Client certificates as identities on the MQTT/TLS listener: the certificate's name ({@code skylark.tls.identity})
 * is the user name the modes check, alone ({@code certificate}) or with a password or token on top. Certificates are
 * made in the test; clients are HiveMQ over TLS and raw CONNECTs on the JDK's TLS socket.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class CertificateIdentityTest
{
    @TempDir
    static Path certificates;
    private static SelfSignedCertificate.Files server;
    private static SelfSignedCertificate.Files device;

    @TempDir
    Path dataDir;
    private Broker broker;
    private final List<Mqtt5BlockingClient> clients = new ArrayList<>();

    @BeforeAll
    static void makeCertificates()
    {
        server = SelfSignedCertificate.create(certificates.resolve("server"), List.of("localhost", "127.0.0.1"), 30);
        // CN=device-1, SAN dns:device-1.example.com
        device = SelfSignedCertificate.create(certificates.resolve("device"), List.of("device-1", "device-1.example.com"), 30);
    }

    @AfterEach
    void stop()
    {
        for (final Mqtt5BlockingClient c : clients)
        {
            try
            {
                if (c.getState().isConnected())
                {
                    c.disconnect();
                }
            }
            catch (final RuntimeException ignore)
            {
            }
        }
        if (broker != null)
        {
            broker.close();
        }
    }

    private Broker launch(final String modes, final String identity, final String clientAuth) throws Exception
    {
        final Path passwords = dataDir.resolve("passwd");
        PasswordFile.edit(passwords, PasswordFile.Edit.SET, "device-1", PasswordFile.hash(
            PasswordFile.Scheme.PBKDF2_SHA512, "device-pw".getBytes(StandardCharsets.UTF_8), 101, new SecureRandom()));
        PasswordFile.edit(passwords, PasswordFile.Edit.SET, "alice", PasswordFile.hash(
            PasswordFile.Scheme.PBKDF2_SHA512, "alice-pw".getBytes(StandardCharsets.UTF_8), 101, new SecureRandom()));
        broker = Broker.launch(new Broker.Context().authMode(modes).dataDir(dataDir.toString())
            .authPasswordFile(passwords.toString()).tlsIdentity(identity)
            .mqttPort(0).httpPort(-1).mqttsPort(0).httpsPort(-1).bindAddress("127.0.0.1").ioThreads(1)
            .tlsCertificate(server.certificate().toString(), server.privateKey().toString())
            .tlsClientAuth(clientAuth, device.certificate().toString()));
        return broker;
    }

    private static TrustManagerFactory trustServer() throws Exception
    {
        final KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (final Certificate certificate : TlsContexts.readCertificates(server.certificate()))
        {
            trust.setCertificateEntry("c" + i++, certificate);
        }
        final TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        return tmf;
    }

    private static KeyManagerFactory deviceKey() throws Exception
    {
        final KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(device.keystore()))
        {
            keys.load(in, device.password());
        }
        final KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, device.password());
        return kmf;
    }

    /** HiveMQ over TLS, presenting the device certificate or none. */
    private Mqtt5BlockingClient hive(final String id, final boolean withCertificate, final String user,
        final String password) throws Exception
    {
        final var tls = com.hivemq.client.mqtt.MqttClientSslConfig.builder().trustManagerFactory(trustServer())
            .hostnameVerifier((host, session) -> true);
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id).serverHost("localhost")
            .serverPort(broker.mqttsPort()).sslConfig((withCertificate ? tls.keyManagerFactory(deviceKey()) : tls).build())
            .buildBlocking();
        clients.add(c);
        if (password == null)
        {
            c.connectWith().cleanStart(true).send();
        }
        else
        {
            final var auth = c.connectWith().cleanStart(true).simpleAuth();
            (user == null ? auth : auth.username(user)).password(password.getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth().send();
        }
        return c;
    }

    private int refusal(final String id, final boolean withCertificate, final String user, final String password)
    {
        final Mqtt5ConnAckException ex = assertThrows(Mqtt5ConnAckException.class,
            () -> hive(id, withCertificate, user, password));
        return ex.getMqttMessage().getReasonCode().getCode();
    }

    /** CONNACK return code of a raw MQTT 3.1.1 CONNECT on the JDK's TLS socket with the device certificate. */
    private int raw311(final String user, final String password) throws Exception
    {
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(deviceKey().getKeyManagers(), trustServer().getTrustManagers(), null);
        try (SSLSocket socket = (SSLSocket)context.getSocketFactory().createSocket("localhost", broker.mqttsPort()))
        {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(RawMqtt.connect(4, "raw-311", user,
                password == null ? null : password.getBytes(StandardCharsets.UTF_8), null, null, 60));
            socket.getOutputStream().flush();
            final byte[] connack = socket.getInputStream().readNBytes(4);
            assertEquals(0x20, connack[0] & 0xFF, "CONNACK");
            return connack[3] & 0xFF;
        }
    }

    @Test
    void theCertificateAloneAuthenticatesInCertificateMode() throws Exception
    {
        launch("certificate", "cn", "optional");
        assertTrue(hive("c-1", true, null, null).getState().isConnected(), "certificate, no credentials");
        assertEquals(0, raw311(null, null), "3.1.1 with the certificate");
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, refusal("c-2", false, null, null),
            "no certificate and no other mode: refused");
    }

    @Test
    void thePasswordIsCheckedForTheCertificatesName() throws Exception
    {
        launch("password", "cn", "required");
        assertTrue(hive("p-1", true, null, "device-pw").getState().isConnected(),
            "no user name: the certificate's CN is the user the password is checked for");
        assertTrue(hive("p-2", true, "device-1", "device-pw").getState().isConnected(), "the CN as user name");
        assertEquals(ReasonCode.NOT_AUTHORIZED, refusal("p-3", true, "alice", "alice-pw"),
            "another user's valid password does not let a certificate speak for alice");
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, refusal("p-4", true, null, "alice-pw"), "wrong password");
        assertEquals(4, raw311("device-1", "wrong"), "3.1.1: 4 Bad user name or password");
        assertEquals(0, raw311("device-1", "device-pw"));
    }

    @Test
    void aTokenIsStillRequiredOnTopInTokenMode() throws Exception
    {
        launch("token", "cn", "required");
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, refusal("t-1", true, null, null), "certificate only");
        final String token = broker.auth().issuer().issue(
            new TokenIssuer.Request(0, List.of("t-2"), 600, null, null)).get("t-2");
        assertTrue(hive("t-2", true, null, token).getState().isConnected(), "certificate and token");
    }

    @Test
    void identityNoneNamesNoOneAndSanDnsPicksTheDnsName() throws Exception
    {
        launch("password", "none", "required");
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, refusal("n-1", true, null, "device-pw"),
            "identity none: the password names no user");
        broker.close();
        broker = null;

        final X509Certificate certificate = (X509Certificate)TlsContexts.readCertificates(device.certificate()).get(0);
        assertEquals("device-1", TlsContexts.identityOf(certificate, TlsIdentity.CN));
        assertEquals("device-1", TlsContexts.identityOf(certificate, TlsIdentity.SAN_DNS), "the first DNS name");
        assertNull(TlsContexts.identityOf(certificate, TlsIdentity.SAN_URI), "no URI in it");
        assertNull(TlsContexts.identityOf(certificate, TlsIdentity.NONE));
        assertNull(TlsContexts.identityOf(null, TlsIdentity.CN));
    }

    @Test
    void sanUriPicksTheFirstUriAndCnTheMostSpecificCommonName() throws Exception
    {
        final Path keystore = dataDir.resolve("spiffe.p12");
        final Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        final Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "k", "-keyalg", "EC",
            "-groupname", "secp256r1", "-validity", "1", "-dname", "CN=outer, OU=fleet, CN=sensor-7, O=Example",
            "-ext", "SAN=dns:sensor-7.example.com,uri:spiffe://example.com/sensor-7,uri:https://example.com/other",
            "-keystore", keystore.toString(), "-storetype", "PKCS12", "-storepass", "secret", "-keypass", "secret")
            .redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "keytool finished");
        assertEquals(0, process.exitValue(), output);
        final KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore))
        {
            keys.load(in, "secret".toCharArray());
        }
        final X509Certificate certificate = (X509Certificate)keys.getCertificate("k");
        assertEquals("spiffe://example.com/sensor-7", TlsContexts.identityOf(certificate, TlsIdentity.SAN_URI));
        assertEquals("sensor-7.example.com", TlsContexts.identityOf(certificate, TlsIdentity.SAN_DNS));
        assertEquals("outer", TlsContexts.identityOf(certificate, TlsIdentity.CN),
            "the leftmost (most specific) CN of the subject " + certificate.getSubjectX500Principal());
    }
}
