package dev.skylark.broker.cluster;

import dev.skylark.broker.routing.ClusterLink;
import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * {@link ClusterLink} on Aeron Cluster and Aeron UDP. Commands are encoded onto a ring that this node's
 * {@link ClusterNodeAgent} offers to the cluster ingress, in order; a command returns false when the registry
 * session is not open (no leader yet, reconnecting) or the ring is full, and never blocks. Committed events come back
 * through the event ring the {@link RegistryService} writes. Node-to-node messages go on one exclusive UDP
 * publication per peer (reliable, in order per pair) and arrive through the peer ring.
 * <p>
 * A peer message on the wire: {@code fromNodeId:4 type:4 bytes:n}.
 * <p>
 * The routing agent's thread calls everything here except {@link #received} (the node agent's thread). The
 * per-peer figures ({@link ClusterMetrics}) have one writer each.
 */
public final class AeronClusterLink implements ClusterLink, AutoCloseable
{
    static final int PEER_FROM_OFFSET = 0;
    static final int PEER_TYPE_OFFSET = 4;
    static final int PEER_HEADER_LENGTH = 8;

    private final int nodeId;
    private final RingBuffer commandRing;
    private final RingBuffer eventRing;
    private final RingBuffer peerRing;
    private final ExclusivePublication[] peers = new ExclusivePublication[ClusterMembers.MAX_NODE_ID + 1];
    private final UnsafeBuffer peerHeader = new UnsafeBuffer(new byte[PEER_HEADER_LENGTH]);
    private final ExpandableArrayBuffer commandBuffer = new ExpandableArrayBuffer(256);
    private final RegistryEvents.Reader eventReader = new RegistryEvents.Reader();
    private final MessageHandler peerHandler = this::onPeerRecord;
    private ClusterNodeAgent agent;
    private Events events;
    private volatile Replicas replicas;

    private final ClusterMetrics metrics;

    AeronClusterLink(
        final ClusterNode.Settings settings, final Aeron aeron, final RingBuffer commandRing,
        final RingBuffer eventRing, final RingBuffer peerRing, final ClusterMetrics metrics)
    {
        this.metrics = metrics;
        this.nodeId = settings.nodeId();
        this.commandRing = commandRing;
        this.eventRing = eventRing;
        this.peerRing = peerRing;
        peerHeader.putInt(PEER_FROM_OFFSET, nodeId);
        for (final ClusterMembers.Member member : settings.members().all().values())
        {
            if (member.id() != nodeId)
            {
                peers[member.id()] = aeron.addExclusivePublication("aeron:udp?endpoint=" +
                    member.endpoint(ClusterMembers.PEER_OFFSET) + "|term-length=" + settings.peerTermLength(),
                    ClusterNode.PEER_STREAM_ID);
            }
        }
    }

    void agent(final ClusterNodeAgent agent)
    {
        this.agent = agent;
        eventReader.self(nodeId, agent::clusterSessionId);
    }

    /** The replicas this node holds for others (set by the broker when the journal is replicated). */
    public void replicas(final Replicas replicas)
    {
        this.replicas = replicas;
    }

    /**
     * Replays {@code <dataDir>/replicas/node-<nodeId>} from its last complete checkpoint, oldest record first, the way
     * the local journal replays at start; false when this node holds no replica of it (or the journal is off).
     */
    @Override
    public boolean replayReplica(final int nodeId, final dev.skylark.broker.routing.DurableLog.Replayer replayer)
    {
        final Replicas held = replicas;
        return held != null && held.replay(nodeId, replayer);
    }

    /** Deletes the replica of {@code nodeId} (on the replication agent's thread, within a second). */
    @Override
    public void dropReplica(final int nodeId)
    {
        final Replicas held = replicas;
        if (held != null)
        {
            held.drop(nodeId);
        }
    }

    public int nodeId()
    {
        return nodeId;
    }

    public boolean claim(final long correlationId, final String clientId)
    {
        return command(RegistryCommands.CLAIM, correlationId, clientId);
    }

    public boolean claimIf(final String clientId, final long epoch)
    {
        return command(RegistryCommands.CLAIM_IF, epoch, clientId);
    }

    public boolean release(final String clientId, final long epoch)
    {
        return command(RegistryCommands.RELEASE, epoch, clientId);
    }

    public boolean addRoute(final long correlationId, final String filter)
    {
        return command(RegistryCommands.ROUTE_ADD, correlationId, filter);
    }

