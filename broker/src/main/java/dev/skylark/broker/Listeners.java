package dev.skylark.broker;

import dev.skylark.broker.net.HttpService;
import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.net.ListenerSpec;
import dev.skylark.broker.net.ReloadableKeyManager;
import dev.skylark.broker.net.SelfSignedCertificate;
import dev.skylark.broker.net.TlsContexts;
import dev.skylark.broker.net.WebSocketSettings;
import org.agrona.CloseHelper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Binds the broker's listeners (MQTT, HTTP + WebSocket, and with a certificate MQTT/TLS and HTTPS + WSS), loads
 * the TLS material and hands every listener to I/O agent 0, which accepts for all agents. Called once by
 * {@link Broker} before any agent runs; on failure every socket it bound is closed again.
 */
final class Listeners
{
    private static final System.Logger LOG = System.getLogger(Listeners.class.getName());

    final int mqttPort;
    final int httpPort;
    final int mqttsPort;
    final int httpsPort;
    /** The management listener's port ({@code skylark.management.port}), or -1 when off. */
    final int managementPort;
    /** One line per listener, logged once the broker has started. */
    final List<String> log = new ArrayList<>();

    private final Broker.Context context;
    private final IoAgent acceptor;
    private final List<ServerSocketChannel> bound = new ArrayList<>();
    /** The MQTT and MQTT/TLS listeners, closed first on a graceful stop ({@link #stopAcceptingMqtt()}). */
    private final List<ServerSocketChannel> mqttListeners = new ArrayList<>();
    /** Null without TLS: the key manager a reload points at a renewed certificate. */
    private ReloadableKeyManager keyManager;
    private String tlsDescription;

    Listeners(final Broker.Context context, final IoAgent acceptor)
    {
        this(context, acceptor, null);
    }

    /** @param management the management listener's routes, or null when it is off. */
    Listeners(final Broker.Context context, final IoAgent acceptor, final HttpService management)
    {
        this.context = context;
        this.acceptor = acceptor;
        try
        {
            mqttPort = listen(ListenerSpec.mqtt(), context.mqttPort, Configuration.MQTT_PORT_PROP_NAME);
            final WebSocketSettings webSocket = new WebSocketSettings(context.wsPath, context.wsSubprotocolStrict,
                context.wsAllowedOrigins, context.httpTrustedProxies,
                TimeUnit.MILLISECONDS.toNanos(context.connectTimeoutMs), 8192, context.httpRouter());
            httpPort = context.httpPort < 0 ? -1 : listen(new ListenerSpec("http", null, webSocket),
                context.httpPort, Configuration.HTTP_PORT_PROP_NAME);
            final ListenerSpec.TlsSettings tls = tlsSettings();
            mqttsPort = tls == null || context.mqttsPort < 0 ? -1 : listen(new ListenerSpec("mqtts", tls, null),
                context.mqttsPort, Configuration.MQTTS_PORT_PROP_NAME);
            httpsPort = tls == null || context.httpsPort < 0 ? -1 : listen(new ListenerSpec("https", tls, webSocket),
                context.httpsPort, Configuration.HTTPS_PORT_PROP_NAME);
            // HTTP only: its WebSocket path is empty, which no request path equals, so no MQTT upgrade succeeds here.
            managementPort = management == null || context.managementPort < 0 ? -1 : listen(
                new ListenerSpec("management", null, new WebSocketSettings("", true, context.wsAllowedOrigins,
                    context.httpTrustedProxies, TimeUnit.MILLISECONDS.toNanos(context.connectTimeoutMs), 8192, management)),
                context.managementBindAddress, context.managementPort, Configuration.MANAGEMENT_PORT_PROP_NAME);
        }
        catch (final RuntimeException ex)
        {
            bound.forEach(CloseHelper::quietClose);
            throw ex;
        }
    }

    private int listen(final ListenerSpec spec, final int port, final String propName)
    {
        return listen(spec, context.bindAddress, port, propName);
    }

    private int listen(final ListenerSpec spec, final String bindAddress, final int port, final String propName)
    {
        try
        {
            final ServerSocketChannel listener = ServerSocketChannel.open();
            bound.add(listener);
            listener.bind(new InetSocketAddress(bindAddress, port), 1024);
            final int boundPort = ((InetSocketAddress)listener.getLocalAddress()).getPort();
            acceptor.addListener(listener, spec);
            if (spec.webSocket() == null)
            {
                mqttListeners.add(listener);
            }
            log.add(spec.name() + " listener on " + bindAddress + ":" + boundPort +
                (port == 0 ? " (free port chosen)" : ""));
            return boundPort;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot listen on " + bindAddress + ":" + port + " (" + propName +
                "): " + ex.getMessage() + (port < 1024 && port > 0 ? " (ports below 1024 need privileges: see " +
                "docs/websockets-tls.md, 'Ports 443 / 80')" : ""), ex);
        }
    }

