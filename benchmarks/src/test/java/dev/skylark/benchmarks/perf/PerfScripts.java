/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.perf;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs a {@code perf-scripts/} script in its smoke mode for a test: project root, tools on the PATH, the load
 * generator from the test class path (this module's shaded jar is only made after its tests).
 */
final class PerfScripts
{
    private PerfScripts()
    {
    }

    static Path projectRoot()
    {
        Path dir = Path.of("").toAbsolutePath();
        while (null != dir && !Files.isDirectory(dir.resolve("perf-scripts")))
        {
            dir = dir.getParent();
        }
        return null == dir ? Path.of("..").toAbsolutePath() : dir;
    }

    static Path onPath(final String name)
    {
        final String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin";
        for (final String dir : path.split(File.pathSeparator))
        {
            final Path candidate = Path.of(dir, name);
            if (!dir.isEmpty() && Files.isExecutable(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /**
     * Run {@code script} with {@code SMOKE=1 SKIP_BUILD=1}, the given environment, a report and temp files in
     * {@code tmp}; assert it finishes in time with exit code 0.
     *
     * @return the script's output (stdout and stderr).
     */
    static String runSmoke(final Path script, final Path tmp, final Map<String, String> environment, final long timeoutS)
        throws Exception
    {
        final Path log = tmp.resolve(script.getFileName() + ".log");
        final ProcessBuilder builder = new ProcessBuilder("bash", script.toString())
            .directory(projectRoot().toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
        builder.environment().put("SMOKE", "1");
        builder.environment().put("SKIP_BUILD", "1");
        builder.environment().put("SKYLARK_JAR", projectRoot().resolve("broker/target/skylark.jar").toString());
        builder.environment().put("LOADGEN_CP", System.getProperty("java.class.path"));
        builder.environment().put("TMPDIR", tmp.toString());
        builder.environment().putAll(environment);

        final Process process = builder.start();
        try
        {
            assertTrue(process.waitFor(timeoutS, TimeUnit.SECONDS),
                script.getFileName() + " did not finish within " + timeoutS + " s");
        }
        finally
        {
            process.destroyForcibly();
        }
        final String output = Files.readString(log);
        assertEquals(0, process.exitValue(), output);
        return output;
    }
}
