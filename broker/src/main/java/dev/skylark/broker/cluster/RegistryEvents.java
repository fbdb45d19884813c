package dev.skylark.broker.cluster;

import dev.skylark.broker.routing.ClusterLink;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.util.function.BooleanSupplier;

/**
 * Committed registry events on their way from the clustered service's thread to the routing agent: a one-to-one
 * ring, the service thread the only writer, the routing agent the only reader. The writer waits for space (an event
 * is never dropped) while the node runs; the reader decodes and calls {@link ClusterLink.Events}.
 *
 * <pre>
 * NODE_UP             0 nodeId:4
 * NODE_DOWN           0 nodeId:4  4 heirNodeId:4
 * CLAIMED             0 correlationId:8  8 epoch:8  16 previousEpoch:8  24 owner:4  28 previousNode:4  32 clientId
 * RELEASED            0 epoch:8  8 nodeId:4  12 clientId
 * ROUTE               0 nodeId:4  4 present:4  8 filter
 * ROUTE_COMMITTED     0 correlationId:8
 * RETAINED            0 originNodeId:4  4 message:n
 * WILL_DUE            0 publisherSession:8  8 publisherNodeId:4  12 clientId  message:n
 * INHERITED           0 nodeId:4  4 heirNodeId:4
 * </pre>
 * Strings are a length:4 and UTF-8 bytes. {@code publisherSession} is the registry session the publisher was live
 * on when the will fell due: a node acts only on a will naming its current session, so the events of its earlier
 * runs, emitted again while its registry replays the log on start, publish nothing twice.
 */
final class RegistryEvents
{
    static final int NODE_UP = 1;
    static final int NODE_DOWN = 2;
    static final int CLAIMED = 3;
    static final int RELEASED = 4;
    static final int ROUTE = 5;
    static final int ROUTE_COMMITTED = 6;
    static final int RETAINED = 7;
    static final int WILL_DUE = 16;
    static final int INHERITED = 8;

    private RegistryEvents()
    {
    }

    /** Encodes events onto the ring; the clustered service's thread only. */
    static final class Writer implements ClusterLink.Events
    {
        private final RingBuffer ring;
        private final IdleStrategy idle;
        private final BooleanSupplier running;
        private final Runnable waker;
        private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);
        private long written;
        private long tooLarge;
        private java.util.function.IntToLongFunction sessionOf = (node) -> -1;

        Writer(final RingBuffer ring, final IdleStrategy idle, final BooleanSupplier running, final Runnable waker)
        {
            this.ring = ring;
            this.idle = idle;
            this.running = running;
            this.waker = waker;
        }

        public void onNodeUp(final int nodeId)
        {
            buffer.putInt(0, nodeId);
            write(NODE_UP, 4);
        }

        public void onNodeDown(final int nodeId, final int heirNodeId)
        {
            buffer.putInt(0, nodeId);
            buffer.putInt(4, heirNodeId);
            write(NODE_DOWN, 8);
        }

        public void onInherited(final int nodeId, final int heirNodeId)
        {
            buffer.putInt(0, nodeId);
            buffer.putInt(4, heirNodeId);
            write(INHERITED, 8);
        }

        public void onClaimed(
            final long correlationId, final String clientId, final int ownerNodeId, final long epoch,
            final int previousNodeId, final long previousEpoch)
        {
            buffer.putLong(0, correlationId);
            buffer.putLong(8, epoch);
            buffer.putLong(16, previousEpoch);
            buffer.putInt(24, ownerNodeId);
            buffer.putInt(28, previousNodeId);
            write(CLAIMED, 32 + buffer.putStringUtf8(32, clientId));
        }

        public void onReleased(final String clientId, final int nodeId, final long epoch)
        {
            buffer.putLong(0, epoch);
            buffer.putInt(8, nodeId);
            write(RELEASED, 12 + buffer.putStringUtf8(12, clientId));
        }

        public void onRoute(final String filter, final int nodeId, final boolean present)
        {
            buffer.putInt(0, nodeId);
            buffer.putInt(4, present ? 1 : 0);
            write(ROUTE, 8 + buffer.putStringUtf8(8, filter));
        }

        public void onRouteCommitted(final long correlationId)
        {
            buffer.putLong(0, correlationId);
            write(ROUTE_COMMITTED, 8);
        }

