package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;

import java.lang.System.Logger.Level;

import static dev.skylark.broker.routing.RouterCommand.*;
import static org.agrona.BitUtil.SIZE_OF_SHORT;

/**
 * Decodes the {@link RouterCommand} records the I/O agents write to the routing agent's inbound ring (the layouts
 * {@link RouterProxy} encodes) and dispatches each as an {@code onXxx} call on the part that handles it: CONNECT and
 * DISCONNECT to the {@link SessionRegistry}, PUBLISH, PUBREL and NOT_ROUTED to {@link InboundQos}, a subscriber's
 * ACK to its {@link DeliveryWindow} through {@link Deliveries}, SUBSCRIBE and UNSUBSCRIBE to {@link Subscriptions}.
 * Commands from a connection that has no session any more are dropped here (a PUBLISH at QoS 0/1 is still routed).
 * Read by the routing agent's duty cycle.
 */
final class RouterCommandAdapter implements MessageHandler
{
    private static final System.Logger LOG = System.getLogger(RouterCommandAdapter.class.getName());

    private final SessionRegistry sessions;
    private final InboundQos inboundQos;
    private final Deliveries deliveries;
    private final Subscriptions subscriptions;
    private final ConnectCommandDecoder connect = new ConnectCommandDecoder();
    /** CONNECTs waiting for the cluster registry: null on a single node. */
    private PendingClaims pendingClaims;

    RouterCommandAdapter(
        final SessionRegistry sessions,
        final InboundQos inboundQos,
        final Deliveries deliveries,
        final Subscriptions subscriptions)
    {
        this.sessions = sessions;
        this.inboundQos = inboundQos;
        this.deliveries = deliveries;
        this.subscriptions = subscriptions;
    }

    /** Joins a cluster: a CONNECT waits for its client id's claim to commit. */
    void pendingClaims(final PendingClaims pendingClaims)
    {
        this.pendingClaims = pendingClaims;
    }

    @Override
    public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        final long connectionId = buffer.getLong(index + CONNECTION_ID_OFFSET);
        switch (msgTypeId)
        {
            case CONNECT -> onConnect(connectionId, buffer, index, length);
            case PUBLISH -> inboundQos.onPublish(
                connectionId,
                sessions.byConnection(connectionId),
                buffer,
                index + PUBLISH_MESSAGE_OFFSET,
                length - PUBLISH_MESSAGE_OFFSET,
                buffer.getShort(index + PUBLISH_PACKET_ID_OFFSET) & 0xFFFF);
            case PUBREL -> onPubrel(connectionId, buffer.getShort(index + PACKET_ID_OFFSET) & 0xFFFF);
            case NOT_ROUTED -> onNotRouted(
                connectionId,
                buffer.getByte(index + NOT_ROUTED_QOS_OFFSET),
                buffer.getShort(index + NOT_ROUTED_PACKET_ID_OFFSET) & 0xFFFF,
                buffer.getByte(index + NOT_ROUTED_REASON_OFFSET) & 0xFF);
            case ACK -> onAck(
                connectionId,
                buffer.getByte(index + ACK_PACKET_TYPE_OFFSET),
                buffer.getByte(index + ACK_REASON_OFFSET) & 0xFF,
                buffer.getShort(index + ACK_PACKET_ID_OFFSET) & 0xFFFF);
            case SUBSCRIBE -> onSubscribe(connectionId, buffer, index);
            case UNSUBSCRIBE -> onUnsubscribe(connectionId, buffer, index);
            case DISCONNECT -> onDisconnect(connectionId, buffer, index);
            default -> LOG.log(Level.WARNING, "unknown router command " + msgTypeId);
        }
    }

    private void onConnect(final long connectionId, final MutableDirectBuffer buffer, final int index,
        final int length)
    {
        if (pendingClaims == null)
        {
            sessions.onConnect(connectionId, connect.wrap(buffer, index));
        }
        else
        {
            pendingClaims.onConnect(connectionId, buffer, index, length);
        }
    }

    private void onDisconnect(final long connectionId, final MutableDirectBuffer buffer, final int index)
    {
        if (pendingClaims != null && pendingClaims.onDisconnect(connectionId))
        {
            return; // lost while its claim was in flight: it never had a session
        }
        sessions.onDisconnect(
            connectionId,
            buffer.getByte(index + DISCONNECT_KIND_OFFSET),
            buffer.getInt(index + DISCONNECT_SESSION_EXPIRY_OFFSET));
    }

    private void onPubrel(final long connectionId, final int packetId)
    {
        final Session session = sessions.byConnection(connectionId);
        if (session != null)
        {
            inboundQos.onPubrel(session, packetId);
        }
    }

    private void onNotRouted(final long connectionId, final int qos, final int packetId, final int reason)
    {
        final Session session = sessions.byConnection(connectionId);
        if (session != null) // else nobody is left to answer
        {
            inboundQos.onNotRouted(session, qos, packetId, reason);
        }
    }

    private void onAck(final long connectionId, final int packetType, final int reasonCode, final int packetId)
    {
        final Session session = sessions.byConnection(connectionId);
        if (session != null && !deliveries.onAck(session, packetType, reasonCode, packetId))
        {
            sessions.onProtocolError(connectionId, ReasonCode.PROTOCOL_ERROR);
        }
    }

    private void onSubscribe(final long connectionId, final MutableDirectBuffer buffer, final int index)
    {
        final Session session = sessions.byConnection(connectionId);
        if (session == null)
        {
            return;
        }
        final int count = buffer.getShort(index + SUBSCRIBE_COUNT_OFFSET) & 0xFFFF;
        subscriptions.beginSubscribe(
            session,
            buffer.getShort(index + PACKET_ID_OFFSET) & 0xFFFF,
            count,
            buffer.getInt(index + SUBSCRIBE_SUBSCRIPTION_ID_OFFSET));
        int position = index + SUBSCRIBE_ENTRIES_OFFSET;
        for (int i = 0; i < count; i++)
        {
            final int options = buffer.getByte(position) & 0xFF;
            final int result = buffer.getByte(position + 1) & 0xFF;
            final int filterLength = buffer.getShort(position + 2) & 0xFFFF;
            final String filter = buffer.getStringWithoutLengthUtf8(position + 4, filterLength);
            position += 4 + filterLength;
            subscriptions.onSubscribeEntry(i, options, result, filter);
        }
        subscriptions.endSubscribe();
    }

    private void onUnsubscribe(final long connectionId, final MutableDirectBuffer buffer, final int index)
    {
        final Session session = sessions.byConnection(connectionId);
        if (session == null)
        {
            return;
        }
        final int count = buffer.getShort(index + UNSUBSCRIBE_COUNT_OFFSET) & 0xFFFF;
        subscriptions.beginUnsubscribe(session, buffer.getShort(index + PACKET_ID_OFFSET) & 0xFFFF, count);
        int position = index + UNSUBSCRIBE_ENTRIES_OFFSET;
        for (int i = 0; i < count; i++)
        {
            final int filterLength = buffer.getShort(position) & 0xFFFF;
            final String filter = buffer.getStringWithoutLengthUtf8(position + SIZE_OF_SHORT, filterLength);
            position += SIZE_OF_SHORT + filterLength;
            subscriptions.onUnsubscribeEntry(i, filter);
        }
        subscriptions.endUnsubscribe();
    }
}
