package dev.skylark.broker.cluster;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test process: one {@link ClusterNode} driven through stdin, its committed events on stdout, one line each.
 * The main thread plays the routing agent (the only thread that touches the link).
 * <pre>
 * args: nodeId members dir electionMs heartbeatMs sessionMs
 * in:   claim CORR CLIENT | release CLIENT EPOCH | route+ CORR FILTER | route- CORR FILTER
 *       send NODE TYPE TEXT | snapshot
 *       flood PREFIX COUNT (claims and route adds, retried on back pressure) | bench COUNT | hash | status | exit
 * out:  up N | down N | claimed CORR CLIENT OWNER EPOCH PREV PREVEPOCH | released CLIENT NODE EPOCH
 *       route FILTER NODE BOOL | committed CORR | hash HASH POSITION | status ROLE LEADER CONNECTED LIVEMASK
 *       peer FROM TYPE TEXT | flooded PREFIX | bench MEDIAN_US P99_US | started
 * </pre>
 */
public final class ClusterNodeMain
{
    private static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    private static volatile long lastClaimedCorrelation;

    private ClusterNodeMain()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final ClusterNode.Settings settings = new ClusterNode.Settings(Integer.parseInt(args[0]),
            ClusterMembers.parse(args[1]), new File(args[2]), Long.parseLong(args[3]), Long.parseLong(args[4]),
            Long.parseLong(args[5]), 64 * 1024, 0, 1024 * 1024, 1024 * 1024, 64 * 1024);
        final ConcurrentLinkedQueue<String> commands = new ConcurrentLinkedQueue<>();
        final Thread stdin = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    commands.add(line.trim());
                }
            }
            catch (final Exception ignore)
            {
            }
            commands.add("exit");
        }, "stdin");
        stdin.setDaemon(true);
        stdin.start();

        final Printer printer = new Printer();
        try (ClusterNode node = ClusterNode.launch(settings, () -> { }, (t) -> t.printStackTrace(System.err)))
        {
            final AeronClusterLink link = node.link();
            OUT.println("started");
            final IdleStrategy idle = new BackoffIdleStrategy(10, 10, 1000, 1_000_000);
            while (true)
            {
                int work = link.poll(printer, 64);
                final String command = commands.poll();
                if (command != null)
                {
                    work++;
                    if (!run(command, node, link, printer, idle))
                    {
                        return;
                    }
                }
                idle.idle(work);
            }
        }
    }

    private static boolean run(
        final String command, final ClusterNode node, final AeronClusterLink link, final Printer printer,
        final IdleStrategy idle) throws InterruptedException
    {
        final String[] p = command.split(" ");
        switch (p[0])
        {
            case "claim" -> OUT.println("offered " + link.claim(Long.parseLong(p[1]), p[2]));
            case "release" -> OUT.println("offered " + link.release(p[1], Long.parseLong(p[2])));
            case "route+" -> OUT.println("offered " + link.addRoute(Long.parseLong(p[1]), p[2]));
            case "route-" -> OUT.println("offered " + link.removeRoute(Long.parseLong(p[1]), p[2]));
            case "hash" ->
            {
                final long[] hash = node.stateHash(5000);
                OUT.println(hash == null ? "hash none -1" : "hash " + hash[0] + " " + hash[1]);
            }
            case "status" -> OUT.println("status " + node.role() + " " + node.leaderId() + " " + node.connected() +
                " " + node.liveNodesMask() + " " + node.snapshots());
            case "send" ->
            {
                final byte[] bytes = p[3].getBytes(StandardCharsets.UTF_8);
                OUT.println("sent " + link.send(Integer.parseInt(p[1]), Integer.parseInt(p[2]),
                    new org.agrona.concurrent.UnsafeBuffer(bytes), 0, bytes.length));
            }
            case "snapshot" -> OUT.println("snapshot " + node.snapshot());
            case "flood" ->
            {
                final int count = Integer.parseInt(p[2]);
                for (int i = 0; i < count; i++)
                {
                    final long corr = 1_000_000L + i;
                    while (!(i % 2 == 0 ? link.claim(corr, p[1] + "-" + (i % 20)) : link.addRoute(corr, p[1] + "/" + i)))
                    {
                        idle.idle(link.poll(printer, 64));
                    }
                    link.poll(printer, 64);
                }
                OUT.println("flooded " + p[1]);
            }
            case "bench" ->
            {
                final int count = Integer.parseInt(p[1]);
                final long[] latencies = new long[count];
                for (int i = 0; i < count; i++)
                {
                    final long corr = 5_000_000L + i;
                    final long start = System.nanoTime();
                    while (!link.claim(corr, "bench-" + (i % 10)))
                    {
                        idle.idle(link.poll(printer, 64));
                    }
                    printer.quiet = true;
                    while (lastClaimedCorrelation != corr)
                    {
                        idle.idle(link.poll(printer, 64));
                    }
                    printer.quiet = false;
                    latencies[i] = System.nanoTime() - start;
                }
                Arrays.sort(latencies);
                OUT.println("bench " + TimeUnit.NANOSECONDS.toMicros(latencies[count / 2]) + " " +
                    TimeUnit.NANOSECONDS.toMicros(latencies[(int)(count * 0.99)]));
            }
            case "exit" ->
            {
                return false;
            }
            default -> OUT.println("unknown " + command);
        }
        return true;
    }

    /** Prints each event as a line. */
    static final class Printer extends RecordingEvents
    {
        boolean quiet;

        @Override
        public void onClaimed(final long correlationId, final String clientId, final int ownerNodeId,
            final long epoch, final int previousNodeId, final long previousEpoch)
        {
            lastClaimedCorrelation = correlationId;
            if (!quiet)
            {
                super.onClaimed(correlationId, clientId, ownerNodeId, epoch, previousNodeId, previousEpoch);
                flush();
            }
        }

        private void flush()
        {
            for (final String line : lines)
            {
                OUT.println(line);
            }
            lines.clear();
        }

        @Override
        public void onNodeUp(final int nodeId)
        {
            super.onNodeUp(nodeId);
            flush();
        }

        @Override
        public void onNodeDown(final int nodeId, final int heirNodeId)
        {
            super.onNodeDown(nodeId, heirNodeId);
            flush();
        }

        @Override
        public void onReleased(final String clientId, final int nodeId, final long epoch)
        {
            super.onReleased(clientId, nodeId, epoch);
            flush();
        }

        @Override
        public void onRoute(final String filter, final int nodeId, final boolean present)
        {
            super.onRoute(filter, nodeId, present);
            flush();
        }

        @Override
        public void onRouteCommitted(final long correlationId)
        {
            super.onRouteCommitted(correlationId);
            flush();
        }

        @Override
        public void onPeerMessage(final int fromNodeId, final int type, final DirectBuffer buffer, final int offset,
            final int length)
        {
            OUT.println("peer " + fromNodeId + " " + type + " " + buffer.getStringWithoutLengthUtf8(offset, length));
        }

        @Override
        public void onRetained(final int originNodeId, final DirectBuffer message, final int offset, final int length)
        {
            super.onRetained(originNodeId, message, offset, length);
            flush();
        }
    }
}
