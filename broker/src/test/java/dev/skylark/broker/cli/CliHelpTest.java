package dev.skylark.broker.cli;

import dev.skylark.broker.Broker;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --help} and {@code --version} on every command; {@code stat --json}. */
class CliHelpTest
{
    @TempDir
    Path dir;

    private static String run(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, SkylarkMain.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8)),
            String.join(" ", args));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void versionNamesTheBuild()
    {
        final String text = run("--version");
        assertTrue(text.startsWith("skylark " + SkylarkMain.version()), text);
        assertTrue(!SkylarkMain.version().equals("unknown") && !SkylarkMain.version().startsWith("$"), text);
    }

    @Test
    void everyCommandAnswersHelpAndVersion()
    {
        final List<List<String>> paths = new ArrayList<>();
        collect(SkylarkMain.commandLine(System.out), new ArrayList<>(), paths);
        assertTrue(paths.size() >= 12, "commands found: " + paths);
        for (final List<String> path : paths)
        {
            final List<String> help = new ArrayList<>(path);
            help.add("--help");
            final String text = run(help.toArray(new String[0]));
            assertTrue(text.startsWith("Usage: skylark" + (path.isEmpty() ? "" : " " + String.join(" ", path))),
                path + ": " + text);
            final List<String> version = new ArrayList<>(path);
            version.add("--version");
            assertTrue(run(version.toArray(new String[0])).startsWith("skylark "), path.toString());
        }
        assertTrue(run("run", "--help").contains("skylark.shutdown.drain.ms"), "run --help lists the settings");
    }

    private static void collect(final CommandLine command, final List<String> path, final List<List<String>> into)
    {
        into.add(path);
        for (final CommandLine sub : command.getSubcommands().values())
        {
            final List<String> next = new ArrayList<>(path);
            next.add(sub.getCommandName());
            collect(sub, next, into);
        }
    }

    @Test
    void statJsonPrintsTheCountersAsOneObject() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").ioThreads(1).mqttPort(0)
            .httpPort(-1).bindAddress("127.0.0.1").dataDir(dir.toString())))
        {
            final String text = run("stat", "--json", "--data.dir", dir.toString());
            final JsonNode json = new ObjectMapper().readTree(text);
            assertEquals(ProcessHandle.current().pid(), json.get("pid").asLong());
            assertTrue(json.get("running").asBoolean(), text);
            assertTrue(json.get("counters").size() > 10, text);
            assertTrue(json.get("totals").has("skylark_connections"), text);
            assertEquals(1, text.trim().lines().count(), "one line");
        }
    }
}