    /**
     * A graceful stop begins: the MQTT and MQTT/TLS listeners stop accepting (new clients get "connection refused"),
     * the HTTP(S) listeners keep serving {@code /readyz} (503 by then) until the broker closes. Any thread.
     */
    void stopAcceptingMqtt()
    {
        mqttListeners.forEach(CloseHelper::quietClose);
    }

    /**
     * SIGHUP: re-reads the certificate and key (or keystore) named by the settings, which may name new files, and
     * serves them from the next handshake on. Without TLS at start, TLS stays off (that needs a restart).
     *
     * @return what changed, or null when the certificate is the same.
     */
    String reloadTls(final java.util.Properties settings) throws IOException, GeneralSecurityException
    {
        if (keyManager == null)
        {
            return null;
        }
        final String certName = Configuration.getRaw(settings, Configuration.TLS_CERT_PROP_NAME).trim();
        final String keyName = Configuration.getRaw(settings, Configuration.TLS_KEY_PROP_NAME).trim();
        final String keystoreName = Configuration.getRaw(settings, Configuration.TLS_KEYSTORE_PROP_NAME).trim();
        final String password = Configuration.getRaw(settings, Configuration.TLS_KEYSTORE_PASSWORD_PROP_NAME);
        Path cert = certName.isEmpty() ? null : Path.of(certName);
        Path key = keyName.isEmpty() ? null : Path.of(keyName);
        final Path keystore = keystoreName.isEmpty() ? null : Path.of(keystoreName);
        if (cert == null && keystore == null)
        {
            final Path dir = Path.of(context.dataDir).resolve("tls"); // the self-signed one made at start
            cert = dir.resolve("cert.pem");
            key = dir.resolve("key.pem");
        }
        final X509ExtendedKeyManager keys = TlsContexts.keyManager(cert, key, keystore, password.toCharArray());
        final String description = describe(keys);
        keyManager.swap(keys);
        if (description.equals(tlsDescription))
        {
            return null;
        }
        tlsDescription = description;
        return "now serving " + description;
    }

    private static String describe(final X509ExtendedKeyManager keys)
    {
        final StringBuilder text = new StringBuilder();
        for (final String type : new String[]{ "RSA", "EC", "EdDSA", "Ed25519" })
        {
            final String[] aliases = keys.getServerAliases(type, null);
            if (aliases == null)
            {
                continue;
            }
            for (final String alias : aliases)
            {
                final java.security.cert.X509Certificate[] chain = keys.getCertificateChain(alias);
                if (chain != null && chain.length > 0)
                {
                    text.append(text.length() == 0 ? "" : "; ").append(chain[0].getSubjectX500Principal().getName())
                        .append(" serial ").append(chain[0].getSerialNumber().toString(16))
                        .append(" valid until ").append(chain[0].getNotAfter().toInstant());
                }
            }
        }
        return text.toString();
    }

    /** The TLS listeners' settings, or null when no certificate is configured (and none is to be made). */
    private ListenerSpec.TlsSettings tlsSettings()
    {
        Path cert = context.tlsCert == null ? null : Path.of(context.tlsCert);
        Path key = context.tlsKey == null ? null : Path.of(context.tlsKey);
        final Path keystore = context.tlsKeystore == null ? null : Path.of(context.tlsKeystore);
        if (cert == null && keystore == null)
        {
            if (!context.tlsSelfSigned)
            {
                return null;
            }
            final SelfSignedCertificate.Files files = SelfSignedCertificate.ensure(
                Path.of(context.dataDir).resolve("tls"), List.of("localhost", "127.0.0.1"));
            cert = files.certificate();
            key = files.privateKey();
            LOG.log(Level.WARNING, "TLS uses a self-signed certificate (" + cert + "): for local use only");
        }
        try
        {
            final X509ExtendedKeyManager keys = TlsContexts.keyManager(cert, key, keystore,
                context.tlsKeystorePassword.toCharArray());
            keyManager = new ReloadableKeyManager(keys);
            tlsDescription = describe(keys);
            final SSLContext ssl = TlsContexts.serverContext(keyManager,
                context.tlsCa == null ? null : Path.of(context.tlsCa));
            return new ListenerSpec.TlsSettings(ssl, context.tlsClientAuth, context.tlsIdentity);
        }
        catch (final IOException | GeneralSecurityException ex)
        {
            throw new IllegalArgumentException("cannot load the TLS certificate: " + ex.getMessage(), ex);
        }
    }
}
