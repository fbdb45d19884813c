package dev.skylark.broker.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Revoked token ids ({@code jti}), kept in {@code <data.dir>/auth/revoked-jti.txt}, one a line.
 * <p>
 * Readable from any thread: the I/O agents look at {@link #epoch()} on their slow tick and consult
 * {@link #contains(String)} only when it moved. Changes made here are written to the file at once; changes made by
 * another process (the {@code skylark token revoke} command) are picked up by {@link #refreshIfChanged()}, which
 * the broker calls on a slow timer.
 */
public final class RevocationList
{
    static final String FILE_NAME = "revoked-jti.txt";

    private final Path file;
    private final Set<String> revoked = ConcurrentHashMap.newKeySet();
    private volatile long epoch;
    private FileTime seenModified;
    private long seenSize = -1;

    public RevocationList(final Path authDir)
    {
        this.file = authDir.resolve(FILE_NAME);
        refreshIfChanged();
    }

    /** Moves whenever the set changes; cheap to read on every tick. */
    public long epoch()
    {
        return epoch;
    }

    public boolean contains(final String jti)
    {
        return jti != null && revoked.contains(jti);
    }

    /** The revoked ids, sorted. */
    public synchronized List<String> list()
    {
        return new ArrayList<>(new TreeSet<>(revoked));
    }

    /** Revokes the ids (persisted before this returns); returns how many were new. */
    public synchronized int revoke(final List<String> jtis)
    {
        refreshIfChanged();
        int added = 0;
        for (final String jti : jtis)
        {
            if (revoked.add(jti))
            {
                added++;
            }
        }
        if (added > 0)
        {
            persist();
        }
        return added;
    }

    /** Lifts revocations (persisted before this returns); returns how many were there. */
    public synchronized int unrevoke(final List<String> jtis)
    {
        refreshIfChanged();
        int removed = 0;
        for (final String jti : jtis)
        {
            if (revoked.remove(jti))
            {
                removed++;
            }
        }
        if (removed > 0)
        {
            persist();
        }
        return removed;
    }

    /** Re-reads the file when its modification time or size changed; returns true when the set changed. */
    public synchronized boolean refreshIfChanged()
    {
        try
        {
            final FileTime modified;
            final long size;
            try
            {
                modified = Files.getLastModifiedTime(file);
                size = Files.size(file);
            }
            catch (final NoSuchFileException ex)
            {
                return false;
            }
            if (modified.equals(seenModified) && size == seenSize)
            {
                return false;
            }
            final Set<String> fromFile = new TreeSet<>();
            for (final String line : Files.readAllLines(file, StandardCharsets.UTF_8))
            {
                final String jti = line.trim();
                if (!jti.isEmpty() && !jti.startsWith("#"))
                {
                    fromFile.add(jti);
                }
            }
            seenModified = modified;
            seenSize = size;
            if (fromFile.equals(new TreeSet<>(revoked)))
            {
                return false;
            }
            revoked.addAll(fromFile);
            revoked.retainAll(fromFile);
            epoch++;
            return true;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read " + file + ": " + ex.getMessage(), ex);
        }
    }

    private void persist()
    {
        final StringBuilder text = new StringBuilder("# revoked token ids (jti), one a line\n");
        for (final String jti : new TreeSet<>(revoked))
        {
            text.append(jti).append('\n');
        }
        SecureFiles.writeOwnerOnly(file, text.toString());
        try
        {
            seenModified = Files.getLastModifiedTime(file);
            seenSize = Files.size(file);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        epoch++;
    }
}
