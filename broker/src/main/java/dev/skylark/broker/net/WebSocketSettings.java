package dev.skylark.broker.net;

import java.util.Set;

/**
 * How an HTTP listener treats requests.
 *
 * @param path               the MQTT-over-WebSocket path, e.g. "/mqtt".
 * @param strictSubprotocol  refuse a handshake that names no subprotocol (one naming only others is always refused).
 * @param allowedOrigins     exact {@code Origin} values accepted for the upgrade; empty accepts any (and none).
 * @param trustedProxies     peer IP addresses whose {@code X-Forwarded-For} names the client in logs.
 * @param requestTimeoutNs   a connection that has not sent a whole request head by then is closed.
 * @param maxRequestLength   largest request head, bytes (431 beyond).
 * @param service            serves every plain (non-upgrade) request.
 */
public record WebSocketSettings(
    String path,
    boolean strictSubprotocol,
    Set<String> allowedOrigins,
    Set<String> trustedProxies,
    long requestTimeoutNs,
    int maxRequestLength,
    HttpService service)
{
}
