package dev.skylark.broker.ipc;

/**
 * The layouts of journal replication between cluster nodes, over Aeron UDP on the receiving node's node-to-node port
 * (base + 5), next to the forwarded publishes but on streams of their own.
 * <pre>
 * data  (origin → buddy, stream 1102):  origin:4 pad:4 epoch:8 | the journal stream message (sequence:8 kind:4 pad:4 payload:n)
 * ack   (buddy → origin, stream 1103):  buddy:4 flags:4 epoch:8 sequence:8 position:8
 * </pre>
 * The epoch numbers one unbroken stream from an origin to one buddy, always starting with a checkpoint; an ack names
 * the epoch it is for, so the origin ignores acks of an earlier stream. An ack's sequence is the last origin sequence
 * the buddy holds durably (synced with fsync), sent only once the stream's first checkpoint has ended there; its
 * position is the stream position (bytes) it had read to. {@link #NEED_CHECKPOINT}: the buddy cannot continue this
 * stream (it missed its beginning, or its disk failed) and asks for a new one.
 */
final class ReplicaStream
{
    static final int DATA_STREAM_ID = 1102;
    static final int ACK_STREAM_ID = 1103;

    static final int ORIGIN_OFFSET = 0;
    static final int EPOCH_OFFSET = 8;
    static final int DATA_HEADER_LENGTH = 16;

    static final int ACK_FROM_OFFSET = 0;
    static final int ACK_FLAGS_OFFSET = 4;
    static final int ACK_EPOCH_OFFSET = 8;
    static final int ACK_SEQUENCE_OFFSET = 16;
    static final int ACK_POSITION_OFFSET = 24;
    static final int ACK_LENGTH = 32;
    static final int NEED_CHECKPOINT = 1;

    private ReplicaStream()
    {
    }
}
