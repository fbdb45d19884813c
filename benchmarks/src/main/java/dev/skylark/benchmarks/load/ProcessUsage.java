/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time and resident memory of a process, read from Linux {@code /proc} (all threads together). On a machine
 * where other work competes for the cores, CPU time per message is a steadier figure than messages per second.
 * Elsewhere every reading is -1.
 */
final class ProcessUsage
{
    /** {@code USER_HZ}: the unit of {@code /proc/<pid>/stat} times; 100 on every Linux ABI in use. */
    private static final long CLOCK_TICKS_PER_S = 100;

    private ProcessUsage()
    {
    }

    /**
     * @param pid process id, or &lt;= 0.
     * @return user + system CPU time in ns, or -1 when not readable.
     */
    static long cpuNs(final long pid)
    {
        if (pid <= 0)
        {
            return -1;
        }
        try
        {
            final String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
            final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            final long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (14, 15)
            return ticks * (1_000_000_000L / CLOCK_TICKS_PER_S);
        }
        catch (final IOException | RuntimeException ex)
        {
            return -1;
        }
    }

    /**
     * @param pid   process id, or &lt;= 0.
     * @param field a {@code /proc/<pid>/status} field in kB, e.g. {@code VmRSS} or {@code RssAnon}.
     * @return its value in kB, or -1 when not readable.
     */
    static long statusKb(final long pid, final String field)
    {
        if (pid <= 0)
        {
            return -1;
        }
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")))
            {
                if (line.startsWith(field) && line.length() > field.length() && line.charAt(field.length()) == ':')
                {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
                }
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            return -1;
        }

        return -1;
    }
}
