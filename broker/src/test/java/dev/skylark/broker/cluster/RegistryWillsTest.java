package dev.skylark.broker.cluster;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.agrona.concurrent.NoOpIdleStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.skylark.broker.routing.ClusterLink.NO_NODE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The wills of a dead node's clients in the registry (issue 19): set and cleared by the owning node under its claim's
 * epoch, due at the node-down log time plus the delay (capped by the session expiry), cancelled by a claim before then,
 * published once as {@code onWillDue} naming the heir; held in a snapshot section; a function of the log.
 */
@Timeout(30)
class RegistryWillsTest
{
    /** {@link RecordingEvents} that also records due wills. */
    static final class WillEvents extends RecordingEvents
    {
        @Override
        public void onWillDue(
            final String clientId, final int publisherNodeId, final DirectBuffer message, final int offset,
            final int length)
        {
            final int topicLength = message.getShort(offset + 4) & 0xFFFF;
            lines.add("will " + clientId + " by " + publisherNodeId + " " +
                message.getStringWithoutLengthUtf8(offset + 6, topicLength) + " " + length);
        }

        List<String> wills()
        {
            final List<String> wills = new ArrayList<>();
            for (final String line : take())
            {
                if (line.startsWith("will "))
                {
                    wills.add(line);
                }
            }
            return wills;
        }
    }

