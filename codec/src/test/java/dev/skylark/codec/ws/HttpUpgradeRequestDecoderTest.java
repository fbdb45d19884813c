package dev.skylark.codec.ws;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static dev.skylark.codec.ws.HttpUpgradeRequestDecoder.BAD_HTTP_VERSION;
import static dev.skylark.codec.ws.HttpUpgradeRequestDecoder.BAD_KEY;
import static dev.skylark.codec.ws.HttpUpgradeRequestDecoder.BAD_VERSION;
import static dev.skylark.codec.ws.HttpUpgradeRequestDecoder.MALFORMED;
import static dev.skylark.codec.ws.HttpUpgradeRequestDecoder.MISSING_HOST;
import static dev.skylark.codec.ws.HttpUpgradeRequestDecoder.MISSING_KEY;
import static dev.skylark.codec.ws.HttpUpgradeRequestDecoder.NEED_MORE;
import static dev.skylark.codec.ws.HttpUpgradeRequestDecoder.NOT_GET;
import static dev.skylark.codec.ws.HttpUpgradeRequestDecoder.NOT_UPGRADE;
import static dev.skylark.codec.ws.HttpUpgradeRequestDecoder.TOO_LARGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpUpgradeRequestDecoderTest
{
    /** What MQTT.js (via the `ws` package) sends. */
    static final String MQTT_JS =
        "GET /mqtt HTTP/1.1\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Connection: Upgrade\r\n" +
        "Upgrade: websocket\r\n" +
        "Sec-WebSocket-Protocol: mqtt\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
        "Host: localhost:8080\r\n" +
        "\r\n";

    /** Chrome, behind a proxy. */
    static final String CHROME =
        "GET /mqtt?client=web HTTP/1.1\r\n" +
        "Host: broker.example.com:8080\r\n" +
        "Connection: Upgrade\r\n" +
        "Pragma: no-cache\r\n" +
        "Cache-Control: no-cache\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36\r\n" +
        "Upgrade: websocket\r\n" +
        "Origin: https://app.example.com\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Accept-Encoding: gzip, deflate, br\r\n" +
        "Accept-Language: en-US,en;q=0.9\r\n" +
        "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
        "Sec-WebSocket-Protocol: mqtt\r\n" +
        "X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n" +
        "X-Forwarded-For: 10.0.0.2\r\n" +
        "\r\n";

    /** Firefox: Connection is a list. */
    static final String FIREFOX =
        "GET /mqtt HTTP/1.1\r\n" +
        "Host: localhost:8080\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0\r\n" +
        "Accept: */*\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "Origin: http://localhost:8080\r\n" +
        "Sec-WebSocket-Protocol: mqtt\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate\r\n" +
        "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n" +
        "Connection: keep-alive, Upgrade\r\n" +
        "Sec-Fetch-Dest: empty\r\n" +
        "Pragma: no-cache\r\n" +
        "Upgrade: websocket\r\n" +
        "\r\n";

    private static UnsafeBuffer buffer(final String s)
    {
        return new UnsafeBuffer(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static int decode(final String request)
    {
        return new HttpUpgradeRequestDecoder().decode(buffer(request), 0, request.length());
    }

    private static String upgrade(final String extraHeaders)
    {
        return "GET /mqtt HTTP/1.1\r\nHost: h\r\n" + extraHeaders + "\r\n";
    }

    private static final String GOOD_HEADERS =
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Version: 13\r\n";

    @Test
    void mqttJsRequest()
    {
        final HttpUpgradeRequestDecoder decoder = new HttpUpgradeRequestDecoder();
        assertEquals(MQTT_JS.length(), decoder.decode(buffer(MQTT_JS), 0, MQTT_JS.length()));
        assertTrue(decoder.isWebSocketUpgrade());
        assertTrue(decoder.pathEquals("/mqtt"));
        assertEquals("localhost:8080", decoder.host());
        assertEquals("dGhlIHNhbXBsZSBub25jZQ==", decoder.key());
        assertEquals(WebSocketSubprotocol.MQTT, decoder.subprotocol());
        assertNull(decoder.origin());
        assertNull(decoder.forwardedFor());
    }

    @Test
    void chromeRequestWithQueryOriginAndForwardedFor()
    {
        final HttpUpgradeRequestDecoder decoder = new HttpUpgradeRequestDecoder();
        assertEquals(CHROME.length(), decoder.decode(buffer(CHROME), 0, CHROME.length()));
        assertTrue(decoder.isWebSocketUpgrade());
        assertEquals("/mqtt", decoder.path());
        assertEquals("client=web", decoder.buffer().getStringWithoutLengthAscii(
            decoder.queryOffset(), decoder.queryLength()));
        assertEquals("https://app.example.com", decoder.origin());
        assertEquals("203.0.113.7, 10.0.0.1", decoder.forwardedFor());
        assertEquals(WebSocketSubprotocol.MQTT, decoder.subprotocol());
    }

    @Test
    void firefoxConnectionList()
    {
        assertEquals(FIREFOX.length(), decode(FIREFOX));
    }

    @Test
    void needMoreUntilCompleteAtEveryByteBoundary()
    {
        for (final String request : new String[]{ MQTT_JS, CHROME, FIREFOX })
        {
            final String withFrame = request + "\u0082\u0085abcdefghi"; // frame bytes follow in the same read
            final UnsafeBuffer buffer = buffer(withFrame);
            final HttpUpgradeRequestDecoder incremental = new HttpUpgradeRequestDecoder();
            for (int n = 0; n < request.length(); n++)
            {
                assertEquals(NEED_MORE, incremental.decode(buffer, 0, n), "n=" + n);
                assertEquals(NEED_MORE, new HttpUpgradeRequestDecoder().decode(buffer, 0, n), "fresh n=" + n);
            }
            for (int n = request.length(); n <= withFrame.length(); n++)
            {
                assertEquals(request.length(), new HttpUpgradeRequestDecoder().decode(buffer, 0, n));
            }
            assertEquals(request.length(), incremental.decode(buffer, 0, withFrame.length()));
            assertTrue(incremental.isWebSocketUpgrade());
        }
    }

    @Test
    void atAnOffset()
    {
        final String padded = "xxxxx" + MQTT_JS;
        final HttpUpgradeRequestDecoder decoder = new HttpUpgradeRequestDecoder();
        assertEquals(MQTT_JS.length(), decoder.decode(buffer(padded), 5, MQTT_JS.length()));
        assertEquals("/mqtt", decoder.path());
        assertEquals("dGhlIHNhbXBsZSBub25jZQ==", decoder.key());
    }

    @Test
    void headerNamesAndTokensAreCaseInsensitive()
    {
        final String request = "GET /mqtt HTTP/1.1\r\n" +
            "HOST: h\r\n" +
            "upgrade: WebSocket\r\n" +
            "CONNECTION: keep-alive,UPGRADE\r\n" +
            "sec-websocket-key:dGhlIHNhbXBsZSBub25jZQ==   \r\n" +
            "SEC-WEBSOCKET-VERSION: 13\r\n" +
            "sec-WebSocket-protocol: mqtt\r\n" +
            "\r\n";
        final HttpUpgradeRequestDecoder decoder = new HttpUpgradeRequestDecoder();
        assertEquals(request.length(), decoder.decode(buffer(request), 0, request.length()));
        assertTrue(decoder.isWebSocketUpgrade());
        assertEquals("dGhlIHNhbXBsZSBub25jZQ==", decoder.key());
        assertEquals(WebSocketSubprotocol.MQTT, decoder.subprotocol());
    }

    @Test
    void plainGetIsNotAnUpgrade()
    {
        for (final String path : new String[]{ "/healthz", "/", "/metrics" })
        {
            final String request = "GET " + path + " HTTP/1.1\r\nHost: h\r\nUser-Agent: kube-probe/1.29\r\n\r\n";
            final HttpUpgradeRequestDecoder decoder = new HttpUpgradeRequestDecoder();
            assertEquals(request.length(), decoder.decode(buffer(request), 0, request.length()));
            assertFalse(decoder.isWebSocketUpgrade());
            assertTrue(decoder.pathEquals(path));
        }
        // An upgrade to something else is a plain request too (the server may ignore Upgrade).
        assertEquals(upgrade("Upgrade: h2c\r\nConnection: Upgrade\r\n").length(),
            decode(upgrade("Upgrade: h2c\r\nConnection: Upgrade\r\n")));
    }

    @Test
    void handshakeHeaderErrors()
    {
        final String up = "Upgrade: websocket\r\n";
        final String conn = "Connection: Upgrade\r\n";
        final String key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        final String v13 = "Sec-WebSocket-Version: 13\r\n";
        final Object[][] cases = {
            { up + conn + v13, MISSING_KEY },
            { up + conn + key, BAD_VERSION },                                           // version missing
            { up + conn + key + "Sec-WebSocket-Version: 8\r\n", BAD_VERSION },
            { up + conn + key + v13 + "Sec-WebSocket-Version: 8\r\n", BAD_VERSION },   // repeated, one wrong
            { conn + key + v13, NOT_UPGRADE },                                          // no Upgrade
            { up + "Connection: keep-alive\r\n" + key + v13, NOT_UPGRADE },
            { up + key + v13, NOT_UPGRADE },                                            // no Connection
            { "Upgrade: h2c\r\n" + conn + key + v13, NOT_UPGRADE },
            { up + conn + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n" + v13, BAD_KEY },     // unpadded
            { up + conn + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n" + v13, BAD_KEY },   // non-canonical
            { up + conn + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j*Q==\r\n" + v13, BAD_KEY },   // not base64
            { up + conn + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\r\n" + v13, BAD_KEY }, // 22 bytes
            { up + conn + "Sec-WebSocket-Key:\r\n" + v13, BAD_KEY },                   // empty
            { up + conn + key + key + v13, BAD_KEY },                                   // repeated
        };
        for (final Object[] c : cases)
        {
            final String request = upgrade((String)c[0]);
            final HttpUpgradeRequestDecoder decoder = new HttpUpgradeRequestDecoder();
            assertEquals((int)c[1], decoder.decode(buffer(request), 0, request.length()), request);
            assertFalse(decoder.isWebSocketUpgrade());
        }
        assertEquals(upgrade(up + conn + key + v13).length(), decode(upgrade(up + conn + key + v13)));
    }

    @Test
    void errorCodesMatchTheirNames()
    {
        assertEquals(-7, MISSING_KEY);
        assertEquals(-9, BAD_VERSION);
        assertEquals(-6, NOT_UPGRADE);
        assertEquals(-8, BAD_KEY);
    }

    @Test
    void requestLineErrors()
    {
        assertEquals(NOT_GET, decode("POST /mqtt HTTP/1.1\r\nHost: h\r\n" + GOOD_HEADERS + "\r\n")); // upgrade
        assertEquals(NOT_GET, decode("get /mqtt HTTP/1.1\r\nHost: h\r\n\r\n")); // methods are case-sensitive
        assertEquals(NOT_GET, decode("PATCH /x HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(BAD_HTTP_VERSION, decode("GET /mqtt HTTP/1.0\r\nHost: h\r\n\r\n"));
        assertEquals(BAD_HTTP_VERSION, decode("GET /mqtt HTTP/2.0\r\nHost: h\r\n\r\n"));
        assertEquals(MALFORMED, decode("GET /mqtt FOO/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(MALFORMED, decode("GET  /mqtt HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(MALFORMED, decode("GET mqtt HTTP/1.1\r\nHost: h\r\n\r\n"));
        assertEquals(MALFORMED, decode("GET /mqtt HTTP/1.1 \r\nHost: h\r\n\r\n"));
        assertEquals(MALFORMED, decode("\r\n\r\n"));
    }

    @Test
    void headerSyntaxErrors()
    {
        assertEquals(MISSING_HOST, decode("GET /mqtt HTTP/1.1\r\n" + GOOD_HEADERS + "\r\n"));
        assertEquals(MALFORMED, decode(upgrade("Host: again\r\n" + GOOD_HEADERS)));
        assertEquals(MALFORMED, decode(upgrade("Upgrade : websocket\r\n")));           // space before colon
        assertEquals(MALFORMED, decode(upgrade("X-Long: a\r\n  folded\r\n")));          // obs-fold
        assertEquals(MALFORMED, decode(upgrade("X-Bad: a\nb\r\n")));                    // bare LF
        assertEquals(MALFORMED, decode(upgrade("X-Bad: a\u0000b\r\n")));                // control character
        assertEquals(MALFORMED, decode(upgrade(": empty-name\r\n")));
        assertEquals(MALFORMED, decode(upgrade("X-Bad: a\rb\r\n")));                    // bare CR
    }

    @Test
    void binaryGarbageFailsEarly()
    {
        final byte[] mqttConnect = { 0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C };
        assertEquals(MALFORMED, new HttpUpgradeRequestDecoder().decode(new UnsafeBuffer(mqttConnect), 0, 12));
        assertEquals(NEED_MORE, decode("GE"));
        assertEquals(NEED_MORE, decode("GET /mq"));
    }

    @Test
    void tooLarge()
    {
        final StringBuilder sb = new StringBuilder("GET /mqtt HTTP/1.1\r\nHost: h\r\n");
        while (sb.length() < 8192)
        {
            sb.append("X-Padding: 0123456789012345678901234567890123456789\r\n");
        }
        final String huge = sb + "\r\n";
        assertEquals(TOO_LARGE, decode(huge));

        // Exactly at the limit is fine, one byte more is not.
        final String base = "GET /mqtt HTTP/1.1\r\nHost: h\r\nX-Pad: \r\n\r\n";
        final int limit = 256;
        final String exact = base.replace("X-Pad: ", "X-Pad: " + "a".repeat(limit - base.length()));
        assertEquals(limit, exact.length());
        assertEquals(limit, new HttpUpgradeRequestDecoder(limit).decode(buffer(exact), 0, exact.length()));
        final String over = exact.replace("X-Pad: ", "X-Pad: a");
        assertEquals(TOO_LARGE, new HttpUpgradeRequestDecoder(limit).decode(buffer(over), 0, over.length()));
        assertEquals(NEED_MORE, new HttpUpgradeRequestDecoder(limit).decode(buffer(over), 0, limit - 1));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "mqtt             | 3",
        "mqttv3.1         | 2",
        "foo, mqtt        | 3",
        "' mqtt ,foo'     | 3",
        "mqttv3.1, mqtt   | 3",
        "mqtt,mqttv3.1    | 3",
        "foo              | 1",
        "'foo, bar'       | 1",
        "MQTT             | 1",
        "'mqtt5'          | 1",
        "', ,'            | 0",
    })
    void subprotocolSelection(final String list, final int expected)
    {
        final String request = upgrade(GOOD_HEADERS + "Sec-WebSocket-Protocol: " + list + "\r\n");
        final HttpUpgradeRequestDecoder decoder = new HttpUpgradeRequestDecoder();
        assertEquals(request.length(), decoder.decode(buffer(request), 0, request.length()));
        assertEquals(expected, decoder.subprotocol());

        final UnsafeBuffer listBuffer = buffer(list);
        assertEquals(expected, WebSocketSubprotocol.select(listBuffer, 0, list.length()));
    }

    @Test
    void subprotocolAbsentAndRepeated()
    {
        final HttpUpgradeRequestDecoder decoder = new HttpUpgradeRequestDecoder();
        final String absent = upgrade(GOOD_HEADERS);
        assertEquals(absent.length(), decoder.decode(buffer(absent), 0, absent.length()));
        assertEquals(WebSocketSubprotocol.NOT_OFFERED, decoder.subprotocol());
        assertNull(decoder.protocols());

        final String repeated = upgrade(GOOD_HEADERS + "Sec-WebSocket-Protocol: foo\r\nSec-WebSocket-Protocol: mqtt\r\n");
        assertEquals(repeated.length(), decoder.decode(buffer(repeated), 0, repeated.length()));
        assertEquals(WebSocketSubprotocol.MQTT, decoder.subprotocol());
        assertEquals("foo", decoder.protocols());
        assertEquals("mqtt", WebSocketSubprotocol.name(decoder.subprotocol()));
        assertNull(WebSocketSubprotocol.name(WebSocketSubprotocol.OTHERS_ONLY));
    }

    @org.junit.jupiter.api.Test
    void plainRequestsWithABodySayItsLength()
    {
        final String post = "POST /admin/v1/revocations HTTP/1.1\r\nHost: h\r\nContent-Length: 14\r\n\r\n";
        final HttpUpgradeRequestDecoder decoder = new HttpUpgradeRequestDecoder();
        final org.agrona.concurrent.UnsafeBuffer buffer = new org.agrona.concurrent.UnsafeBuffer(
            (post + "{\"jti\":[\"a\"]}").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals(post.length(), decoder.decode(buffer, 0, buffer.capacity()));
        assertEquals(14, decoder.contentLength());
        assertEquals(false, decoder.isWebSocketUpgrade());

        assertEquals(-1, new HttpUpgradeRequestDecoder().contentLength());
        assertEquals(HttpUpgradeRequestDecoder.MALFORMED,
            decode("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n"));
        assertEquals(HttpUpgradeRequestDecoder.MALFORMED,
            decode("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"));
        assertEquals(HttpUpgradeRequestDecoder.MALFORMED,
            decode("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"));
    }
}
