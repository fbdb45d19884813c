package dev.skylark.broker.cluster;

import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The registry is a function of its log: replay, and snapshot + rest of the log, give the same state hash. */
@Timeout(30)
class RegistryDeterminismTest
{
    /** One log entry: a command from a session, or a session close. */
    record Entry(long session, long timestamp, byte[] command)
    {
        void applyTo(final Registry registry)
        {
            if (command == null)
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
        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer();
        final long[] sessions = {1, 2, 3};
        long nextSession = 4;
        for (int i = 0; i < size; i++)
        {
            final int node = random.nextInt(3);
            final long timestamp = 1000 + i;
            final int pick = random.nextInt(100);
            int length;
            if (pick < 3)
            {
                log.add(new Entry(sessions[node], timestamp, null));
                sessions[node] = nextSession++;
                length = RegistryCommands.encodeHello(buffer, 0, node);
            }
            else if (pick < 6)
            {
                length = RegistryCommands.encodeHello(buffer, 0, node);
            }
            else if (pick < 35)
            {
                length = RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.CLAIM, i,
                    "client-" + random.nextInt(50));
            }
            else if (pick < 45)
            {
                length = RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.RELEASE,
                    random.nextInt(i + 1), "client-" + random.nextInt(50));
            }
            else if (pick < 70)
            {
                length = RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.ROUTE_ADD, i,
                    "t/" + random.nextInt(20) + "/#");
            }
            else if (pick < 90)
            {
                length = RegistryCommands.encodeLongString(buffer, 0, RegistryCommands.ROUTE_REMOVE, i,
                    "t/" + random.nextInt(20) + "/#");
            }
            else
            {
                final byte[] m = RegistryTest.message("r/" + random.nextInt(10), random.nextInt(3) * 30);
                length = RegistryCommands.encodeRetained(buffer, 0, new UnsafeBuffer(m), 0, m.length);
            }
            final byte[] command = new byte[length];
            buffer.getBytes(0, command);
            log.add(new Entry(sessions[node], timestamp, command));
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
    void theSameLogGivesTheSameStateHashAndTheSameEvents()
    {
        final List<Entry> log = randomLog(42, 5000);
        final RecordingEvents a = new RecordingEvents();
        final RecordingEvents b = new RecordingEvents();
        final Registry first = replay(log, 0, log.size(), new Registry(0, 1000, a));
        final Registry second = replay(log, 0, log.size(), new Registry(0, 1000, b));
        assertEquals(first.stateHash(), second.stateHash());
        assertEquals(a.lines, b.lines);
        org.junit.jupiter.api.Assertions.assertTrue(a.lines.stream().anyMatch((l) -> l.startsWith("inherited")),
            "the log has nodes going down with an heir");
        final Registry other = replay(randomLog(43, 5000), 0, 5000, new Registry(0, 1000, new RecordingEvents()));
        assertNotEquals(first.stateHash(), other.stateHash(), "the hash sees the state");
    }

    @Test
    void snapshotPlusTheRestOfTheLogGivesTheSameHashAsTheWholeLog()
    {
        final List<Entry> log = randomLog(7, 5000);
        final Registry whole = replay(log, 0, log.size(), new Registry(0, 1000, new RecordingEvents()));
        for (final int cut : new int[] {0, 1, 999, 2500, 4999, 5000})
        {
            final Registry head = replay(log, 0, cut, new Registry(0, 1000, new RecordingEvents()));
            final ExpandableArrayBuffer snapshot = new ExpandableArrayBuffer();
            final int length = head.encodeSnapshot(snapshot);
            final Registry restored = new Registry(0, 1000, new RecordingEvents());
            restored.loadSnapshot(snapshot, 0, length);
            replay(log, cut, log.size(), restored);
            assertEquals(whole.stateHash(), restored.stateHash(), "snapshot at " + cut);
        }
    }
}
