package dev.skylark.broker.routing;

import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.Map;

/**
 * A cluster node that restarts replays its own journal, but some of the sessions in it may no longer be its own:
 * its heir took them over when it was declared down (or they moved on since). This holds the client ids of the
 * sessions the start-up replay restored, follows their ownership in the registry's events, and once the node has
 * caught up with the registry — its own {@link ClusterLink.Events#onNodeUp}, then a poll of the link that took in all
 * that waited — keeps those this node owns (taking the epoch) and ends the others here: without a release (the client
 * id is not this node's to release) and without a will (none is journaled), journaled as ended so a later restart
 * does not bring them back, their queued messages never delivered here — the owner delivers them.
 * <p>
 * Assumes the registry's history reaches this node in one stream after its start (the log replay, then its
 * {@code HELLO}): a pause in it at one of its earlier {@code onNodeUp}s would end the check early. Bounded by the
 * restored sessions; owned by the routing agent's thread.
 */
final class RejoinCheck
{
    private static final System.Logger LOG = System.getLogger(RejoinCheck.class.getName());

    private final int self;
    private final SessionRegistry sessions;
    /** Client id of each restored session → {owner node, epoch} as the registry's events say so far. */
    private final Map<String, long[]> owners = new HashMap<>();
    private boolean started;
    private boolean due;
    private boolean done;

    RejoinCheck(final int self, final SessionRegistry sessions)
    {
        this.self = self;
        this.sessions = sessions;
    }

    /** After the start-up replay: every session there is now is a restored one. */
    void onReplayed()
    {
        for (final Session session : sessions.sessions())
        {
            owners.put(session.clientId, new long[] {ClusterLink.NO_NODE, 0});
        }
        started = true;
    }

    void onClaimed(final String clientId, final int ownerNodeId, final long epoch)
    {
        final long[] owner = done ? null : owners.get(clientId);
        if (owner != null)
        {
            owner[0] = ownerNodeId;
            owner[1] = epoch;
        }
    }

    void onReleased(final String clientId, final long epoch)
    {
        final long[] owner = done ? null : owners.get(clientId);
        if (owner != null && owner[1] == epoch)
        {
            owner[0] = ClusterLink.NO_NODE;
        }
    }

    /** This node's own onNodeUp: the check runs once the link has nothing more waiting. */
    void onNodeUp()
    {
        due = !done;
    }

    /** Whether the check is done (this node has caught up with the registry since its start). */
    boolean isDone()
    {
        return done;
    }

    /**
     * Runs the check when due and {@code linkDrained}; returns the sessions ended here.
     */
    int poll(final boolean linkDrained)
    {
        if (!due || !linkDrained)
        {
            return 0;
        }
        due = false;
        done = true;
        if (!started)
        {
            return 0;
        }
        int ended = 0;
        for (final Map.Entry<String, long[]> entry : owners.entrySet())
        {
            final Session session = sessions.byClientId(entry.getKey());
            if (session == null || session.isOnline() || session.clusterEpoch != 0)
            {
                continue; // ended meanwhile, or a new connection of this run claimed it
            }
            final long[] owner = entry.getValue();
            if (owner[0] == self)
            {
                session.clusterEpoch = owner[1];
            }
            else
            {
                LOG.log(Level.INFO, "cluster: a session restored from the journal is owned by node " + owner[0] +
                    " now (taken over while this node was down): ended here");
                sessions.endSession(session, true);
                ended++;
            }
        }
        owners.clear();
        return ended;
    }
}
