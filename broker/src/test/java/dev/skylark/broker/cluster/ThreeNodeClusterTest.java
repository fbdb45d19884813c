package dev.skylark.broker.cluster;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real three-member Aeron Cluster, one JVM per node ({@link ClusterNodeMain}), on loopback with ports and
 * directories chosen at run time: leader election, one owner for two claims, peer messages, snapshot, SIGKILL of the
 * leader idle and while claims and route adds flow, restart from the node's own snapshot and log. Every process is
 * destroyed after the test, also on failure.
 */
class ThreeNodeClusterTest
{
    static final long ELECTION_MS = 1000;
    static final long HEARTBEAT_MS = 2000;
    static final long SESSION_MS = 4000;
    static final int FLOOD = 3000;
    /** From SIGKILL of the leader to a new leader: the heartbeat timeout, then an election; slack for a busy box. */
    static final long FAILOVER_MS = HEARTBEAT_MS + 2 * ELECTION_MS + 6000;

    @TempDir
    Path dir;
    private final NodeProcess[] nodes = new NodeProcess[3];
    private String members;

    @AfterEach
    void stopAll() throws InterruptedException
    {
        for (final NodeProcess node : nodes)
        {
            if (node != null)
            {
                node.close();
            }
        }
    }

    @Test
    @Timeout(value = 110, unit = TimeUnit.SECONDS)
    void registryStaysOneAcrossLeaderKills() throws Exception
    {
        members = BrokerCluster.freeMembers(3); // member base ports whose UDP ranges are free and do not overlap
        for (int i = 0; i < 3; i++)
        {
            start(i);
        }
        final int leader = awaitLeader(List.of(0, 1, 2), -1, 30_000);
        awaitAllLive(List.of(0, 1, 2), 7, 20_000);

        // node to node: UDP, not the log
        final int from = nodes[1].size();
        assertEquals("sent true", awaitSent(0, 1, "hello-1"));
        assertNotNull(nodes[1].await(from, "peer 0 7 hello-1"::equals, 5000));

        // two claims of one client id from two nodes: every node ends with the same single owner
        nodes[0].send("claim 11 dup");
        nodes[1].send("claim 22 dup");
        final Map<Integer, String> lastOwner = new HashMap<>();
        for (int i = 0; i < 3; i++)
        {
            final NodeProcess node = nodes[i];
            final int[] seen = {0};
            assertNotNull(node.await(0, (l) -> l.startsWith("claimed ") && l.split(" ")[2].equals("dup") &&
                ++seen[0] == 2, 10_000), "both claims on node " + i);
            // the second claim names the first as the previous owner, with its epoch
            final String[] first = claimLine(node, "dup", 0).split(" ");
            final String[] second = claimLine(node, "dup", 1).split(" ");
            assertEquals(first[3] + " " + first[4], second[5] + " " + second[6]);
            lastOwner.put(i, lastClaim(node, "dup").split(" ")[3]);
        }
        assertEquals(1, lastOwner.values().stream().distinct().count(), "one owner everywhere: " + lastOwner);
        // the origin got its correlation id, the others 0
        assertTrue(nodes[0].lines().stream().anyMatch((l) -> l.startsWith("claimed 11 dup 0 ")), "origin 0");
        assertTrue(nodes[1].lines().stream().anyMatch((l) -> l.startsWith("claimed 22 dup 1 ")), "origin 1");
        assertTrue(nodes[2].lines().stream().noneMatch((l) -> l.startsWith("claimed 11 ") || l.startsWith("claimed 22 ")));
        awaitSameHash(List.of(0, 1, 2));

        // commit latency of a claim, offer to committed event, on a follower
        final int follower = (leader + 1) % 3;
        final String bench = nodes[follower].ask("bench 1000", "bench", 60_000);
        assertNotNull(bench, "bench finished");
        System.out.println("claim commit latency on loopback (median_us p99_us): " + bench.substring(6));

        // a snapshot on request, taken by every member
        final String snapshot = nodes[leader].ask("snapshot", "snapshot", 5000);
        assertEquals("snapshot true", snapshot);
        for (int i = 0; i < 3; i++)
        {
            awaitStatus(i, (s) -> Long.parseLong(s[5]) >= 1, 20_000);
        }

        // SIGKILL the leader while idle: the others elect a new one, claims commit again, views agree
        final long killed = System.nanoTime();
        nodes[leader].kill();
        final List<Integer> survivors = others(leader);
        final int second = awaitLeader(survivors, leader, FAILOVER_MS);
        final long electedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        final int mark = nodes[survivors.get(0)].size();
        nodes[survivors.get(0)].send("claim 33 after-kill");
        assertNotNull(nodes[survivors.get(0)].await(mark, (l) -> l.startsWith("claimed 33 after-kill"),
            ELECTION_MS + 4000), "a claim commits within the election timeout once a leader is elected");
        System.out.println("new leader " + second + " elected " + electedMs + " ms after SIGKILL of " + leader);
        awaitSameHash(survivors);

        // the killed node comes back: its snapshot, its log, then catch-up from the leader
        start(leader);
        awaitAllLive(List.of(0, 1, 2), 7, 30_000);
        awaitSameHash(List.of(0, 1, 2));

        // SIGKILL the leader while claims and route adds flow from the two others
        final int third = awaitLeader(List.of(0, 1, 2), -1, 10_000);
        final List<Integer> flowing = others(third);
        final int[] marks = new int[3];
        for (final int i : flowing)
        {
            marks[i] = nodes[i].size();
            nodes[i].send("flood n" + i + " " + FLOOD);
        }
        assertNotNull(nodes[flowing.get(0)].await(marks[flowing.get(0)], (l) -> l.startsWith("committed 10000"),
            20_000), "the flow started");
        nodes[third].kill();
        awaitLeader(flowing, third, FAILOVER_MS);
        for (final int i : flowing)
        {
            assertNotNull(nodes[i].await(marks[i], ("flooded n" + i)::equals, 60_000), "flow of node " + i);
        }
        for (final int i : flowing)
        {
            final int[] committed = {0};
            nodes[i].await(marks[i], (l) -> (l.startsWith("claimed 10") || l.startsWith("committed 10")) &&
                ++committed[0] == FLOOD, 60_000);
        }
        awaitSameHash(flowing);
        // every command committed exactly once: what went to the dying leader is resent to the new one (Aeron
        // Cluster does not carry ingress across a leader change), numbered so the registry skips what it applied
        for (final int i : flowing)
        {
            final List<String> tail = nodes[i].lines().subList(marks[i], nodes[i].size());
            final long claims = tail.stream().filter((l) -> l.startsWith("claimed 10")).map((l) -> l.split(" ")[1])
                .distinct().count();
            final long claimLines = tail.stream().filter((l) -> l.startsWith("claimed 10")).count();
            final long routes = tail.stream().filter((l) -> l.startsWith("committed 10")).count();
            assertEquals(claims, claimLines, "a claim committed twice on " + i);
            assertEquals(FLOOD / 2, claims, "claims of " + i);
            assertEquals(FLOOD / 2, routes, "route adds of " + i);
            System.out.println("node " + i + " during the leader kill: " + claims + " of " + FLOOD / 2 +
                " claims and " + routes + " of " + FLOOD / 2 + " route adds committed");
        }
        // no client id with two owners: both survivors report the same owner for every flooded client id
        for (int c = 0; c < 20; c += 2)
        {
            for (final int origin : flowing)
            {
                final String id = "n" + origin + "-" + c;
                assertEquals(lastClaim(nodes[flowing.get(0)], id).split(" ")[3],
                    lastClaim(nodes[flowing.get(1)], id).split(" ")[3], id);
            }
        }
    }

