package dev.skylark.broker.ipc;

/**
 * What the journal agent reports after each batch it appended and synced (on its own thread, once per batch, never
 * per record): the batch's poll + append + sync time, the journal's bytes and generation, how many records the
 * routing agent has offered that are not durable yet, and the records appended and syncs done since the journal
 * opened (their ratio is the group commit's batch size in fsync mode). The broker keeps these in its counters
 * ({@code /metrics}).
 */
@FunctionalInterface
public interface JournalMetrics
{
    void onBatch(
        long appendNs, long bytesAppended, long generation, long durableLagRecords, long recordsAppended, long syncs);
}
