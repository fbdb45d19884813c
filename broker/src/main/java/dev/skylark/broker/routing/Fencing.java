package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.collections.LongArrayList;

/**
 * What the routing agent does while its cluster node is fenced ({@link ClusterLink#isFenced()}: cut off from the
 * registry's majority long enough that its heir may soon take its sessions over). On the duty cycle that sees the
 * link fence, every connected client is disconnected — v5 DISCONNECT 0x9C Use another server with the node's
 * Server Reference when one is configured, else 0x89 Server busy (the I/O side picks, it knows the reference);
 * 3.1.1 clients are closed — and its session goes offline without its will (the heir publishes the will the
 * registry holds when the majority declares this node down); CONNECTs waiting for their claim are refused with
 * CONNACK 0x88. While fenced, a new CONNECT is refused at once (v5 0x88 Server unavailable, 3.1.1 return code 3)
 * and a QoS 1/2 PUBLISH still in flight from a dropped connection is discarded unacknowledged: its publisher
 * resends it elsewhere. Queued messages stay (the heir has the replica). Unfenced, everything works as before.
 * <p>
 * Costs one {@link ClusterLink#isFenced()} per duty cycle (on Aeron: a volatile read and a clock read); the fenced
 * state the other parts check is this thread's own field.
 * Owned by the routing agent's thread.
 */
final class Fencing
{
    private final ClusterLink link;
    private final SessionRegistry sessions;
    private final PendingClaims claims;
    private final InboundQos inboundQos;
    private final DeliveryPublisher out;
    private final LongArrayList connections = new LongArrayList();
    private boolean fenced;

    Fencing(
        final ClusterLink link,
        final SessionRegistry sessions,
        final PendingClaims claims,
        final InboundQos inboundQos,
        final DeliveryPublisher out)
    {
        this.link = link;
        this.sessions = sessions;
        this.claims = claims;
        this.inboundQos = inboundQos;
        this.out = out;
    }

    /** One duty cycle: follows the link's fenced flag, dropping every client when it turns on. */
    int poll()
    {
        final boolean now = link.isFenced();
        if (now == fenced)
        {
            return 0;
        }
        fenced = now;
        claims.fenced(now);
        inboundQos.fenced(now);
        if (now)
        {
            dropClients();
        }
        return 1;
    }

    private void dropClients()
    {
        connections.clear();
        for (final Session session : sessions.sessions())
        {
            if (session.isOnline())
            {
                connections.addLong(session.connectionId);
            }
        }
        for (int i = 0; i < connections.size(); i++)
        {
            final long connectionId = connections.getLong(i);
            out.disconnect(connectionId, ReasonCode.USE_ANOTHER_SERVER);
            sessions.onDisconnect(connectionId, RouterCommand.DISCONNECT_NORMAL,
                RouterCommand.SESSION_EXPIRY_UNCHANGED);
        }
        claims.refuseAll();
    }
}
