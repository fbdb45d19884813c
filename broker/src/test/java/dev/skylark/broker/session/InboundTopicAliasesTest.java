package dev.skylark.broker.session;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class InboundTopicAliasesTest
{
    private static String text(final UnsafeBuffer topic)
    {
        return topic.getStringWithoutLengthUtf8(0, topic.capacity());
    }

    @Test
    void aliasNamesACopyOfTheTopicUntilTheClientRepointsIt()
    {
        final InboundTopicAliases aliases = new InboundTopicAliases(2);
        assertNull(aliases.topic(1), "never set");

        final UnsafeBuffer packet = new UnsafeBuffer("xxa/bxx".getBytes(StandardCharsets.UTF_8));
        aliases.set(2, packet, 2, 3);
        packet.putByte(2, (byte)'z'); // the receive buffer moves on
        assertEquals("a/b", text(aliases.topic(2)));
        assertNull(aliases.topic(1));

        aliases.set(2, new UnsafeBuffer("c".getBytes(StandardCharsets.UTF_8)), 0, 1);
        assertEquals("c", text(aliases.topic(2)));
    }
}
