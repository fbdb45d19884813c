package dev.skylark.broker.status;

import org.agrona.concurrent.status.CountersReader;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A point-in-time copy of every counter: what {@code skylark stat} prints and {@code /metrics} renders.
 */
public final class CountersSnapshot
{
    /** One counter: metric name, labels in Prometheus form (e.g. {@code io="0"}, or empty), kind, label, value. */
    public record Entry(String name, String labels, int typeId, String label, long value)
    {
    }

    private final List<Entry> entries;

    private CountersSnapshot(final List<Entry> entries)
    {
        this.entries = entries;
    }

    public static CountersSnapshot of(final CountersReader reader)
    {
        final List<Entry> entries = new ArrayList<>();
        reader.forEach((counterId, typeId, keyBuffer, label) ->
        {
            final String key = Counters.key(keyBuffer);
            final int brace = key.indexOf('{');
            final String name = brace < 0 ? key : key.substring(0, brace);
            final String labels = brace < 0 ? "" : key.substring(brace + 1, key.length() - 1);
            entries.add(new Entry(name, labels, typeId, label, reader.getCounterValue(counterId)));
        });
        return new CountersSnapshot(entries);
    }

    public List<Entry> entries()
    {
        return entries;
    }

    /** Sum over all label sets of one metric (e.g. every I/O thread's messages sent). */
    public long total(final String name)
    {
        long total = 0;
        for (final Entry entry : entries)
        {
            if (entry.name().equals(name))
            {
                total += entry.value();
            }
        }
        return total;
    }

    /** Metric name → its entries, in allocation order. */
    public Map<String, List<Entry>> byName()
    {
        final Map<String, List<Entry>> byName = new LinkedHashMap<>();
        for (final Entry entry : entries)
        {
            byName.computeIfAbsent(entry.name(), (k) -> new ArrayList<>()).add(entry);
        }
        return byName;
    }
}
