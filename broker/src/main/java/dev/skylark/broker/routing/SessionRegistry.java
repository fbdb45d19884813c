package dev.skylark.broker.routing;

import dev.skylark.codec.LogText;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.IntArrayQueue;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.EpochClock;

import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.routing.RouterCommand.DISCONNECT_WITH_WILL;
import static dev.skylark.broker.routing.RouterCommand.SESSION_EXPIRY_UNCHANGED;

/**
 * The sessions, by client id, by session id and by connection: CONNECT (new, resumed, or taking over an online
 * session), DISCONNECT (will, shared redistribution, offline or ended), and the end of a session when it expires on
 * {@link SessionTimers}. Hands out session ids (reused) and journals persistent sessions. Called by
 * {@link RouterCommandAdapter}, by the timers, and by the journal replay.
 */
final class SessionRegistry implements SessionTimers.Handler
{
    private static final System.Logger LOG = System.getLogger(SessionRegistry.class.getName());

    private final Map<String, Session> sessionsByClientId = new HashMap<>();
    private final Int2ObjectHashMap<Session> sessionsById;
    private final Long2ObjectHashMap<Session> sessionsByConnection = new Long2ObjectHashMap<>();
    private final IntArrayQueue freeSessionIds = new IntArrayQueue(IntArrayQueue.MIN_CAPACITY, 0);
    private int nextSessionId = 1;

    private final DeliveryPublisher out;
    private final TopicTree tree;
    private final Deliveries deliveries;
    private final Wills wills;
    private final SharedRedistributor redistributor;
    private final SessionTimers timers;
    private final JournalRecord journal;
    private final DurableIds ids;
    private final RoutingCounters counters;
    private final CachedNanoClock clock;
    private final int inflightMax;
    private final int receiveMaximum;
    private final long sessionExpiryMax;
    private EpochClock epochClock;
    private AccessRecheck accessRecheck;
    /** Told when a session ends (a cluster node releases its client id); null on a single node. */
    private EndListener endListener;

    /** Told when a session ends, whatever ended it. */
    interface EndListener
    {
        void onSessionEnded(Session session);
    }

    SessionRegistry(
        final Int2ObjectHashMap<Session> sessionsById,
        final DeliveryPublisher out,
        final TopicTree tree,
        final Deliveries deliveries,
        final Wills wills,
        final SharedRedistributor redistributor,
        final SessionTimers timers,
        final JournalRecord journal,
        final DurableIds ids,
        final RoutingCounters counters,
        final CachedNanoClock clock,
        final EpochClock epochClock,
        final int inflightMax,
        final int receiveMaximum,
        final long sessionExpiryMax)
    {
        this.sessionsById = sessionsById;
        this.out = out;
        this.tree = tree;
        this.deliveries = deliveries;
        this.wills = wills;
        this.redistributor = redistributor;
        this.timers = timers;
        this.journal = journal;
        this.ids = ids;
        this.counters = counters;
        this.clock = clock;
        this.epochClock = epochClock;
        this.inflightMax = inflightMax;
        this.receiveMaximum = receiveMaximum;
        this.sessionExpiryMax = sessionExpiryMax;
        timers.handler(this);
    }

    void epochClock(final EpochClock epochClock)
    {
        this.epochClock = epochClock;
    }

    void accessRecheck(final AccessRecheck accessRecheck)
    {
        this.accessRecheck = accessRecheck;
    }

    void endListener(final EndListener endListener)
    {
        this.endListener = endListener;
    }

    Session byConnection(final long connectionId)
    {
        return sessionsByConnection.get(connectionId);
    }

    Session byId(final int sessionId)
    {
        return sessionsById.get(sessionId);
    }

    Session byClientId(final String clientId)
    {
        return sessionsByClientId.get(clientId);
    }

    /** Every session, online or not; do not add or remove while iterating. */
    Iterable<Session> sessions()
    {
        return sessionsById.values();
    }

