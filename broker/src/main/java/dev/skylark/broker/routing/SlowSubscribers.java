package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.concurrent.CachedNanoClock;

import java.lang.System.Logger.Level;

import static dev.skylark.broker.routing.RouterCommand.DISCONNECT_WITH_WILL;
import static dev.skylark.broker.routing.RouterCommand.SESSION_EXPIRY_UNCHANGED;

/**
 * Finds QoS 1/2 subscribers that stopped acknowledging: a connected session whose in-flight window is full with a
 * message waiting behind it, and no acknowledgement for {@code skylark.slow.consumer.timeout.ms}, is disconnected with
 * DISCONNECT 0x97 Quota exceeded (its will goes as on a lost connection; a persistent session keeps its queue, capped
 * by the queue limits). One timer per stalled session on {@link SessionTimers}, re-armed lazily: an acknowledgement
 * costs one field write, no timer operation. Owned by the routing agent thread only.
 */
final class SlowSubscribers
{
    private static final System.Logger LOG = System.getLogger(SlowSubscribers.class.getName());
    private static final long LOG_INTERVAL_NS = 10_000_000_000L;

    private final SessionTimers timers;
    private final DeliveryPublisher out;
    private final RoutingCounters counters;
    private final CachedNanoClock clock;
    private SessionRegistry sessions;
    private long timeoutNs;
    private long lastLogNs;
    private boolean logged;

    SlowSubscribers(
        final SessionTimers timers, final DeliveryPublisher out, final RoutingCounters counters,
        final CachedNanoClock clock)
    {
        this.timers = timers;
        this.out = out;
        this.counters = counters;
        this.clock = clock;
    }

    void sessions(final SessionRegistry sessions)
    {
        this.sessions = sessions;
    }

    /** 0 = never disconnect for a full window. */
    void timeoutNs(final long timeoutNs)
    {
        this.timeoutNs = timeoutNs;
    }

    /** After a message was offered or queued for the session: starts the stall clock when its window is stuck. */
    void onQueued(final Session session)
    {
        if (timeoutNs == 0 || isStalled(session))
        {
            return;
        }
        if (isStuck(session))
        {
            startStall(session);
        }
    }

    /** The subscriber acknowledged something: whatever stall there was ends; a new one starts now if still stuck. */
    void onProgress(final Session session)
    {
        if (timeoutNs == 0)
        {
            return;
        }
        session.stalledConnectionId = Session.NO_CONNECTION;
        if (isStuck(session))
        {
            startStall(session);
        }
    }

    /** The session's slow-consumer timer fired. */
    void onTimer(final Session session)
    {
        if (!isStalled(session) || !isStuck(session))
        {
            session.stalledConnectionId = Session.NO_CONNECTION;
            return;
        }
        final long nowNs = clock.nanoTime();
        final long deadlineNs = session.stalledSinceNs + timeoutNs;
        if (nowNs - deadlineNs < 0)
        {
            timers.scheduleSlowCheck(session, deadlineNs);
            return;
        }
        session.stalledConnectionId = Session.NO_CONNECTION;
        counters.slowSubscribersDisconnected.incrementRelease();
        if (!logged || nowNs - lastLogNs > LOG_INTERVAL_NS)
        {
            logged = true;
            lastLogNs = nowNs;
            LOG.log(Level.INFO, "disconnecting slow consumer " + InboundQos.printable(session.clientId) + ": " +
                session.window.backlog() + " QoS 1/2 messages owed and no acknowledgement for longer than the slow " +
                "consumer timeout (skylark.slow.consumer.timeout.ms; further ones are counted, logged every 10 s)");
        }
        final long connectionId = session.connectionId;
        out.disconnect(connectionId, ReasonCode.QUOTA_EXCEEDED);
        sessions.onDisconnect(connectionId, DISCONNECT_WITH_WILL, SESSION_EXPIRY_UNCHANGED);
    }

    /** The session ends or goes offline: no stall to watch. */
    void forget(final Session session)
    {
        session.stalledConnectionId = Session.NO_CONNECTION;
        timers.cancelSlowCheck(session);
    }

    private static boolean isStuck(final Session session)
    {
        return session.isOnline() && !session.window.canSend() && !session.window.queue.isEmpty();
    }

    /** Stalled on its current connection (a stall on an earlier connection does not count). */
    private static boolean isStalled(final Session session)
    {
        return session.stalledConnectionId != Session.NO_CONNECTION &&
            session.stalledConnectionId == session.connectionId;
    }

    private void startStall(final Session session)
    {
        session.stalledConnectionId = session.connectionId;
        session.stalledSinceNs = clock.nanoTime();
        if (session.slowTimerId == SessionTimers.NO_TIMER)
        {
            timers.scheduleSlowCheck(session, session.stalledSinceNs + timeoutNs);
        }
    }
}
