package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

import static dev.skylark.broker.routing.ClusterForwarding.ID_OFFSET;
import static dev.skylark.broker.routing.ClusterForwarding.ORIGIN_OFFSET;
import static dev.skylark.broker.routing.ClusterForwarding.TARGET_OFFSET;

/**
 * The forwards {@link ClusterForwarding} keeps for one peer, oldest first, in one buffer: [head, sendHead) sent and
 * not yet confirmed, [sendHead, tail) not yet sent. A record is length:4 flags:4 expiryDeadlineNs:8, then the peer
 * message ({@link ClusterForwarding#FORWARD}); the live part moves to the front when the buffer would grow.
 */
final class ForwardBacklog
{
    private static final int RECORD_HEADER = 16;
    private static final int RECORD_FLAG_DONE = 1;

    final int node;
    final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(4096);
    int head;
    int sendHead;
    int tail;
    long bytes;

    ForwardBacklog(final int node)
    {
        this.node = node;
    }

    boolean isEmpty()
    {
        return head == tail;
    }

    boolean hasUnsent()
    {
        return sendHead != tail;
    }

    void append(
        final DirectBuffer message, final int offset, final int length, final long deadlineNs, final boolean sent)
    {
        if (head == tail)
        {
            head = 0;
            sendHead = 0;
            tail = 0;
        }
        else if (head > 0 && tail + RECORD_HEADER + length > buffer.capacity() && head >= tail - head)
        {
            buffer.putBytes(0, buffer, head, tail - head); // compact: the live part moves to the front
            tail -= head;
            sendHead -= head;
            head = 0;
        }
        buffer.putInt(tail, length);
        buffer.putInt(tail + 4, 0);
        buffer.putLong(tail + 8, deadlineNs);
        buffer.putBytes(tail + RECORD_HEADER, message, offset, length);
        tail += RECORD_HEADER + length;
        if (sent)
        {
            sendHead = tail;
        }
        bytes += length;
    }

    /** Where a record's peer message starts in {@link #buffer}. */
    int message(final int record)
    {
        return record + RECORD_HEADER;
    }

    long deadlineNs(final int record)
    {
        return buffer.getLong(record + 8);
    }

    int length(final int record)
    {
        return buffer.getInt(record);
    }

    int next(final int record)
    {
        return record + RECORD_HEADER + buffer.getInt(record);
    }

    long forwardId(final int record)
    {
        return buffer.getLong(record + RECORD_HEADER + ID_OFFSET);
    }

    /** Confirmed, or a QoS 0 forward (nothing to confirm). */
    boolean isDone(final int record)
    {
        return (buffer.getInt(record + 4) & RECORD_FLAG_DONE) != 0 || forwardId(record) == 0;
    }

    void markDone(final int record)
    {
        buffer.putInt(record + 4, buffer.getInt(record + 4) | RECORD_FLAG_DONE);
    }

    /**
     * Marks the sent forwards of (origin, target) up to {@code upTo} confirmed. This node's own forwards rise
     * along the backlog per (origin, target), so the scan stops at the first above; others' (an heir's re-sends,
     * in the dead node's journal order) are scanned to the end of the sent part.
     */
    void confirm(final int origin, final int target, final long upTo, final boolean ordered)
    {
        for (int record = head; record < sendHead; record = next(record))
        {
            final int message = record + RECORD_HEADER;
            if (buffer.getInt(message + ORIGIN_OFFSET) == origin && buffer.getInt(message + TARGET_OFFSET) == target)
            {
                if (forwardId(record) <= upTo)
                {
                    markDone(record);
                }
                else if (ordered)
                {
                    break;
                }
            }
        }
    }

    /** Frees the sent records at the head that need nothing more; returns the bytes freed. */
    long trim()
    {
        long freed = 0;
        while (head < sendHead && isDone(head))
        {
            final int length = length(head);
            freed += length;
            head = next(head);
        }
        bytes -= freed;
        if (head == tail)
        {
            head = 0;
            sendHead = 0;
            tail = 0;
        }
        return freed;
    }

    void clear()
    {
        head = 0;
        sendHead = 0;
        tail = 0;
        bytes = 0;
    }
}
