package dev.skylark.broker.cluster;

import java.io.File;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A diagnostic for tests ({@code skylark.cluster.ownership.log}): appends every client-id ownership change the
 * registry applies on this node to a text file, in log order, so a checker can compare what each node applied
 * (see {@code OwnershipHistory} in the tests and docs/cluster.md, "Tests"). After each applied registry entry the
 * registry's owners are compared with a copy of the previous ones, so any change is caught, whatever command or
 * event made it (claim, release, a dead node's clients moved to its heir). Lines:
 * <pre>
 * # node &lt;id&gt; pid &lt;pid&gt; started                 a run of this node (a restart appends a new run)
 * S &lt;position&gt; &lt;node&gt; &lt;epoch&gt; &lt;client&gt;             owner in the state the run started from (its snapshot)
 * C &lt;position&gt; &lt;node&gt; &lt;epoch&gt; &lt;prevNode&gt; &lt;prevEpoch&gt; &lt;client&gt;   new owner or epoch (-1 0: none before)
 * R &lt;position&gt; &lt;node&gt; &lt;epoch&gt; &lt;client&gt;             owner removed (released)
 * </pre>
 * {@code position} is the Raft log position of the entry that made the change; the client id is percent-escaped
 * (space, control characters, '%'). Costs a walk over all client ids and a file write per registry entry, on the
 * clustered service's thread: for tests, never for production. Not thread safe: that thread alone calls it.
 */
final class OwnershipLog
{
    private final File file;
    private final int nodeId;
    private final TreeMap<String, Registry.Owner> previous = new TreeMap<>();
    private final StringBuilder line = new StringBuilder(128);
    private Writer out;
    private boolean started;
    private boolean failed;

    OwnershipLog(final File file, final int nodeId)
    {
        this.file = file;
        this.nodeId = nodeId;
    }

    /** After the registry applied the entry at log {@code position} (the first call: the state the run starts from). */
    void afterApply(final long position, final Registry registry)
    {
        if (failed)
        {
            return;
        }
        try
        {
            if (out == null)
            {
                final File parent = file.getAbsoluteFile().getParentFile();
                if (parent != null)
                {
                    Files.createDirectories(parent.toPath());
                }
                out = Files.newBufferedWriter(file.toPath(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
                out.write("# node " + nodeId + " pid " + ProcessHandle.current().pid() + " started\n");
            }
            final boolean changed = diff(position, registry.ownersView());
            if (changed || !started)
            {
                out.flush(); // a SIGKILL loses nothing written (at most the line being written)
            }
            started = true;
        }
        catch (final IOException ex)
        {
            failed = true;
            System.getLogger("dev.skylark.broker.cluster").log(System.Logger.Level.ERROR,
                "ownership log " + file + " failed, no more entries: " + ex);
        }
    }

    private boolean diff(final long position, final SortedMap<String, Registry.Owner> owners) throws IOException
    {
        boolean changed = false;
        final Iterator<Map.Entry<String, Registry.Owner>> now = owners.entrySet().iterator();
        final Iterator<Map.Entry<String, Registry.Owner>> before = previous.entrySet().iterator();
        Map.Entry<String, Registry.Owner> a = now.hasNext() ? now.next() : null;
        Map.Entry<String, Registry.Owner> b = before.hasNext() ? before.next() : null;
        final TreeMap<String, Registry.Owner> updates = new TreeMap<>();
        final java.util.List<String> removed = new java.util.ArrayList<>();
        while (a != null || b != null)
        {
            final int order = a == null ? 1 : b == null ? -1 : a.getKey().compareTo(b.getKey());
            if (order < 0)
            {
                write(started ? 'C' : 'S', position, a.getValue(), null, a.getKey());
                updates.put(a.getKey(), a.getValue());
                a = now.hasNext() ? now.next() : null;
                changed = true;
            }
            else if (order > 0)
            {
                write('R', position, b.getValue(), null, b.getKey());
                removed.add(b.getKey());
                b = before.hasNext() ? before.next() : null;
                changed = true;
            }
            else
            {
                final Registry.Owner o = a.getValue();
                final Registry.Owner p = b.getValue();
                if (o.nodeId != p.nodeId || o.epoch != p.epoch)
                {
                    write(started ? 'C' : 'S', position, o, p, a.getKey());
                    updates.put(a.getKey(), o);
                    changed = true;
                }
                a = now.hasNext() ? now.next() : null;
                b = before.hasNext() ? before.next() : null;
            }
        }
        previous.putAll(updates);
        for (final String client : removed)
        {
            previous.remove(client);
        }
        return changed;
    }

    private void write(final char kind, final long position, final Registry.Owner owner, final Registry.Owner before,
        final String client) throws IOException
    {
        line.setLength(0);
        line.append(kind).append(' ').append(position).append(' ').append(owner.nodeId).append(' ').append(owner.epoch);
        if (kind == 'C')
        {
            line.append(' ').append(before == null ? -1 : before.nodeId).append(' ').append(before == null ? 0 : before.epoch);
        }
        line.append(' ');
        escape(client, line);
        line.append('\n');
        out.append(line);
    }

    /** Percent-escapes '%', space and control characters (a client id may hold any UTF-8 character). */
    static void escape(final String client, final StringBuilder into)
    {
        for (int i = 0; i < client.length(); i++)
        {
            final char ch = client.charAt(i);
            if (ch <= 0x20 || ch == 0x7F || ch == '%')
            {
                into.append('%').append(Character.forDigit(ch >> 4 & 0xF, 16)).append(Character.forDigit(ch & 0xF, 16));
            }
            else
            {
                into.append(ch);
            }
        }
    }
}
