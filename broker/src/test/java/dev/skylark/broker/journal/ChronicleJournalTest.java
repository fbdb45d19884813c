package dev.skylark.broker.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generations, checkpoints and the cut of a corrupt tail, without the broker. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ChronicleJournalTest
{
    @TempDir
    Path dir;

    private static UnsafeBuffer text(final String s)
    {
        return new UnsafeBuffer(s.getBytes(StandardCharsets.UTF_8));
    }

    private List<String> replay(final ChronicleJournal journal)
    {
        final List<String> records = new ArrayList<>();
        journal.replay((buffer, offset, length) -> records.add(buffer.getStringWithoutLengthUtf8(offset, length)));
        return records;
    }

    @Test
    void replaysTheLatestCheckpointAndWhatFollows()
    {
        try (ChronicleJournal journal = new ChronicleJournal(dir, false))
        {
            assertEquals(List.of(), replay(journal));
            journal.beginCheckpoint();
            journal.append(text("old-state"), 0, 9);
            journal.endCheckpoint();
            journal.append(text("a"), 0, 1);
            journal.beginCheckpoint();
            journal.append(text("state"), 0, 5);
            journal.endCheckpoint();
            journal.append(text("b"), 0, 1);
            assertEquals(1, journal.generationCount(), "the older generation is deleted once the checkpoint ends");
        }
        try (ChronicleJournal journal = new ChronicleJournal(dir, true))
        {
            assertEquals(List.of("state", "b"), replay(journal));
        }
    }

    @Test
    void anUnfinishedCheckpointIsIgnored()
    {
        try (ChronicleJournal journal = new ChronicleJournal(dir, false))
        {
            replay(journal);
            journal.beginCheckpoint();
            journal.append(text("state"), 0, 5);
            journal.endCheckpoint();
            journal.append(text("a"), 0, 1);
            journal.beginCheckpoint(); // the broker dies while writing the next checkpoint
            journal.append(text("partial"), 0, 7);
        }
        try (ChronicleJournal journal = new ChronicleJournal(dir, false))
        {
            assertEquals(List.of("state", "a"), replay(journal));
            assertEquals(1, journal.generationCount(), "the unfinished generation is deleted");
        }
    }

    @Test
    void aCorruptRecordIsSkippedItsGenerationQuarantinedAndTheBrokerStarts() throws Exception
    {
        try (ChronicleJournal journal = new ChronicleJournal(dir, false))
        {
            replay(journal);
            journal.beginCheckpoint();
            journal.endCheckpoint();
            journal.append(text("good"), 0, 4);
            journal.appendCorrupt(text("evil"), 0, 4);
            journal.append(text("after"), 0, 5);
        }
        try (ChronicleJournal journal = new ChronicleJournal(dir, false))
        {
            // Skipped, counted, and the records after it still replayed (the tail used to be cut and then deleted).
            assertEquals(List.of("good", "after"), replay(journal));
            assertEquals(1, journal.recordsSkipped());
            assertEquals(1, journal.generationsQuarantined());
            assertTrue(Files.isDirectory(dir.resolve("quarantine").resolve("gen-0000000001")));
            // The next start writes a new generation: the damaged one goes once its checkpoint ends, its copy stays.
            journal.beginCheckpoint();
            journal.append(text("good"), 0, 4);
            journal.append(text("after"), 0, 5);
            journal.endCheckpoint();
            journal.append(text("next"), 0, 4);
        }
        try (ChronicleJournal journal = new ChronicleJournal(dir, false))
        {
            assertEquals(List.of("good", "after", "next"), replay(journal));
            assertEquals(1, journal.generationCount());
            assertEquals(0, journal.recordsSkipped());
            assertTrue(Files.isDirectory(dir.resolve("quarantine").resolve("gen-0000000001")));
        }
    }

    @Test
    void withNoCompleteGenerationNothingIsDeleted() throws Exception
    {
        try (ChronicleJournal journal = new ChronicleJournal(dir, false))
        {
            replay(journal);
            journal.beginCheckpoint();
            journal.append(text("owed"), 0, 4);
            journal.appendCorrupt(text("end?"), 0, 4); // the checkpoint's end marker, damaged
            journal.append(text("later"), 0, 5);
        }
        try (ChronicleJournal journal = new ChronicleJournal(dir, false))
        {
            // Best effort from the newest damaged generation; its original kept in quarantine.
            assertEquals(List.of("owed", "later"), replay(journal));
            assertEquals(1, journal.generationsQuarantined());
            journal.beginCheckpoint();
            journal.endCheckpoint();
        }
        assertTrue(Files.isDirectory(dir.resolve("quarantine").resolve("gen-0000000001")));
    }
}
