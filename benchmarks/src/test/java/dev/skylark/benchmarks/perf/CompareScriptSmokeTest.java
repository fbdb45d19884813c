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
 * Runs {@code perf-scripts/compare.sh} in {@code SMOKE=1} mode so the script cannot rot: both brokers must start
 * (with a TLS listener too), the load generator must report a non-zero delivery rate for each over TCP and TLS, the
 * WebSocket/TCP ratio line must be written, and with gnuplot installed the latency plot too. Skipped when mosquitto
 * is not installed or the broker jar was not built (in {@code mvn verify} the broker module is packaged before this
 * module's tests run).
 */
class CompareScriptSmokeTest
{
    private static final Pattern RESULT = Pattern.compile(
        "^RESULT scenario=fan-in broker=(\\S+) transport=(\\S+) .* rate_msgs_s=(\\d+) .*$", Pattern.MULTILINE);

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void smokeRunWritesReportWithBothBrokers(@TempDir final Path tmp) throws Exception
    {
        final Path root = PerfScripts.projectRoot();
        final Path script = root.resolve("perf-scripts/compare.sh");
        assumeTrue(Files.isExecutable(script), "perf-scripts/compare.sh not found");
        assumeTrue(Files.isRegularFile(root.resolve("broker/target/skylark.jar")), "broker/target/skylark.jar not built");
        final Path mosquitto = PerfScripts.onPath("mosquitto");
        assumeTrue(null != mosquitto, "mosquitto not on PATH");

        final Path report = tmp.resolve("report.md");
        PerfScripts.runSmoke(script, tmp, Map.of(
            "SCENARIOS", "qos0-flat qos0-flat-tls ws-vs-tcp qos1-paced connections",
            "REPORT", report.toString(),
            "MOSQUITTO", mosquitto.toString()), 170);
        assertTrue(Files.isRegularFile(report), "report not written");

        final String text = Files.readString(report);
        int runs = 0;
        final Matcher m = RESULT.matcher(text);
        while (m.find())
        {
            assertTrue(Long.parseLong(m.group(3)) > 0, "zero rate for " + m.group(1) + ": " + m.group());
            runs++;
        }
        for (final String broker : new String[]{ "mosquitto", "skylark" })
        {
            assertTrue(text.contains("broker=" + broker + " transport=tcp"), broker + " over TCP expected in " + text);
            assertTrue(text.contains("broker=" + broker + " transport=tls"), broker + " over TLS expected in " + text);
        }
        // per broker: qos0-flat, qos0-flat-tls, qos1-paced; Skylark also one ws-vs-tcp round (TCP and WebSocket)
        assertEquals(8, runs, text);
        assertTrue(Pattern.compile("^ws-vs-tcp: skylark WS/TCP throughput [0-9.]+ ", Pattern.MULTILINE)
            .matcher(text).find(), text);
        if (null != PerfScripts.onPath("gnuplot"))
        {
            final Path plot = tmp.resolve("report-latency.png");
            assertTrue(Files.isRegularFile(plot) && Files.size(plot) > 1000, "latency plot missing");
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void persistentSubscribersArePassedToTheLoadGeneratorAndNamedInTheHeader(@TempDir final Path tmp) throws Exception
    {
        final Path root = PerfScripts.projectRoot();
        final Path script = root.resolve("perf-scripts/compare.sh");
        assumeTrue(Files.isExecutable(script), "perf-scripts/compare.sh not found");
        assumeTrue(Files.isRegularFile(root.resolve("broker/target/skylark.jar")), "broker/target/skylark.jar not built");

        final Path report = tmp.resolve("report.md");
        PerfScripts.runSmoke(script, tmp, Map.of(
            "PERSISTENT_SUBSCRIBERS", "1",
            "BROKERS", "skylark",
            "MQTT_VERSION", "5",
            "SCENARIOS", "qos1-paced",
            "REPORT", report.toString()), 110);
        assertTrue(Files.isRegularFile(report), "report not written");

        final String text = Files.readString(report);
        assertTrue(text.contains("- PERSISTENT_SUBSCRIBERS=1: every subscriber"), text);
        final Matcher m = RESULT.matcher(text);
        assertTrue(m.find() && Long.parseLong(m.group(3)) > 0, text);
        // the option reached the load generator, which names it in its RESULT line
        assertTrue(m.group().endsWith(" persistent_subscribers=1"), m.group());
    }
}
