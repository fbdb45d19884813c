package dev.skylark.broker.net;

/**
 * Serves the plain HTTP requests of an HTTP listener (everything that is not the WebSocket upgrade on the MQTT
 * path): {@code /healthz}, the demo page, later {@code /metrics} and the admin API. Called on the connection's I/O
 * thread, once per connection (the connection closes after the response), so it must not block; it may allocate.
 */
@FunctionalInterface
public interface HttpService
{
    /**
     * @param request the decoded request head.
     * @return the complete response: status line, headers and body.
     */
    byte[] serve(HttpRequestHead request);
}
