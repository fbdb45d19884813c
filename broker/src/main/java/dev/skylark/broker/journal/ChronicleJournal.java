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
 * process died while writing it) or fails its checksum ends the replay of that generation: the tail from there is
 * cut — reported in one log line — and never read again, because the broker writes a new generation at once.
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
            Files.createDirectories(directory);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create journal directory " + directory, ex);
        }
    }

    /**
     * Replays the newest complete generation and deletes the others (older ones, and a newer one whose checkpoint
     * never ended). Call once, before the first {@link #beginCheckpoint()}.
     *
     * @return the number of records replayed.
     */
    public long replay(final RecordConsumer consumer)
    {
        final List<Long> generations = generations();
        long chosen = -1;
        for (int i = generations.size() - 1; i >= 0 && chosen < 0; i--)
        {
            if (hasCompleteCheckpoint(generations.get(i)))
            {
                chosen = generations.get(i);
            }
            else
            {
                LOG.log(Level.WARNING, "journal: generation " + generations.get(i) + " has no complete checkpoint " +
                    "(the broker stopped while writing it); using the one before");
            }
        }
        long records = 0;
        if (chosen >= 0)
        {
            records = replay(chosen, consumer);
        }
        else if (!generations.isEmpty())
        {
            LOG.log(Level.ERROR, "journal: no complete generation in " + directory + "; starting empty");
        }
        for (final long g : generations)
        {
            if (g != chosen)
            {
                if (g > chosen)
                {
                    deleteGeneration(g);
                }
                else
                {
                    olderGenerations.add(g);
                }
            }
        }
        generation = generations.isEmpty() ? 0 : generations.get(generations.size() - 1);
        if (chosen >= 0)
        {
            olderGenerations.add(chosen);
        }
        return records;
    }

    private long replay(final long g, final RecordConsumer consumer)
    {
        long records = 0;
        long documents = 0;
        boolean inCheckpoint = false;
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
                        LOG.log(Level.WARNING, cutMessage(g, documents, "short document"));
                        break;
                    }
                    final byte kind = bytes.readByte();
                    final int expectedCrc = bytes.readInt();
                    final int length = bytes.readInt();
                    if (length < 0 || length > available - HEADER_LENGTH)
                    {
                        LOG.log(Level.WARNING, cutMessage(g, documents, "bad length " + length));
                        break;
                    }
                    final byte[] payload = scratch(length);
                    bytes.read(payload, 0, length);
                    crc.reset();
                    crc.update(payload, 0, length);
                    if ((int)crc.getValue() != expectedCrc || kind < RECORD || kind > CHECKPOINT_END)
                    {
                        LOG.log(Level.WARNING, cutMessage(g, documents, "checksum mismatch"));
                        break;
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
                        consumer.onRecord(replayView, 0, length);
                        records++;
                    }
                }
            }
        }
        if (inCheckpoint)
        {
            LOG.log(Level.WARNING, "journal: generation " + g + " ended inside a checkpoint");
        }
        return records;
    }

    private static String cutMessage(final long g, final long documents, final String why)
    {
        return "journal: corrupt record in generation " + g + " after " + documents + " good document(s) (" + why +
            "): the tail from there is cut";
    }

    private boolean hasCompleteCheckpoint(final long g)
    {
        try (SingleChronicleQueue q = open(g); ExcerptTailer tailer = q.createTailer())
        {
            while (true)
            {
                try (DocumentContext dc = tailer.readingDocument())
                {
                    if (!dc.isPresent())
                    {
                        return false;
                    }
                    final Bytes<?> bytes = dc.wire().bytes();
                    if (bytes.readRemaining() >= HEADER_LENGTH && bytes.readByte() == CHECKPOINT_END)
                    {
                        return true;
                    }
                }
            }
        }
        catch (final RuntimeException ex)
        {
            LOG.log(Level.WARNING, "journal: generation " + g + " unreadable: " + ex);
            return false;
        }
    }

    /** Appends one record (into the memory-mapped file). */
    public void append(final DirectBuffer buffer, final int offset, final int length)
    {
        write(RECORD, buffer, offset, length);
    }

    /** Starts a new generation whose first records are a checkpoint. */
    public void beginCheckpoint()
    {
        if (queue != null)
        {
            sync();
            olderGenerations.add(generation);
            appender.close();
            queue.close();
        }
        generation++;
        queue = open(generation);
        appender = queue.createAppender();
        bytesAppended = 0;
        write(CHECKPOINT_BEGIN, null, 0, 0);
    }

    /** Ends the checkpoint: once on disk (synced with fsync), the older generations are deleted. */
    public void endCheckpoint()
    {
        write(CHECKPOINT_END, null, 0, 0);
        sync();
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
        }
        unsynced = false;
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
