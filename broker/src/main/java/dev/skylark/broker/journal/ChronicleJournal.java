package dev.skylark.broker.journal;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The journal on disk: Chronicle Queues in generation directories {@code <dir>/gen-0000000001/...}. Each generation
 * starts with a checkpoint (the whole state) and continues with the records appended after it; a generation
 * counts once its checkpoint's end marker is written. When a new checkpoint ends, the older generations are
 * deleted, so the journal stays about one checkpoint plus what was appended since.
 * <p>
 * A document is {@code kind:1 crc32c:4 length:4 payload:length}. At replay, a document that is incomplete (the
 * process died while writing it, so never acknowledged) ends the replay of that generation; one that fails its
 * checksum is skipped and counted, and replay goes on with the next. Nothing that could not be read completely is
 * deleted: such a generation is kept under {@code quarantine/} (see {@link #replay}).
 * <p>
 * Durability: {@link #append} writes into the queue's memory-mapped file, which survives the process being killed;
 * with {@code fsync}, {@link #sync()} forces the file to disk (group commit: once per batch of appends).
 * One thread appends; {@link #replay} runs before it starts.
 */
public final class ChronicleJournal implements AutoCloseable
{
    static
    {
        // No usage analytics: the broker makes no network calls. Must be set before Chronicle's classes load.
        System.setProperty("chronicle.analytics.disable", "true");
    }

    /** Receives each record's payload during replay. */
    @FunctionalInterface
    public interface RecordConsumer
    {
        void onRecord(DirectBuffer buffer, int offset, int length);
    }

    private static final System.Logger LOG = System.getLogger(ChronicleJournal.class.getName());
    private static final String GENERATION_PREFIX = "gen-";
    /** Where generations that could not be read completely are kept, never deleted by the broker. */
    public static final String QUARANTINE = "quarantine";
    static final byte RECORD = 1;
    static final byte CHECKPOINT_BEGIN = 2;
    static final byte CHECKPOINT_END = 3;
    private static final int HEADER_LENGTH = 9;

    private final Path directory;
    private final boolean fsync;
    private final CRC32C crc = new CRC32C();
    private final UnsafeBuffer replayView = new UnsafeBuffer(0, 0);
    private byte[] scratch = new byte[64 * 1024];
    private SingleChronicleQueue queue;
    private ExcerptAppender appender;
    private long generation;
    private final List<Long> olderGenerations = new ArrayList<>();
    private boolean unsynced;
    private long bytesAppended;
    private long recordsAppended;
    private long syncs;
    private long recordsSkipped;
    private long generationsQuarantined;
    /** Replays without moving or copying anything: the journal belongs to another instance ({@link #replayInPlace}). */
    private boolean inPlace;

    /**
     * @param directory where the generations live (created when missing).
     * @param fsync     force appended records to disk in {@link #sync()}; else the OS writes them back.
     */
    public ChronicleJournal(final Path directory, final boolean fsync)
    {
        this.directory = directory;
        this.fsync = fsync;
        try
        {
            OwnerOnly.createDirectories(directory);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create journal directory " + directory, ex);
        }
    }

    /**
     * Replays the newest generation whose checkpoint ended (or, when none did, the newest one, best effort)
     * and never deletes what it could not read: a generation that is not replayed (newer than the chosen one, or
     * any when none is complete) moves to {@code quarantine/}; a document that fails its checksum is skipped and
     * counted, the replay continuing with the next one where Chronicle's framing still holds; a replayed generation
     * with skipped documents is copied to {@code quarantine/} before the start-up checkpoint may delete it. Older
     * generations superseded by a complete checkpoint are deleted once the next checkpoint ends, as before. Each
     * quarantine is one log line and counted ({@link #generationsQuarantined()}, {@link #recordsSkipped()}). Call
     * once, before the first {@link #beginCheckpoint()}.
     *
     * @return the number of records replayed.
     */
    public long replay(final RecordConsumer consumer)
    {
        final List<Long> generations = generations();
        long chosen = -1;
        for (int i = generations.size() - 1; i >= 0 && chosen < 0; i--)
        {
            if (scan(generations.get(i)) == Scan.COMPLETE)
            {
                chosen = generations.get(i);
            }
        }
        final boolean complete = chosen >= 0;
        if (chosen < 0 && !generations.isEmpty())
        {
            chosen = generations.get(generations.size() - 1);
            LOG.log(Level.ERROR, "journal: no generation in " + directory + " has a complete checkpoint; " +
                "replaying the newest one (" + chosen + ") as far as it can be read, keeping every one in quarantine");
        }
        long records = 0;
        boolean keepChosen = false;
        if (chosen >= 0)
        {
            final long skippedBefore = recordsSkipped;
            final boolean readToEnd = replay(chosen, consumer);
            records = lastReplayedRecords;
            if (!readToEnd || recordsSkipped > skippedBefore || !complete)
            {
                keepChosen = !quarantine(chosen, true, "replay could not read all of it (" + (recordsSkipped - skippedBefore) +
                    " document(s) skipped" + (readToEnd ? "" : ", unreadable from some point") + ")");
            }
        }
        for (final long g : generations)
        {
            if (g == chosen)
            {
                continue;
            }
            if (g > chosen)
            {
                quarantine(g, false, "newer than the generation replayed (" + chosen + ") and without a complete " +
                    "checkpoint (the broker stopped while writing it, or it is damaged)");
            }
            else if (complete)
            {
                olderGenerations.add(g); // superseded by the chosen checkpoint
            }
            else
            {
                quarantine(g, false, "older than the damaged generation replayed (" + chosen + ")");
            }
        }
        generation = generations.isEmpty() ? 0 : generations.get(generations.size() - 1);
        if (chosen >= 0 && !keepChosen)
        {
            olderGenerations.add(chosen);
        }
        return records;
    }

    /**
     * Replays the journal in {@code directory} as {@link #replay} does (the newest generation whose checkpoint ended,
     * oldest record first) but leaves every file where it is: it may be held open by another instance (a replica
     * the replication agent appends to). Any thread.
     *
     * @return the number of records replayed, or -1 when the directory holds no generation.
     */
    public static long replayInPlace(final Path directory, final RecordConsumer consumer)
    {
        if (!Files.isDirectory(directory))
        {
            return -1;
        }
        final ChronicleJournal journal = new ChronicleJournal(directory, false);
        journal.inPlace = true;
        if (journal.generations().isEmpty())
        {
            return -1;
        }
        return journal.replay(consumer);
    }

    private enum Scan
    {
        /** Its checkpoint's end marker is there. */
        COMPLETE,
        /** No end marker, nothing wrong with what is there (the broker stopped while writing the checkpoint). */
        CLEAN,
        /** No end marker readable, and a document kind is damaged or the queue cannot be read. */
        DAMAGED
    }

    private long lastReplayedRecords;

    /**
     * Replays one generation, skipping documents that fail their checks.
     *
     * @return false when Chronicle itself could not read on (the rest of the generation is unreadable).
     */
    private boolean replay(final long g, final RecordConsumer consumer)
    {
        long records = 0;
        long documents = 0;
        boolean inCheckpoint = false;
        boolean readToEnd = true;
        try (SingleChronicleQueue q = open(g); ExcerptTailer tailer = q.createTailer())
        {
            while (true)
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        if (dc.isNotComplete())
                        {
                            LOG.log(Level.WARNING, "journal: torn record at the end of generation " + g +
                                " (the broker was killed while writing it): cut after " + documents + " document(s)");
                        }
                        break;
                    }
                    final Bytes<?> bytes = dc.wire().bytes();
                    final long available = bytes.readRemaining();
                    if (available < HEADER_LENGTH)
                    {
                        skip(g, documents, "short document");
                        continue;
                    }
                    final byte kind = bytes.readByte();
                    final int expectedCrc = bytes.readInt();
                    final int length = bytes.readInt();
                    if (length < 0 || length > available - HEADER_LENGTH)
                    {
                        skip(g, documents, "bad length " + length);
                        continue;
                    }
                    final byte[] payload = scratch(length);
                    bytes.read(payload, 0, length);
                    crc.reset();
                    crc.update(payload, 0, length);
                    if ((int)crc.getValue() != expectedCrc || kind < RECORD || kind > CHECKPOINT_END)
                    {
                        skip(g, documents, "checksum mismatch");
                        continue;
                    }
                    documents++;
                    if (kind == CHECKPOINT_BEGIN)
                    {
                        inCheckpoint = true;
                    }
                    else if (kind == CHECKPOINT_END)
                    {
                        inCheckpoint = false;
                    }
                    else
                    {
                        replayView.wrap(payload, 0, length);
                        try
                        {
                            consumer.onRecord(replayView, 0, length);
                        }
                        catch (final RuntimeException ex)
                        {
                            throw new ConsumerFailure(ex);
                        }
                        records++;
                    }
                }
            }
        }
        catch (final RuntimeException ex)
        {
            if (ex instanceof ConsumerFailure failure)
            {
                throw (RuntimeException)failure.getCause();
            }
            readToEnd = false;
            LOG.log(Level.ERROR, "journal: generation " + g + " unreadable after " + documents + " document(s): " + ex);
        }
        if (inCheckpoint)
        {
            LOG.log(Level.WARNING, "journal: generation " + g + " ended inside a checkpoint");
        }
        lastReplayedRecords = records;
        return readToEnd;
    }

    private void skip(final long g, final long documents, final String why)
    {
        recordsSkipped++;
        LOG.log(Level.ERROR, "journal: corrupt document in generation " + g + " after " + documents +
            " good document(s) (" + why + "): skipped, replay goes on with the next one");
    }

    /** Marker for an exception thrown by the record consumer, which replay must not mistake for a damaged file. */
    private static final class ConsumerFailure extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        ConsumerFailure(final RuntimeException cause)
        {
            super(cause);
        }
    }

    private Scan scan(final long g)
    {
        boolean damaged = false;
        try (SingleChronicleQueue q = open(g); ExcerptTailer tailer = q.createTailer())
        {
            while (true)
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        return damaged ? Scan.DAMAGED : Scan.CLEAN;
                    }
                    final Bytes<?> bytes = dc.wire().bytes();
                    if (bytes.readRemaining() < HEADER_LENGTH)
                    {
                        damaged = true;
                        continue;
                    }
                    final byte kind = bytes.readByte();
                    if (kind == CHECKPOINT_END && bytes.readInt() == 0 && bytes.readInt() == 0)
                    {
                        return Scan.COMPLETE; // an end marker: empty payload, whose CRC-32C is 0
                    }
                    if (kind < RECORD || kind > CHECKPOINT_END)
                    {
                        damaged = true;
                    }
                }
            }
        }
        catch (final RuntimeException ex)
        {
            LOG.log(Level.WARNING, "journal: generation " + g + " unreadable: " + ex);
            return Scan.DAMAGED;
        }
    }

    /**
     * Keeps a generation's original files under {@code quarantine/}: moved when nothing reads it any more, copied
     * when it is the one just replayed (it stays until the start-up checkpoint has ended).
     */
    private boolean quarantine(final long g, final boolean copy, final String why)
    {
        if (inPlace)
        {
            LOG.log(Level.WARNING, "journal: generation " + g + " of " + directory + " not read completely: " + why);
            return false;
        }
        final Path source = generationDirectory(g);
        final Path quarantine = directory.resolve(QUARANTINE);
        Path target = quarantine.resolve(source.getFileName().toString());
        try
        {
            OwnerOnly.createDirectories(quarantine);
            for (int n = 1; Files.exists(target); n++)
            {
                target = quarantine.resolve(source.getFileName() + "." + n);
            }
            if (copy)
            {
                final Path to = target;
                Files.createDirectories(to);
                try (Stream<Path> walk = Files.walk(source))
                {
                    for (final Path p : (Iterable<Path>)walk::iterator)
                    {
                        final Path dest = to.resolve(source.relativize(p).toString());
                        if (Files.isDirectory(p))
                        {
                            Files.createDirectories(dest);
                        }
                        else
                        {
                            Files.copy(p, dest);
                        }
                    }
                }
            }
            else
            {
                Files.move(source, target);
            }
            OwnerOnly.restrictTree(target);
            generationsQuarantined++;
            LOG.log(Level.ERROR, "journal: generation " + g + " " + (copy ? "copied" : "moved") + " to " + target +
                ": " + why + "; nothing in it is deleted");
            return true;
        }
        catch (final IOException | UncheckedIOException ex)
        {
            LOG.log(Level.ERROR, "journal: cannot quarantine generation " + g + " (" + why + "): " + ex +
                "; it is left where it is");
            return false;
        }
    }

    /** Journal documents skipped at replay because they failed their checks (since this journal opened). */
    public long recordsSkipped()
    {
        return recordsSkipped;
    }

    /** Generations moved or copied to {@code quarantine/} at replay (since this journal opened). */
    public long generationsQuarantined()
    {
        return generationsQuarantined;
    }

    /** Appends one record (into the memory-mapped file). */
    public void append(final DirectBuffer buffer, final int offset, final int length)
    {
        write(RECORD, buffer, offset, length);
        recordsAppended++;
    }

    /** Starts a new generation whose first records are a checkpoint. */
    public void beginCheckpoint()
    {
        if (queue != null)
        {
            final SingleChronicleQueue previous = queue;
            final ExcerptAppender previousAppender = appender;
            queue = null;
            appender = null;
            olderGenerations.add(generation); // superseded once this checkpoint ends, whatever happens to it now
            try
            {
                if (fsync && unsynced)
                {
                    previousAppender.sync();
                    syncs++;
                }
            }
            finally
            {
                unsynced = false;
                previousAppender.close();
                previous.close();
            }
        }
        generation++;
        queue = open(generation);
        appender = queue.createAppender();
        bytesAppended = 0;
        write(CHECKPOINT_BEGIN, null, 0, 0);
        restrict(generation);
    }

    /** Ends the checkpoint: once on disk (synced with fsync), the older generations are deleted. */
    public void endCheckpoint()
    {
        write(CHECKPOINT_END, null, 0, 0);
        sync();
        restrict(generation);
        for (final long g : olderGenerations)
        {
            deleteGeneration(g);
        }
        olderGenerations.clear();
    }

    /** With fsync: forces everything appended since the last call to disk. Without: nothing to do. */
    public void sync()
    {
        if (fsync && unsynced && appender != null)
        {
            appender.sync();
            syncs++;
        }
        unsynced = false;
    }

    /** Records appended since this journal opened (checkpoint markers not counted). */
    public long recordsAppended()
    {
        return recordsAppended;
    }

    /**
     * Syncs that forced appended records to disk since this journal opened (fsync mode; always 0 otherwise). Against
     * {@link #recordsAppended()} it shows the group commit: one sync covers every record appended before it.
     */
    public long syncs()
    {
        return syncs;
    }

    /** Bytes appended to the current generation. */
    public long bytesAppended()
    {
        return bytesAppended;
    }

    public long generation()
    {
        return generation;
    }

    public boolean isFsync()
    {
        return fsync;
    }

    /** For tests: a record whose checksum does not match, as a torn write or bit rot would leave. */
    void appendCorrupt(final DirectBuffer buffer, final int offset, final int length)
    {
        try (DocumentContext dc = appender.writingDocument())
        {
            final Bytes<?> bytes = dc.wire().bytes();
            bytes.writeByte(RECORD);
            bytes.writeInt(0xBAD);
            bytes.writeInt(length);
            for (int i = 0; i < length; i++)
            {
                bytes.writeByte(buffer.getByte(offset + i));
            }
        }
    }

    private void write(final byte kind, final DirectBuffer buffer, final int offset, final int length)
    {
        if (appender == null)
        {
            throw new IllegalStateException("journal: append before the first checkpoint");
        }
        final byte[] payload = scratch(length);
        if (length > 0)
        {
            buffer.getBytes(offset, payload, 0, length);
        }
        crc.reset();
        crc.update(payload, 0, length);
        try (DocumentContext dc = appender.writingDocument())
        {
            final Bytes<?> bytes = dc.wire().bytes();
            bytes.writeByte(kind);
            bytes.writeInt((int)crc.getValue());
            bytes.writeInt(length);
            bytes.write(payload, 0, length);
        }
        bytesAppended += HEADER_LENGTH + length;
        unsynced = true;
    }

    /** 0700 directory, 0600 files (Chronicle creates them with the process umask; the directory guards new ones). */
    private void restrict(final long g)
    {
        try
        {
            OwnerOnly.restrictTree(generationDirectory(g));
        }
        catch (final IOException | UncheckedIOException ex)
        {
            LOG.log(Level.WARNING, "journal: cannot restrict permissions of generation " + g + ": " + ex);
        }
    }

    private byte[] scratch(final int length)
    {
        if (scratch.length < length)
        {
            scratch = new byte[Math.max(length, scratch.length * 2)];
        }
        return scratch;
    }

    private SingleChronicleQueue open(final long g)
    {
        return SingleChronicleQueueBuilder.binary(generationDirectory(g))
            .rollCycle(RollCycles.FAST_DAILY)
            // SYNC makes ExcerptAppender.sync() msync(MS_SYNC) the appended range; NONE leaves write-back to the OS.
            .syncMode(fsync ? SyncMode.SYNC : SyncMode.NONE)
            .build();
    }

    private Path generationDirectory(final long g)
    {
        return directory.resolve(String.format("%s%010d", GENERATION_PREFIX, g));
    }

    private List<Long> generations()
    {
        final List<Long> result = new ArrayList<>();
        try (Stream<Path> entries = Files.list(directory))
        {
            entries.map(p -> p.getFileName().toString())
                .filter(n -> n.startsWith(GENERATION_PREFIX))
                .forEach(n ->
                {
                    try
                    {
                        result.add(Long.parseLong(n.substring(GENERATION_PREFIX.length())));
                    }
                    catch (final NumberFormatException ignore)
                    {
                        // not ours
                    }
                });
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        result.sort(Comparator.naturalOrder());
        return result;
    }

    private void deleteGeneration(final long g)
    {
        final Path path = generationDirectory(g);
        try (Stream<Path> walk = Files.walk(path))
        {
            walk.sorted(Comparator.reverseOrder()).forEach(p ->
            {
                try
                {
                    Files.deleteIfExists(p);
                }
                catch (final IOException ex)
                {
                    throw new UncheckedIOException(ex);
                }
            });
        }
        catch (final IOException | UncheckedIOException ex)
        {
            LOG.log(Level.WARNING, "journal: cannot delete old generation " + path + ": " + ex);
        }
    }

    /** Number of generation directories on disk (for tests: the journal stays bounded). */
    public int generationCount()
    {
        return generations().size();
    }

    @Override
    public void close()
    {
        if (queue != null)
        {
            sync();
            appender.close();
            queue.close();
            queue = null;
            appender = null;
        }
    }
}