    int sessionCount()
    {
        return sessionsById.size();
    }

    int connectedCount()
    {
        return sessionsByConnection.size();
    }

    void onConnect(final long connectionId, final ConnectCommandDecoder connect)
    {
        final boolean cleanStart = connect.cleanStart();
        final String clientId = connect.clientId();
        Session session = sessionsByClientId.get(clientId);
        boolean sessionPresent = false;
        if (session != null)
        {
            // A session whose expiry is 0 (Clean Session 1 in 3.1.1) ends with its network connection
            // [MQTT-3.1.2-23], [MQTT-3.1.2-6]: a takeover by a persistent connection must not find it present
            // [MQTT-3.2.2-3], nor carry its subscriptions over.
            final boolean ends = cleanStart || session.expiryInterval == 0;
            if (session.isOnline())
            {
                // Session takeover: the old connection goes, with DISCONNECT 0x8E where v5 allows it. Its will goes
                // at once when it has no delay; a delayed will is cancelled by this new connection, which comes
                // before its delay ran out [MQTT-3.1.3-9] (3.1.2.5: "unless ... a new Network Connection for the
                // ClientID is opened before the Will Delay Interval has elapsed").
                sessionsByConnection.remove(session.connectionId);
                out.disconnect(session.connectionId, ReasonCode.SESSION_TAKEN_OVER);
                counters.takeovers.incrementRelease();
                if (session.willHandle != MessageStore.NULL_HANDLE && session.willDelay == 0)
                {
                    wills.publish(session);
                }
                if (ends)
                {
                    // What it had not acknowledged through shared subscriptions goes to another member.
                    redistributor.redistribute(session, true);
                }
            }
            // Any new connection cancels a will still waiting for its delay, whatever its Clean Start: only the
            // end of the session by expiry (not by this reconnection) publishes a delayed will early [MQTT-3.1.3-9].
            wills.clear(session);
            if (ends)
            {
                endSession(session, true);
                session = null;
            }
            else
            {
                sessionPresent = true;
                timers.cancelExpiry(session);
            }
        }
        if (session == null)
        {
            session = add(clientId);
        }

        final long grantedExpiry = Math.min(connect.sessionExpiry(), sessionExpiryMax);
        final int clientMaxPacketSize = connect.maxPacketSize();
        session.connectionId = connectionId;
        session.offline = false;
        session.version = connect.version();
        session.expiryInterval = grantedExpiry;
        // v5: the client's Receive Maximum (65,535 when it names none) within skylark.inflight.max; 3.1.1 (no
        // Receive Maximum) gets skylark.inflight.max. Either way bounded in bytes by skylark.inflight.max.bytes.
        session.window.sendWindow = Math.max(1, Math.min(inflightMax, connect.receiveMaximum()));
        session.window.sendWindowBytes = deliveries.inflightMaxBytes();
        session.maxPacketSize = clientMaxPacketSize > 0 ? clientMaxPacketSize : Integer.MAX_VALUE;
        sessionsByConnection.put(connectionId, session);
        counters.clientsConnected.setRelease(sessionsByConnection.size());
        if (grantedExpiry > 0)
        {
            if (session.durableId == 0)
            {
                session.durableId = ids.newDurableId();
            }
            journal.session(session);
        }
        else if (session.durableId != 0)
        {
            journal.sessionEnd(session.durableId); // no longer persistent: it ends with this connection
            session.durableId = 0;
            session.clearDurableSubscriptions();
        }

        if (connect.hasWill())
        {
            session.willHandle = wills.store(connect);
            session.willDelay = connect.willDelay();
            wills.stored(session); // in a cluster, the registry holds it too
        }

        if (accessRecheck != null)
        {
            accessRecheck.onConnect(session, connectionId, sessionPresent); // before it gets anything it kept
        }
        out.connack(connectionId, sessionPresent, ReasonCode.SUCCESS, grantedExpiry, receiveMaximum);
        if (sessionPresent)
        {
            deliveries.resend(session);
            deliveries.drain(session);
        }
    }

