package dev.skylark.broker.status;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders the broker's counters in the Prometheus text format (for {@code /metrics}), through the Prometheus
 * client library's exposition writer. Reads the same counters as {@code skylark stat}; never touches the hot path.
 */
public final class PrometheusRenderer
{
    public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
    private static final String TOTAL_SUFFIX = "_total";

    private PrometheusRenderer()
    {
    }

    /**
     * Where each drop counter goes in the one {@code skylark_messages_dropped_total{reason}} family: counter name
     * (with its labels, if any) and the reason it stands for. The counters stay as they are too.
     */
    private static final String[][] DROPS = {
        {"skylark_qos0_dropped_total", "", "slow_subscriber"},
        {"skylark_queue_dropped_total", "reason=\"messages\"", "queue_messages"},
        {"skylark_queue_dropped_total", "reason=\"bytes\"", "queue_bytes"},
        {"skylark_too_large_for_client_total", "", "too_large_for_client"},
        {"skylark_messages_expired_total", "", "expired"},
        {"skylark_hook_messages_dropped_total", "", "hook"},
        {"skylark_hook_failed_messages_dropped_total", "", "hook_failed"},
        {"skylark_hook_queue_full_dropped_total", "", "hook_queue_full"},
    };

    /** JVM and process metrics (memory, GC, threads, classes, CPU, open files), registered once per JVM. */
    private static final PrometheusRegistry JVM = jvmRegistry();

    /** A counter kept outside the counters file (e.g. authentication's), rendered with the rest. */
    public record Sample(String name, String help, String labelName, String labelValue, double value)
    {
    }

    public static byte[] render(final CountersSnapshot snapshot)
    {
        return render(snapshot, List.of());
    }

