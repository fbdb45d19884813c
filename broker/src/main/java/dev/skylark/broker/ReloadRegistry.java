package dev.skylark.broker;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a running broker can reload (SIGHUP, {@link Broker#reload(Properties)}): each part registers once, naming the
 * settings it applies live; a reload gives every part the new settings, logs what each one changed, and logs every
 * other setting whose value changed as needing a restart. A part that fails keeps its old state (logged); the others
 * still reload.
 * <p>
 * Registering is one line, e.g. for a file the part re-reads:
 * <pre>{@code
 * broker.reloads().register("acl file", Set.of(Configuration.ACL_FILE_PROP_NAME), (settings) -> acl.reload());
 * }</pre>
 * Calls are serialised (one reload at a time); registration may happen at any time before or after the start.
 */
public final class ReloadRegistry
{
    private static final System.Logger LOG = System.getLogger(ReloadRegistry.class.getName());

    private final Map<String, Part> parts = new LinkedHashMap<>();
    private Properties current;

    private record Part(String name, Set<String> settings, Reloadable reloadable)
    {
    }

    /** What one reload did: lines of what changed, settings that need a restart, parts that failed. */
    public record Result(List<String> changed, Set<String> needRestart, List<String> failed)
    {
    }

    ReloadRegistry(final Properties started)
    {
        current = copy(started);
    }

    /**
     * Adds a part that can reload.
     *
     * @param name     how the log names it ("tls certificate", "acl file").
     * @param settings the {@code skylark.*} settings it applies live (a change to any other setting needs a restart).
     * @param part     called on every reload.
     */
    public synchronized ReloadRegistry register(final String name, final Set<String> settings, final Reloadable part)
    {
        Objects.requireNonNull(part, "part");
        if (parts.putIfAbsent(name, new Part(name, Set.copyOf(settings), part)) != null)
        {
            throw new IllegalStateException("'" + name + "' is registered already");
        }
        return this;
    }

    /** The settings some part applies live. */
    public synchronized Set<String> liveSettings()
    {
        final Set<String> live = new TreeSet<>();
        parts.values().forEach((part) -> live.addAll(part.settings()));
        return live;
    }

    /**
     * Reloads every part with these settings (validated by the caller) and logs the outcome.
     */
    public synchronized Result reload(final Properties settings)
    {
        final Set<String> changedSettings = changedSettings(current, settings);
        final List<String> changed = new ArrayList<>();
        final List<String> failed = new ArrayList<>();
        final Set<String> live = new TreeSet<>();
        for (final Part part : parts.values())
        {
            live.addAll(part.settings());
            try
            {
                final String what = part.reloadable().reload(settings);
                if (what != null)
                {
                    changed.add(part.name() + ": " + what);
                }
            }
            catch (final Exception ex)
            {
                failed.add(part.name() + ": " + ex.getMessage());
            }
        }
        final Set<String> needRestart = new TreeSet<>(changedSettings);
        needRestart.removeAll(live);
        // What needs a restart keeps its old value, so that the next reload says so again until the restart.
        final Properties next = copy(settings);
        for (final String name : needRestart)
        {
            if (current.getProperty(name) != null)
            {
                next.setProperty(name, current.getProperty(name));
            }
            else
            {
                next.remove(name);
            }
        }
        current = next;

        if (changed.isEmpty() && needRestart.isEmpty() && failed.isEmpty())
        {
            LOG.log(Level.INFO, "reload: nothing changed");
        }
        for (final String line : changed)
        {
            LOG.log(Level.INFO, "reload: " + line);
        }
        for (final String line : failed)
        {
            LOG.log(Level.WARNING, "reload failed, old state kept: " + line);
        }
        if (!needRestart.isEmpty())
        {
            LOG.log(Level.WARNING, "reload: changed, but needs a restart to apply: " + String.join(", ", needRestart));
        }
        return new Result(List.copyOf(changed), Set.copyOf(needRestart), List.copyOf(failed));
    }

    private static Set<String> changedSettings(final Properties before, final Properties after)
    {
        // Effective values (given, else the preset's, else the default), so that a line removed from the file that
        // gave the default changes nothing.
        final Set<String> names = new TreeSet<>(Configuration.settings().keySet());
        names.removeIf((name) -> Objects.equals(
            trim(Configuration.getRaw(before, name)), trim(Configuration.getRaw(after, name))));
        return names;
    }

    private static String trim(final String value)
    {
        return value == null ? null : value.trim();
    }

    private static Properties copy(final Properties properties)
    {
        final Properties copy = new Properties();
        for (final String name : properties.stringPropertyNames())
        {
            copy.setProperty(name, properties.getProperty(name));
        }
        return copy;
    }
}
