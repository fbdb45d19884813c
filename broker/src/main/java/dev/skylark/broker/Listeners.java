package dev.skylark.broker;

import dev.skylark.broker.net.HttpService;
import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.net.ListenerSpec;
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
            final ListenerSpec.TlsSettings tls = tlsSettings(context);
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
            log.add(spec.name() + " listener on " + bindAddress + ":" + boundPort +
                (port == 0 ? " (free port chosen)" : ""));
            return boundPort;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot listen on " + bindAddress + ":" + port + " (" + propName +
                "): " + ex.getMessage() + (port < 1024 && port > 0 ? " (ports below 1024 need privileges: see the " +
                "README, 'WebSockets, TLS and the browser')" : ""), ex);
        }
    }

    /** The TLS listeners' settings, or null when no certificate is configured (and none is to be made). */
    private static ListenerSpec.TlsSettings tlsSettings(final Broker.Context context)
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
            final SSLContext ssl = TlsContexts.serverContext(cert, key, keystore,
                context.tlsKeystorePassword.toCharArray(), context.tlsCa == null ? null : Path.of(context.tlsCa));
            return new ListenerSpec.TlsSettings(ssl, context.tlsClientAuth);
        }
        catch (final IOException | GeneralSecurityException ex)
        {
            throw new IllegalArgumentException("cannot load the TLS certificate: " + ex.getMessage(), ex);
        }
    }
}
