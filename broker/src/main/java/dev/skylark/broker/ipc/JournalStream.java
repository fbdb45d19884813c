package dev.skylark.broker.ipc;

/**
 * The layout of a message on the IPC stream from the routing agent to the journal agent.
 * <pre>
 * sequence:8 kind:4 pad:4 payload:n       kind 1 = record, 2 = checkpoint begins, 3 = checkpoint ends
 * </pre>
 */
final class JournalStream
{
    static final int SEQUENCE_OFFSET = 0;
    static final int KIND_OFFSET = 8;
    static final int HEADER_LENGTH = 16;
    static final int RECORD = 1;
    static final int CHECKPOINT_BEGIN = 2;
    static final int CHECKPOINT_END = 3;
    static final int STREAM_ID = 1001;

    private JournalStream()
    {
    }
}
