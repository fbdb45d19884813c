package dev.skylark.codec.ws;

import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpUpgradeResponseEncoderTest
{
    private final UnsafeBuffer out = new UnsafeBuffer(new byte[1024]);

    @Test
    void acceptKeyRfcExample()
    {
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", HttpUpgradeResponseEncoder.acceptKey("dGhlIHNhbXBsZSBub25jZQ=="));
        final UnsafeBuffer key = new UnsafeBuffer("xxdGhlIHNhbXBsZSBub25jZQ==".getBytes(StandardCharsets.US_ASCII));
        assertEquals(28, HttpUpgradeResponseEncoder.encodeAcceptKey(key, 2, 24, out, 3));
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", out.getStringWithoutLengthAscii(3, 28));
    }

    @Test
    void switchingProtocolsForMqttJs()
    {
        final String request = HttpUpgradeRequestDecoderTest.MQTT_JS;
        final HttpUpgradeRequestDecoder decoder = new HttpUpgradeRequestDecoder();
        decoder.decode(new UnsafeBuffer(request.getBytes(StandardCharsets.US_ASCII)), 0, request.length());

        final int length = HttpUpgradeResponseEncoder.encodeSwitchingProtocols(out, 7, decoder, decoder.subprotocol());
        assertEquals(HttpUpgradeResponseEncoder.switchingProtocolsLength(WebSocketSubprotocol.MQTT), length);
        assertEquals(
            "HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: websocket\r\n" +
            "Connection: Upgrade\r\n" +
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
            "Sec-WebSocket-Protocol: mqtt\r\n" +
            "\r\n",
            out.getStringWithoutLengthAscii(7, length));
    }

    @Test
    void switchingProtocolsWithoutSubprotocol()
    {
        final UnsafeBuffer key = new UnsafeBuffer("dGhlIHNhbXBsZSBub25jZQ==".getBytes(StandardCharsets.US_ASCII));
        for (final int selection : new int[]{ WebSocketSubprotocol.NOT_OFFERED, WebSocketSubprotocol.OTHERS_ONLY })
        {
            final int length = HttpUpgradeResponseEncoder.encodeSwitchingProtocols(out, 0, key, 0, 24, selection);
            assertEquals(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                out.getStringWithoutLengthAscii(0, length));
        }
        final int length = HttpUpgradeResponseEncoder.encodeSwitchingProtocols(
            out, 0, key, 0, 24, WebSocketSubprotocol.MQTT_V31);
        assertTrue(out.getStringWithoutLengthAscii(0, length).contains("\r\nSec-WebSocket-Protocol: mqttv3.1\r\n\r\n"));
    }

    @Test
    void badVersionAnswers426WithVersionHeader()
    {
        final int length = HttpUpgradeResponseEncoder.encodeRejection(out, 0, HttpUpgradeRequestDecoder.BAD_VERSION);
        final String body = "WebSocket version 13 required\n";
        assertEquals(
            "HTTP/1.1 426 Upgrade Required\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n" +
            "Content-Length: " + body.length() + "\r\n" +
            "Connection: close\r\n" +
            "Sec-WebSocket-Version: 13\r\n" +
            "\r\n" + body,
            out.getStringWithoutLengthAscii(0, length));
    }

    @Test
    void everyDecoderErrorHasAResponse()
    {
        final int[][] codes = {
            { HttpUpgradeRequestDecoder.TOO_LARGE, 431 },
            { HttpUpgradeRequestDecoder.MALFORMED, 400 },
            { HttpUpgradeRequestDecoder.NOT_GET, 405 },
            { HttpUpgradeRequestDecoder.BAD_HTTP_VERSION, 505 },
            { HttpUpgradeRequestDecoder.MISSING_HOST, 400 },
            { HttpUpgradeRequestDecoder.NOT_UPGRADE, 400 },
            { HttpUpgradeRequestDecoder.MISSING_KEY, 400 },
            { HttpUpgradeRequestDecoder.BAD_KEY, 400 },
            { HttpUpgradeRequestDecoder.BAD_VERSION, 426 },
        };
        for (final int[] code : codes)
        {
            assertEquals(code[1], HttpUpgradeResponseEncoder.statusFor(code[0]));
            final int length = HttpUpgradeResponseEncoder.encodeRejection(out, 0, code[0]);
            final String response = out.getStringWithoutLengthAscii(0, length);
            assertTrue(response.startsWith("HTTP/1.1 " + code[1] + " "), response);
            final int headEnd = response.indexOf("\r\n\r\n") + 4;
            assertTrue(response.contains("Content-Length: " + (length - headEnd) + "\r\n"), response);
            assertTrue(response.contains("Connection: close\r\n"), response);
        }
        final int length = HttpUpgradeResponseEncoder.encodeRejection(out, 0, HttpUpgradeRequestDecoder.NOT_GET);
        assertTrue(out.getStringWithoutLengthAscii(0, length).contains("\r\nAllow: GET\r\n"));
    }

    @Test
    void utf8BodyLengthInBytes()
    {
        final int length = HttpUpgradeResponseEncoder.encodeError(out, 0, 400, "Bad Request", null, null, "é");
        final String response = out.getStringWithoutLengthUtf8(0, length);
        assertTrue(response.contains("Content-Length: 2\r\n"), response);
    }

    @Test
    void insufficientCapacityIsReportedNotThrown()
    {
        final UnsafeBuffer small = new UnsafeBuffer(new byte[40]);
        final UnsafeBuffer key = new UnsafeBuffer("dGhlIHNhbXBsZSBub25jZQ==".getBytes(StandardCharsets.US_ASCII));
        assertEquals(HttpUpgradeResponseEncoder.INSUFFICIENT_CAPACITY,
            HttpUpgradeResponseEncoder.encodeSwitchingProtocols(small, 0, key, 0, 24, WebSocketSubprotocol.MQTT));
        assertEquals(HttpUpgradeResponseEncoder.INSUFFICIENT_CAPACITY,
            HttpUpgradeResponseEncoder.encodeRejection(small, 0, HttpUpgradeRequestDecoder.MALFORMED));
        assertEquals(HttpUpgradeResponseEncoder.INSUFFICIENT_CAPACITY,
            HttpUpgradeResponseEncoder.encodeAcceptKey(key, 0, 24, small, 20));

        final ExpandableArrayBuffer expandable = new ExpandableArrayBuffer(8);
        assertTrue(HttpUpgradeResponseEncoder.encodeRejection(expandable, 0, HttpUpgradeRequestDecoder.MALFORMED) > 0);
    }
}
