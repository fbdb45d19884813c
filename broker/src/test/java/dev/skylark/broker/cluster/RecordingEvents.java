package dev.skylark.broker.cluster;

import dev.skylark.broker.routing.ClusterLink;
import org.agrona.DirectBuffer;

import java.util.ArrayList;
import java.util.List;

/** Events as readable lines, in order. */
class RecordingEvents implements ClusterLink.Events
{
    final List<String> lines = new ArrayList<>();

    public void onNodeUp(final int nodeId)
    {
        lines.add("up " + nodeId);
    }

    public void onNodeDown(final int nodeId, final int heirNodeId)
    {
        lines.add("down " + nodeId + " heir " + heirNodeId);
    }

    public void onInherited(final int nodeId, final int heirNodeId)
    {
        lines.add("inherited " + nodeId + " heir " + heirNodeId);
    }

    public void onClaimed(final long correlationId, final String clientId, final int ownerNodeId, final long epoch,
        final int previousNodeId, final long previousEpoch)
    {
        lines.add("claimed " + correlationId + " " + clientId + " " + ownerNodeId + " " + epoch + " " +
            previousNodeId + " " + previousEpoch);
    }

    public void onReleased(final String clientId, final int nodeId, final long epoch)
    {
        lines.add("released " + clientId + " " + nodeId + " " + epoch);
    }

    public void onRoute(final String filter, final int nodeId, final boolean present)
    {
        lines.add("route " + filter + " " + nodeId + " " + present);
    }

    public void onRouteCommitted(final long correlationId)
    {
        lines.add("committed " + correlationId);
    }

    public void onRetained(final int originNodeId, final DirectBuffer message, final int offset, final int length)
    {
        final int topicLength = message.getShort(offset + 4) & 0xFFFF;
        lines.add("retained " + originNodeId + " " + message.getStringWithoutLengthUtf8(offset + 6, topicLength) +
            " " + length);
    }

    public void onPeerMessage(final int fromNodeId, final int type, final DirectBuffer buffer, final int offset,
        final int length)
    {
        lines.add("peer " + fromNodeId + " " + type + " " + length);
    }

    List<String> take()
    {
        final List<String> copy = new ArrayList<>(lines);
        lines.clear();
        return copy;
    }
}
