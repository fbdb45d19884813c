package dev.skylark.broker.routing;

import dev.skylark.broker.ipc.IpcDurableLog;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real journal link (Aeron IPC into Chronicle Queue) sized for the default 1 MB packets takes records up to
 * {@link IpcDurableLog#maxRecordLength}: a 1 MB message with 100,000 persistent targets (1.2 MB of target list) is
 * written as several records, each within it, becomes durable, and reads back with every target and the message.
 */
class IpcJournalRecordSplitTest
{
    private static final int MAX_PACKET = 1024 * 1024;
    private static final int RECORD_SIZE = MAX_PACKET + 64 * 1024; // BrokerAgents.journalRecordSize
    private static final int TARGETS = 100_000;

    @TempDir
    Path dataDir;

    @Test
    void aMessagePastTheLinksLargestRecordIsWrittenInPartsThatAllFitAndReadBack() throws Exception
    {
        final int maxRecord = IpcDurableLog.maxRecordLength(RECORD_SIZE);
        final byte[] message = new byte[MAX_PACKET];
        message[0] = 42;
        message[MAX_PACKET - 1] = 43;
        final int[] ids = new int[1];
        try (IpcDurableLog log = new IpcDurableLog(dataDir, false, RECORD_SIZE, () -> { }, new SystemNanoClock()))
        {
            assertEquals(maxRecord, log.maxRecordLength());
            assertTrue(16L + TARGETS * 12L + MAX_PACKET > maxRecord, "one record would not fit: " + maxRecord);
            log.start();
            log.beginCheckpoint(); // the journal takes records once a checkpoint has begun
            log.endCheckpoint();
            final JournalRecord record = new JournalRecord(log);
            record.beginMessage(77, 0);
            for (int i = 0; i < TARGETS; i++)
            {
                record.addTarget(1_000 + i, 1, 0, ids, 0, 0);
            }
            final long sequence = record.endMessage(new UnsafeBuffer(message), 0, message.length);
            final long deadline = System.nanoTime() + 60_000_000_000L;
            while (log.durableSequence() < sequence)
            {
                log.doWork();
                assertTrue(System.nanoTime() < deadline, "durable within 60 s");
                Thread.onSpinWait();
            }
        }

        final long[] counts = new long[4]; // records, targets, longest record, message records
        final byte[] read = new byte[2];
        try (IpcDurableLog log = new IpcDurableLog(dataDir, false, RECORD_SIZE, () -> { }, new SystemNanoClock()))
        {
            log.replay((buffer, offset, length) ->
            {
                counts[0]++;
                counts[1] += buffer.getInt(offset + JournalRecord.MESSAGE_TARGET_COUNT_OFFSET);
                counts[2] = Math.max(counts[2], length);
                if (buffer.getByte(offset) == JournalRecord.MESSAGE)
                {
                    counts[3]++;
                    read[0] = buffer.getByte(offset + length - MAX_PACKET);
                    read[1] = buffer.getByte(offset + length - 1);
                }
                assertEquals(77, buffer.getLong(offset + JournalRecord.MESSAGE_ID_OFFSET));
            });
        }
        assertTrue(counts[0] >= 2, "several records: " + counts[0]);
        assertEquals(TARGETS, counts[1]);
        assertTrue(counts[2] <= maxRecord, counts[2] + " <= " + maxRecord);
        assertEquals(1, counts[3]);
        assertEquals(42, read[0]);
        assertEquals(43, read[1]);
    }
}
