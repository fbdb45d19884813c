package dev.skylark.codec.mqtt;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopicsAndPrimitivesTest
{
    private static int name(final String s)
    {
        final UnsafeBuffer b = Bytes.utf8(s);
        return Topics.validateTopicName(b, 0, b.capacity());
    }

    private static int filter(final String s)
    {
        final UnsafeBuffer b = Bytes.utf8(s);
        return Topics.validateTopicFilter(b, 0, b.capacity());
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "/", "a/b", "/a/", "$SYS/x", "a b", "ü/€", "$share"})
    void validNames(final String s)
    {
        assertEquals(0, name(s));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "+", "#", "a/+", "a/#", "a+b", "sport#"})
    void invalidNames(final String s)
    {
        assertEquals(-ReasonCode.TOPIC_NAME_INVALID, name(s));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "#", "+", "+/+", "/+", "a/#", "a/+/b", "+/#", "$SYS/#", "$share/g/a",
        "$share/g/#", "$share/g/+/x", "$share/group/a/b", "$share", "$shared/x", "/"})
    void validFilters(final String s)
    {
        assertEquals(0, filter(s));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a#", "a/#/b", "#/a", "a+", "+a", "a/b+", "##", "$share/", "$share/g",
        "$share//a", "$share/g/", "$share/g+/a", "$share/g#/a", "$share/g/a#"})
    void invalidFilters(final String s)
    {
        assertEquals(-ReasonCode.TOPIC_FILTER_INVALID, filter(s));
    }

    @Test
    void sharedParts()
    {
        final UnsafeBuffer b = Bytes.utf8("$share/grp/a/+/c");
        assertTrue(Topics.isShared(b, 0, b.capacity()));
        assertEquals(7, Topics.sharedGroupOffset(0));
        assertEquals(3, Topics.sharedGroupLength(b, 0, b.capacity()));
        assertEquals(11, Topics.sharedFilterOffset(b, 0, b.capacity()));
        assertEquals(5, Topics.sharedFilterLength(b, 0, b.capacity()));
        assertFalse(Topics.isShared(Bytes.utf8("$shar"), 0, 5));
    }

    @ParameterizedTest
    @CsvSource({
        "a/b, a/b, true", "a/b, a/c, false", "a/+, a/b, true", "a/+, a, false", "a/+, a/b/c, false",
        "a/#, a, true", "a/#, a/b/c, true", "#, a/b, true", "#, /, true", "+/+, /a, true", "+, '', true",
        "+/b, a/b, true", "a/b, a/b/c, false", "a/b/c, a/b, false", "#, $SYS/x, false", "+/x, $SYS/x, false",
        "$SYS/#, $SYS/x, true", "$SYS/+, $SYS/x, true", "a//b, a//b, true", "a/+/b, a//b, true"})
    void matcher(final String f, final String t, final boolean expected)
    {
        assertEquals(expected, Topics.matches(f, t), f + " vs " + t);
    }

    @Test
    void varInts()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        final int[] values = {0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455};
        final int[] sizes = {1, 1, 1, 2, 2, 3, 3, 4, 4};
        for (int i = 0; i < values.length; i++)
        {
            assertEquals(sizes[i], MqttPrimitives.putVarInt(b, 1, values[i]));
            assertEquals(sizes[i], MqttPrimitives.varIntSize(values[i]));
            final long r = MqttPrimitives.readVarInt(b, 1, 1 + sizes[i]);
            assertEquals(values[i], MqttPrimitives.varIntValue(r));
            assertEquals(sizes[i], MqttPrimitives.varIntLength(r));
            assertEquals(MqttPrimitives.VARINT_INCOMPLETE, MqttPrimitives.readVarInt(b, 1, sizes[i]));
        }
        assertEquals(MqttPrimitives.VARINT_MALFORMED, MqttPrimitives.readVarInt(Bytes.hex("80 00"), 0, 2));
        assertEquals(MqttPrimitives.VARINT_MALFORMED, MqttPrimitives.readVarInt(Bytes.hex("ff 80 00"), 0, 3));
        assertEquals(MqttPrimitives.VARINT_MALFORMED, MqttPrimitives.readVarInt(Bytes.hex("80 80 80 80 01"), 0, 5));
    }

    @ParameterizedTest
    @CsvSource({
        "'', 0", "61 62 63, 0", "c3 bc, 0", "e2 82 ac, 0", "f0 9f 98 80, 0", "ef bf bd, 0", "f4 8f bf bd, 0",
        "00, -129", "01, -129", "1f, -129", "7f, -129", "c2 80, -129", "c2 9f, -129", // U+0000, controls
        "c0 80, -129", "c1 bf, -129", "e0 80 80, -129", "f0 80 80 80, -129",       // overlong
        "ed a0 80, -129", "ed bf bf, -129",                                          // surrogates
        "f4 90 80 80, -129", "f5 80 80 80, -129", "ff, -129",                        // > U+10FFFF
        "80, -129", "c3, -129", "e2 82, -129", "c3 28, -129",                        // stray / truncated
        "ef bf be, -129", "ef bf bf, -129", "ef b7 90, -129", "f0 9f bf bf, -129"})  // non-characters
    void utf8(final String hex, final int expected)
    {
        final UnsafeBuffer b = Bytes.hex(hex);
        assertEquals(expected, MqttPrimitives.validateUtf8(b, 0, b.capacity()), hex);
    }
}
