package dev.skylark.broker.routing;

import dev.skylark.broker.status.Counters;
import org.agrona.concurrent.status.AtomicCounter;

/** Counters of the journal's health, written by the routing agent from what its {@link DurableLog} reports. */
public final class JournalCounters
{
    /** Journal documents skipped at the last replay because they failed their checksum or framing checks. */
    public final AtomicCounter recordsSkipped;
    /** Generations moved or copied to {@code journal/quarantine/} at the last replay. */
    public final AtomicCounter generationsQuarantined;
    /** Appends or syncs that failed (disk full, I/O error, fault on a mapped file). */
    public final AtomicCounter appendFailures;
    /** 1 while the journal cannot append and QoS 1/2 publishes are refused; 0 otherwise. */
    public final AtomicCounter failing;
    /** QoS 1/2 publishes refused (v5 0x97; 3.1.1 disconnected) because the journal could not append. */
    public final AtomicCounter publishesRefused;

    JournalCounters(final Counters counters)
    {
        recordsSkipped = counters.counter("skylark_journal_records_skipped_total",
            "journal documents skipped at replay (corrupt)", null);
        generationsQuarantined = counters.counter("skylark_journal_generations_quarantined_total",
            "journal generations moved to quarantine at replay", null);
        appendFailures = counters.counter("skylark_journal_append_failures_total",
            "journal appends or syncs that failed", null);
        failing = counters.gauge("skylark_journal_failing", "1 while the journal cannot append", null);
        publishesRefused = counters.counter("skylark_journal_publishes_refused_total",
            "QoS 1/2 publishes refused while the journal could not append", null);
    }
}
