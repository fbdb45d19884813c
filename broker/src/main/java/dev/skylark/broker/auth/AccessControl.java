package dev.skylark.broker.auth;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The broker-wide rules in force ({@code skylark.acl.file}), swapped whole on {@link #reload()}: every thread reads
 * {@link #current()} (one volatile read) and compares it with the rules it compiled its {@link ClientAccess} from.
 * <p>
 * {@link #reload()} is the entry point for SIGHUP and the admin side; {@link #refreshIfChanged()} is what the file
 * watcher calls on a timer (the same one that re-reads the revocation list). A file that cannot be read or parsed
 * keeps the rules in force and says why in the log; at start-up it is an error ({@link #open}).
 */
public final class AccessControl implements AutoCloseable
{
    private static final System.Logger LOG = System.getLogger(AccessControl.class.getName());

    /** No rules file: everything allowed. */
    public static final AccessControl NONE =
        new AccessControl(null, AccessRules.Format.AUTO, true, AccessRules.ALLOW_ALL);

    private final Path file;
    private final AccessRules.Format format;
    private final boolean defaultAllow;
    private final AtomicLong reloads = new AtomicLong();
    private final AtomicLong reloadFailures = new AtomicLong();
    private volatile AccessRules current;
    private ScheduledExecutorService watcher;
    private FileTime seenModified;
    private long seenSize = -1;
    private FileTime candidateModified;
    private long candidateSize;

    private AccessControl(
        final Path file, final AccessRules.Format format, final boolean defaultAllow, final AccessRules rules)
    {
        this.file = file;
        this.format = format;
        this.defaultAllow = defaultAllow;
        this.current = rules;
    }

    /**
     * Reads the rules file at start-up.
     *
     * @throws AccessRulesException naming the file, line and why when it cannot be used.
     */
    public static AccessControl open(final Path file, final AccessRules.Format format, final boolean defaultAllow)
    {
        final AccessControl control = new AccessControl(file, format, defaultAllow, null);
        control.noteFile();
        control.current = AccessRules.read(file, format, defaultAllow);
        LOG.log(Level.INFO, "authorization rules: " + control.current.rules().size() + " rules from " + file +
            ", default " + (control.current.defaultAllow() ? "allow" : "deny"));
        return control;
    }

    /** The rules in force; compare by identity to see whether they changed. */
    public AccessRules current()
    {
        return current;
    }

    /** Is there a rules file at all? */
    public boolean enabled()
    {
        return file != null;
    }

    public Path file()
    {
        return file;
    }

    /** Successful reloads since start. */
    public long reloads()
    {
        return reloads.get();
    }

    /** Reloads refused (the old rules kept) since start. */
    public long reloadFailures()
    {
        return reloadFailures.get();
    }

    /**
     * Reads the file again and puts the new rules in force; the I/O threads use them from the next packet on and the
     * routing agent re-checks every session's subscriptions and queued messages. A file that cannot be used keeps
     * the old rules (logged, counted). Safe from any thread (the SIGHUP handler calls this).
     *
     * @return true when new rules are in force.
     */
    public synchronized boolean reload()
    {
        if (file == null)
        {
            return false;
        }
        noteFile();
        try
        {
            final AccessRules rules = AccessRules.read(file, format, defaultAllow);
            current = rules;
            reloads.incrementAndGet();
            LOG.log(Level.INFO, "authorization rules reloaded: " + rules.rules().size() + " rules from " + file);
            return true;
        }
        catch (final AccessRulesException ex)
        {
            reloadFailures.incrementAndGet();
            LOG.log(Level.WARNING, "authorization rules NOT reloaded, the previous ones stay in force: " +
                ex.getMessage());
            return false;
        }
    }

    /**
     * Reloads when the file's modification time or size changed since it was last read and then stayed the same for
     * one more poll (the watcher's), so a file caught half-written by an editor is not taken for the new rules.
     */
    public synchronized void refreshIfChanged()
    {
        if (file == null)
        {
            return;
        }
        try
        {
            final FileTime modified = Files.getLastModifiedTime(file);
            final long size = Files.size(file);
            if (modified.equals(seenModified) && size == seenSize)
            {
                candidateModified = null;
                return;
            }
            if (modified.equals(candidateModified) && size == candidateSize)
            {
                candidateModified = null;
                reload();
            }
            else
            {
                candidateModified = modified; // changed: taken once it holds still for one poll
                candidateSize = size;
            }
        }
        catch (final IOException ex)
        {
            if (seenSize != -2)
            {
                seenSize = -2;
                reloadFailures.incrementAndGet();
                LOG.log(Level.WARNING, "authorization rules file " + file + " cannot be read, the previous rules " +
                    "stay in force: " + ex);
            }
        }
    }

    /** Polls the file every {@code intervalMs} on a daemon thread and reloads it when it changed. */
    public synchronized AccessControl watch(final long intervalMs)
    {
        if (file != null && watcher == null)
        {
            watcher = Executors.newSingleThreadScheduledExecutor((r) ->
            {
                final Thread thread = new Thread(r, "skylark-acl-watch");
                thread.setDaemon(true);
                return thread;
            });
            watcher.scheduleWithFixedDelay(this::refreshIfChanged, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    @Override
    public synchronized void close()
    {
        if (watcher != null)
        {
            watcher.shutdownNow();
            watcher = null;
        }
    }

    private void noteFile()
    {
        try
        {
            seenModified = Files.getLastModifiedTime(file);
            seenSize = Files.size(file);
        }
        catch (final IOException ex)
        {
            seenModified = null;
            seenSize = -1;
        }
    }
}
