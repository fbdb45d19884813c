package dev.skylark.broker.cluster;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A {@link ClusterNodeMain} in its own JVM: send it lines, wait for lines it printed. */
final class NodeProcess implements AutoCloseable
{
    final int nodeId;
    private final Process process;
    private final Writer stdin;
    private final List<String> lines = new ArrayList<>();

    NodeProcess(final int nodeId, final String members, final File dir, final File log, final long electionMs,
        final long heartbeatMs, final long sessionMs) throws IOException
    {
        this.nodeId = nodeId;
        final String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        process = new ProcessBuilder(java, "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens", "java.base/java.nio=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
            "-Daeron.print.configuration=false", "-cp", System.getProperty("java.class.path"),
            ClusterNodeMain.class.getName(), String.valueOf(nodeId), members, dir.getAbsolutePath(),
            String.valueOf(electionMs), String.valueOf(heartbeatMs), String.valueOf(sessionMs))
            .redirectError(ProcessBuilder.Redirect.appendTo(log))
            .start();
        stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader out = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = out.readLine()) != null)
                {
                    synchronized (lines)
                    {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            }
            catch (final IOException ignore)
            {
            }
        }, "node-" + nodeId + "-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    void send(final String command) throws IOException
    {
        stdin.write(command + "\n");
        stdin.flush();
    }

    /** Waits for a line printed at or after index {@code from}; returns it, or null at the deadline. */
    String await(final int from, final Predicate<String> match, final long timeoutMs) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (lines)
        {
            int next = from;
            while (true)
            {
                for (; next < lines.size(); next++)
                {
                    if (match.test(lines.get(next)))
                    {
                        return lines.get(next);
                    }
                }
                final long leftMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (leftMs <= 0 || !process.isAlive() && next >= lines.size())
                {
                    return null;
                }
                lines.wait(Math.min(leftMs, 100));
            }
        }
    }

    /** Sends {@code command} and waits for its answer line starting with {@code prefix}. */
    String ask(final String command, final String prefix, final long timeoutMs)
        throws IOException, InterruptedException
    {
        final int from = size();
        send(command);
        return await(from, (l) -> l.startsWith(prefix), timeoutMs);
    }

    int size()
    {
        synchronized (lines)
        {
            return lines.size();
        }
    }

    List<String> lines()
    {
        synchronized (lines)
        {
            return new ArrayList<>(lines);
        }
    }

    boolean isAlive()
    {
        return process.isAlive();
    }

    /** SIGKILL on Linux. */
    void kill() throws InterruptedException
    {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException
    {
        if (process.isAlive())
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
