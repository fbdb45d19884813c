package dev.skylark.broker.status;

import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The broker's counters in a memory-mapped file, so that another process ({@code skylark stat}) reads them live,
 * the way AeronStat reads a media driver's CnC file.
 *
 * <pre>
 * 0   version:4  pad:4
 * 8   pid:8
 * 16  startTimeMs:8
 * 24  heartbeatMs:8          written by the broker on its slow tick
 * 32  metadataLength:4  valuesLength:4
 * 64  counters metadata (Agrona CountersManager layout)
 * ..  counter values
 * </pre>
 */
public final class CountersFile implements AutoCloseable
{
    public static final String FILE_NAME = "skylark-counters.dat";
    public static final int VERSION = 1;
    private static final int VERSION_OFFSET = 0;
    private static final int PID_OFFSET = 8;
    private static final int START_TIME_OFFSET = 16;
    private static final int HEARTBEAT_OFFSET = 24;
    private static final int METADATA_LENGTH_OFFSET = 32;
    private static final int VALUES_LENGTH_OFFSET = 36;
    private static final int HEADER_LENGTH = 64;
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private final Path file;
    private final MappedByteBuffer mapped;
    private final UnsafeBuffer header;
    private final CountersReader reader;
    private final CountersManager manager;

    private CountersFile(final Path file, final MappedByteBuffer mapped, final boolean writable)
    {
        this.file = file;
        this.mapped = mapped;
        this.header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
        final int metadataLength = header.getInt(METADATA_LENGTH_OFFSET);
        final int valuesLength = header.getInt(VALUES_LENGTH_OFFSET);
        final AtomicBuffer metadata = new UnsafeBuffer(mapped, HEADER_LENGTH, metadataLength);
        final AtomicBuffer values = new UnsafeBuffer(mapped, HEADER_LENGTH + metadataLength, valuesLength);
        this.manager = writable ? new CountersManager(metadata, values, StandardCharsets.UTF_8) : null;
        this.reader = writable ? manager : new CountersReader(metadata, values, StandardCharsets.UTF_8);
    }

    /**
     * Creates (or replaces) the broker's counters file in the data directory, stamped with the start time and a
     * first heartbeat from {@code clock} (the broker's epoch clock; {@code skylark stat} compares the heartbeat with
     * its own wall clock).
     */
    public static CountersFile create(final Path dataDir, final int maxCounters, final EpochClock clock)
    {
        try
        {
            Files.createDirectories(dataDir);
            final Path file = dataDir.resolve(FILE_NAME);
            Files.deleteIfExists(file);
            final int metadataLength = maxCounters * CountersReader.METADATA_LENGTH;
            final int valuesLength = maxCounters * CountersReader.COUNTER_LENGTH;
            final MappedByteBuffer mapped = IoUtil.mapNewFile(file.toFile(), HEADER_LENGTH + metadataLength + valuesLength);
            if (POSIX)
            {
                // Owner only (0600), before anything is written into it: its labels and values are the broker's.
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            }
            final UnsafeBuffer header = new UnsafeBuffer(mapped, 0, HEADER_LENGTH);
            header.putLong(PID_OFFSET, ProcessHandle.current().pid());
            final long nowMs = clock.time();
            header.putLong(START_TIME_OFFSET, nowMs);
            header.putInt(METADATA_LENGTH_OFFSET, metadataLength);
            header.putInt(VALUES_LENGTH_OFFSET, valuesLength);
            header.putLongVolatile(HEARTBEAT_OFFSET, nowMs);
            header.putIntVolatile(VERSION_OFFSET, VERSION); // last: a reader sees a complete header
            return new CountersFile(file, mapped, true);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot create the counters file in " + dataDir, ex);
        }
    }

    /** Opens a running (or stopped) broker's counters file read-only. */
    public static CountersFile open(final Path dataDir)
    {
        final Path file = dataDir.resolve(FILE_NAME);
        if (!Files.exists(file))
        {
            throw new IllegalArgumentException("no counters file at " + file + " (is the broker running with " +
                "this data directory?)");
        }
        final MappedByteBuffer mapped = IoUtil.mapExistingFile(file.toFile(), FILE_NAME);
        final int version = new UnsafeBuffer(mapped, 0, HEADER_LENGTH).getIntVolatile(VERSION_OFFSET);
        if (version != VERSION)
        {
            IoUtil.unmap(mapped);
            throw new IllegalArgumentException("counters file " + file + " has version " + version +
                ", expected " + VERSION);
        }
        return new CountersFile(file, mapped, false);
    }

    /** For allocating counters (broker side only). */
    public CountersManager manager()
    {
        if (manager == null)
        {
            throw new IllegalStateException("opened read-only");
        }
        return manager;
    }

    public CountersReader reader()
    {
        return reader;
    }

    public long pid()
    {
        return header.getLong(PID_OFFSET);
    }

    public long startTimeMs()
    {
        return header.getLong(START_TIME_OFFSET);
    }

    public long heartbeatMs()
    {
        return header.getLongVolatile(HEARTBEAT_OFFSET);
    }

    /** Called on the broker's slow tick, so a reader can tell a live broker from a stale file. */
    public void heartbeat(final long nowMs)
    {
        header.putLongRelease(HEARTBEAT_OFFSET, nowMs);
    }

    public Path file()
    {
        return file;
    }

    @Override
    public void close()
    {
        IoUtil.unmap(mapped);
    }
}
