package dev.skylark.broker.cluster;

import org.agrona.ExpandableArrayBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ownership log ({@code skylark.cluster.ownership.log}, {@link OwnershipLog}) a registry writes, and the checker
 * over it ({@link OwnershipHistory}): a sound history passes, and each kind of fault it exists to catch fails.
 */
@Timeout(10)
class OwnershipLogTest
{
    @TempDir
    Path dir;

    /** Two registries fed the same log, each with its own ownership log, as two nodes would. */
    private final class Node
    {
        final Registry registry;
        final OwnershipLog log;
        final Path file;
        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);
        long position;

        Node(final int id)
        {
            registry = new Registry(id, 1000, new RecordingEvents());
            file = dir.resolve("ownership-" + id + ".log");
            log = new OwnershipLog(file.toFile(), id);
            log.afterApply(0, registry); // the service's onStart
        }

        void hello(final long session, final int node)
        {
            registry.onCommand(session, ++position, buffer, 0, RegistryCommands.encodeHello(buffer, 0, node));
            log.afterApply(position * 64, registry);
        }

        void command(final long session, final int type, final long value, final String text)
        {
            registry.onCommand(session, ++position, buffer, 0, RegistryCommands.encodeLongString(buffer, 0, type, value, text));
            log.afterApply(position * 64, registry);
        }

        void closed(final long session)
        {
            registry.onSessionClosed(session, ++position);
            log.afterApply(position * 64, registry);
        }

        List<String> lines() throws Exception
        {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        }
    }

    private static void script(final Node n)
    {
        n.hello(10, 0);
        n.hello(20, 1);
        n.command(10, RegistryCommands.CLAIM, 1, "a");
        n.command(20, RegistryCommands.CLAIM, 2, "b c%");
        n.command(20, RegistryCommands.CLAIM, 3, "a");       // taken over by node 1
        n.command(10, RegistryCommands.RELEASE, 1, "a");     // a stale release: ignored
        n.command(20, RegistryCommands.RELEASE, 2, "b c%");  // released
        n.command(10, RegistryCommands.ROUTE_ADD, 4, "x/#"); // no ownership change
        n.closed(10);
    }

    @Test
    void theLogHasEveryChangeInLogOrderWithEpochAndPreviousOwner() throws Exception
    {
        final Node n = new Node(0);
        script(n);
        final List<String> lines = n.lines();
        assertTrue(lines.get(0).startsWith("# node 0 pid "), lines.get(0));
        assertEquals(List.of("C 192 0 1 -1 0 a", "C 256 1 2 -1 0 b%20c%25", "C 320 1 3 0 1 a", "R 448 1 2 b%20c%25"),
            lines.subList(1, lines.size()));
        final OwnershipHistory.Result result = OwnershipHistory.check(List.of(n.file));
        assertTrue(result.ok(), result.summary());
        assertEquals(4, result.changes());
        assertEquals(2, result.clients());
    }

    @Test
    void nodesThatAppliedTheSameLogAgreeAndARestartFromASnapshotStartsWhereTheLogWas() throws Exception
    {
        final Node a = new Node(0);
        final Node b = new Node(1);
        script(a);
        script(b);
        // node 1 restarts from a snapshot taken at position 320 (owner of a: node 1, epoch 3; b c%: node 1, epoch 2)
        final Node c = new Node(2);
        Files.writeString(b.file, "# node 1 pid 2 started\nS 320 1 2 b%20c%25\nS 320 1 3 a\nR 448 1 2 b%20c%25\n",
            java.nio.file.StandardOpenOption.APPEND);
        final OwnershipHistory.Result result = OwnershipHistory.check(List.of(a.file, b.file, c.file));
        assertTrue(result.ok(), result.summary());
        assertEquals(4, result.runs());
    }

    @Test
    void twoOwnersInOneEpochFail() throws Exception
    {
        final Path file = dir.resolve("double.log");
        Files.writeString(file, "# node 0\nC 64 0 1 -1 0 a\n");
        final Path other = dir.resolve("double-other.log");
        // node 1's view: it believes it owns a in epoch 1 too (a move that kept the epoch)
        Files.writeString(other, "# node 1\nC 64 0 1 -1 0 a\nC 128 1 1 0 1 a\n");
        final OwnershipHistory.Result result = OwnershipHistory.check(List.of(file, other));
        assertFalse(result.ok());
        assertTrue(result.summary().contains("double ownership: client a owned by node 0 and node 1 in epoch 1"),
            result.summary());
        assertTrue(result.summary().contains("epoch did not rise"), result.summary());
    }

    @Test
    void nodesThatApplyOneEntryDifferentlyOrSkipOneFail() throws Exception
    {
        final Path a = dir.resolve("a.log");
        final Path b = dir.resolve("b.log");
        Files.writeString(a, "# node 0\nC 64 0 1 -1 0 x\nC 128 1 2 0 1 x\nC 192 0 3 -1 0 y\n");
        Files.writeString(b, "# node 1\nC 64 0 1 -1 0 x\nC 192 0 3 -1 0 y\nC 256 2 4 0 3 y\n");
        final OwnershipHistory.Result gap = OwnershipHistory.check(List.of(a, b));
        assertTrue(gap.summary().contains("b.log run 1 (node 1) missed the ownership change(s) at log position 128"),
            gap.summary());

        Files.writeString(b, "# node 1\nC 64 0 1 -1 0 x\nC 128 2 2 0 1 x\n");
        final OwnershipHistory.Result differ = OwnershipHistory.check(List.of(a, b));
        assertTrue(differ.summary().contains("log position 128 applied differently"), differ.summary());
        assertTrue(differ.summary().contains("double ownership: client x owned by node 1 and node 2 in epoch 2"),
            differ.summary());
    }

    @Test
    void aWrongPreviousOwnerOrAReleaseOfAnotherOwnerFailsAndACutLastLineIsForgiven() throws Exception
    {
        final Path a = dir.resolve("prev.log");
        Files.writeString(a, "# node 0\nC 64 0 1 -1 0 x\nC 128 1 2 2 1 x\nR 192 0 1 x\nC 256 0 3 -1");
        final OwnershipHistory.Result result = OwnershipHistory.check(List.of(a));
        final List<String> problems = new ArrayList<>(result.problems());
        assertEquals(2, problems.size(), result.summary());
        assertTrue(problems.get(0).contains("names previous owner 2@1 but the log had 0@1"), problems.get(0));
        assertTrue(problems.get(1).contains("release R 0 1 -1 0 x of an owner the log did not have (1@2)"),
            problems.get(1));
    }
}
