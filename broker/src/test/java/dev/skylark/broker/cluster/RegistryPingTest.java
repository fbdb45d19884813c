package dev.skylark.broker.cluster;

import org.agrona.ExpandableArrayBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code PING}, the node agent's round trip through the log (fencing): applied, it changes nothing but the sending
 * node's command sequence, which is what the node watches for; a resend is skipped like any command's; from a
 * session that never said HELLO it is ignored.
 */
class RegistryPingTest
{
    private final RecordingEvents events = new RecordingEvents();
    private final Registry registry = new Registry(1, 100, events);
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);
    private long time;

    private void ping(final long session, final int sequence)
    {
        final int length = RegistryCommands.encodePing(buffer, 0);
        RegistryCommands.sequence(buffer, 0, sequence);
        registry.onCommand(session, ++time, buffer, 0, length);
    }

    @Test
    void aPingAdvancesOnlyItsNodesSequence()
    {
        ping(7, 1);
        assertEquals(1, registry.commandsIgnored(), "no HELLO on session 7 yet");
        registry.onCommand(7, ++time, buffer, 0, RegistryCommands.encodeHello(buffer, 0, 2));
        final int eventsBefore = events.lines.size();

        ping(7, 1);
        assertEquals(1, registry.appliedSequence(2), "the node sees its ping applied");
        assertEquals(1, registry.commandsIgnored(), "a ping is not an unknown command");
        ping(7, 1);
        assertEquals(2, registry.commandsIgnored(), "a resend of an applied ping is skipped");
        ping(7, 2);
        assertEquals(2, registry.appliedSequence(2));
        assertEquals(eventsBefore, events.lines.size(), "no event");
        registry.onCommand(8, ++time, buffer, 0, RegistryCommands.encodeHello(buffer, 0, 3));
        assertEquals(0, registry.appliedSequence(3), "another node's sequence untouched");
    }
}
