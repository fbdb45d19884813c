package dev.skylark.broker.cluster;

import dev.skylark.broker.routing.DurableLog;

/**
 * The journal replicas this node holds for other nodes (their buddy's copies), as the broker wires them to the link:
 * the journal and its replication live outside this package.
 */
public interface Replicas
{
    /** Replays the replica of {@code nodeId} from its last complete checkpoint; false when there is none. */
    boolean replay(int nodeId, DurableLog.Replayer replayer);

    /** Deletes the replica of {@code nodeId} (soon, on the replication agent's thread). */
    void drop(int nodeId);
}
