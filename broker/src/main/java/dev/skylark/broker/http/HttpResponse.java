package dev.skylark.broker.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One HTTP/1.1 response; the connection closes after it ({@code Connection: close}).
 *
 * @param status      status code.
 * @param reason      reason phrase.
 * @param contentType media type of the body.
 * @param body        the body bytes.
 * @param headers     extra headers.
 */
public record HttpResponse(int status, String reason, String contentType, byte[] body, Map<String, String> headers)
{
    public static HttpResponse ok(final String contentType, final byte[] body)
    {
        return new HttpResponse(200, "OK", contentType, body, Map.of());
    }

    public static HttpResponse text(final int status, final String reason, final String body)
    {
        return new HttpResponse(status, reason, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8),
            Map.of());
    }

    /** A response with the standard reason phrase for its status. */
    public static HttpResponse of(final int status, final String contentType, final byte[] body)
    {
        final String reason = switch (status)
        {
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 409 -> "Conflict";
            case 413 -> "Content Too Large";
            case 503 -> "Service Unavailable";
            default -> status >= 500 ? "Internal Server Error" : "Error";
        };
        return new HttpResponse(status, reason, contentType, body, Map.of());
    }

    public static HttpResponse notFound(final String path)
    {
        return text(404, "Not Found", "nothing at " + path + "\n");
    }

    /** A copy with one more header. */
    public HttpResponse withHeader(final String name, final String value)
    {
        final Map<String, String> more = new LinkedHashMap<>(headers);
        more.put(name, value);
        return new HttpResponse(status, reason, contentType, body, more);
    }

    /** Status line, headers and body, as sent. */
    public byte[] encode()
    {
        final StringBuilder head = new StringBuilder(256)
            .append("HTTP/1.1 ").append(status).append(' ').append(reason).append("\r\n")
            .append("Content-Type: ").append(contentType).append("\r\n")
            .append("Content-Length: ").append(body.length).append("\r\n")
            .append("Cache-Control: no-store\r\n")
            .append("X-Content-Type-Options: nosniff\r\n")
            .append("Connection: close\r\n");
        for (final Map.Entry<String, String> header : headers.entrySet())
        {
            head.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
        }
        head.append("\r\n");
        final ByteArrayOutputStream out = new ByteArrayOutputStream(head.length() + body.length);
        out.writeBytes(head.toString().getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(body);
        return out.toByteArray();
    }
}
