package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.PublishView;

/**
 * The last resort against a full store: whether the I/O agents may hand the routing agent PUBLISH packets that would
 * grow it. Closed by the routing agent while stored messages exceed {@code skylark.store.high.water} (or the journal
 * pushes back), open again below half of it. While closed, an I/O agent that reads a QoS 1/2 or retained PUBLISH
 * with a payload stops reading that connection (back pressure reaches that publisher's socket); QoS 0 that is not
 * retained, and clearing a retained message, go through. The per-client quotas (retained messages, wills, session
 * queues) are what keep the store below the mark; the gate is in memory only and is recomputed from what the store
 * holds after a restart's replay.
 */
public final class PublishGate
{
    private volatile boolean closed;

    public boolean isClosed()
    {
        return closed;
    }

    /** Whether this PUBLISH would add to the store: held back while the gate is closed. */
    public static boolean wouldGrowStore(final PublishView publish)
    {
        return publish.qos() > 0 || (publish.retain() && publish.payloadLength() > 0);
    }

    void close()
    {
        closed = true;
    }

    void open()
    {
        closed = false;
    }
}
