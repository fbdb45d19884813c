package dev.skylark.broker.journal;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One broker per data directory: a second start on the same directory is refused before it touches anything. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DataDirectoryLockTest
{
    @TempDir
    Path dataDir;

    private Broker.Context context()
    {
        return new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .dataDir(dataDir.toString()).durability("os").ioThreads(1);
    }

    @Test
    void secondBrokerOnTheSameDirectoryIsRefusedAndTouchesNothing() throws Exception
    {
        try (Broker first = Broker.launch(context()))
        {
            // The journal agent appends the start-up checkpoint on its own thread: wait until its file is there.
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (listing(dataDir.resolve("journal")).stream().noneMatch(n -> n.contains(".cq4:")))
            {
                assertTrue(System.nanoTime() - deadlineNs < 0, "no journal file appeared");
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            final List<String> before = listing(dataDir.resolve("journal"));
            final long countersModified = Files.getLastModifiedTime(dataDir.resolve("skylark-counters.dat")).toMillis();

            final DataDirectoryLock.DataDirectoryLockedException refused =
                assertThrows(DataDirectoryLock.DataDirectoryLockedException.class, () -> Broker.launch(context()));
            final String pid = String.valueOf(ProcessHandle.current().pid());
            assertEquals(pid, refused.holderPid());
            assertTrue(refused.getMessage().contains("pid " + pid), refused.getMessage());
            assertTrue(refused.getMessage().contains(dataDir.toAbsolutePath().toString()), refused.getMessage());

            // Nothing replayed, checkpointed or deleted: the running broker's generations and counters are untouched.
            assertEquals(before, listing(dataDir.resolve("journal")));
            assertEquals(countersModified,
                Files.getLastModifiedTime(dataDir.resolve("skylark-counters.dat")).toMillis());
            assertTrue(first.mqttPort() > 0);
            assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dataDir.resolve(DataDirectoryLock.FILE_NAME))));
        }
        // Released at close: the next broker starts.
        try (Broker next = Broker.launch(context()))
        {
            assertTrue(next.mqttPort() > 0);
        }
    }

    @Test
    void lockIsReleasedWhenTheHolderCloses()
    {
        final DataDirectoryLock lock = DataDirectoryLock.acquire(dataDir);
        assertThrows(DataDirectoryLock.DataDirectoryLockedException.class, () -> DataDirectoryLock.acquire(dataDir));
        lock.close();
        DataDirectoryLock.acquire(dataDir).close();
    }

    private static List<String> listing(final Path dir) throws Exception
    {
        try (Stream<Path> walk = Files.walk(dir))
        {
            return walk.map(p -> dir.relativize(p) + ":" + (Files.isRegularFile(p) ? p.toFile().length() : -1))
                .sorted().toList();
        }
    }
}
