package dev.skylark.broker.journal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The exclusive claim of one broker on its data directory: an OS file lock on {@code <dataDir>/skylark.lock}, whose
 * content is the holder's pid. Taken before anything in the directory is read or written (journal replay and
 * checkpoint, the Aeron directory named after it, the counters file), held until the broker has closed. A second
 * broker on the same directory — another process, or another broker in this JVM — gets a
 * {@link DataDirectoryLockedException} naming the holder's pid, and touches nothing. The kernel drops the lock when
 * the holder dies, even by SIGKILL, so a stale file never blocks a restart.
 */
public final class DataDirectoryLock implements AutoCloseable
{
    /** The lock file's name in the data directory. */
    public static final String FILE_NAME = "skylark.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DataDirectoryLock(final FileChannel channel, final FileLock lock)
    {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code dataDir} (created 0700 when missing) for this process.
     *
     * @throws DataDirectoryLockedException when another broker holds it.
     */
    public static DataDirectoryLock acquire(final Path dataDir)
    {
        final Path file = dataDir.resolve(FILE_NAME);
        FileChannel channel = null;
        try
        {
            if (!java.nio.file.Files.isDirectory(dataDir))
            {
                OwnerOnly.createDirectories(dataDir); // an existing directory keeps the mode its owner gave it
            }
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
            OwnerOnly.restrictFile(file);
            FileLock lock;
            try
            {
                lock = channel.tryLock();
            }
            catch (final OverlappingFileLockException ex)
            {
                lock = null; // held by another broker in this JVM
            }
            if (lock == null)
            {
                final String holder = readHolder(channel);
                channel.close();
                throw new DataDirectoryLockedException("data directory " + dataDir.toAbsolutePath() +
                    " is in use by another Skylark broker (pid " + holder + ", lock file " + file.toAbsolutePath() +
                    "); stop it first or choose another skylark.data.dir", holder);
            }
            final byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(pid), 0);
            channel.force(false);
            return new DataDirectoryLock(channel, lock);
        }
        catch (final IOException ex)
        {
            closeQuietly(channel);
            throw new UncheckedIOException("cannot lock data directory " + dataDir.toAbsolutePath(), ex);
        }
    }

    private static String readHolder(final FileChannel channel)
    {
        try
        {
            final ByteBuffer buffer = ByteBuffer.allocate(32);
            channel.read(buffer, 0);
            final String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII).trim();
            return text.matches("\\d{1,19}") ? text : "unknown";
        }
        catch (final IOException ex)
        {
            return "unknown";
        }
    }

    private static void closeQuietly(final FileChannel channel)
    {
        if (channel != null)
        {
            try
            {
                channel.close();
            }
            catch (final IOException ignore)
            {
                // nothing more to let go
            }
        }
    }

    /** Releases the lock (the file stays; its content is the last holder's pid). */
    @Override
    public void close()
    {
        try
        {
            lock.release();
        }
        catch (final IOException ignore)
        {
            // closing the channel releases it too
        }
        closeQuietly(channel);
    }

    /** Another broker holds the data directory. */
    public static final class DataDirectoryLockedException extends IllegalStateException
    {
        private static final long serialVersionUID = 1L;
        private final String holderPid;

        DataDirectoryLockedException(final String message, final String holderPid)
        {
            super(message);
            this.holderPid = holderPid;
        }

        /** The pid written by the holder, or "unknown". */
        public String holderPid()
        {
            return holderPid;
        }
    }
}