    /**
     * Renders the counters, the counters given as {@code extra} (same name = one family; names without
     * {@code _total}), {@code skylark_messages_dropped_total{reason}}, {@code skylark_build_info} and the JVM's metrics.
     */
    public static byte[] render(final CountersSnapshot snapshot, final List<Sample> extra)
    {
        final MetricSnapshots.Builder metrics = MetricSnapshots.builder();
        addDrops(snapshot, metrics);
        addExtra(extra, metrics);
        metrics.metricSnapshot(InfoSnapshot.builder().name("skylark_build")
            .help("the broker's version and Java runtime")
            .dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder()
                .labels(Labels.of("version", BuildInfo.VERSION, "java", BuildInfo.javaVersion())).build())
            .build());
        for (final MetricSnapshot jvm : JVM.scrape())
        {
            metrics.metricSnapshot(jvm);
        }
        final Map<String, List<CountersSnapshot.Entry>> byName = snapshot.byName();
        for (final Map.Entry<String, List<CountersSnapshot.Entry>> metric : byName.entrySet())
        {
            final String histogram = histogramOf(metric.getKey(), byName);
            if (histogram != null)
            {
                if (metric.getKey().endsWith(CounterHistogram.BUCKET_SUFFIX))
                {
                    metrics.metricSnapshot(histogram(histogram, byName));
                }
                continue;
            }
            final List<CountersSnapshot.Entry> entries = metric.getValue();
            // The label without its qualifier: "(io-0)", or another label's value such as "(timeout)".
            final String label = entries.get(0).label().replaceAll(" \\(io-\\d+\\)$", "");
            final String help = entries.size() > 1 ? label.replaceAll(" \\([^)]*\\)$", "") : label;
            if (entries.get(0).typeId() == Counters.COUNTER)
            {
                final String name = metric.getKey().endsWith(TOTAL_SUFFIX) ?
                    metric.getKey().substring(0, metric.getKey().length() - TOTAL_SUFFIX.length()) : metric.getKey();
                final CounterSnapshot.Builder counter = CounterSnapshot.builder().name(name).help(help);
                for (final CountersSnapshot.Entry entry : entries)
                {
                    counter.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                        .value(entry.value()).labels(labels(entry.labels())).build());
                }
                metrics.metricSnapshot(counter.build());
            }
            else
            {
                final GaugeSnapshot.Builder gauge = GaugeSnapshot.builder().name(metric.getKey()).help(help);
                for (final CountersSnapshot.Entry entry : entries)
                {
                    gauge.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                        .value(entry.value()).labels(labels(entry.labels())).build());
                }
                metrics.metricSnapshot(gauge.build());
            }
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try
        {
            PrometheusTextFormatWriter.create().write(out, metrics.build());
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        return out.toByteArray();
    }

    /** Our counter keys carry labels as {@code name="value"} pairs separated by commas. */
    private static Labels labels(final String labels)
    {
        if (labels.isEmpty())
        {
            return Labels.EMPTY;
        }
        final Labels.Builder builder = Labels.builder();
        for (final String pair : labels.split(","))
        {
            final int equals = pair.indexOf('=');
            builder.label(pair.substring(0, equals).trim(), pair.substring(equals + 1).trim().replace("\"", ""));
        }
        return builder.build();
    }

    private static void addDrops(final CountersSnapshot snapshot, final MetricSnapshots.Builder metrics)
    {
        final CounterSnapshot.Builder drops = CounterSnapshot.builder().name("skylark_messages_dropped")
            .help("messages dropped, by reason (each also counted under its own name)");
        final Map<String, Double> byReason = new LinkedHashMap<>();
        for (final String[] drop : DROPS)
        {
            byReason.putIfAbsent(drop[2], 0.0);
            for (final CountersSnapshot.Entry entry : snapshot.entries())
            {
                if (entry.name().equals(drop[0]) && (drop[1].isEmpty() || entry.labels().equals(drop[1])))
                {
                    byReason.merge(drop[2], (double)entry.value(), Double::sum);
                }
            }
        }
        for (final Map.Entry<String, Double> reason : byReason.entrySet())
        {
            drops.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                .value(reason.getValue()).labels(Labels.of("reason", reason.getKey())).build());
        }
        metrics.metricSnapshot(drops.build());
    }

    private static void addExtra(final List<Sample> extra, final MetricSnapshots.Builder metrics)
    {
        final Map<String, CounterSnapshot.Builder> families = new LinkedHashMap<>();
        for (final Sample sample : extra)
        {
            final CounterSnapshot.Builder family = families.computeIfAbsent(sample.name(),
                (name) -> CounterSnapshot.builder().name(name).help(sample.help()));
            family.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(sample.value())
                .labels(sample.labelName() == null ? Labels.EMPTY : Labels.of(sample.labelName(), sample.labelValue()))
                .build());
        }
        for (final CounterSnapshot.Builder family : families.values())
        {
            metrics.metricSnapshot(family.build());
        }
    }

    private static PrometheusRegistry jvmRegistry()
    {
        final PrometheusRegistry registry = new PrometheusRegistry();
        JvmMetrics.builder().register(registry);
        return registry;
    }

    /** The histogram a counter belongs to ({@link CounterHistogram}: NAME_bucket, NAME_sum_us, NAME_count), or null. */
    private static String histogramOf(final String name, final Map<String, List<CountersSnapshot.Entry>> byName)
    {
        for (final String suffix : new String[] {
            CounterHistogram.BUCKET_SUFFIX, CounterHistogram.SUM_SUFFIX, CounterHistogram.COUNT_SUFFIX})
        {
            if (name.endsWith(suffix))
            {
                final String base = name.substring(0, name.length() - suffix.length());
                if (base.endsWith("_seconds") && byName.containsKey(base + CounterHistogram.BUCKET_SUFFIX) &&
                    byName.containsKey(base + CounterHistogram.SUM_SUFFIX))
                {
                    return base;
                }
            }
        }
        return null;
    }

    private static HistogramSnapshot histogram(final String name, final Map<String, List<CountersSnapshot.Entry>> byName)
    {
        final List<CountersSnapshot.Entry> buckets = byName.get(name + CounterHistogram.BUCKET_SUFFIX);
        final ClassicHistogramBuckets.Builder classic = ClassicHistogramBuckets.builder();
        for (final CountersSnapshot.Entry bucket : buckets)
        {
            final String le = bucket.labels().replaceAll("^le=\"|\"$", "");
            classic.bucket(CounterHistogram.INFINITY.equals(le) ? Double.POSITIVE_INFINITY : Double.parseDouble(le),
                bucket.value());
        }
        final long sumUs = byName.get(name + CounterHistogram.SUM_SUFFIX).get(0).value();
        final String help = buckets.get(0).label().replaceAll(" \\([^)]*\\)$", "");
        final HistogramSnapshot.HistogramDataPointSnapshot.Builder point =
            HistogramSnapshot.HistogramDataPointSnapshot.builder().classicHistogramBuckets(classic.build());
        point.sum(sumUs / 1e6);
        return HistogramSnapshot.builder().name(name).help(help + ", seconds").dataPoint(point.build()).build();
    }
}
