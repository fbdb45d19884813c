package dev.skylark.broker.journal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A broker in its own JVM ({@code SkylarkMain} on this JVM's class path, with its access flags), so a test can
 * kill it with SIGKILL. The MQTT port is the free one the broker chose, read from its log.
 */
public final class BrokerProcess implements AutoCloseable
{
    private static final Pattern LISTENER = Pattern.compile("(?i)\\bmqtt listener on [^:]+:(\\d+)");

    private final Process process;
    private final CompletableFuture<Integer> port = new CompletableFuture<>();
    private final StringBuffer log = new StringBuffer();

    private BrokerProcess(final Process process)
    {
        this.process = process;
        final Thread reader = new Thread(this::readLog, "broker-log-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Deletes the media driver directory a killed broker on this data directory left in /dev/shm (a restarted or
     * cleanly stopped broker deletes it itself; about 58 MB each, and tmpfs is memory).
     */
    public static void deleteAeronDirectory(final Path dataDir) throws IOException
    {
        final Path dir = Path.of(dev.skylark.broker.ipc.IpcDurableLog.aeronDirectory(dataDir));
        if (java.nio.file.Files.exists(dir))
        {
            try (java.util.stream.Stream<Path> walk = java.nio.file.Files.walk(dir))
            {
                for (final Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList())
                {
                    java.nio.file.Files.deleteIfExists(p);
                }
            }
        }
    }

    static BrokerProcess start(final Path dataDir, final String... flags) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (final String argument : ManagementFactory.getRuntimeMXBean().getInputArguments())
        {
            if (argument.startsWith("--add-"))
            {
                command.add(argument);
            }
        }
        command.add("-Dchronicle.analytics.disable=true");
        command.add("-Xmx256m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.skylark.broker.cli.SkylarkMain");
        command.addAll(List.of("--mqtt.port", "0", "--http.port", "-1", "--bind.address", "127.0.0.1",
            "--io.threads", "1", "--auth.mode", "none", "--data.dir", dataDir.toString()));
        command.addAll(List.of(flags));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        return new BrokerProcess(process);
    }

    private void readLog()
    {
        try (BufferedReader reader = new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while ((line = reader.readLine()) != null)
            {
                log.append(line).append('\n');
                final Matcher m = LISTENER.matcher(line);
                if (m.find())
                {
                    port.complete(Integer.parseInt(m.group(1)));
                }
            }
        }
        catch (final IOException ignore)
        {
            // process gone
        }
        port.completeExceptionally(new IllegalStateException("broker exited before listening:\n" + log));
    }

    /** Waits until the broker listens (after its replay) and returns the port. */
    int port() throws Exception
    {
        return port.get(30, TimeUnit.SECONDS);
    }

    String uri() throws Exception
    {
        return "tcp://127.0.0.1:" + port();
    }

    String log()
    {
        return log.toString();
    }

    long pid()
    {
        return process.pid();
    }

    /** Waits for the process to end by itself; its exit status, or -1 when it is still running at the deadline. */
    int waitForExit(final long seconds) throws InterruptedException
    {
        return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }

    /** SIGKILL: no shutdown hook, no flush. */
    void kill() throws InterruptedException
    {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: the broker stops cleanly. */
    @Override
    public void close() throws InterruptedException
    {
        if (process.isAlive())
        {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
