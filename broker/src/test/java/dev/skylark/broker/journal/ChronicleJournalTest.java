package dev.skylark.broker.journal;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
    void aCorruptRecordCutsTheTailAndTheBrokerStarts()
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
            assertEquals(List.of("good"), replay(journal));
            // The next start writes a new generation: the damaged one goes once its checkpoint ends.
            journal.beginCheckpoint();
            journal.append(text("good"), 0, 4);
            journal.endCheckpoint();
            journal.append(text("next"), 0, 4);
        }
        try (ChronicleJournal journal = new ChronicleJournal(dir, false))
        {
            assertEquals(List.of("good", "next"), replay(journal));
            assertEquals(1, journal.generationCount());
        }
    }
}
