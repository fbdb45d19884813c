package dev.skylark.broker.session;

import dev.skylark.codec.mqtt.PropertiesEncoder;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ReasonStringTest
{
    private static String text(final UnsafeBuffer buffer, final int length)
    {
        assertEquals(0x1F, buffer.getByte(0), "Reason String property id");
        final int n = ((buffer.getByte(1) & 0xFF) << 8) | (buffer.getByte(2) & 0xFF);
        assertEquals(length, 3 + n, "property length");
        final byte[] utf8 = new byte[n];
        buffer.getBytes(3, utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }

    @Test
    void preEncodedPropertyIsIdLengthAndUtf8()
    {
        final ReasonString reason = ReasonString.of("né");
        final byte[] bytes = new byte[reason.length()];
        reason.buffer().getBytes(0, bytes);
        assertArrayEquals(new byte[]{0x1F, 0, 3, 'n', (byte)0xC3, (byte)0xA9}, bytes);
    }

    @Test
    void longTextsAreCutAndControlCharactersReplaced()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);
        final int length = ReasonString.put(new PropertiesEncoder().wrap(buffer, 0), "a\u0000b\nc").length();
        assertEquals("a?b?c", text(buffer, length));

        final int cut = ReasonString.put(new PropertiesEncoder().wrap(buffer, 0), "x".repeat(500)).length();
        assertEquals("x".repeat(ReasonString.MAX_CHARS - 3) + "...", text(buffer, cut));
    }

    @Test
    void subAckTextNamesEachRefusedFilter()
    {
        final UnsafeBuffer reasons = new UnsafeBuffer(new byte[]{0x01, (byte)ReasonCode.NOT_AUTHORIZED,
            (byte)ReasonCode.QUOTA_EXCEEDED});
        assertEquals("filter 2: filter not allowed by the token's acl.sub or the broker's authorization rules; " +
            "filter 3: quota exceeded: subscriptions/shared groups per client or subscribers/groups per filter",
            ReasonString.forSubAck(reasons, 0, 3));
        assertNull(ReasonString.forSubAck(reasons, 0, 1), "nothing refused, no text");
    }
}