    private final WillEvents events = new WillEvents();
    private final Registry registry = new Registry(1, 200, events);
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);

    private void hello(final long session, final int node, final long time)
    {
        registry.onCommand(session, time, buffer, 0, RegistryCommands.encodeHello(buffer, 0, node));
    }

    private void claim(final long session, final String clientId, final long time)
    {
        registry.onCommand(session, time, buffer, 0,
            RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.CLAIM, 0, clientId));
    }

    private void release(final long session, final String clientId, final long epoch, final long time)
    {
        registry.onCommand(session, time, buffer, 0,
            RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.RELEASE, epoch, clientId));
    }

    private void will(
        final long session, final String clientId, final long epoch, final long delay, final long expiry,
        final String topic, final int payloadLength, final long time)
    {
        final byte[] m = topic == null ? new byte[0] : RegistryTest.message(topic, payloadLength);
        registry.onCommand(session, time, buffer, 0, RegistryCommands.encodeWill(
            buffer, 0, clientId, epoch, delay, expiry, new UnsafeBuffer(m), 0, m.length));
    }

    /** Nodes 1, 2, 3 on sessions 10, 20, 30; "a" claimed by node 1 (epoch 1). */
    private void threeNodesAndAClientOnNode1()
    {
        hello(10, 1, 1);
        hello(20, 2, 2);
        hello(30, 3, 3);
        claim(10, "a", 4);
        events.take();
        assertEquals(1, registry.epoch("a"));
    }

    @Test
    void theOwnerSetsAndClearsAWillUnderItsEpoch()
    {
        threeNodesAndAClientOnNode1();
        will(10, "a", 1, 0, 0, "w/a", 5, 5);
        assertEquals(1, registry.willCount());
        assertEquals(RegistryTest.message("w/a", 5).length, registry.willBytes());
        will(10, "a", 1, 0, 0, null, 0, 6); // empty: clear
        assertEquals(0, registry.willCount());
        assertEquals(0, registry.willBytes());
        registry.onSessionClosed(10, 7);
        assertEquals(List.of(), events.wills(), "a cleared will never goes");
    }

    @Test
    void aSetFromANodeThatDoesNotOwnTheClientOrUnderAnotherEpochIsIgnored()
    {
        threeNodesAndAClientOnNode1();
        final long ignored = registry.commandsIgnored();
        will(20, "a", 1, 0, 0, "w/a", 5, 5); // node 2 does not own "a"
        will(10, "a", 2, 0, 0, "w/a", 5, 6); // not the current epoch
        will(10, "b", 1, 0, 0, "w/b", 5, 7); // nobody owns "b"
        assertEquals(0, registry.willCount());
        assertEquals(ignored + 3, registry.commandsIgnored());
        will(10, "a", 1, 0, 0, "w/a", 5, 8);
        will(10, "a", 7, 0, 0, null, 0, 9); // a clear under another epoch: ignored
        assertEquals(1, registry.willCount());
    }

    @Test
    void aWillWithoutDelayIsPublishedByTheHeirWhenItsNodeGoesDown()
    {
        threeNodesAndAClientOnNode1();
        will(10, "a", 1, 0, 30, "w/a", 5, 5);
        registry.onSessionClosed(10, 1000);
        assertEquals(List.of("down 1 heir 2", "claimed 0 a 2 2 1 1", "inherited 1 heir 2",
            "will a by 2 w/a " + RegistryTest.message("w/a", 5).length), events.take(),
            "the heir inherits the client id (a move, not a claim: the will stays), then publishes the will");
        assertEquals(0, registry.willCount());
        assertEquals(0, registry.willBytes());
        assertEquals(1, registry.willsPublished());
        registry.onTimer(999_999);
        claim(20, "a", 1_000_000);
        assertEquals(List.of(), events.wills(), "published once");
    }

    @Test
    void aDelayedWillIsDueAtTheNodeDownTimePlusItsDelayAndNotBefore()
    {
        threeNodesAndAClientOnNode1();
        will(10, "a", 1, 5, 60, "w/a", 5, 5);
        will(10, "a", 1, 5, 60, "w/a", 5, 6); // set again: replaced, still one
        assertEquals(1, registry.willCount());
        registry.onSessionClosed(10, 1000);
        assertEquals(List.of(), events.wills());
        assertEquals(6000, registry.nextWillDue());
        assertEquals(1, registry.dueWillCount());
        registry.onTimer(5999); // boundary - 1
        assertEquals(List.of(), events.wills());
        registry.onTimer(6000);
        assertEquals(List.of("will a by 2 w/a " + RegistryTest.message("w/a", 5).length), events.wills());
        assertEquals(Registry.NOT_DUE, registry.nextWillDue());
        registry.onTimer(6001);
        assertEquals(List.of(), events.wills());
    }

    @Test
    void theSessionExpiryCapsTheDelay()
    {
        threeNodesAndAClientOnNode1();
        will(10, "a", 1, 60, 2, "w/a", 5, 5);
        registry.onSessionClosed(10, 1000);
        assertEquals(3000, registry.nextWillDue());
    }

    @Test
    void aClaimBeforeTheWillIsDueCancelsIt()
    {
        threeNodesAndAClientOnNode1();
        will(10, "a", 1, 5, 60, "w/a", 5, 5);
        registry.onSessionClosed(10, 1000);
        claim(30, "a", 5999); // the client reconnected (on node 3) within the delay
        assertEquals(0, registry.willCount());
        assertEquals(Registry.NOT_DUE, registry.nextWillDue());
        registry.onTimer(6000);
        assertEquals(List.of(), events.wills());
    }

    @Test
    void aClaimAtOrAfterTheDueTimeComesAfterTheWill()
    {
        threeNodesAndAClientOnNode1();
        will(10, "a", 1, 5, 60, "w/a", 5, 5);
        registry.onSessionClosed(10, 1000);
        events.take();
        claim(30, "a", 6000); // applied before the timer: the will was due first
        final List<String> lines = events.take();
        assertEquals(2, lines.size());
        assertEquals("will a by 2 w/a " + RegistryTest.message("w/a", 5).length, lines.get(0));
        assertEquals("claimed 0 a 3 3 2 2", lines.get(1), "from the heir, which inherited it under epoch 2");
    }

    @Test
    void aReleaseByTheOwnerDropsTheWillAndAStaleOneDoesNot()
    {
        threeNodesAndAClientOnNode1();
        will(10, "a", 1, 5, 60, "w/a", 5, 5);
        release(10, "a", 7, 6); // stale epoch
        assertEquals(1, registry.willCount());
        release(10, "a", 1, 7);
        assertEquals(0, registry.willCount());
    }

    @Test
    void onlyTheDeadNodesWillsBecomeDue()
    {
        threeNodesAndAClientOnNode1();
        claim(20, "b", 5); // epoch 2 on node 2
        will(10, "a", 1, 5, 60, "w/a", 5, 6);
        will(20, "b", 2, 5, 60, "w/b", 5, 7);
        registry.onSessionClosed(10, 1000);
        assertEquals(1, registry.dueWillCount());
        registry.onTimer(100_000);
        assertEquals(List.of("will a by 2 w/a " + RegistryTest.message("w/a", 5).length), events.wills());
        assertEquals(1, registry.willCount(), "b's node lives");
    }

    @Test
    void whenTheHeirIsDownTooTheNextLiveNodePublishes()
    {
        threeNodesAndAClientOnNode1();
        will(10, "a", 1, 5, 60, "w/a", 5, 5);
        registry.onSessionClosed(10, 1000); // heir: node 2
        registry.onSessionClosed(20, 2000); // the heir dies within the delay
        registry.onTimer(6000);
        assertEquals(List.of("will a by 3 w/a " + RegistryTest.message("w/a", 5).length), events.wills());
    }

    @Test
    void aNodeThatLeavesCleanlyTakesItsClientsWillsWithItUnpublished()
    {
        threeNodesAndAClientOnNode1();
        claim(20, "b", 5); // epoch 2 on node 2
        will(10, "a", 1, 0, 60, "w/a", 5, 6);
        will(20, "b", 2, 0, 60, "w/b", 5, 7);
        registry.onNodeLeaving(10); // node 1 closed its registry session itself (a shutdown)
        registry.onSessionClosed(10, 1000);
        registry.onTimer(100_000);
        assertEquals(List.of(), events.wills(), "a clean leave publishes no wills, as a single broker's shutdown");
        assertEquals(1, registry.willCount(), "node 2's client keeps its will");
        registry.onSessionClosed(20, 101_000); // node 2 dies
        assertEquals(List.of("will b by 3 w/b " + RegistryTest.message("w/b", 5).length), events.wills());
    }

    @Test
    void aWillWithNoLiveNodeToPublishItIsDroppedAndCounted()
    {
        hello(10, 1, 1);
        claim(10, "a", 2);
        will(10, "a", 1, 0, 0, "w/a", 5, 3);
        events.take();
        registry.onSessionClosed(10, 1000);
        assertEquals(List.of(), events.wills());
        assertEquals(1, registry.willsRefused());
        assertEquals(0, registry.willCount());
    }

    @Test
    void willsPastTheCapAreRefusedAndCounted()
    {
        threeNodesAndAClientOnNode1();
        claim(10, "b", 5); // epoch 2
        final int big = 200 - RegistryTest.message("w/a", 0).length; // exactly the cap of 200 bytes
        will(10, "a", 1, 0, 0, "w/a", big, 6);
        assertEquals(200, registry.willBytes());
        will(10, "b", 2, 0, 0, "w/b", 0, 7); // one byte past
        assertEquals(1, registry.willsRefused());
        assertEquals(1, registry.willCount());
        will(10, "a", 1, 0, 0, "w/a", big - 1, 8); // replacing frees its own bytes
        assertEquals(199, registry.willBytes());
        will(10, "a", 1, 0, 0, null, 0, 9);
        assertEquals(0, registry.willBytes());
    }

    @Test
    void aMalformedWillIsIgnored()
    {
        threeNodesAndAClientOnNode1();
        final long ignored = registry.commandsIgnored();
        final int length = RegistryCommands.encodeWill(buffer, 0, "a", 1, 0, 0,
            new UnsafeBuffer(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9}), 0, 9);
        registry.onCommand(10, 5, buffer, 0, length);
        buffer.putInt(RegistryCommands.WILL_CLIENT_ID_LENGTH_OFFSET, 1000); // client id past the end
        registry.onCommand(10, 6, buffer, 0, length);
        assertEquals(ignored + 2, registry.commandsIgnored());
        assertEquals(0, registry.willCount());
    }

    @Test
    void pendingAndDueWillsSurviveASnapshot()
    {
        threeNodesAndAClientOnNode1();
        claim(20, "b", 5); // epoch 2 on node 2
        will(10, "a", 1, 5, 60, "w/a", 5, 6);
        will(20, "b", 2, 7, 60, "w/b", 3, 7);
        registry.onSessionClosed(10, 1000);
        final ExpandableArrayBuffer snapshot = new ExpandableArrayBuffer();
        final int length = registry.encodeSnapshot(snapshot);
        final WillEvents restoredEvents = new WillEvents();
        final Registry restored = new Registry(1, 200, restoredEvents);
        restored.loadSnapshot(snapshot, 0, length);
        assertEquals(registry.stateHash(), restored.stateHash());
        assertEquals(2, restored.willCount());
        assertEquals(6000, restored.nextWillDue());
        assertEquals(registry.willBytes(), restored.willBytes());
        restored.onTimer(6000);
        assertEquals(List.of("will a by 2 w/a " + RegistryTest.message("w/a", 5).length), restoredEvents.wills());
        restored.onSessionClosed(20, 7000); // b's node dies later: due at 14000, its heir is node 3
        restored.onTimer(14_000);
        assertEquals(List.of("will b by 3 w/b " + RegistryTest.message("w/b", 3).length), restoredEvents.wills());
    }

    @Test
    void aDueWillCarriesThePublishersSessionAndANodeActsOnlyOnItsCurrentOne()
    {
        final OneToOneRingBuffer ring = new OneToOneRingBuffer(
            new UnsafeBuffer(new byte[64 * 1024 + RingBufferDescriptor.TRAILER_LENGTH]));
        final RegistryEvents.Writer writer =
            new RegistryEvents.Writer(ring, NoOpIdleStrategy.INSTANCE, () -> true, () -> { })
                .sessions(registry::sessionOf);
        registry.events(writer);
        threeNodesAndAClientOnNode1();
        claim(10, "b", 5);
        will(10, "a", 1, 0, 0, "w/a", 5, 6);
        will(10, "b", 2, 0, 0, "w/b", 5, 7);
        registry.onSessionClosed(10, 1000); // both due at once, published by node 2 (registry session 20)

        final RegistryEvents.Reader reader = new RegistryEvents.Reader();
        final long[] current = {20};
        reader.self(2, () -> current[0]);
        final WillEvents node2 = new WillEvents();
        reader.read(ring, node2, 100);
        final int willLength = RegistryTest.message("w/a", 5).length;
        assertEquals(List.of("will a by 2 w/a " + willLength, "will b by 2 w/b " + willLength), node2.wills());

        // The same events replayed to node 2 in a later run (registry session 21): it publishes nothing again.
        final Registry again = new Registry(2, 200, null);
        again.events(new RegistryEvents.Writer(ring, NoOpIdleStrategy.INSTANCE, () -> true, () -> { })
            .sessions(again::sessionOf));
        again.onCommand(10, 1, buffer, 0, RegistryCommands.encodeHello(buffer, 0, 1));
        again.onCommand(20, 2, buffer, 0, RegistryCommands.encodeHello(buffer, 0, 2));
        again.onCommand(10, 4, buffer, 0,
            RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.CLAIM, 0, "a"));
        final byte[] m = RegistryTest.message("w/a", 5);
        again.onCommand(10, 6, buffer, 0, RegistryCommands.encodeWill(
            buffer, 0, "a", 1, 0, 0, new UnsafeBuffer(m), 0, m.length));
        again.onSessionClosed(10, 1000);
        current[0] = 21;
        final WillEvents replayed = new WillEvents();
        reader.read(ring, replayed, 100);
        assertEquals(List.of("will a by " + NO_NODE + " w/a " + willLength), replayed.wills(),
            "told with no publisher: nobody acts");
        // Node 3 sees node 2's will as it is.
        final RegistryEvents.Reader node3Reader = new RegistryEvents.Reader();
        node3Reader.self(3, () -> 30);
        again.onCommand(20, 1001, buffer, 0,
            RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.CLAIM, 0, "c"));
        final byte[] c = RegistryTest.message("w/c", 1);
        again.onCommand(20, 1002, buffer, 0, RegistryCommands.encodeWill(
            buffer, 0, "c", again.epoch("c"), 0, 0, new UnsafeBuffer(c), 0, c.length)); // epoch 3: node down took 2
        again.onCommand(30, 1003, buffer, 0, RegistryCommands.encodeHello(buffer, 0, 3));
        again.onSessionClosed(20, 2000); // heir: node 3
        final WillEvents node3 = new WillEvents();
        node3Reader.read(ring, node3, 100);
        assertEquals(List.of("will c by 3 w/c " + c.length), node3.wills());
    }

    // ---- determinism ----

    /** A log with wills: commands, session closes (command null, timer false) and timer events (timer true). */
    record Entry(long session, long timestamp, byte[] command, boolean timer)
    {
        void applyTo(final Registry registry)
        {
            if (timer)
            {
                registry.onTimer(timestamp);
            }
            else if (command == null)
            {
                registry.onSessionClosed(session, timestamp);
            }
            else
            {
                registry.onCommand(session, timestamp, new UnsafeBuffer(command), 0, command.length);
            }
        }
    }

    static List<Entry> randomLog(final long seed, final int size)
    {
        final Random random = new Random(seed);
        final List<Entry> log = new ArrayList<>();
        final Registry model = new Registry(0, Long.MAX_VALUE, new WillEvents()); // to set wills of live owners
        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer();
        final long[] sessions = {1, 2, 3};
        long nextSession = 4;
        long time = 1000;
        for (int node = 0; node < 3; node++)
        {
            final int length = RegistryCommands.encodeHello(buffer, 0, node);
            final byte[] command = new byte[length];
            buffer.getBytes(0, command);
            log.add(new Entry(sessions[node], time++, command, false));
            log.get(log.size() - 1).applyTo(model);
        }
        for (int i = 0; i < size; i++)
        {
            int node = random.nextInt(3);
            time += random.nextInt(400);
            final int pick = random.nextInt(100);
            int length;
            if (pick < 4)
            {
                log.add(new Entry(sessions[node], time, null, false));
                log.get(log.size() - 1).applyTo(model);
                sessions[node] = nextSession++;
                length = RegistryCommands.encodeHello(buffer, 0, node);
            }
            else if (pick < 12)
            {
                log.add(new Entry(0, time, null, true));
                log.get(log.size() - 1).applyTo(model);
                continue;
            }
            else if (pick < 40)
            {
                length = RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.CLAIM, i,
                    "client-" + random.nextInt(30));
            }
            else if (pick < 50)
            {
                length = RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.RELEASE,
                    random.nextInt(i + 1), "client-" + random.nextInt(30));
            }
            else
            {
                // mostly from the owner under its epoch (sometimes a stale one), so that many sets count
                final String clientId = "client-" + random.nextInt(30);
                final int owner = model.owner(clientId);
                if (owner != NO_NODE && model.isLive(owner))
                {
                    node = owner;
                }
                final byte[] m = random.nextInt(5) == 0 ? new byte[0] : RegistryTest.message("w/" + i, 10);
                length = RegistryCommands.encodeWill(buffer, 0, clientId,
                    model.epoch(clientId) - (random.nextInt(6) == 0 ? 1 : 0), random.nextInt(3), 1 + random.nextInt(5),
                    new UnsafeBuffer(m), 0, m.length);
            }
            final byte[] command = new byte[length];
            buffer.getBytes(0, command);
            log.add(new Entry(sessions[node], time, command, false));
            log.get(log.size() - 1).applyTo(model);
        }
        return log;
    }

    private static Registry replay(final List<Entry> log, final int from, final int to, final Registry registry)
    {
        for (int i = from; i < to; i++)
        {
            log.get(i).applyTo(registry);
        }
        return registry;
    }

    @Test
    void theSameLogWithWillsGivesTheSameStateAndTheSameDueWills()
    {
        final List<Entry> log = randomLog(42, 5000);
        final WillEvents a = new WillEvents();
        final WillEvents b = new WillEvents();
        final Registry first = replay(log, 0, log.size(), new Registry(0, 100_000, a));
        final Registry second = replay(log, 0, log.size(), new Registry(0, 100_000, b));
        assertEquals(first.stateHash(), second.stateHash());
        assertEquals(a.lines, b.lines);
        assertNotEquals(0, first.willsPublished(), "the log makes some wills due");
        final Registry other = replay(randomLog(43, 5000), 0, 5000, new Registry(0, 100_000, new WillEvents()));
        assertNotEquals(first.stateHash(), other.stateHash(), "the hash sees the state");
    }

    @Test
    void aSnapshotPlusTheRestOfTheLogGivesTheSameStateAndDueWillsAsTheWholeLog()
    {
        final List<Entry> log = randomLog(7, 5000);
        final WillEvents all = new WillEvents();
        final Registry whole = new Registry(0, 100_000, all);
        final List<Integer> linesAt = new ArrayList<>();
        for (final Entry entry : log)
        {
            linesAt.add(all.lines.size());
            entry.applyTo(whole);
        }
        linesAt.add(all.lines.size());
        for (final int cut : new int[] {0, 1, 999, 2500, 4999, log.size()})
        {
            final Registry head = replay(log, 0, cut, new Registry(0, 100_000, new WillEvents()));
            final ExpandableArrayBuffer snapshot = new ExpandableArrayBuffer();
            final int length = head.encodeSnapshot(snapshot);
            final WillEvents rest = new WillEvents();
            final Registry restored = new Registry(0, 100_000, rest);
            restored.loadSnapshot(snapshot, 0, length);
            replay(log, cut, log.size(), restored);
            assertEquals(whole.stateHash(), restored.stateHash(), "snapshot at " + cut);
            final List<String> expected = new ArrayList<>();
            for (final String line : all.lines.subList(linesAt.get(cut), all.lines.size()))
            {
                if (line.startsWith("will "))
                {
                    expected.add(line);
                }
            }
            assertEquals(expected, rest.wills(), "due wills after a snapshot at " + cut);
        }
    }
}
