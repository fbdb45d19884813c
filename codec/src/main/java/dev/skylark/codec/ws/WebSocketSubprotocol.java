package dev.skylark.codec.ws;

import org.agrona.DirectBuffer;

/**
 * Selection of the MQTT subprotocol from a {@code Sec-WebSocket-Protocol} list (RFC 6455 section 4.2.2).
 * <p>
 * The list is comma-separated; spaces and tabs around elements are ignored, empty elements skipped, and
 * elements compared case-sensitively. {@code mqtt} (MQTT 3.1.1 and 5.0) is preferred wherever it appears,
 * else {@code mqttv3.1} for old clients (MQTT 3.1). The results are ranked so that merging the results of
 * several header lines is {@link #merge(int, int)} = {@code max}.
 * <p>
 * The broker accepts {@link #NOT_OFFERED} unless configured strict (then 101 without a protocol header) and
 * refuses {@link #OTHERS_ONLY}.
 */
public final class WebSocketSubprotocol
{
    /** No Sec-WebSocket-Protocol header, or only empty elements. */
    public static final int NOT_OFFERED = 0;
    /** Subprotocols offered, none of them MQTT. */
    public static final int OTHERS_ONLY = 1;
    /** {@code mqttv3.1} offered (and not {@code mqtt}). */
    public static final int MQTT_V31 = 2;
    /** {@code mqtt} offered. */
    public static final int MQTT = 3;

    public static final String MQTT_NAME = "mqtt";
    public static final String MQTT_V31_NAME = "mqttv3.1";

    private WebSocketSubprotocol()
    {
    }

    /** Select from one comma-separated list. */
    public static int select(final DirectBuffer buffer, final int offset, final int length)
    {
        int result = NOT_OFFERED;
        int i = offset;
        final int end = offset + length;
        while (i < end)
        {
            int elementEnd = i;
            while (elementEnd < end && buffer.getByte(elementEnd) != ',')
            {
                elementEnd++;
            }

            int start = i;
            int stop = elementEnd;
            while (start < stop && isWhitespace(buffer.getByte(start)))
            {
                start++;
            }
            while (stop > start && isWhitespace(buffer.getByte(stop - 1)))
            {
                stop--;
            }

            if (stop > start)
            {
                if (equalsAscii(buffer, start, stop - start, MQTT_NAME))
                {
                    return MQTT;
                }
                result = Math.max(
                    result, equalsAscii(buffer, start, stop - start, MQTT_V31_NAME) ? MQTT_V31 : OTHERS_ONLY);
            }
            i = elementEnd + 1;
        }
        return result;
    }

    /** Combine the selections of several header lines. */
    public static int merge(final int a, final int b)
    {
        return Math.max(a, b);
    }

    /** The name to echo in the response, or null for {@link #NOT_OFFERED} / {@link #OTHERS_ONLY}. */
    public static String name(final int selection)
    {
        switch (selection)
        {
            case MQTT: return MQTT_NAME;
            case MQTT_V31: return MQTT_V31_NAME;
            default: return null;
        }
    }

    static boolean isWhitespace(final byte b)
    {
        return b == ' ' || b == '\t';
    }

    private static boolean equalsAscii(final DirectBuffer buffer, final int offset, final int length, final String s)
    {
        if (length != s.length())
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            if (buffer.getByte(offset + i) != s.charAt(i))
            {
                return false;
            }
        }
        return true;
    }
}
