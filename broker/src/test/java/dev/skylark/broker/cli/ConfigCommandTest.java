package dev.skylark.broker.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigCommandTest
{
    @TempDir
    Path dir;

    private static String run(final int expectedExit, final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(expectedExit, SkylarkMain.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8)));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void showsEachValueWithItsSource() throws Exception
    {
        final Path file = dir.resolve("skylark.properties");
        Files.writeString(file, "skylark.io.threads=3\nskylark.preset=hosted\n");
        final String text = run(0, "config", "--config", file.toString(), "--mqtt.port", "1999");
        assertTrue(text.matches("(?s).*skylark\\.mqtt\\.port\\s+1999\\s+\\(command line\\).*"), text);
        assertTrue(text.matches("(?s).*skylark\\.io\\.threads\\s+3\\s+\\(file\\).*"), text);
        assertTrue(text.matches("(?s).*skylark\\.client\\.id\\.max\\.length\\s+23\\s+\\(preset hosted\\).*"), text);
        assertTrue(text.matches("(?s).*skylark\\.http\\.port\\s+8080\\s+\\(default\\).*"), text);
    }

    @Test
    void namesProblems()
    {
        final String text = run(2, "config", "--mqtt.prot", "1");
        assertTrue(text.contains("problem: unknown setting 'skylark.mqtt.prot'"), text);
    }
}