        public void onRetained(final int originNodeId, final DirectBuffer message, final int offset, final int length)
        {
            buffer.putInt(0, originNodeId);
            buffer.putBytes(4, message, offset, length);
            write(RETAINED, 4 + length);
        }

        /** The registry session each node is live on (the publisher of a due will), from the registry. */
        Writer sessions(final java.util.function.IntToLongFunction sessionOf)
        {
            this.sessionOf = sessionOf;
            return this;
        }

        public void onWillDue(
            final String clientId, final int publisherNodeId, final DirectBuffer message, final int offset,
            final int length)
        {
            buffer.putLong(0, sessionOf.applyAsLong(publisherNodeId));
            buffer.putInt(8, publisherNodeId);
            final int at = 12 + buffer.putStringUtf8(12, clientId);
            buffer.putBytes(at, message, offset, length);
            write(WILL_DUE, at + length);
        }

        public void onPeerMessage(
            final int fromNodeId, final int type, final DirectBuffer buffer, final int offset, final int length)
        {
            throw new UnsupportedOperationException("peer messages do not go through the registry");
        }

        private void write(final int type, final int length)
        {
            if (length > ring.maxMsgLength())
            {
                tooLarge++; // cannot happen with the ring sized from the largest message; counted, never silent
                return;
            }
            idle.reset();
            while (!ring.write(type, buffer, 0, length))
            {
                if (!running.getAsBoolean())
                {
                    return; // the node is closing: nobody reads any more
                }
                waker.run();
                idle.idle();
            }
            written++;
            waker.run();
        }

        long written()
        {
            return written;
        }

        long tooLarge()
        {
            return tooLarge;
        }
    }

    /** Decodes ring records into {@link ClusterLink.Events}; the routing agent's thread only. */
    static final class Reader implements MessageHandler
    {
        private ClusterLink.Events events;
        /** This node's current registry session (-1: none); a due will naming another one is a replay. */
        private java.util.function.LongSupplier localSession = () -> -1;
        private int selfNodeId = ClusterLink.NO_NODE;

        void self(final int selfNodeId, final java.util.function.LongSupplier localSession)
        {
            this.selfNodeId = selfNodeId;
            this.localSession = localSession;
        }

        int read(final RingBuffer ring, final ClusterLink.Events events, final int limit)
        {
            this.events = events;
            return ring.read(this, limit);
        }

        private void onWillDue(final DirectBuffer buffer, final int offset, final int length)
        {
            final int publisher = buffer.getInt(offset + 8);
            final int idLength = buffer.getInt(offset + 12);
            final int at = offset + 16 + idLength;
            final long session = buffer.getLong(offset);
            // Another node's will: told as it is. Ours: only when due in our current registry session.
            final boolean ours = session != -1 && session == localSession.getAsLong();
            events.onWillDue(buffer.getStringUtf8(offset + 12), publisher == selfNodeId && !ours ? ClusterLink.NO_NODE :
                publisher, buffer, at, offset + length - at);
        }

        public void onMessage(final int type, final org.agrona.MutableDirectBuffer buffer, final int offset,
            final int length)
        {
            switch (type)
            {
                case NODE_UP -> events.onNodeUp(buffer.getInt(offset));
                case NODE_DOWN -> events.onNodeDown(buffer.getInt(offset), buffer.getInt(offset + 4));
                case CLAIMED -> events.onClaimed(buffer.getLong(offset), buffer.getStringUtf8(offset + 32),
                    buffer.getInt(offset + 24), buffer.getLong(offset + 8), buffer.getInt(offset + 28),
                    buffer.getLong(offset + 16));
                case RELEASED -> events.onReleased(buffer.getStringUtf8(offset + 12), buffer.getInt(offset + 8),
                    buffer.getLong(offset));
                case ROUTE -> events.onRoute(buffer.getStringUtf8(offset + 8), buffer.getInt(offset),
                    buffer.getInt(offset + 4) != 0);
                case ROUTE_COMMITTED -> events.onRouteCommitted(buffer.getLong(offset));
                case RETAINED -> events.onRetained(buffer.getInt(offset), buffer, offset + 4, length - 4);
                case WILL_DUE -> onWillDue(buffer, offset, length);
                case INHERITED -> events.onInherited(buffer.getInt(offset), buffer.getInt(offset + 4));
                default -> { }
            }
        }
    }
}