    void onDisconnect(final long connectionId, final int kind, final int sessionExpiry)
    {
        if (accessRecheck != null)
        {
            accessRecheck.onDisconnect(connectionId);
        }
        final Session session = sessionsByConnection.remove(connectionId);
        if (session == null)
        {
            return;
        }
        final long nowNs = clock.nanoTime();
        counters.clientsConnected.setRelease(sessionsByConnection.size());
        session.connectionId = Session.NO_CONNECTION;
        if (sessionExpiry != SESSION_EXPIRY_UNCHANGED)
        {
            session.expiryInterval = Math.min(sessionExpiry & 0xFFFF_FFFFL, sessionExpiryMax);
        }
        if (kind == DISCONNECT_WITH_WILL && session.willHandle != MessageStore.NULL_HANDLE)
        {
            if (session.willDelay == 0 || session.expiryInterval == 0)
            {
                wills.publish(session);
            }
            else
            {
                wills.publishAt(session,
                    nowNs + TimeUnit.SECONDS.toNanos(Math.min(session.willDelay, session.expiryInterval)));
            }
        }
        else
        {
            wills.clear(session);
        }

        // Messages that came through a shared subscription go to another member of the group: those not sent yet,
        // and, when the session ends here, those it never acknowledged (QoS 1 may then arrive twice, as allowed).
        redistributor.redistribute(session, session.expiryInterval == 0);
        if (session.expiryInterval == 0)
        {
            endSession(session, true);
        }
        else
        {
            session.offline = true;
            if (session.expiryInterval == Session.NEVER)
            {
                session.expiryDeadlineNs = Long.MAX_VALUE;
            }
            else
            {
                session.expiryDeadlineNs = nowNs + TimeUnit.SECONDS.toNanos(session.expiryInterval);
                timers.scheduleExpiry(session, session.expiryDeadlineNs);
            }
            if (session.durableId != 0)
            {
                session.offlineSinceEpochMs = epochClock.time();
                journal.sessionOffline(session);
            }
            // In-flight messages are redelivered on reconnect; until then they count against the window.
        }
    }

    /**
     * A violation only the routing agent can see (an acknowledgement of the wrong type): the connection is told
     * (v5 DISCONNECT with {@code reasonCode}) and closed, and its session goes offline as on a lost connection —
     * will included.
     */
    void onProtocolError(final long connectionId, final int reasonCode)
    {
        if (sessionsByConnection.containsKey(connectionId))
        {
            out.disconnect(connectionId, reasonCode);
            onDisconnect(connectionId, DISCONNECT_WITH_WILL, SESSION_EXPIRY_UNCHANGED);
        }
    }

    /**
     * Another cluster node took the client id over (its claim committed after ours): the connection here, if any,
     * gets DISCONNECT 0x8E Session taken over (3.1.1: closed), its will goes as on a takeover on one node (at once
     * without a delay; a delayed will is cancelled by the new connection), and the session ends here.
     */
    void onTakenOverElsewhere(final Session session)
    {
        if (session.isOnline())
        {
            final long connectionId = session.connectionId;
            if (accessRecheck != null)
            {
                accessRecheck.onDisconnect(connectionId);
            }
            sessionsByConnection.remove(connectionId);
            counters.clientsConnected.setRelease(sessionsByConnection.size());
            out.disconnect(connectionId, ReasonCode.SESSION_TAKEN_OVER);
            counters.takeovers.incrementRelease();
            session.connectionId = Session.NO_CONNECTION;
            if (session.willHandle != MessageStore.NULL_HANDLE && session.willDelay == 0)
            {
                wills.publish(session);
            }
        }
        wills.clear(session);
        redistributor.redistribute(session, true);
        session.clusterEpoch = 0; // not ours any more: nothing to release
        endSession(session, true);
    }

