package dev.skylark.broker.ops;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A broker in its own JVM, started the way an operator starts it ({@code SkylarkMain} with arguments, environment
 * variables), so that a test can send it signals. Ports are the free ones it chose, read from its log.
 */
final class SkylarkProcess implements AutoCloseable
{
    private static final Pattern LISTENER = Pattern.compile("\\b(mqtt|mqtts|http|https) listener on [^:]+:(\\d+)");

    private final Process process;
    private final StringBuffer log = new StringBuffer();
    private final Map<String, Integer> ports = new ConcurrentHashMap<>();

    private SkylarkProcess(final Process process)
    {
        this.process = process;
        final Thread reader = new Thread(this::readLog, "skylark-log-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /** {@code java [access flags] -cp <test class path> SkylarkMain args...} with these extra environment variables. */
    static SkylarkProcess start(final Map<String, String> environment, final List<String> args) throws IOException
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
        command.add("-Xmx192m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.skylark.broker.cli.SkylarkMain");
        command.addAll(args);
        return launch(command, environment);
    }

    /** Any command line that runs a broker (e.g. a distribution's {@code bin/skylark}), with no SKYLARK_* inherited. */
    static SkylarkProcess launch(final List<String> command, final Map<String, String> environment) throws IOException
    {
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().keySet().removeIf((name) -> name.startsWith("SKYLARK_"));
        builder.environment().putAll(environment);
        return new SkylarkProcess(builder.start());
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
                    ports.put(m.group(1), Integer.parseInt(m.group(2)));
                }
            }
        }
        catch (final IOException ignore)
        {
            // process gone
        }
    }

    /** Waits until the broker has started and returns the port of that listener ("mqtt", "http", "mqtts"). */
    int port(final String listener)
    {
        awaitLog(" started (Java", 60); // "Skylark <version> started (Java ..., pid ...)"
        final Integer port = ports.get(listener);
        if (port == null)
        {
            throw new AssertionError("no " + listener + " listener in the log:\n" + log);
        }
        return port;
    }

    /** Waits until the log contains this text. */
    void awaitLog(final String text, final int seconds)
    {
        await(() -> log.indexOf(text) >= 0, seconds, "'" + text + "' in the log");
    }

    void await(final BooleanSupplier condition, final int seconds, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                throw new AssertionError("timed out waiting for " + what + "; broker log:\n" + log);
            }
            if (!process.isAlive() && !condition.getAsBoolean())
            {
                throw new AssertionError("broker exited (" + process.exitValue() + ") while waiting for " + what +
                    "; broker log:\n" + log);
            }
            try
            {
                process.waitFor(20, TimeUnit.MILLISECONDS); // a bounded wait on the process, not a sleep
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
                throw new AssertionError(ex);
            }
        }
    }

    String log()
    {
        return log.toString();
    }

    boolean isAlive()
    {
        return process.isAlive();
    }

    /** Sends a signal by name ("HUP", "TERM") with kill(1). */
    void signal(final String name) throws IOException, InterruptedException
    {
        final Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid()))
            .redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0)
        {
            throw new AssertionError("kill -" + name + " failed");
        }
    }

    /** Waits for the process to exit and returns its exit status. */
    int awaitExit(final int seconds) throws InterruptedException
    {
        if (!process.waitFor(seconds, TimeUnit.SECONDS))
        {
            throw new AssertionError("broker did not exit within " + seconds + " s; log:\n" + log);
        }
        return process.exitValue();
    }

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
