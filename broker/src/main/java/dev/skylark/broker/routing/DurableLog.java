package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;

/**
 * Where the routing agent writes what must survive a restart: an ordered log of records it encodes itself
 * ({@link JournalRecord}). Appends never block; each returns a sequence number, and a record is durable (as the
 * configured durability mode defines it) once {@link #durableSequence()} has reached its sequence. The routing
 * agent holds a publisher's PUBACK/PUBREC until then.
 * <p>
 * A checkpoint is the routing agent's whole durable state written between {@link #beginCheckpoint()} and
 * {@link #endCheckpoint()}: once it is durable, everything before it may be deleted, which keeps the log and
 * the replay at start short. Implementations live outside this package (Aeron IPC to a Chronicle Queue journal);
 * {@link #NONE} keeps everything in memory.
 * <p>
 * Called by the routing agent thread only, except {@link #durableSequence()} which any thread may read.
 */
public interface DurableLog extends AutoCloseable
{
    /** Receives records in the order they were appended, at start-up, before any other thread runs. */
    @FunctionalInterface
    interface Replayer
    {
        void onRecord(DirectBuffer buffer, int offset, int length);
    }

    /**
     * Append one record.
     *
     * @return its sequence number (increasing), to compare with {@link #durableSequence()}.
     */
    long append(DirectBuffer buffer, int offset, int length);

    /** Starts a checkpoint: the records appended until {@link #endCheckpoint()} are the whole state. */
    void beginCheckpoint();

    /** Ends a checkpoint; once durable, everything before its beginning may be deleted. */
    void endCheckpoint();

    /** The sequence of the last record appended (0 when none). */
    long lastSequence();

    /** Every record up to this sequence is durable. */
    long durableSequence();

    /** Bytes appended since the last checkpoint began (the checkpoint included). */
    long bytesSinceCheckpoint();

    /** True while appends are queued locally because the log cannot keep up: publishers should be held back. */
    boolean isBackPressured();

    /**
     * True while the journal cannot append (disk full, I/O error, a fault on a mapped file): since the failure nothing
     * has become durable, and nothing will until a checkpoint written after the failure has ended. Publishers' QoS 1/2
     * messages are refused meanwhile; {@link #isFailing()} turns false once such a checkpoint is durable. Any thread.
     */
    default boolean isFailing()
    {
        return false;
    }

    /**
     * The longest record {@link #append} takes (the journal link's largest message, less its own header). A MESSAGE
     * record whose target list would pass it is written as several contiguous records ({@link JournalRecord}).
     */
    default int maxRecordLength()
    {
        return Integer.MAX_VALUE;
    }

    /**
     * Room every durable log must give one record whatever the broker's settings: a continuation record carrying one
     * target with the most subscription identifiers a target can have (65,535). The first record of a message is its
     * header ({@link #MESSAGE_HEADER_LENGTH}) and the message, with no target if need be.
     */
    int SMALLEST_TARGETS_RECORD = 16 + 12 + 4 * 0xFFFF;

    /** Bytes a MESSAGE record adds to the message it carries when it holds no target. */
    int MESSAGE_HEADER_LENGTH = 16;

    /**
     * True when the log asks for a checkpoint now (a cluster node's new buddy starts its replica from one): the routing
     * agent writes one on its next slow tick. Cleared by {@link #beginCheckpoint()}.
     */
    default boolean checkpointRequested()
    {
        return false;
    }

    /** Appends (or syncs) that failed since start. Any thread. */
    default long appendFailures()
    {
        return 0;
    }

    /** Journal documents skipped at replay because they failed their checks. */
    default long recordsSkipped()
    {
        return 0;
    }

    /** Generations moved or copied to the journal's quarantine at replay. */
    default long generationsQuarantined()
    {
        return 0;
    }

    /** Duty-cycle work on the routing thread: hand queued appends on. Returns the work done. */
    int doWork();

    /** Replays the surviving records, oldest first. */
    void replay(Replayer replayer);

    @Override
    void close();

    /** Nothing is kept: records are durable at once (durability {@code none}, today's in-memory behaviour). */
    DurableLog NONE = new DurableLog()
    {
        public long append(final DirectBuffer buffer, final int offset, final int length)
        {
            return 0;
        }

        public void beginCheckpoint()
        {
        }

        public void endCheckpoint()
        {
        }

        public long lastSequence()
        {
            return 0;
        }

        public long durableSequence()
        {
            return Long.MAX_VALUE;
        }

        public long bytesSinceCheckpoint()
        {
            return 0;
        }

        public boolean isBackPressured()
        {
            return false;
        }

        public int doWork()
        {
            return 0;
        }

        public void replay(final Replayer replayer)
        {
        }

        public void close()
        {
        }
    };
}
