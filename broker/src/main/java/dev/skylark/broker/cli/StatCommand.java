package dev.skylark.broker.cli;


import dev.skylark.broker.Configuration;
import dev.skylark.broker.status.CountersFile;
import dev.skylark.broker.status.CountersSnapshot;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code skylark stat [--data.dir DIR] [--once | --json] [--interval-ms N]}: prints a running broker's counters from its
 * counters file, refreshing like AeronStat, without touching the broker.
 */
@Command(name = "stat", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
    description = "Prints a running broker's counters from its counters file, refreshing like AeronStat.")
final class StatCommand extends CliCommand
{
    @Option(names = { "--data.dir", "--skylark.data.dir" }, paramLabel = "DIR",
        description = "the broker's data directory (default: -Dskylark.data.dir, else data)")
    String dataDir = System.getProperty(Configuration.DATA_DIR_PROP_NAME, Configuration.DATA_DIR_DEFAULT);

    @Option(names = "--once", description = "print once and exit")
    boolean once;

    @Option(names = "--json", description = "print once, as one JSON object (for scripts)")
    boolean json;

    @Option(names = "--interval-ms", paramLabel = "N", description = "refresh interval (default 1000)")
    long intervalMs = 1000;

    @Override
    public Integer call()
    {
        try (CountersFile file = CountersFile.open(Path.of(dataDir)))
        {
            if (json)
            {
                out.println(json(file));
                out.flush();
                return 0;
            }
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

    /**
     * {@code {"pid":..,"running":..,"uptimeMs":..,"heartbeatAgeMs":..,"counters":[{"name":..,"labels":..,
     * "label":..,"value":..},..],"totals":{"name":total,..}}}.
     */
    static String json(final CountersFile file)
    {
        final long nowMs = System.currentTimeMillis();
        final long heartbeatAgeMs = nowMs - file.heartbeatMs();
        final boolean alive = ProcessHandle.of(file.pid()).map(ProcessHandle::isAlive).orElse(false) &&
            heartbeatAgeMs < 5_000;
        final CountersSnapshot snapshot = CountersSnapshot.of(file.reader());
        final ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("pid", file.pid());
        root.put("running", alive);
        root.put("uptimeMs", nowMs - file.startTimeMs());
        root.put("heartbeatAgeMs", heartbeatAgeMs);
        final ArrayNode counters = root.putArray("counters");
        for (final CountersSnapshot.Entry entry : snapshot.entries())
        {
            counters.addObject().put("name", entry.name()).put("labels", entry.labels()).put("label", entry.label())
                .put("value", entry.value());
        }
        final ObjectNode totals = root.putObject("totals");
        for (final String name : snapshot.byName().keySet())
        {
            totals.put(name, snapshot.total(name));
        }
        return root.toString();
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
