package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.PublishView;
import dev.skylark.codec.mqtt.SubscribeDecoder;
import dev.skylark.codec.mqtt.UnsubscribeDecoder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import static dev.skylark.broker.routing.RouterCommand.*;
import static org.agrona.BitUtil.SIZE_OF_INT;
import static org.agrona.BitUtil.SIZE_OF_SHORT;

/**
 * Encodes commands for the routing agent straight into the inbound ring ({@code tryClaim}, write, {@code commit}),
 * one instance per I/O agent and one for the publish hook agent; every {@link RouterCommand} record is written here.
 * Every method returns false when the ring is full: the caller stops reading that connection and offers the packet
 * again later, so back pressure reaches the socket.
 */
public final class RouterProxy
{
    private final RingBuffer ring;
    private final Runnable wakeRouter;
    private final PublishGate gate;

    /**
     * @param wakeRouter called after each commit: wakes the routing agent's thread if it idles (cheap otherwise).
     */
    public RouterProxy(final RingBuffer ring, final Runnable wakeRouter, final PublishGate gate)
    {
        this.ring = ring;
        this.wakeRouter = wakeRouter;
        this.gate = gate;
    }

    /** The connection's session state as the routing agent needs it; see {@link RouterCommand} CONNECT. */
    public boolean connect(final long connectionId, final ConnectRequest request)
    {
        final int length = CONNECT_CLIENT_ID_OFFSET +
            SIZE_OF_SHORT + request.clientId.length +
            SIZE_OF_SHORT + request.willTopic.length +
            SIZE_OF_INT + request.willProperties.length +
            SIZE_OF_INT + request.willPayload.length;
        final int index = ring.tryClaim(CONNECT, length);
        if (index <= 0)
        {
            return false;
        }
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId);
        buffer.putByte(index + CONNECT_VERSION_OFFSET, (byte)request.version);
        int flags = request.cleanStart ? CONNECT_FLAG_CLEAN_START : 0;
        flags |= request.hasWill ? CONNECT_FLAG_WILL : 0;
        flags |= request.willRetain ? CONNECT_FLAG_WILL_RETAIN : 0;
        buffer.putByte(index + CONNECT_FLAGS_OFFSET, (byte)flags);
        buffer.putByte(index + CONNECT_WILL_QOS_OFFSET, (byte)request.willQos);
        buffer.putInt(index + CONNECT_RECEIVE_MAXIMUM_OFFSET, request.receiveMaximum);
        buffer.putInt(index + CONNECT_SESSION_EXPIRY_OFFSET, (int)request.sessionExpiry);
        buffer.putInt(index + CONNECT_MAX_PACKET_SIZE_OFFSET, request.maxPacketSize);
        buffer.putInt(index + CONNECT_WILL_DELAY_OFFSET, (int)request.willDelay);
        int position = index + CONNECT_CLIENT_ID_OFFSET;
        position = putShortPrefixed(buffer, position, request.clientId);
        position = putShortPrefixed(buffer, position, request.willTopic);
        buffer.putInt(position, request.willProperties.length);
        buffer.putBytes(position + SIZE_OF_INT, request.willProperties);
        position += SIZE_OF_INT + request.willProperties.length;
        buffer.putInt(position, request.willPayload.length);
        buffer.putBytes(position + SIZE_OF_INT, request.willPayload);
        commit(index);
        return true;
    }

    /**
     * A PUBLISH from a client, with the properties that are forwarded to subscribers (topic alias already
     * resolved and removed). While the {@link PublishGate} is closed, a PUBLISH that would grow the store (QoS 1/2,
     * or retained with a payload) is refused, so its connection waits; QoS 0 that is not retained and the clearing
     * of a retained message (empty payload) always go through.
     */
    public boolean publish(final long connectionId, final PublishView publish)
    {
        if (gate.isClosed() && PublishGate.wouldGrowStore(publish))
        {
            return false;
        }
        final int index = ring.tryClaim(PUBLISH, PUBLISH_MESSAGE_OFFSET + MessageLayout.length(publish));
        if (index <= 0)
        {
            return false;
        }
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId);
        MessageLayout.write(buffer, index + PUBLISH_MESSAGE_OFFSET, publish);
        commit(index);
        return true;
    }

    /**
     * A publisher's QoS 1/2 message that is not to be routed (the publish hook left it out, or failed under the
     * fail-closed policy): the routing agent answers PUBACK/PUBREC with {@code reasonCode} in order with the
     * publisher's other acknowledgements, and keeps the QoS 2 exchange state right. Not held back by the gate.
     */
    public boolean notRouted(final long connectionId, final int qos, final int packetId, final int reasonCode)
    {
        final int index = ring.tryClaim(NOT_ROUTED, NOT_ROUTED_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId);
        buffer.putByte(index + NOT_ROUTED_QOS_OFFSET, (byte)qos);
        buffer.putByte(index + NOT_ROUTED_REASON_OFFSET, (byte)reasonCode);
        buffer.putShort(index + NOT_ROUTED_PACKET_ID_OFFSET, (short)packetId);
        commit(index);
        return true;
    }

    /** PUBREL from a publisher: the routing agent forgets the QoS 2 packet id and answers PUBCOMP. */
    public boolean pubrel(final long connectionId, final int packetId)
    {
        final int index = ring.tryClaim(PUBREL, PACKET_ID_OFFSET + SIZE_OF_SHORT);
        if (index <= 0)
        {
            return false;
        }
        ring.buffer().putLong(index + CONNECTION_ID_OFFSET, connectionId);
        ring.buffer().putShort(index + PACKET_ID_OFFSET, (short)packetId);
        commit(index);
        return true;
    }

    /** PUBACK, PUBREC or PUBCOMP from a subscriber for a message the broker sent. */
    public boolean ack(final long connectionId, final int packetType, final int reasonCode, final int packetId)
    {
        final int index = ring.tryClaim(ACK, ACK_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId);
        buffer.putByte(index + ACK_PACKET_TYPE_OFFSET, (byte)packetType);
        buffer.putByte(index + ACK_REASON_OFFSET, (byte)reasonCode);
        buffer.putShort(index + ACK_PACKET_ID_OFFSET, (short)packetId);
        commit(index);
        return true;
    }

    /**
     * A SUBSCRIBE: every entry of {@code subscribe} (rewound here) with the subscription options and the I/O side's
     * verdict the caller decided for it, two bytes per entry in {@code optionsAndReasons} (options, then the reason
     * code: success, or why the routing agent only answers the entry in the SUBACK).
     */
    public boolean subscribe(
        final long connectionId, final SubscribeDecoder subscribe, final DirectBuffer optionsAndReasons)
    {
        int count = 0;
        int length = SUBSCRIBE_ENTRIES_OFFSET;
        subscribe.rewind();
        while (subscribe.nextEntry())
        {
            count++;
            length += 4 + subscribe.filterLength();
        }
        final int index = ring.tryClaim(SUBSCRIBE, length);
        if (index <= 0)
        {
            return false;
        }
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId);
        buffer.putShort(index + PACKET_ID_OFFSET, (short)subscribe.packetId());
        buffer.putShort(index + SUBSCRIBE_COUNT_OFFSET, (short)count);
        buffer.putInt(index + SUBSCRIBE_SUBSCRIPTION_ID_OFFSET, Math.max(0, subscribe.subscriptionIdentifier()));
        final DirectBuffer filters = subscribe.buffer();
        int position = index + SUBSCRIBE_ENTRIES_OFFSET;
        int entry = 0;
        subscribe.rewind();
        while (subscribe.nextEntry())
        {
            final int filterLength = subscribe.filterLength();
            buffer.putByte(position, optionsAndReasons.getByte(entry));
            buffer.putByte(position + 1, optionsAndReasons.getByte(entry + 1));
            buffer.putShort(position + 2, (short)filterLength);
            buffer.putBytes(position + 4, filters, subscribe.filterOffset(), filterLength);
            position += 4 + filterLength;
            entry += 2;
        }
        commit(index);
        return true;
    }

    /**
     * An UNSUBSCRIBE: every entry of {@code unsubscribe} (rewound here); an invalid topic filter is sent empty, for
     * the routing agent to answer 0x8F Topic Filter invalid.
     */
    public boolean unsubscribe(final long connectionId, final UnsubscribeDecoder unsubscribe)
    {
        int count = 0;
        int length = UNSUBSCRIBE_ENTRIES_OFFSET;
        unsubscribe.rewind();
        while (unsubscribe.nextEntry())
        {
            count++;
            length += 2 + unsubscribe.filterLength();
        }
        final int index = ring.tryClaim(UNSUBSCRIBE, length);
        if (index <= 0)
        {
            return false;
        }
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId);
        buffer.putShort(index + PACKET_ID_OFFSET, (short)unsubscribe.packetId());
        buffer.putShort(index + UNSUBSCRIBE_COUNT_OFFSET, (short)count);
        final DirectBuffer filters = unsubscribe.buffer();
        int position = index + UNSUBSCRIBE_ENTRIES_OFFSET;
        unsubscribe.rewind();
        while (unsubscribe.nextEntry())
        {
            // An invalid filter goes as an empty one (a valid filter never is): answered 0x8F Topic Filter invalid.
            final int filterLength = unsubscribe.filterStatus() < 0 ? 0 : unsubscribe.filterLength();
            buffer.putShort(position, (short)filterLength);
            buffer.putBytes(position + 2, filters, unsubscribe.filterOffset(), filterLength);
            position += 2 + filterLength;
        }
        commit(index);
        return true;
    }

    /** The connection ended; {@code kind} says whether the will is published. */
    public boolean disconnect(final long connectionId, final int kind, final long sessionExpiry)
    {
        final int index = ring.tryClaim(DISCONNECT, DISCONNECT_LENGTH);
        if (index <= 0)
        {
            return false;
        }
        final MutableDirectBuffer buffer = ring.buffer();
        buffer.putLong(index + CONNECTION_ID_OFFSET, connectionId);
        buffer.putByte(index + DISCONNECT_KIND_OFFSET, (byte)kind);
        buffer.putInt(index + DISCONNECT_SESSION_EXPIRY_OFFSET, (int)sessionExpiry);
        commit(index);
        return true;
    }

    private void commit(final int index)
    {
        ring.commit(index);
        wakeRouter.run();
    }

    private static int putShortPrefixed(final MutableDirectBuffer buffer, final int position, final byte[] bytes)
    {
        buffer.putShort(position, (short)bytes.length);
        buffer.putBytes(position + SIZE_OF_SHORT, bytes);
        return position + SIZE_OF_SHORT + bytes.length;
    }
}
