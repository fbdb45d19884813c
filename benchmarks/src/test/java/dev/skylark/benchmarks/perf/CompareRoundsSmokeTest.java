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
 * Issue #21's tooling in {@code SMOKE=1} mode: {@code compare.sh} with {@code ROUNDS=2} runs every broker once per
 * round and reports each figure as median (min..max); with a C compiler on the machine the null relay
 * ({@code perf-scripts/relay/null-relay.c}) takes part and Skylark's ratio to it is reported (without one the relay
 * is skipped with a message: CI does not need it). {@code ab.sh} is a preset of the same rounds for two Skylark jars.
 * HiveMQ CE is not run here: its launcher is built on demand (~60 MB of dependencies), see perf-scripts/README.md.
 */
class CompareRoundsSmokeTest
{
    private static final Pattern RESULT = Pattern.compile(
        "^RESULT scenario=fan-in broker=(\\S+) transport=tcp .* rate_msgs_s=(\\d+) .*$", Pattern.MULTILINE);
    private static final String MEDIAN_SPREAD = "[0-9,.]+ \\([0-9,.]+\\.\\.[0-9,.]+\\)";

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void twoRoundsOfEveryBrokerGiveMedianAndSpreadAndTheRelayRatio(@TempDir final Path tmp) throws Exception
    {
        final Path root = PerfScripts.projectRoot();
        final Path script = root.resolve("perf-scripts/compare.sh");
        assumeTrue(Files.isRegularFile(root.resolve("broker/target/skylark.jar")), "broker/target/skylark.jar not built");
        final Path mosquitto = PerfScripts.onPath("mosquitto");
        assumeTrue(null != mosquitto, "mosquitto not on PATH");
        final boolean relay = null != PerfScripts.onPath("cc");

        final Path report = tmp.resolve("report.md");
        PerfScripts.runSmoke(script, tmp, Map.of(
            "BROKERS", "relay mosquitto skylark",
            "ROUNDS", "2",
            "SCENARIOS", "qos0-flat",
            "REPORT", report.toString(),
            "MOSQUITTO", mosquitto.toString()), 140);

        final String text = Files.readString(report);
        final Map<String, Integer> runs = countRuns(text);
        assertEquals(2, runs.getOrDefault("mosquitto", 0), text);
        assertEquals(2, runs.getOrDefault("skylark", 0), text);
        assertEquals(relay ? 2 : 0, runs.getOrDefault("relay", 0), text);
        assertTrue(Pattern.compile("^\\| qos0-flat \\| rate_msgs_s \\|( " + MEDIAN_SPREAD + " \\|){" +
            (relay ? 3 : 2) + "}", Pattern.MULTILINE).matcher(text).find(), "median (min..max) cells in " + text);
        if (relay)
        {
            assertTrue(Pattern.compile("^\\| qos0-flat \\| skylark \\| [0-9,.]+ \\| 0\\.[0-9]{3} \\| [0-9,.]+ \\|",
                Pattern.MULTILINE).matcher(text).find(), "Skylark's ratio to the relay in " + text);
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void abComparesTwoJarsInAlternatingRounds(@TempDir final Path tmp) throws Exception
    {
        final Path root = PerfScripts.projectRoot();
        final Path jar = root.resolve("broker/target/skylark.jar");
        assumeTrue(Files.isRegularFile(jar), "broker/target/skylark.jar not built");

        final Path report = tmp.resolve("ab.md");
        PerfScripts.runSmoke(root.resolve("perf-scripts/ab.sh"), tmp, Map.of(
            "JAR_A", jar.toString(),
            "JAR_B", jar.toString(),
            "ROUNDS", "2",
            "SCENARIOS", "qos0-flat",
            "REPORT", report.toString()), 110);

        final String text = Files.readString(report);
        final Map<String, Integer> runs = countRuns(text);
        assertEquals(2, runs.getOrDefault("skylark-A", 0), text);
        assertEquals(2, runs.getOrDefault("skylark-B", 0), text);
        assertTrue(text.contains("| skylark-B/skylark-A |"), text);
        assertTrue(Pattern.compile("^\\| qos0-flat \\| broker_cpu_us_per_msg \\| " + MEDIAN_SPREAD + " \\| " +
            MEDIAN_SPREAD + " \\| [0-9.]+ \\|$", Pattern.MULTILINE).matcher(text).find(), text);
    }

    private static Map<String, Integer> countRuns(final String text)
    {
        final Map<String, Integer> runs = new java.util.HashMap<>();
        final Matcher m = RESULT.matcher(text);
        while (m.find())
        {
            assertTrue(Long.parseLong(m.group(2)) > 0, "zero rate: " + m.group());
            runs.merge(m.group(1), 1, Integer::sum);
        }
        return runs;
    }
}
