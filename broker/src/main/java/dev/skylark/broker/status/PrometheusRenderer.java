package dev.skylark.broker.status;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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

    public static byte[] render(final CountersSnapshot snapshot)
    {
        final MetricSnapshots.Builder metrics = MetricSnapshots.builder();
        for (final Map.Entry<String, List<CountersSnapshot.Entry>> metric : snapshot.byName().entrySet())
        {
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
}
