package dev.skylark.broker.hook;

import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.ControlledMessageHandler;

import java.util.Arrays;

/**
 * The messages of the request in flight, copied out of the queue (so the I/O threads can reuse the room at once),
 * and what is to become of each: routed as published, routed as changed by the hook, or answered without routing.
 * Owned by the hook agent's thread. A batch takes up to its count and byte bounds; a single message larger than the
 * byte bound still goes, alone.
 */
final class HookBatch implements ControlledMessageHandler
{
    static final byte PENDING = 0;
    /** Routed as it was published. */
    static final byte ORIGINAL = 1;
    /** Routed with the properties and payload the hook returned. */
    static final byte CHANGED = 2;
    /** Left out by the hook (or returned with another id or topic): not routed, QoS 1/2 answered 0x00. */
    static final byte DROPPED = 3;
    /** The request failed and the policy is fail-closed: not routed, QoS 1/2 answered 0x80. */
    static final byte FAILED = 4;

    private final int maxMessages;
    private final int maxBytes;
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64 * 1024);
    private int[] offsets;
    private final byte[] outcomes;
    private final byte[][] changedProperties;
    private final byte[][] changedPayloads;
    private int size;
    private int bytes;
    private long firstSequence;

    HookBatch(final int maxMessages, final int maxBytes)
    {
        this.maxMessages = maxMessages;
        this.maxBytes = maxBytes;
        this.offsets = new int[Math.min(maxMessages, 1024)];
        this.outcomes = new byte[maxMessages];
        this.changedProperties = new byte[maxMessages][];
        this.changedPayloads = new byte[maxMessages][];
    }

    /** Empties the batch; its messages get sequence numbers from {@code firstSequence} on. */
    void clear(final long firstSequence)
    {
        Arrays.fill(outcomes, 0, size, PENDING);
        Arrays.fill(changedProperties, 0, size, null);
        Arrays.fill(changedPayloads, 0, size, null);
        this.firstSequence = firstSequence;
        size = 0;
        bytes = 0;
    }

    @Override
    public Action onMessage(final int msgTypeId, final MutableDirectBuffer src, final int index, final int length)
    {
        if (size > 0 && bytes + length > maxBytes)
        {
            return Action.ABORT; // stays in the queue for the next request
        }
        if (size == offsets.length)
        {
            offsets = Arrays.copyOf(offsets, Math.min(maxMessages, offsets.length * 2));
        }
        buffer.putBytes(bytes, src, index, length);
        offsets[size++] = bytes;
        bytes += length;
        return size == maxMessages ? Action.BREAK : Action.CONTINUE;
    }

    int size()
    {
        return size;
    }

    ExpandableArrayBuffer buffer()
    {
        return buffer;
    }

    /** Offset of message {@code i}'s {@link HookRecord}. */
    int offset(final int i)
    {
        return offsets[i];
    }

    long sequence(final int i)
    {
        return firstSequence + i;
    }

    /** The message with this sequence number, or -1 when it is not in this batch. */
    int indexOf(final long sequence)
    {
        final long i = sequence - firstSequence;
        return i >= 0 && i < size ? (int)i : -1;
    }

    byte outcome(final int i)
    {
        return outcomes[i];
    }

    void outcome(final int i, final byte outcome)
    {
        outcomes[i] = outcome;
    }

    void changed(final int i, final byte[] properties, final byte[] payload)
    {
        outcomes[i] = CHANGED;
        changedProperties[i] = properties;
        changedPayloads[i] = payload;
    }

    byte[] changedProperties(final int i)
    {
        return changedProperties[i];
    }

    byte[] changedPayload(final int i)
    {
        return changedPayloads[i];
    }

    /** Every message to the same outcome (a failed request), forgetting any partial decision. */
    void decideAll(final byte outcome)
    {
        Arrays.fill(outcomes, 0, size, outcome);
        Arrays.fill(changedProperties, 0, size, null);
        Arrays.fill(changedPayloads, 0, size, null);
    }

    /** Messages not decided by the answer: the hook left them out. */
    void dropUndecided()
    {
        for (int i = 0; i < size; i++)
        {
            if (outcomes[i] == PENDING)
            {
                outcomes[i] = DROPPED;
            }
        }
    }
}
