package dev.skylark.broker.routing;

import dev.skylark.codec.LogText;
import dev.skylark.codec.mqtt.PublishView;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.ArrayListUtil;
import org.agrona.collections.LongArrayList;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Every session's will message: stored at CONNECT in the shared {@link MessageLayout}, published through the
 * {@link MessageRouter} when the connection is lost (at once, or when its delay runs out on {@link SessionTimers}),
 * and cleared when the client disconnects normally or resumes the session. Called by {@link SessionRegistry}.
 * <p>
 * In a cluster each will is also held by the registry ({@link ClusterLink#setWill}), so that the heir publishes it
 * should this node die: set once the client's claim has committed (its epoch known, on the cluster duty cycle after
 * the CONNECT, {@link #syncCluster}), cleared when this node publishes or drops the will itself. A due will of a
 * dead node's client comes back here on its heir ({@link #publishDue}) and goes out as a normal publish. One
 * registry command per CONNECT with a will, and one per will published or dropped: never on the message path.
 */
final class Wills
{
    private static final System.Logger LOG = System.getLogger(Wills.class.getName());
    /** How long a will the link refuses (no leader, back pressure, too large) is offered again. */
    private static final long SET_RETRY_NS = TimeUnit.SECONDS.toNanos(5);
    private static final UnsafeBuffer EMPTY = new UnsafeBuffer(new byte[0]);

    private final MessageStore store;
    private final MessageRouter router;
    private final SessionTimers timers;
    private final RoutingCounters counters;
    /** The will being stored, re-wrapped per CONNECT. */
    private final PublishView will = new PublishView();
    /** The cluster's registry; null on a single node. */
    private ClusterLink link;
    /** Sessions whose will waits to be set in the registry, and until when it is offered (bounded by sessions). */
    private final ArrayList<Session> toSet = new ArrayList<>();
    private final LongArrayList toSetUntilNs = new LongArrayList();
    /** Clears the link refused: client id → epoch, retried (one per client id). */
    private final Map<String, Long> clears = new HashMap<>();

    Wills(final MessageStore store, final MessageRouter router, final SessionTimers timers, final RoutingCounters counters)
    {
        this.store = store;
        this.router = router;
        this.timers = timers;
        this.counters = counters;
    }

    /** Joins a cluster: wills are held by its registry too. */
    void cluster(final ClusterLink link)
    {
        this.link = link;
    }

    /** The session's will was just stored at CONNECT: in a cluster, the registry gets it once the epoch is known. */
    void stored(final Session session)
    {
        if (link != null && session.willHandle != MessageStore.NULL_HANDLE)
        {
            toSet.add(session);
            toSetUntilNs.addLong(Long.MIN_VALUE);
        }
    }

    /**
     * The cluster duty cycle: sets the wills stored since in the registry (their sessions' epochs are known by now)
     * and retries refused clears. Returns the commands queued.
     */
    int syncCluster(final long nowNs)
    {
        int work = 0;
        if (!clears.isEmpty())
        {
            final int before = clears.size();
            clears.entrySet().removeIf((entry) -> link.setWill(entry.getKey(), entry.getValue(), 0, 0, EMPTY, 0, 0));
            work += before - clears.size();
        }
        for (int i = toSet.size() - 1; i >= 0; i--)
        {
            final Session session = toSet.get(i);
            final long handle = session.willHandle;
            boolean done = handle == MessageStore.NULL_HANDLE || session.clusterEpoch == 0 ||
                session.willRegistryEpoch == session.clusterEpoch;
            if (!done)
            {
                if (link.setWill(session.clientId, session.clusterEpoch, session.willDelay, session.expiryInterval,
                    store.buffer(handle), store.offset(handle), store.length(handle)))
                {
                    session.willRegistryEpoch = session.clusterEpoch;
                    work++;
                    done = true;
                }
                else if (toSetUntilNs.getLong(i) == Long.MIN_VALUE)
                {
                    toSetUntilNs.setLong(i, nowNs + SET_RETRY_NS);
                }
                else if (nowNs - toSetUntilNs.getLong(i) > 0)
                {
                    LOG.log(Level.WARNING, "cluster: the will of " + LogText.of(session.clientId) + " (" +
                        store.length(handle) + " bytes) could not be given to the registry: it is published by " +
                        "this node only, and lost if this node dies");
                    done = true;
                }
            }
            if (done)
            {
                ArrayListUtil.fastUnorderedRemove(toSet, i);
                toSetUntilNs.fastUnorderedRemove(i);
            }
        }
        return work;
    }

    /** This node published or dropped the session's will: the registry forgets it too. */
    private void unsetInCluster(final Session session)
    {
        final long epoch = session.willRegistryEpoch;
        if (epoch == 0)
        {
            return;
        }
        session.willRegistryEpoch = 0;
        if (!link.setWill(session.clientId, epoch, 0, 0, EMPTY, 0, 0))
        {
            clears.put(session.clientId, epoch);
        }
    }

    /**
     * The registry says the will of {@code clientId}, a client of a dead node, is due and this node publishes it: a
     * normal publish (routed here and forwarded to the other nodes), as its own node would have published it.
     */
    void publishDue(final String clientId, final DirectBuffer message, final int offset, final int length)
    {
        if (length < MessageLayout.TOPIC_OFFSET || MessageLayout.length(message, offset) != length)
        {
            LOG.log(Level.WARNING, "cluster: a malformed due will from the registry (" + LogText.of(clientId) + ")");
            return;
        }
        LOG.log(Level.INFO, () -> "cluster: publishing the will of " + LogText.of(clientId) + " (its node is down)");
        route(store.store(message, offset, length), clientId);
    }

    /** Stores the will of a CONNECT that carries one; returns its store handle. */
    long store(final ConnectCommandDecoder connect)
    {
        final DirectBuffer record = connect.buffer();
        final PublishView will = this.will.reset()
            .flags(connect.willQos(), false, connect.willRetain())
            .topic(record, connect.willTopicOffset(), connect.willTopicLength())
            .properties(record, connect.willPropertiesOffset(), connect.willPropertiesLength())
            .payload(record, connect.willPayloadOffset(), connect.willPayloadLength());
        final long handle = store.allocate(MessageLayout.length(will));
        MessageLayout.write(store.buffer(handle), store.offset(handle), will);
        return handle;
    }

    /** The connection is gone with its will due after {@code deadlineNs}, unless the session resumes first. */
    void publishAt(final Session session, final long deadlineNs)
    {
        session.willPending = true;
        session.willDeadlineNs = deadlineNs;
        timers.scheduleWill(session, deadlineNs);
    }

    /** Publishes the session's will now, if it has one, and forgets it. */
    void publish(final Session session)
    {
        final long handle = session.willHandle;
        session.willHandle = MessageStore.NULL_HANDLE;
        session.willPending = false;
        timers.cancelWill(session);
        if (handle == MessageStore.NULL_HANDLE)
        {
            return;
        }
        if (link != null)
        {
            unsetInCluster(session);
        }
        route(handle, session.clientId);
    }

    /** Publishes the will stored under {@code handle} (of {@code clientId}) and gives the store its reference back. */
    private void route(final long handle, final String clientId)
    {
        counters.willsPublished.incrementRelease();
        final MutableDirectBuffer buffer = store.buffer(handle);
        final int offset = store.offset(handle);
        final int length = store.length(handle);
        if (MessageLayout.retain(buffer, offset))
        {
            final int verdict = router.admitsRetained(clientId, buffer, offset, length);
            if (verdict != RetainedQuota.ADMITTED)
            {
                // Over its client's (or the broker's) retained quota: still published, but not retained.
                InboundQos.countRefused(counters, verdict);
                buffer.putByte(offset + MessageLayout.FLAGS_OFFSET, (byte)0);
            }
        }
        router.route(buffer, offset, length, -1, handle, clientId);
        store.release(handle);
    }

    /** Forgets the session's will without publishing it. */
    void clear(final Session session)
    {
        if (session.willHandle != MessageStore.NULL_HANDLE)
        {
            store.release(session.willHandle);
            session.willHandle = MessageStore.NULL_HANDLE;
        }
        session.willPending = false;
        timers.cancelWill(session);
        if (link != null)
        {
            unsetInCluster(session);
        }
    }

    /** At shutdown: gives the store back the wills still held (none is published; the registry is told, best effort). */
    void releaseAtClose(final Session session)
    {
        if (link != null)
        {
            unsetInCluster(session);
        }
        if (session.willHandle != MessageStore.NULL_HANDLE)
        {
            store.release(session.willHandle);
            session.willHandle = MessageStore.NULL_HANDLE;
        }
    }
}
