package dev.skylark.broker.ws;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Runs the Node.js scripts under web/test (MQTT.js, playwright-core); skips when node or node_modules are missing. */
final class NodeScripts
{
    private NodeScripts()
    {
    }

    /** The web/ folder (tests run in broker/). */
    static Path webDir()
    {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("web").resolve("test")))
        {
            dir = dir.getParent();
        }
        Assumptions.assumeTrue(dir != null, "web/ folder not found");
        return dir.resolve("web");
    }

    static Path node()
    {
        for (final String candidate : new String[]{ "/usr/bin/node", "/usr/local/bin/node" })
        {
            if (Files.isExecutable(Path.of(candidate)))
            {
                return Path.of(candidate);
            }
        }
        Assumptions.abort("node is not installed");
        return null;
    }

    static void assumeModules(final String... modules)
    {
        for (final String module : modules)
        {
            Assumptions.assumeTrue(Files.isDirectory(webDir().resolve("node_modules").resolve(module)),
                "web/node_modules/" + module + " missing: run 'npm ci' in web/");
        }
    }

    /** Runs {@code node web/test/<script> args...}; fails with its output unless it exits 0 within the timeout. */
    static String run(final long timeoutSeconds, final String script, final String... args) throws Exception
    {
        final List<String> command = new ArrayList<>();
        command.add(node().toString());
        command.add("test/" + script);
        command.addAll(List.of(args));
        final Path log = Files.createTempFile("skylark-node-", ".log");
        final Process process = new ProcessBuilder(command).directory(webDir().toFile())
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try
        {
            final boolean exited = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            final String output = read(log);
            if (!exited)
            {
                fail("node " + script + " did not finish in " + timeoutSeconds + " s:\n" + output);
            }
            assertEquals(0, process.exitValue(), "node " + script + " failed:\n" + output);
            return output;
        }
        finally
        {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            Files.deleteIfExists(log);
        }
    }

    private static String read(final Path log) throws IOException
    {
        return Files.readString(log, StandardCharsets.UTF_8);
    }
}
