package dev.skylark.broker.ws;

import dev.skylark.broker.http.HttpResponse;
import dev.skylark.broker.http.HttpRouter;
import dev.skylark.broker.net.HttpRequestHead;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpRouterTest
{
    private static HttpRequestHead get(final String path)
    {
        return new HttpRequestHead("GET", path, null, "127.0.0.1:1", false,
            "GET " + path + " HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer abc\r\n\r\n", new byte[0], true);
    }

    private static String serve(final HttpRouter router, final String path)
    {
        return new String(router.serve(get(path)), StandardCharsets.UTF_8);
    }

    @Test
    void longestPrefixWinsAndPrefixesMatchWholeSegments()
    {
        final HttpRouter router = HttpRouter.withDefaults()
            .route("/admin", (request) -> HttpResponse.text(200, "OK", "admin " + request.header("authorization")))
            .route("/admin/keys", (request) -> HttpResponse.text(200, "OK", "keys"));
        assertTrue(serve(router, "/admin").endsWith("admin Bearer abc"));
        assertTrue(serve(router, "/admin/sessions").endsWith("admin Bearer abc"));
        assertTrue(serve(router, "/admin/keys/1").endsWith("keys"));
        assertTrue(serve(router, "/administrator").startsWith("HTTP/1.1 404 "), "not a segment of /admin");
        assertTrue(serve(router, "/healthz").endsWith("\r\n\r\nok\n"));
        assertTrue(serve(router, "/").contains("Content-Type: text/html"));
        assertTrue(serve(router, "/missing.js").startsWith("HTTP/1.1 404 "));
    }

    @Test
    void responseEncodingHasLengthAndCloses()
    {
        final String text = new String(HttpResponse.text(503, "Service Unavailable", "busy\n")
            .withHeader("Retry-After", "1").encode(), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("HTTP/1.1 503 Service Unavailable\r\n"));
        assertTrue(text.contains("Content-Length: 5\r\n"));
        assertTrue(text.contains("Connection: close\r\n"));
        assertTrue(text.contains("Retry-After: 1\r\n"));
        assertEquals("busy\n", text.substring(text.indexOf("\r\n\r\n") + 4));
    }
}
