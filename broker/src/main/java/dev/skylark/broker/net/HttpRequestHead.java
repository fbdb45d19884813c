package dev.skylark.broker.net;

import java.util.Locale;

/**
 * A plain HTTP request as handed to an {@link HttpService}: method, path, query, the client's address and the raw
 * head for any other header. Built only for plain requests (off the MQTT path), so it is an ordinary object.
 *
 * @param method        request method: GET, POST, PUT or DELETE.
 * @param path          path without the query.
 * @param query         query after '?', or null.
 * @param remoteAddress the client address (the forwarded one when it came through a trusted proxy).
 * @param secure        true when the request came over TLS.
 * @param head          the whole request head, CRLF separated.
 * @param body          the request body (Content-Length bytes; empty when none).
 * @param loopback      true when the TCP peer is this machine (127.0.0.0/8 or ::1), whatever X-Forwarded-For says.
 */
public record HttpRequestHead(
    String method, String path, String query, String remoteAddress, boolean secure, String head, byte[] body,
    boolean loopback)
{
    /** The first value of a header (name compared case-insensitively), trimmed, or null. */
    public String header(final String name)
    {
        final String wanted = name.toLowerCase(Locale.ROOT) + ":";
        int lineStart = head.indexOf("\r\n") + 2;
        while (lineStart > 1 && lineStart < head.length())
        {
            final int lineEnd = head.indexOf("\r\n", lineStart);
            if (lineEnd <= lineStart)
            {
                break;
            }
            final String line = head.substring(lineStart, lineEnd);
            if (line.length() >= wanted.length() && line.substring(0, wanted.length()).toLowerCase(Locale.ROOT).equals(wanted))
            {
                return line.substring(wanted.length()).trim();
            }
            lineStart = lineEnd + 2;
        }
        return null;
    }
}