    /** The admin API: the session of {@code clientId}, or null. */
    Session session(final String clientId)
    {
        return sessionsByClientId.get(clientId);
    }

    /**
     * The admin API: a connected session's connection is told (v5 DISCONNECT 0x98 Administrative action; 3.1.1:
     * closed) and its session goes offline as on a lost connection — will included — and then stays or ends as its
     * expiry says.
     *
     * @return whether it was connected.
     */
    boolean kick(final Session session)
    {
        if (!session.isOnline() || !sessionsByConnection.containsKey(session.connectionId))
        {
            return false;
        }
        final long connectionId = session.connectionId;
        out.disconnect(connectionId, ReasonCode.ADMINISTRATIVE_ACTION);
        onDisconnect(connectionId, DISCONNECT_WITH_WILL, SESSION_EXPIRY_UNCHANGED);
        return true;
    }

    /**
     * A cluster node leaving: the connected session's connection is told (v5 DISCONNECT {@code reasonCode}; 3.1.1:
     * closed) and its session goes offline as on a lost connection — will included — or ends when its expiry is 0.
     */
    void disconnect(final Session session, final int reasonCode)
    {
        if (session.isOnline() && sessionsByConnection.containsKey(session.connectionId))
        {
            final long connectionId = session.connectionId;
            out.disconnect(connectionId, reasonCode);
            onDisconnect(connectionId, DISCONNECT_WITH_WILL, SESSION_EXPIRY_UNCHANGED);
        }
    }

    /** The admin API: disconnects the session's client if connected, then ends the session (journaled). */
    void delete(final Session session)
    {
        kick(session);
        if (sessionsByClientId.get(session.clientId) == session)
        {
            endSession(session, true);
        }
    }

    public void onWillDelayElapsed(final Session session)
    {
        wills.publish(session);
    }

    public void onSessionExpired(final Session session)
    {
        LOG.log(Level.DEBUG, "session expired: " + LogText.of(session.clientId));
        endSession(session, true);
    }

    /** A new session for {@code clientId}, offline until a connection takes it. */
    Session add(final String clientId)
    {
        final int reused = freeSessionIds.pollInt(); // 0 (the queue's null value) when none is free
        final Session session = new Session(reused != 0 ? reused : nextSessionId++, clientId);
        sessionsByClientId.put(clientId, session);
        sessionsById.put(session.sessionId, session);
        counters.sessions.setRelease(sessionsById.size());
        return session;
    }

    /** An offline session ends in {@code deadlineNs} unless a connection resumes it. */
    void expireAt(final Session session, final long deadlineNs)
    {
        session.expiryDeadlineNs = deadlineNs;
        timers.scheduleExpiry(session, deadlineNs);
    }

    /**
     * Ends a session: its delayed will goes now, its subscriptions and everything it was owed are dropped, and its id
     * is free again.
     *
     * @param journalEnd whether to journal the end (not while the journal itself is replayed).
     */
    void endSession(final Session session, final boolean journalEnd)
    {
        if (session.willPending)
        {
            wills.publish(session);
        }
        wills.clear(session);
        timers.cancelExpiry(session);
        if (tree.removeSession(session.sessionId) > 0)
        {
            counters.subscriptions.setRelease(tree.subscriptionCount());
        }
        deliveries.clear(session);
        if (session.durableId != 0)
        {
            if (journalEnd)
            {
                journal.sessionEnd(session.durableId);
            }
            session.durableId = 0;
            session.clearDurableSubscriptions();
        }
        sessionsByClientId.remove(session.clientId);
        sessionsById.remove(session.sessionId);
        freeSessionIds.addInt(session.sessionId);
        counters.sessions.setRelease(sessionsById.size());
        if (endListener != null)
        {
            endListener.onSessionEnded(session);
        }
    }
}
