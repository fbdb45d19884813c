/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.perf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs {@code perf-scripts/gc.sh} in {@code SMOKE=1} mode (a calibration run, then a couple of seconds under each
 * collector) so the script cannot rot: every collector must get a table row with GC counts and a non-zero rate.
 * Skipped when the broker jar was not built.
 */
class GcScriptSmokeTest
{
    private static final Pattern ROW = Pattern.compile(
        "^\\| (g1|zgc|parallel) \\(-XX:\\+Use\\w+\\) \\| (\\d+) \\| (\\d+) \\| \\d+, [0-9.]+ / [0-9.]+ \\| [0-9.]+ \\| [0-9.]+ \\| " +
        "[0-9.]+ \\| (\\d+) \\|.*$", Pattern.MULTILINE);

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void smokeRunReportsEveryCollector(@TempDir final Path tmp) throws Exception
    {
        final Path root = PerfScripts.projectRoot();
        final Path script = root.resolve("perf-scripts/gc.sh");
        assumeTrue(Files.isExecutable(script), "perf-scripts/gc.sh not found");
        assumeTrue(Files.isRegularFile(root.resolve("broker/target/skylark.jar")), "broker/target/skylark.jar not built");

        final Path report = tmp.resolve("gc.md");
        PerfScripts.runSmoke(script, tmp, Map.of("REPORT", report.toString()), 110);
        assertTrue(Files.isRegularFile(report), "report not written");

        final String text = Files.readString(report);
        int rows = 0;
        final Matcher m = ROW.matcher(text);
        while (m.find())
        {
            assertTrue(Long.parseLong(m.group(4)) > 0, "zero rate for " + m.group(1) + ": " + m.group());
            rows++;
        }
        assertEquals(3, rows, text);
        assertTrue(text.contains("paced at "), text);
    }
}
