package dev.skylark.broker.http;

import dev.skylark.broker.net.HttpRequestHead;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StaticResourceHandlerTest
{
    private static HttpRequestHead get(final String path)
    {
        return new HttpRequestHead("GET", path, null, "127.0.0.1:1", false,
            "GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n", new byte[0], true);
    }

    /** Issue #15: every unknown name used to leave a "missing" entry behind; the cache now holds found files only. */
    @Test
    void unknownNamesLeaveNothingBehind()
    {
        final StaticResourceHandler handler = new StaticResourceHandler("web");
        assertEquals(200, handler.handle(get("/")).status());
        assertEquals(200, handler.handle(get("/index.html")).status());
        final String filler = "x".repeat(2000);
        for (int i = 0; i < 20_000; i++)
        {
            assertEquals(404, handler.handle(get("/" + filler + i + ".js")).status());
        }
        assertEquals(1, handler.cachedFiles(), "only index.html is kept, not 20,000 unknown names");
        assertEquals(404, handler.handle(get("/" + filler + "0.js")).status(), "still not found when asked again");
        assertTrue(handler.handle(get("/app.js")).status() == 200 && handler.cachedFiles() == 2,
            "a file that exists is found and kept");
    }
}
