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
 * Group commit with {@code durability=fsync}: the journal agent drains what waits on the stream, then syncs once, so
 * one sync covers every record appended before it — not one sync per message, nor one per poll. Deterministic: every
 * record is on the IPC stream before the agent starts.
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
        // Checkpoint begin + end and 1,000 records on the stream: the checkpoint's end syncs once, then one sync
        // covers all 1,000 records that were waiting — not one per poll of 256 (5 syncs), nor one per record (1,000).
        assertEquals(RECORDS, last.get(0));
        assertTrue(syncs >= 1 && syncs <= 2, "syncs " + syncs + " for " + RECORDS + " records (" +
            ((RECORDS + BATCH - 1) / BATCH) + " polls of " + BATCH + ")");
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
