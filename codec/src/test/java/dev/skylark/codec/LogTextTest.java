package dev.skylark.codec;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

class LogTextTest
{
    @Test
    void plainTextIsReturnedAsIs()
    {
        final String id = "sensor-42/ü";
        assertSame(id, LogText.of(id));
        assertEquals("null", LogText.of(null));
    }

    @Test
    void controlCharactersAreEscapedSoNoLineCanBeForged()
    {
        final String forged = LogText.of("x\n2026-12-03T08:00:00.000 [main] [INFO] forged\r\t\u0000\u001b[31m\u007f\u0085\u2028\\");
        assertFalse(forged.chars().anyMatch((c) -> c < 0x20 || c == 0x7F || c == 0x85 || c == 0x2028),
            "no control character left: " + forged);
        assertEquals("x\\n2026-12-03T08:00:00.000 [main] [INFO] forged\\r\\t\\x00\\x1b[31m\\x7f\\x85\\u2028\\\\", forged);
    }

    @Test
    void fieldsAreCappedAtTheLimitPlusOne()
    {
        final String atLimit = "a".repeat(LogText.FIELD_MAX);
        assertSame(atLimit, LogText.of(atLimit));
        assertEquals(atLimit + "…(+1)", LogText.of(atLimit + "b"));
        assertEquals(LogText.LINE_MAX + "…(+10)".length(), LogText.line("c".repeat(LogText.LINE_MAX + 10)).length());
    }

    @Test
    void aLineKeepsItsFieldsEscapesAsTheyAre()
    {
        final String line = "unknown key id '" + LogText.of("a\nb\\") + "'\n";
        assertEquals("unknown key id 'a\\nb\\\\'\\n", LogText.line(line));
    }
}