    // ---- helpers ----

    private void start(final int i) throws IOException
    {
        final File nodeDir = dir.resolve("node-" + i).toFile();
        final File log = dir.resolve("node-" + i + ".log").toFile();
        nodes[i] = new NodeProcess(i, members, nodeDir, log, ELECTION_MS, HEARTBEAT_MS, SESSION_MS);
    }

    private String awaitSent(final int fromNode, final int toNode, final String text) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String answer = null;
        while (System.nanoTime() < deadline)
        {
            answer = nodes[fromNode].ask("send " + toNode + " 7 " + text, "sent", 5000);
            if ("sent true".equals(answer))
            {
                return answer;
            }
            nodes[fromNode].await(nodes[fromNode].size(), (l) -> false, 50);
        }
        return answer;
    }

    private static List<Integer> others(final int node)
    {
        final List<Integer> others = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            if (i != node)
            {
                others.add(i);
            }
        }
        return others;
    }

    /** status ROLE LEADER CONNECTED LIVEMASK SNAPSHOTS, split. */
    private String[] status(final int i) throws Exception
    {
        final String line;
        try
        {
            line = nodes[i].ask("status", "status", 5000);
        }
        catch (final IOException ex)
        {
            fail("node " + i + " died; its log:\n" + log(i));
            return null;
        }
        return line == null ? null : line.split(" ");
    }

    private void awaitStatus(final int i, final java.util.function.Predicate<String[]> ok, final long timeoutMs)
        throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String[] s = null;
        while (System.nanoTime() < deadline)
        {
            s = status(i);
            if (s != null && ok.test(s))
            {
                return;
            }
            nodes[i].await(nodes[i].size(), (l) -> false, 100);
        }
        fail("node " + i + " status " + (s == null ? null : String.join(" ", s)) + "; log:\n" + log(i));
    }

    private int awaitLeader(final List<Integer> among, final int notThis, final long timeoutMs) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline)
        {
            for (final int i : among)
            {
                final String[] s = status(i);
                if (s != null && s[1].equals("leader") && i != notThis)
                {
                    boolean allConnected = true;
                    for (final int j : among)
                    {
                        final String[] t = status(j);
                        allConnected &= t != null && t[3].equals("true") && Integer.parseInt(t[2]) == i;
                    }
                    if (allConnected)
                    {
                        return i;
                    }
                }
            }
            nodes[among.get(0)].await(nodes[among.get(0)].size(), (l) -> false, 100);
        }
        fail("no leader among " + among + "; logs:\n" + log(among.get(0)));
        return -1;
    }

    private void awaitAllLive(final List<Integer> among, final long mask, final long timeoutMs) throws Exception
    {
        for (final int i : among)
        {
            awaitStatus(i, (s) -> s[3].equals("true") && Long.parseLong(s[4]) == mask, timeoutMs);
        }
    }

    /** Every node in {@code among} reports the same state hash at the same log position. */
    private void awaitSameHash(final List<Integer> among) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        final List<String> hashes = new ArrayList<>();
        while (System.nanoTime() < deadline)
        {
            hashes.clear();
            for (final int i : among)
            {
                hashes.add(nodes[i].ask("hash", "hash", 10_000));
            }
            if (hashes.stream().distinct().count() == 1 && !hashes.get(0).endsWith(" -1"))
            {
                return;
            }
            nodes[among.get(0)].await(nodes[among.get(0)].size(), (l) -> false, 100);
        }
        assertNotEquals(1, 1, "state hashes differ: " + hashes);
    }

    private static String lastClaim(final NodeProcess node, final String clientId)
    {
        String last = null;
        for (final String line : node.lines())
        {
            if (line.startsWith("claimed ") && line.split(" ")[2].equals(clientId))
            {
                last = line;
            }
        }
        assertNotNull(last, "a claim of " + clientId);
        return last;
    }

    private static String claimLine(final NodeProcess node, final String clientId, final int index)
    {
        int n = 0;
        for (final String line : node.lines())
        {
            if (line.startsWith("claimed ") && line.split(" ")[2].equals(clientId) && n++ == index)
            {
                return line;
            }
        }
        return "";
    }

    private String log(final int i)
    {
        try
        {
            final Path file = dir.resolve("node-" + i + ".log");
            final String text = Files.exists(file) ? Files.readString(file) : "";
            return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
        }
        catch (final IOException ex)
        {
            return ex.toString();
        }
    }
}
