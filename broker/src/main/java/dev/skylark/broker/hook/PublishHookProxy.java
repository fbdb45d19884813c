package dev.skylark.broker.hook;

import dev.skylark.broker.routing.MessageLayout;
import dev.skylark.codec.mqtt.PublishView;
import dev.skylark.codec.mqtt.Topics;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.nio.charset.StandardCharsets;
import java.util.List;


/**
 * The I/O agent's side of the publish hook, one instance per I/O agent: decides whether a topic goes through the
 * hook and copies the message into the hook's bounded ring ({@code tryClaim}, write, {@code commit}). Allocates
 * nothing. A full ring means the hook is behind: the caller drops QoS 0 (counted here) and holds QoS 1/2 publishers
 * back like a full routing ring.
 */
public final class PublishHookProxy
{
    private final RingBuffer queue;
    private final UnsafeBuffer[] filters;
    private final Runnable wakeHook;
    private final AtomicCounter queueFullDropped;
    private final AtomicCounter heldBack;

    /**
     * @param wakeHook called after each commit: wakes the hook agent if it idles.
     * @param counters this I/O agent's counters (single writer).
     */
    public PublishHookProxy(
        final RingBuffer queue, final List<String> topics, final Runnable wakeHook, final HookCounters.Io counters)
    {
        this.queue = queue;
        this.wakeHook = wakeHook;
        this.filters = new UnsafeBuffer[topics.size()];
        for (int i = 0; i < filters.length; i++)
        {
            filters[i] = new UnsafeBuffer(topics.get(i).getBytes(StandardCharsets.UTF_8));
        }
        this.queueFullDropped = counters.queueFullDropped;
        this.heldBack = counters.heldBack;
    }

    /** True when messages on this topic go through the hook. */
    public boolean matches(final DirectBuffer topic, final int offset, final int length)
    {
        for (final UnsafeBuffer filter : filters)
        {
            if (Topics.matches(filter, 0, filter.capacity(), topic, offset, length))
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Queues a message for the hook (properties as they would be routed: topic alias resolved and removed).
     *
     * @param jti the token id of the publisher, empty when it used none.
     * @return false when the queue is full.
     */
    public boolean offer(
        final long connectionId,
        final long receivedAtMs,
        final byte[] clientId,
        final byte[] jti,
        final PublishView publish)
    {
        final int length = HookRecord.length(
            clientId.length, jti.length, publish.topicLength(), publish.propertiesLength(), publish.payloadLength());
        final int index = queue.tryClaim(HookRecord.MSG_TYPE_ID, length);
        if (index <= 0)
        {
            return false;
        }
        final MutableDirectBuffer buffer = queue.buffer();
        buffer.putLong(index + HookRecord.CONNECTION_ID_OFFSET, connectionId);
        buffer.putLong(index + HookRecord.RECEIVED_AT_OFFSET, receivedAtMs);
        buffer.putShort(index + HookRecord.CLIENT_ID_LENGTH_OFFSET, (short)clientId.length);
        buffer.putShort(index + HookRecord.JTI_LENGTH_OFFSET, (short)jti.length);
        int position = index + HookRecord.CLIENT_ID_OFFSET;
        buffer.putBytes(position, clientId);
        position += clientId.length;
        buffer.putBytes(position, jti);
        position += jti.length;
        MessageLayout.write(buffer, position, publish);
        queue.commit(index);
        wakeHook.run();
        return true;
    }

    /** A QoS 0 message dropped because the hook's queue was full. */
    public void droppedQueueFull()
    {
        queueFullDropped.incrementRelease();
    }

    /** A QoS 1/2 publisher held back (its connection stops being read) because the hook's queue was full. */
    public void heldBack()
    {
        heldBack.incrementRelease();
    }
}
