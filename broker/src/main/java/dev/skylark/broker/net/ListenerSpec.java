package dev.skylark.broker.net;

import javax.net.ssl.SSLContext;

/**
 * What a listener's connections speak below MQTT: plain TCP or TLS, raw MQTT or HTTP (+ MQTT over WebSocket).
 *
 * @param name       for logs: "mqtt", "mqtts", "http", "https".
 * @param tls        TLS settings, or null for plain TCP.
 * @param webSocket  HTTP/WebSocket settings, or null for raw MQTT.
 */
public record ListenerSpec(String name, TlsSettings tls, WebSocketSettings webSocket)
{
    public static ListenerSpec mqtt()
    {
        return new ListenerSpec("mqtt", null, null);
    }

    /** Client-certificate policy of a TLS listener. */
    public enum ClientAuth
    {
        NONE, OPTIONAL, REQUIRED
    }

    /**
     * @param context    the server's key and trust material.
     * @param clientAuth whether a client certificate is asked for or required.
     * @param identity   which name of a client certificate becomes the connection's user name.
     */
    public record TlsSettings(SSLContext context, ClientAuth clientAuth, TlsIdentity identity)
    {
        /** Client certificates named by their common name. */
        public TlsSettings(final SSLContext context, final ClientAuth clientAuth)
        {
            this(context, clientAuth, TlsIdentity.CN);
        }
    }
}
