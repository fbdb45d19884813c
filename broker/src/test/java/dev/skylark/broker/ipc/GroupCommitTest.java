package dev.skylark.broker.ipc;

import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Group commit with {@code durability=fsync}: the journal agent syncs once per batch it polls, so one sync covers
 * every record appended before it, not one sync per message. Deterministic: every record is on the IPC stream before
 * the agent starts, so its batches are full (up to its poll limit of 256) and the count of syncs is exact.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GroupCommitTest
{
    private static final int RECORDS = 1_000;
    private static final int BATCH = 256; // JournalAgent.FRAGMENT_LIMIT

    @TempDir
    Path dataDir;

    @Test
    void oneSyncCoversEveryRecordAppendedBeforeIt()
    {
        final AtomicLongArray last = new AtomicLongArray(2); // records appended, syncs
        try (IpcDurableLog log = new IpcDurableLog(dataDir, true, 64 * 1024, () -> { }, new SystemNanoClock()))
        {
            log.metrics((appendNs, bytes, generation, lag, records, syncs) ->
            {
                last.set(0, records);
                last.set(1, syncs);
            });
            log.beginCheckpoint(); // the journal takes records once a checkpoint has begun
            log.endCheckpoint();
            final UnsafeBuffer record = new UnsafeBuffer(new byte[100]);
            long sequence = 0;
            for (int i = 0; i < RECORDS; i++)
            {
                record.putInt(0, i);
                sequence = log.append(record, 0, 100);
            }
            assertEquals(0, log.durableSequence(), "nothing durable before the agent runs");

            log.start();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (log.durableSequence() < sequence || last.get(0) < RECORDS)
            {
                log.doWork();
                assertTrue(System.nanoTime() < deadline, "durable within 30 s");
                Thread.onSpinWait();
            }
        }
        final long syncs = last.get(1);
        // Checkpoint begin + end and 1,000 records on the stream: ceil(1,002 / 256) = 4 batches, so at most 4 syncs
        // for the records plus the checkpoint's own; one sync per record would be 1,000.
        final long batches = (RECORDS + 2 + BATCH - 1) / BATCH;
        assertEquals(RECORDS, last.get(0));
        assertTrue(syncs >= 1 && syncs <= batches + 1, "syncs " + syncs + " for " + RECORDS + " records, bound " +
            (batches + 1));
    }

    @Test
    void osModeNeverSyncs()
    {
        final AtomicLongArray last = new AtomicLongArray(2);
        try (IpcDurableLog log = new IpcDurableLog(dataDir, false, 64 * 1024, () -> { }, new SystemNanoClock()))
        {
            log.metrics((appendNs, bytes, generation, lag, records, syncs) ->
            {
                last.set(0, records);
                last.set(1, syncs);
            });
            log.beginCheckpoint();
            log.endCheckpoint();
            final UnsafeBuffer record = new UnsafeBuffer(new byte[10]);
            long sequence = 0;
            for (int i = 0; i < 10; i++)
            {
                sequence = log.append(record, 0, 10);
            }
            log.start();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (log.durableSequence() < sequence || last.get(0) < 10)
            {
                log.doWork();
                assertTrue(System.nanoTime() < deadline, "durable within 30 s");
                Thread.onSpinWait();
            }
        }
        assertEquals(10, last.get(0));
        assertEquals(0, last.get(1), "durability=os leaves write-back to the OS");
    }
}
