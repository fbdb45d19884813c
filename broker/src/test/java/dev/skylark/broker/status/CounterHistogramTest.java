package dev.skylark.broker.status;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A latency histogram kept in counters ({@link CounterHistogram}) comes out of {@code /metrics} as a Prometheus
 * histogram in seconds, as the Prometheus project's Python parser reads it: cumulative buckets at each bound (a value
 * on a bound counts in that bucket, one microsecond more in the next), {@code +Inf}, {@code _sum} and {@code _count}.
 */
class CounterHistogramTest
{
    private static final String PARSER = String.join("\n",
        "import sys",
        "from prometheus_client.parser import text_string_to_metric_families",
        "for f in text_string_to_metric_families(open(sys.argv[1], encoding='utf-8').read()):",
        "    for s in f.samples:",
        "        print('%s\\t%s\\t%s\\t%r' % (f.type, s.name, s.labels.get('le', ''), s.value))");

    @TempDir
    Path dir;

    @Test
    void rendersAsAPrometheusHistogramInSeconds() throws Exception
    {
        Assumptions.assumeTrue(new java.io.File("/usr/bin/python3").canExecute(), "skipped: no /usr/bin/python3");
        final Counters counters = Counters.inMemory();
        final CounterHistogram histogram = new CounterHistogram(counters, "skylark_test_seconds", "test round trips");
        histogram.recordMicros(100);          // on the first bound: le=0.0001
        histogram.recordMicros(101);          // one over: le=0.00025
        histogram.recordMicros(2_000_000);    // le=2.5
        histogram.recordMicros(20_000_000);   // beyond every bound: +Inf only
        final CountersSnapshot snapshot = CountersSnapshot.of(countersReader(counters));
        final String text = new String(PrometheusRenderer.render(snapshot), StandardCharsets.UTF_8);
        assertTrue(text.contains("# TYPE skylark_test_seconds histogram"), text);

        final Path file = dir.resolve("metrics.txt");
        Files.writeString(file, text);
        final Path script = dir.resolve("parse.py");
        Files.writeString(script, PARSER);
        final Process python = new ProcessBuilder("/usr/bin/python3", script.toString(), file.toString())
            .redirectErrorStream(true).start();
        final String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(python.waitFor(30, TimeUnit.SECONDS));
        Assumptions.assumeFalse(output.contains("No module named"), "skipped: no prometheus_client for python3");
        assertEquals(0, python.exitValue(), output);
        final Map<String, Double> samples = new HashMap<>();
        for (final String line : output.split("\n"))
        {
            final String[] f = line.split("\t");
            if (f.length == 4 && f[1].startsWith("skylark_test_seconds"))
            {
                assertEquals("histogram", f[0]);
                samples.put(f[1] + "{" + f[2] + "}", Double.parseDouble(f[3]));
            }
        }
        assertEquals(1.0, samples.get("skylark_test_seconds_bucket{1.0E-4}"), output);
        assertEquals(2.0, samples.get("skylark_test_seconds_bucket{2.5E-4}"), output);
        assertEquals(2.0, samples.get("skylark_test_seconds_bucket{1.0}"), output);
        assertEquals(3.0, samples.get("skylark_test_seconds_bucket{2.5}"), output);
        assertEquals(3.0, samples.get("skylark_test_seconds_bucket{10.0}"), output);
        assertEquals(4.0, samples.get("skylark_test_seconds_bucket{+Inf}"), output);
        assertEquals(4.0, samples.get("skylark_test_seconds_count{}"), output);
        assertEquals(22.000201, samples.get("skylark_test_seconds_sum{}"), 1e-9, output);
    }

    @Test
    void nameMustEndInSeconds()
    {
        assertThrows(IllegalArgumentException.class,
            () -> new CounterHistogram(Counters.inMemory(), "skylark_test_micros", "wrong unit"));
    }

    private static org.agrona.concurrent.status.CountersReader countersReader(final Counters counters)
        throws Exception
    {
        final java.lang.reflect.Field manager = Counters.class.getDeclaredField("manager");
        manager.setAccessible(true);
        return (org.agrona.concurrent.status.CountersReader)manager.get(counters);
    }
}