    public boolean removeRoute(final long correlationId, final String filter)
    {
        return command(RegistryCommands.ROUTE_REMOVE, correlationId, filter);
    }

    public boolean setRetained(final DirectBuffer message, final int offset, final int length)
    {
        if (!open())
        {
            return refused();
        }
        final int encoded = RegistryCommands.encodeRetained(commandBuffer, 0, message, offset, length);
        return encoded <= commandRing.maxMsgLength() && commandRing.write(1, commandBuffer, 0, encoded) || refused();
    }

    public boolean setWill(
        final String clientId, final long epoch, final long willDelaySeconds, final long sessionExpirySeconds,
        final DirectBuffer message, final int offset, final int length)
    {
        if (!open())
        {
            return refused();
        }
        if (RegistryCommands.WILL_CLIENT_ID_OFFSET + 3L * clientId.length() + length > commandRing.maxMsgLength())
        {
            return refused(); // larger than a registry command may be: the will stays on this node
        }
        final int encoded = RegistryCommands.encodeWill(
            commandBuffer, 0, clientId, epoch, willDelaySeconds, sessionExpirySeconds, message, offset, length);
        return commandRing.write(1, commandBuffer, 0, encoded) || refused();
    }

    private boolean command(final int type, final long value, final String text)
    {
        if (!open())
        {
            return refused();
        }
        final int encoded = RegistryCommands.encodeLongString(commandBuffer, 0, type, value, text);
        return encoded <= commandRing.maxMsgLength() && commandRing.write(1, commandBuffer, 0, encoded) || refused();
    }

    private boolean open()
    {
        return agent != null && agent.connected();
    }

    private boolean refused()
    {
        metrics.commandsRefused.incrementRelease();
        return false;
    }

    public boolean send(final int nodeId, final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        final ExclusivePublication publication = nodeId >= 0 && nodeId < peers.length ? peers[nodeId] : null;
        if (publication == null)
        {
            metrics.sendRefused.incrementRelease();
            return false;
        }
        peerHeader.putInt(PEER_TYPE_OFFSET, type);
        if (publication.offer(peerHeader, 0, PEER_HEADER_LENGTH, buffer, offset, length, null) < 0)
        {
            metrics.sendRefused.incrementRelease();
            return false;
        }
        metrics.sentMessages[nodeId].incrementRelease();
        metrics.sentBytes[nodeId].getAndAddRelease(length);
        return true;
    }

    public boolean hasWork()
    {
        return eventRing.size() > 0 || peerRing.size() > 0;
    }

    public int poll(final Events events, final int limit)
    {
        int work = eventReader.read(eventRing, events, limit);
        if (work < limit)
        {
            this.events = events;
            work += peerRing.read(peerHandler, limit - work);
        }
        return work;
    }

    private void onPeerRecord(final int type, final MutableDirectBuffer buffer, final int offset, final int length)
    {
        events.onPeerMessage(buffer.getInt(offset + PEER_FROM_OFFSET), buffer.getInt(offset + PEER_TYPE_OFFSET),
            buffer, offset + PEER_HEADER_LENGTH, length - PEER_HEADER_LENGTH);
    }

    /** Counts a peer message taken in (the node agent's thread). */
    void received(final int fromNodeId, final int length)
    {
        if (fromNodeId >= 0 && fromNodeId < metrics.receivedMessages.length && metrics.receivedMessages[fromNodeId] != null)
        {
            metrics.receivedMessages[fromNodeId].incrementRelease();
            metrics.receivedBytes[fromNodeId].getAndAddRelease(length - PEER_HEADER_LENGTH);
        }
    }

    /** See {@link ClusterNodeAgent}: no round trip through the registry log for part of the session timeout. */
    @Override
    public boolean isFenced()
    {
        final ClusterNodeAgent agent = this.agent;
        return agent != null && agent.fenced();
    }

    /** True when a publication to {@code nodeId} has a connected subscriber. */
    public boolean peerConnected(final int nodeId)
    {
        final ExclusivePublication publication = nodeId >= 0 && nodeId < peers.length ? peers[nodeId] : null;
        return publication != null && publication.isConnected();
    }

    public long messagesSent(final int peer)
    {
        return metrics.sentMessages[peer].get();
    }

    public long messagesReceived(final int peer)
    {
        return metrics.receivedMessages[peer].get();
    }

    @Override
    public void close()
    {
        for (final ExclusivePublication publication : peers)
        {
            CloseHelper.quietClose(publication);
        }
    }
}
