package dev.skylark.broker.cli;

import dev.skylark.broker.Configuration;
import dev.skylark.broker.status.CountersFile;
import dev.skylark.broker.status.CountersSnapshot;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code skylark stat [--data.dir DIR] [--once] [--interval-ms N]}: prints a running broker's counters from its
 * counters file, refreshing like AeronStat, without touching the broker.
 */
final class StatCommand
{
    private StatCommand()
    {
    }

    static int run(final String[] args, final PrintStream out)
    {
        String dataDir = System.getProperty(Configuration.DATA_DIR_PROP_NAME, Configuration.DATA_DIR_DEFAULT);
        boolean once = false;
        long intervalMs = 1000;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--once" -> once = true;
                case "--data.dir", "--skylark.data.dir" -> dataDir = value(args, ++i);
                case "--interval-ms" -> intervalMs = Long.parseLong(value(args, ++i));
                default -> throw new IllegalArgumentException("stat: unexpected argument '" + args[i] + "'");
            }
        }
        try (CountersFile file = CountersFile.open(Path.of(dataDir)))
        {
            do
            {
                if (!once)
                {
                    out.print("\u001b[H\u001b[2J"); // clear the terminal, like AeronStat
                }
                print(file, out);
                out.flush();
                if (!once)
                {
                    java.util.concurrent.locks.LockSupport.parkNanos(intervalMs * 1_000_000L);
                    if (Thread.currentThread().isInterrupted())
                    {
                        return 0;
                    }
                }
            }
            while (!once);
        }
        return 0;
    }

    private static String value(final String[] args, final int i)
    {
        if (i >= args.length)
        {
            throw new IllegalArgumentException("stat: " + args[i - 1] + " needs a value");
        }
        return args[i];
    }

    static void print(final CountersFile file, final PrintStream out)
    {
        final long nowMs = System.currentTimeMillis();
        final long heartbeatAgeMs = nowMs - file.heartbeatMs();
        final boolean alive = ProcessHandle.of(file.pid()).map(ProcessHandle::isAlive).orElse(false) &&
            heartbeatAgeMs < 5_000;
        out.printf("Skylark pid %d, %s, up %s, heartbeat %.1f s ago%n", file.pid(), alive ? "running" : "NOT RUNNING",
            format(Duration.ofMillis(nowMs - file.startTimeMs())), heartbeatAgeMs / 1000.0);
        final CountersSnapshot snapshot = CountersSnapshot.of(file.reader());
        for (final Map.Entry<String, List<CountersSnapshot.Entry>> metric : snapshot.byName().entrySet())
        {
            final List<CountersSnapshot.Entry> entries = metric.getValue();
            for (final CountersSnapshot.Entry entry : entries)
            {
                out.printf("  %-62s %,15d%n", entry.label(), entry.value());
            }
            if (entries.size() > 1)
            {
                // The label without its qualifier, "(io-0)" or another label's value such as "(timeout)".
                out.printf("  %-62s %,15d%n", entries.get(0).label().replaceAll(" \\([^)]*\\)$", "") + " (all)",
                    snapshot.total(metric.getKey()));
            }
        }
    }

    private static String format(final Duration duration)
    {
        return String.format("%dd %02d:%02d:%02d", duration.toDays(), duration.toHoursPart(),
            duration.toMinutesPart(), duration.toSecondsPart());
    }
}
