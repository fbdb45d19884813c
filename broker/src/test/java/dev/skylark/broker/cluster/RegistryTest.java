package dev.skylark.broker.cluster;

import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import dev.skylark.broker.routing.ClusterLink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.skylark.broker.routing.ClusterLink.NO_NODE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class RegistryTest
{
    private final RecordingEvents events = new RecordingEvents();
    private final Registry registry = new Registry(1, 100, events);
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

    static byte[] message(final String topic, final int payloadLength)
    {
        final byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        final UnsafeBuffer m = new UnsafeBuffer(new byte[6 + t.length + 4 + 4 + payloadLength]);
        m.putByte(0, (byte)1);
        m.putByte(1, (byte)1);
        m.putShort(4, (short)t.length);
        m.putBytes(6, t);
        m.putInt(6 + t.length, 0);
        m.putInt(10 + t.length, payloadLength);
        return m.byteArray();
    }

    private void retained(final long session, final String topic, final int payloadLength)
    {
        final byte[] m = message(topic, payloadLength);
        registry.onCommand(session, ++time, buffer, 0,
            RegistryCommands.encodeRetained(buffer, 0, new UnsafeBuffer(m), 0, m.length));
    }

    @Test
    void helloMakesANodeLiveAndCommandsFromUnknownSessionsAreIgnored()
    {
        command(7, RegistryCommands.CLAIM, 1, "c");
        assertEquals(List.of(), events.take());
        assertEquals(1, registry.commandsIgnored());
        hello(7, 2);
        assertEquals(List.of("up 2"), events.take());
        assertTrue(registry.isLive(2));
    }

    @Test
    void claimsRaiseOneEpochAndTheLastClaimOwns()
    {
        hello(10, 1);
        hello(20, 2);
        events.take();
        command(10, RegistryCommands.CLAIM, 55, "a");
        command(20, RegistryCommands.CLAIM, 66, "b");
        command(20, RegistryCommands.CLAIM, 67, "a");
        // the correlation id reaches only the origin node (this registry is node 1)
        assertEquals(List.of("claimed 55 a 1 1 -1 0", "claimed 0 b 2 2 -1 0", "claimed 0 a 2 3 1 1"), events.take());
        assertEquals(2, registry.owner("a"));
        assertEquals(3, registry.epoch("a"));
        assertEquals(3, registry.lastEpoch());
    }

    @Test
    void twoClaimsForOneClientIdEndWithOneOwner()
    {
        hello(10, 1);
        hello(20, 2);
        command(10, RegistryCommands.CLAIM, 1, "x");
        command(20, RegistryCommands.CLAIM, 2, "x");
        assertEquals(2, registry.owner("x"));
        assertEquals(1, registry.ownerCount());
    }

    @Test
    void releaseOnlyWithTheCurrentEpochAndOwner()
    {
        hello(10, 1);
        hello(20, 2);
        command(10, RegistryCommands.CLAIM, 1, "x");
        command(20, RegistryCommands.CLAIM, 2, "x");
        events.take();
        command(10, RegistryCommands.RELEASE, 1, "x"); // stale epoch from the old owner
        command(20, RegistryCommands.RELEASE, 1, "x"); // right owner, stale epoch
        assertEquals(List.of(), events.take());
        command(20, RegistryCommands.RELEASE, 2, "x");
        assertEquals(List.of("released x 2 2"), events.take());
        assertEquals(NO_NODE, registry.owner("x"));
        command(10, RegistryCommands.CLAIM, 3, "x");
        assertEquals(List.of("claimed 3 x 1 3 -1 0"), events.take());
    }

    @Test
    void routesCountPerFilterAndNodeAndReportTransitionsOnly()
    {
        hello(10, 1);
        hello(20, 2);
        events.take();
        command(10, RegistryCommands.ROUTE_ADD, 1, "a/+");
        command(10, RegistryCommands.ROUTE_ADD, 2, "a/+");
        command(20, RegistryCommands.ROUTE_ADD, 3, "a/+");
        assertEquals(List.of("route a/+ 1 true", "committed 1", "committed 2", "route a/+ 2 true"), events.take());
        assertEquals(2, registry.routeCount("a/+", 1));
        assertEquals(2, registry.routeEntries());
        command(10, RegistryCommands.ROUTE_REMOVE, 4, "a/+");
        assertEquals(List.of("committed 4"), events.take());
        command(10, RegistryCommands.ROUTE_REMOVE, 5, "a/+");
        assertEquals(List.of("route a/+ 1 false", "committed 5"), events.take());
        command(10, RegistryCommands.ROUTE_REMOVE, 6, "a/+"); // never below zero
        assertEquals(List.of("committed 6"), events.take());
        assertEquals(0, registry.routeCount("a/+", 1));
        assertEquals(1, registry.routeEntries());
    }

    @Test
    void buddyIsTheNextLiveNodeRoundTheRing()
    {
        assertEquals(ClusterLink.NO_NODE, registry.buddyOf(1), "nobody live");
        hello(10, 1);
        assertEquals(ClusterLink.NO_NODE, registry.buddyOf(1), "alone: no buddy");
        hello(30, 3);
        hello(20, 2);
        assertEquals(2, registry.buddyOf(1));
        assertEquals(3, registry.buddyOf(2));
        assertEquals(1, registry.buddyOf(3), "wraps round");
        registry.onSessionClosed(20, ++time);
        assertEquals(3, registry.buddyOf(1), "skips a dead node");
    }

    @Test
    void nodeDownWithoutAnHeirDropsItsRoutesThenReportsDown()
    {
        hello(10, 1);
        hello(20, 2);
        command(20, RegistryCommands.ROUTE_ADD, 1, "b");
        command(20, RegistryCommands.ROUTE_ADD, 1, "a");
        command(10, RegistryCommands.ROUTE_ADD, 1, "a");
        command(20, RegistryCommands.CLAIM, 1, "c");
        registry.onSessionClosed(10, ++time); // node 1 goes first: node 2 is left alone, with no buddy
        events.take();
        assertEquals(NO_NODE, registry.buddyOf(2));
        registry.onSessionClosed(20, ++time);
        assertEquals(List.of("route a 2 false", "route b 2 false", "down 2 heir -1"), events.take());
        assertEquals(0, registry.routeEntries());
        assertEquals(2, registry.owner("c"), "no heir: ownership stays where it was");
        registry.onSessionClosed(20, ++time); // twice: nothing more
        registry.onSessionClosed(99, ++time);
        assertEquals(List.of(), events.take());
    }

    @Test
    void nodeDownWithAnHeirMovesItsRoutesAndClientIdsToTheHeirInOneDefinedOrder()
    {
        hello(10, 1);
        hello(20, 2);
        hello(30, 3);
        command(20, RegistryCommands.ROUTE_ADD, 1, "b");
        command(20, RegistryCommands.ROUTE_ADD, 2, "b"); // count 2 on node 2: the heir inherits one reference
        command(20, RegistryCommands.ROUTE_ADD, 3, "a");
        command(30, RegistryCommands.ROUTE_ADD, 1, "a"); // the heir has "a" already: no new route event for it
        command(20, RegistryCommands.CLAIM, 4, "y");
        command(20, RegistryCommands.CLAIM, 5, "x");
        command(10, RegistryCommands.CLAIM, 6, "z");
        events.take();
        assertEquals(3, registry.buddyOf(2));
        registry.onSessionClosed(20, ++time);
        assertEquals(List.of(
            "route b 3 true",
            "down 2 heir 3",
            "route a 2 false", "route b 2 false",
            "claimed 0 x 3 4 2 2", "claimed 0 y 3 5 2 1",
            "inherited 2 heir 3"), events.take());
        assertEquals(3, registry.owner("x"));
        assertEquals(3, registry.owner("y"));
        assertEquals(1, registry.owner("z"), "other nodes' client ids stay");
        assertEquals(5, registry.epoch("y"));
        assertEquals(2, registry.routeCount("a", 3), "its own and the inherited reference");
        assertEquals(1, registry.routeCount("b", 3), "one inherited reference whatever the dead node's count");
        assertEquals(0, registry.routeCount("a", 2));
        assertEquals(2, registry.routeEntries());
        command(30, RegistryCommands.ROUTE_REMOVE, 2, "b"); // the heir drops what it does not need
        assertEquals(List.of("route b 3 false"), events.take());
        command(30, RegistryCommands.RELEASE, 4, "x"); // and releases what it has no session of
        assertEquals(List.of("released x 3 4"), events.take());
    }

    @Test
    void aNewHelloFromANodeDropsItsOldRoutesAndFencesTheOldSession()
    {
        hello(10, 1);
        command(10, RegistryCommands.ROUTE_ADD, 1, "a");
        events.take();
        hello(11, 1);
        assertEquals(List.of("route a 1 false", "up 1"), events.take());
        command(10, RegistryCommands.ROUTE_ADD, 2, "old"); // the replaced session is ignored
        assertEquals(List.of(), events.take());
        registry.onSessionClosed(10, ++time); // the old session timing out later: node 1 stays up
        assertEquals(List.of(), events.take());
        assertTrue(registry.isLive(1));
    }

    @Test
    void retainedIsCappedInBytesAndAnEmptyPayloadClears()
    {
        hello(10, 1);
        events.take();
        final int size40 = message("t/a", 40 - (6 + 3 + 8)).length; // 40 bytes each
        assertEquals(40, size40);
        retained(10, "t/a", 40 - 17);
        retained(10, "t/b", 40 - 17);
        assertEquals(List.of("retained 1 t/a 40", "retained 1 t/b 40"), events.take());
        retained(10, "t/c", 21 - 17); // 80 + 21 = 101 > 100: refused
        assertEquals(List.of(), events.take());
        assertEquals(1, registry.retainedRefused());
        retained(10, "t/c", 20 - 17); // 100: fits exactly
        retained(10, "t/a", 41 - 17); // replacing t/a by 41 bytes: 101, refused
        assertEquals(List.of("retained 1 t/c 20"), events.take());
        assertEquals(2, registry.retainedRefused());
        retained(10, "t/a", 0);
        assertEquals(List.of("retained 1 t/a 17"), events.take());
        assertEquals(60, registry.retainedBytes());
        assertEquals(2, registry.retainedCount());
    }

    @Test
    void aResentCommandIsAppliedOnceAndANewSessionNumbersAgain()
    {
        hello(10, 1);
        events.take();
        int length = RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.CLAIM, 5, "c");
        RegistryCommands.sequence(buffer, 0, 1);
        registry.onCommand(10, ++time, buffer, 0, length);
        registry.onCommand(10, ++time, buffer, 0, length); // resent after a leader change: skipped
        length = RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.ROUTE_ADD, 6, "f");
        RegistryCommands.sequence(buffer, 0, 2);
        registry.onCommand(10, ++time, buffer, 0, length);
        assertEquals(List.of("claimed 5 c 1 1 -1 0", "route f 1 true", "committed 6"), events.take());
        assertEquals(2, registry.appliedSequence(1));
        hello(11, 1); // a new session numbers from 1 again
        events.take();
        length = RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.CLAIM, 7, "c");
        RegistryCommands.sequence(buffer, 0, 1);
        registry.onCommand(11, ++time, buffer, 0, length);
        assertEquals(List.of("claimed 7 c 1 2 1 1"), events.take());
    }

    @Test
    void malformedCommandsAreIgnoredAndCounted()
    {
        hello(10, 1);
        buffer.putInt(0, RegistryCommands.CLAIM);
        registry.onCommand(10, ++time, buffer, 0, 12);
        final int length = RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.CLAIM, 1, "abc");
        registry.onCommand(10, ++time, buffer, 0, length - 1);
        buffer.putInt(0, 999);
        registry.onCommand(10, ++time, buffer, 0, 8);
        registry.onCommand(10, ++time, buffer, 0, 2);
        final byte[] m = message("t", 5);
        final int r = RegistryCommands.encodeRetained(buffer, 0, new UnsafeBuffer(m), 0, m.length);
        registry.onCommand(10, ++time, buffer, 0, r - 1);
        assertEquals(5, registry.commandsIgnored());
        assertEquals(0, registry.ownerCount());
    }

    @Test
    void snapshotRoundTripsTheWholeStateAndReplaysItAsEvents()
    {
        hello(10, 1);
        hello(20, 2);
        command(10, RegistryCommands.CLAIM, 1, "ü-client");
        command(20, RegistryCommands.ROUTE_ADD, 1, "$share/g/a/#");
        command(20, RegistryCommands.ROUTE_ADD, 1, "$share/g/a/#");
        retained(20, "r", 3);
        final ExpandableArrayBuffer snapshot = new ExpandableArrayBuffer();
        final int length = registry.encodeSnapshot(snapshot);
        final RecordingEvents replayed = new RecordingEvents();
        final Registry copy = new Registry(1, 100, replayed);
        copy.loadSnapshot(snapshot, 0, length);
        assertEquals(registry.stateHash(), copy.stateHash());
        assertEquals(List.of(), replayed.take());
        copy.replayState();
        assertEquals(List.of("up 1", "up 2", "claimed 0 ü-client 1 1 -1 0", "route $share/g/a/# 2 true",
            "retained 2 r 18"), replayed.take());
        assertEquals(2, copy.routeCount("$share/g/a/#", 2));
        // the copy goes on exactly like the original
        registry.onSessionClosed(20, 100);
        copy.onSessionClosed(20, 100);
        assertEquals(registry.stateHash(), copy.stateHash());
        assertNotEquals(0, registry.stateHash());
    }
}
