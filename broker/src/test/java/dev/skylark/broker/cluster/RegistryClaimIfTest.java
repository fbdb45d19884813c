package dev.skylark.broker.cluster;

import org.agrona.ExpandableArrayBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code CLAIM_IF}: a leaving node's heir claims a client id only while the leaving node's ownership stands. */
@Timeout(10)
class RegistryClaimIfTest
{
    private final RecordingEvents events = new RecordingEvents();
    private final Registry registry = new Registry(2, 100, events);
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);
    private long time;

    private void hello(final long session, final int node)
    {
        registry.onCommand(session, ++time, buffer, 0, RegistryCommands.encodeHello(buffer, 0, node));
    }

    private void command(final long session, final int type, final long value, final String text)
    {
        registry.onCommand(session, ++time, buffer, 0,
            RegistryCommands.encodeLongString(buffer, 0, type, value, text));
    }

    @Test
    void commitsAsAClaimWithCorrelationZeroWhileTheEpochStandsAndOtherwiseNotAtAll()
    {
        hello(10, 1);
        hello(20, 2);
        hello(30, 3);
        events.take();
        command(10, RegistryCommands.CLAIM, 7, "a");          // node 1 owns a, epoch 1
        command(10, RegistryCommands.CLAIM, 8, "b");          // node 1 owns b, epoch 2
        command(30, RegistryCommands.CLAIM, 9, "b");          // b reconnected on node 3: epoch 3
        events.take();

        command(20, RegistryCommands.CLAIM_IF, 2, "b");       // node 2 asked for b at node 1's epoch 2: stale
        command(20, RegistryCommands.CLAIM_IF, 5, "none");    // nobody owns it
        assertEquals(List.of(), events.take(), "nothing commits");
        assertEquals(3, registry.owner("b"));
        assertEquals(3, registry.lastEpoch(), "no epoch is used up");

        command(20, RegistryCommands.CLAIM_IF, 0, "a");       // epoch 0 never stands
        command(20, RegistryCommands.CLAIM_IF, 1, "a");       // node 1's epoch of a: taken over from node 1
        assertEquals(List.of("claimed 0 a 2 4 1 1"), events.take());
        assertEquals(2, registry.owner("a"));
        assertEquals(4, registry.epoch("a"));
    }
}
