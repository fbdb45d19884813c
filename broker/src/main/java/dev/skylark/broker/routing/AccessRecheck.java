package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.function.Supplier;

/**
 * Keeps each session within what it may receive now: takes the {@link SessionAccess} hand-offs of the I/O threads,
 * and re-checks a session's subscriptions and queued messages when it resumes, when it re-authenticates and when the
 * rules are reloaded (every session that has an access, online or offline). What is no longer allowed goes:
 * subscriptions are removed (and journaled as removed), queued messages are dropped; both counted and logged.
 * Messages already in flight stay (they were sent). Owned by the routing agent thread.
 */
final class AccessRecheck
{
    private static final System.Logger LOG = System.getLogger(AccessRecheck.class.getName());
    /** Log lines per re-check pass at most; the rest is summed up in one line. */
    private static final int LOG_LINES_PER_PASS = 20;

    private final TopicTree tree;
    private final JournalRecord journal;
    private final Deliveries deliveries;
    private final MessageStore store;
    private final RoutingCounters counters;
    private final Long2ObjectHashMap<SessionAccess> pending = new Long2ObjectHashMap<>();
    private final ArrayList<String> filters = new ArrayList<>();
    private final UnsafeBuffer storedView = new UnsafeBuffer(0, 0);
    private AccessUpdates updates;
    private Supplier<Object> rulesVersion;
    private Object seenRulesVersion;
    private SessionRegistry sessions;
    private int linesThisPass;
    private long suppressedThisPass;

    AccessRecheck(
        final TopicTree tree,
        final JournalRecord journal,
        final Deliveries deliveries,
        final MessageStore store,
        final RoutingCounters counters)
    {
        this.tree = tree;
        this.journal = journal;
        this.deliveries = deliveries;
        this.store = store;
        this.counters = counters;
    }

    void sessions(final SessionRegistry sessions)
    {
        this.sessions = sessions;
    }

    /**
     * @param updates      the I/O threads' hand-offs.
     * @param rulesVersion the identity of the rules in force; when it changes every session is re-checked.
     */
    void wire(final AccessUpdates updates, final Supplier<Object> rulesVersion)
    {
        this.updates = updates;
        this.rulesVersion = rulesVersion;
        this.seenRulesVersion = rulesVersion == null ? null : rulesVersion.get();
    }

    /** Duty cycle: applies the hand-offs; a re-authenticated online session is re-checked at once. */
    int poll()
    {
        return drain(Session.NO_CONNECTION);
    }

    /** Applies the hand-offs; the one for {@code connecting} (whose CONNECT is being handled) is kept for it. */
    private int drain(final long connecting)
    {
        if (updates == null)
        {
            return 0;
        }
        int work = 0;
        AccessUpdates.Update update;
        while ((update = updates.poll()) != null)
        {
            work++;
            if (update.access() == null)
            {
                pending.remove(update.connectionId());
                continue;
            }
            final Session session = update.connectionId() == connecting ? null :
                sessions.byConnection(update.connectionId());
            if (session == null)
            {
                pending.put(update.connectionId(), update.access()); // its CONNECT is on the way
            }
            else
            {
                session.access = update.access();
                beginPass();
                recheck(session, "re-authentication");
                endPass();
            }
        }
        return work;
    }

    /** Slow tick: after a reload, every session with an access is re-checked against the new rules. */
    void onSlowTick()
    {
        if (rulesVersion == null)
        {
            return;
        }
        final Object version = rulesVersion.get();
        if (version == seenRulesVersion)
        {
            return;
        }
        seenRulesVersion = version;
        beginPass();
        for (final Session session : sessions.sessions())
        {
            if (session.access != null)
            {
                session.access = session.access.current();
                recheck(session, "rules reloaded");
            }
        }
        endPass();
    }

    /**
     * CONNECT: the connection's access becomes the session's; a resumed session is re-checked before it gets
     * anything.
     */
    void onConnect(final Session session, final long connectionId, final boolean resumed)
    {
        drain(connectionId);
        final SessionAccess access = pending.remove(connectionId);
        session.access = access; // none handed over: nothing restricts this connection (an earlier one's limits go)
        if (access != null)
        {
            if (resumed)
            {
                beginPass();
                recheck(session, "session resumed");
                endPass();
            }
        }
    }

    /** DISCONNECT: nothing kept for the connection. */
    void onDisconnect(final long connectionId)
    {
        pending.remove(connectionId);
    }

    /** Removes what the session's access no longer allows. */
    void recheck(final Session session, final String why)
    {
        final SessionAccess access = session.access;
        if (access == null)
        {
            return;
        }
        filters.clear();
        tree.forEachFilter(session.sessionId, filters::add);
        boolean removed = false;
        for (int i = 0; i < filters.size(); i++)
        {
            final String filter = filters.get(i);
            if (access.maySubscribe(filter))
            {
                continue;
            }
            tree.unsubscribe(filter, session.sessionId);
            if (session.durableId != 0 && session.removeDurableSubscription(filter) != null)
            {
                journal.unsubscribe(session.durableId, filter);
            }
            counters.accessSubscriptionsRemoved.incrementRelease();
            removed = true;
            log(session, "subscription '" + filter + "' removed: no longer allowed (" + why + ")");
        }
        filters.clear();
        if (removed)
        {
            counters.subscriptions.setRelease(tree.subscriptionCount());
        }
        final int dropped = session.window.dropQueued(this::keep, access, deliveries);
        if (dropped > 0)
        {
            log(session, dropped + " queued message(s) dropped: no longer allowed (" + why + ")");
        }
    }

    private void beginPass()
    {
        linesThisPass = 0;
        suppressedThisPass = 0;
    }

    private void endPass()
    {
        if (suppressedThisPass > 0)
        {
            LOG.log(Level.WARNING, suppressedThisPass + " more access re-check line(s) suppressed");
        }
    }

    private boolean keep(final PendingMessage pending, final SessionAccess access)
    {
        if (pending.handle == MessageStore.NULL_HANDLE)
        {
            return true;
        }
        store.wrap(pending.handle, storedView);
        final DirectBuffer view = storedView;
        if (access.mayReceive(view, MessageLayout.topicOffset(0), MessageLayout.topicLength(view, 0)))
        {
            return true;
        }
        counters.accessQueuedDropped.incrementRelease();
        return false;
    }

    private void log(final Session session, final String text)
    {
        if (++linesThisPass > LOG_LINES_PER_PASS)
        {
            suppressedThisPass++;
            return;
        }
        LOG.log(Level.WARNING, "client '" + printable(session.clientId) + "': " + text);
    }

    private static String printable(final String text)
    {
        final StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            out.append(Character.isISOControl(c) ? '?' : c);
        }
        return out.toString();
    }
}
