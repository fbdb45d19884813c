/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.perf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs {@code perf-scripts/compare.sh} in {@code SMOKE=1} mode so the script cannot rot: both brokers must start,
 * the load generator must report a non-zero delivery rate for each, and the report must be written. Skipped when
 * mosquitto is not installed or the broker jar was not built (in {@code mvn verify} the broker module is packaged
 * before this module's tests run). The load generator runs from this test's class path, because this module's
 * shaded jar is only made after its tests.
 */
class CompareScriptSmokeTest
{
    private static final Pattern RESULT = Pattern.compile(
        "^RESULT scenario=fan-in broker=(\\S+) .* rate_msgs_s=(\\d+) .*$", Pattern.MULTILINE);

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void smokeRunWritesReportWithBothBrokers(@TempDir final Path tmp) throws Exception
    {
        final Path root = projectRoot();
        final Path script = root.resolve("perf-scripts/compare.sh");
        final Path jar = root.resolve("broker/target/skylark.jar");
        assumeTrue(Files.isExecutable(script), "perf-scripts/compare.sh not found");
        assumeTrue(Files.isRegularFile(jar), "broker/target/skylark.jar not built");
        final Path mosquitto = onPath("mosquitto");
        assumeTrue(null != mosquitto, "mosquitto not on PATH");

        final Path report = tmp.resolve("report.md");
        final ProcessBuilder builder = new ProcessBuilder("bash", script.toString())
            .directory(root.toFile())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("compare.log").toFile());
        builder.environment().put("SMOKE", "1");
        builder.environment().put("SKIP_BUILD", "1");
        builder.environment().put("SCENARIOS", "qos0-flat qos1-paced connections");
        builder.environment().put("REPORT", report.toString());
        builder.environment().put("MOSQUITTO", mosquitto.toString());
        builder.environment().put("SKYLARK_JAR", jar.toString());
        builder.environment().put("LOADGEN_CP", System.getProperty("java.class.path"));
        builder.environment().put("TMPDIR", tmp.toString());

        final Process process = builder.start();
        try
        {
            assertTrue(process.waitFor(100, TimeUnit.SECONDS), "compare.sh did not finish within 100 s");
        }
        finally
        {
            process.destroyForcibly();
        }
        final String log = Files.readString(tmp.resolve("compare.log"));
        assertEquals(0, process.exitValue(), log);
        assertTrue(Files.isRegularFile(report), "report not written: " + log);

        final String text = Files.readString(report);
        int brokers = 0;
        final Matcher m = RESULT.matcher(text);
        while (m.find())
        {
            assertTrue(Long.parseLong(m.group(2)) > 0, "zero rate for " + m.group(1) + ": " + m.group());
            brokers += List.of("mosquitto", "skylark").contains(m.group(1)) ? 1 : 0;
        }
        assertTrue(brokers >= 2 && text.contains("broker=mosquitto") && text.contains("broker=skylark"),
            "both brokers expected in " + text);
    }

    private static Path projectRoot()
    {
        Path dir = Path.of("").toAbsolutePath();
        while (null != dir && !Files.isDirectory(dir.resolve("perf-scripts")))
        {
            dir = dir.getParent();
        }
        return null == dir ? Path.of("..").toAbsolutePath() : dir;
    }

    private static Path onPath(final String name)
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
}
