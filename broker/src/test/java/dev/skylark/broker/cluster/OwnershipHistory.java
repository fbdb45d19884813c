package dev.skylark.broker.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The zero-double-ownership checker: reads the ownership logs every node wrote ({@code skylark.cluster.ownership.log},
 * {@link OwnershipLog}) and checks the registry's committed ownership history:
 * <ul>
 * <li>every node (every run of it: a restart appends a new run) that applied a log entry saw the same ownership
 *     changes from it, and applied every change in the stretch of log it covered (no gap);</li>
 * <li>a run that started from a snapshot started from the state the others had at that position;</li>
 * <li>in log order, epochs strictly increase, each change names the owner it replaces as the log had it, a release
 *     removes the current owner;</li>
 * <li>no client id has two owners in one epoch, in any node's view.</li>
 * </ul>
 * {@link #check} returns the problems (empty: the history is sound) and a one-line summary.
 */
final class OwnershipHistory
{
    record Change(char kind, long position, int node, long epoch, int previousNode, long previousEpoch, String client)
    {
        String key()
        {
            return kind + " " + node + " " + epoch + " " + previousNode + " " + previousEpoch + " " + client;
        }
    }

    record Run(String name, List<Change> start, List<Change> changes)
    {
        long startPosition()
        {
            return start.isEmpty() ? -1 : start.get(0).position();
        }

        long lastPosition()
        {
            return changes.isEmpty() ? startPosition() : changes.get(changes.size() - 1).position();
        }
    }

    record Result(int runs, int entries, int changes, int clients, long lastEpoch, List<String> problems)
    {
        boolean ok()
        {
            return problems.isEmpty();
        }

        String summary()
        {
            return "ownership history: " + runs + " node run(s), " + entries + " log entries with " + changes +
                " ownership change(s), " + clients + " client id(s), last epoch " + lastEpoch + ", " +
                (problems.isEmpty() ? "no double ownership, all nodes agree" : problems.size() + " problem(s): " +
                String.join("; ", problems.subList(0, Math.min(10, problems.size()))));
        }
    }

    private OwnershipHistory()
    {
    }

    static Result check(final List<Path> files) throws IOException
    {
        final List<Run> runs = new ArrayList<>();
        final List<String> problems = new ArrayList<>();
        for (final Path file : files)
        {
            if (Files.exists(file))
            {
                runs.addAll(parse(file, problems));
            }
        }
        return check(runs, problems);
    }

    static List<Run> parse(final Path file, final List<String> problems) throws IOException
    {
        final List<Run> runs = new ArrayList<>();
        final List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        Run run = null;
        for (int i = 0; i < lines.size(); i++)
        {
            final String line = lines.get(i);
            if (line.startsWith("#"))
            {
                run = new Run(file.getFileName() + " run " + (runs.size() + 1) + " (" + line.substring(1).trim() + ")",
                    new ArrayList<>(), new ArrayList<>());
                runs.add(run);
                continue;
            }
            final boolean lastOfRun = i + 1 == lines.size() || lines.get(i + 1).startsWith("#");
            final Change change = parseLine(line);
            if (change == null || run == null)
            {
                if (!lastOfRun || run == null)
                {
                    problems.add(file.getFileName() + " line " + (i + 1) + " unreadable: " + line);
                }
                continue; // the last line of a killed run may be cut short
            }
            if (change.kind() == 'S')
            {
                if (!run.changes().isEmpty())
                {
                    problems.add(run.name() + ": start state after changes, line " + (i + 1));
                }
                run.start().add(change);
            }
            else
            {
                if (change.position() < run.lastPosition())
                {
                    problems.add(run.name() + ": log position went back from " + run.lastPosition() + " to " +
                        change.position() + ", line " + (i + 1));
                }
                run.changes().add(change);
            }
        }
        return runs;
    }

    private static Change parseLine(final String line)
    {
        final String[] f = line.split(" ");
        try
        {
            return switch (f.length > 0 ? f[0] : "")
            {
                case "S", "R" -> f.length != 5 ? null : new Change(f[0].charAt(0), Long.parseLong(f[1]),
                    Integer.parseInt(f[2]), Long.parseLong(f[3]), -1, 0, unescape(f[4]));
                case "C" -> f.length != 7 ? null : new Change('C', Long.parseLong(f[1]), Integer.parseInt(f[2]),
                    Long.parseLong(f[3]), Integer.parseInt(f[4]), Long.parseLong(f[5]), unescape(f[6]));
                default -> null;
            };
        }
        catch (final RuntimeException ex)
        {
            return null;
        }
    }

    private static String unescape(final String s)
    {
        final StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++)
        {
            final char ch = s.charAt(i);
            if (ch == '%')
            {
                sb.append((char)Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            }
            else
            {
                sb.append(ch);
            }
        }
        return sb.toString();
    }

    static Result check(final List<Run> runs, final List<String> problems)
    {
        // 1. the log: position -> the changes it made, as the first run that applied it saw them; every other run
        //    that applied it must have seen the same
        final TreeMap<Long, List<Change>> log = new TreeMap<>();
        final Map<Long, String> seenBy = new HashMap<>();
        for (final Run run : runs)
        {
            final Map<Long, List<Change>> byPosition = byPosition(run.changes());
            for (final Map.Entry<Long, List<Change>> entry : byPosition.entrySet())
            {
                final List<Change> known = log.get(entry.getKey());
                if (known == null)
                {
                    log.put(entry.getKey(), entry.getValue());
                    seenBy.put(entry.getKey(), run.name());
                }
                else if (!keys(known).equals(keys(entry.getValue())))
                {
                    problems.add("log position " + entry.getKey() + " applied differently: " + seenBy.get(entry.getKey()) +
                        " " + keys(known) + ", " + run.name() + " " + keys(entry.getValue()));
                }
            }
        }
        // 2. no gap: a run applied every change of the log within the stretch it covered
        for (final Run run : runs)
        {
            final long from = run.startPosition();
            final long to = run.lastPosition();
            final Map<Long, List<Change>> mine = byPosition(run.changes());
            for (final Long position : log.subMap(from, false, to, true).keySet())
            {
                if (!mine.containsKey(position))
                {
                    problems.add(run.name() + " missed the ownership change(s) at log position " + position + ": " +
                        keys(log.get(position)));
                }
            }
        }
        // 3. replay in log order: epochs rise, each change names the owner it replaces, releases remove the owner
        final Map<String, Change> owners = new HashMap<>();
        final Map<Long, Map<String, Change>> stateAt = new HashMap<>();
        final java.util.Set<Long> snapshotPositions = new java.util.HashSet<>();
        final boolean fromScratch = runs.stream().anyMatch((r) -> r.start().isEmpty());
        for (final Run run : runs)
        {
            if (!run.start().isEmpty())
            {
                snapshotPositions.add(run.startPosition());
            }
        }
        long lastEpoch = 0;
        int changes = 0;
        for (final Map.Entry<Long, List<Change>> entry : log.entrySet())
        {
            for (final Long p : snapshotPositions)
            {
                if (p < entry.getKey() && !stateAt.containsKey(p))
                {
                    stateAt.put(p, new HashMap<>(owners));
                }
            }
            for (final Change c : entry.getValue())
            {
                changes++;
                final Change current = owners.get(c.client());
                if (c.kind() == 'C')
                {
                    if (c.epoch() <= lastEpoch)
                    {
                        problems.add("epoch did not rise at log position " + c.position() + ": " + c.key() +
                            " after epoch " + lastEpoch);
                    }
                    lastEpoch = Math.max(lastEpoch, c.epoch());
                    final int previousNode = current == null ? -1 : current.node();
                    final long previousEpoch = current == null ? 0 : current.epoch();
                    if (fromScratch && (previousNode != c.previousNode() || previousEpoch != c.previousEpoch()))
                    {
                        problems.add("at log position " + c.position() + " " + c.key() + " names previous owner " +
                            c.previousNode() + "@" + c.previousEpoch() + " but the log had " + previousNode + "@" +
                            previousEpoch);
                    }
                    owners.put(c.client(), c);
                }
                else if (current != null && (current.node() != c.node() || current.epoch() != c.epoch()))
                {
                    problems.add("at log position " + c.position() + " release " + c.key() + " of an owner the log " +
                        "did not have (" + current.node() + "@" + current.epoch() + ")");
                }
                else
                {
                    owners.remove(c.client());
                }
            }
        }
        // 4. a run that started from a snapshot started from the log's state at that position (when the log is known
        //    from its beginning: some run started from scratch)
        if (fromScratch)
        {
            for (final Run run : runs)
            {
                if (run.start().isEmpty())
                {
                    continue;
                }
                final Map<String, Change> expected = stateAt.getOrDefault(run.startPosition(), owners);
                final Map<String, String> want = new TreeMap<>();
                expected.forEach((client, c) -> want.put(client, c.node() + "@" + c.epoch()));
                final Map<String, String> got = new TreeMap<>();
                run.start().forEach((c) -> got.put(c.client(), c.node() + "@" + c.epoch()));
                if (!want.equals(got))
                {
                    problems.add(run.name() + " started from a snapshot at " + run.startPosition() + " with " + got +
                        " but the log had " + want);
                }
            }
        }
        // 5. no client id with two owners in one epoch, in any node's view
        final Map<String, Integer> ownerOfEpoch = new HashMap<>();
        final java.util.Set<String> clients = new java.util.HashSet<>();
        for (final Run run : runs)
        {
            for (final List<Change> list : List.of(run.start(), run.changes()))
            {
                for (final Change c : list)
                {
                    clients.add(c.client());
                    final Integer other = ownerOfEpoch.putIfAbsent(c.client() + "\u0000" + c.epoch(), c.node());
                    if (other != null && other != c.node())
                    {
                        problems.add("double ownership: client " + c.client() + " owned by node " + other +
                            " and node " + c.node() + " in epoch " + c.epoch() + " (" + run.name() + ", log position " +
                            c.position() + ")");
                    }
                }
            }
        }
        return new Result(runs.size(), log.size(), changes, clients.size(), lastEpoch, problems);
    }

    private static Map<Long, List<Change>> byPosition(final List<Change> changes)
    {
        final Map<Long, List<Change>> map = new LinkedHashMap<>();
        for (final Change c : changes)
        {
            map.computeIfAbsent(c.position(), (k) -> new ArrayList<>()).add(c);
        }
        return map;
    }

    private static List<String> keys(final List<Change> changes)
    {
        return changes.stream().map(Change::key).filter(Objects::nonNull).toList();
    }
}
