package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The admin API's way into the retained index, which only the routing agent may read or change: another thread
 * {@link #submit}s a list or delete request by topic filter (bounded queue, {@link #SLOTS} at most pending), the
 * routing agent answers it on its duty cycle ({@link #poll}), and the caller picks the answer up by id
 * ({@link #answer}); answers are kept for the last {@link #SLOTS} requests. A list shows at most {@link #LIST_MAX}
 * messages; a delete removes at most {@link #DELETE_MAX} per request (each journaled as a clear, so it stays deleted
 * after a restart) and says when more matched.
 * <p>
 * The same queue carries the session requests ({@link #submitSessions}): list sessions or connected clients by client
 * id (glob with {@code *} and {@code ?}, else prefix; at most {@link #LIST_MAX}), kick a client (DISCONNECT 0x98,
 * session kept as its expiry says) or delete a session (its client kicked first; the end journaled).
 */
public final class RetainedAdmin
{
    public static final int SLOTS = 32;
    public static final int LIST_MAX = 1000;
    public static final int DELETE_MAX = 10_000;
    /** {@link #submitSessions} kinds. */
    public static final int SESSIONS_LIST = 1;
    public static final int CLIENTS_LIST = 2;
    public static final int SESSION_DELETE = 3;
    public static final int CLIENT_KICK = 4;
    /** The longest client id filter accepted. */
    public static final int CLIENT_FILTER_MAX = 65_535;

    /** One request and, once the routing agent has looked, its answer (JSON). */
    static final class Request
    {
        final long id;
        final String filter;
        final int qos;
        final long minBytes;
        final int limit;
        final boolean delete;
        /** 0: retained; else a {@link #submitSessions} kind. */
        int kind;
        volatile String answer;

        Request(final long id, final String filter, final int qos, final long minBytes, final int limit,
            final boolean delete)
        {
            this.id = id;
            this.filter = filter;
            this.qos = qos;
            this.minBytes = minBytes;
            this.limit = limit;
            this.delete = delete;
        }
    }

    private final ManyToOneConcurrentArrayQueue<Request> queue = new ManyToOneConcurrentArrayQueue<>(SLOTS);
    private final AtomicReferenceArray<Request> slots = new AtomicReferenceArray<>(SLOTS);
    private final AtomicLong nextId = new AtomicLong(1);
    private volatile Runnable wakeRouter = () -> { };

    /** Called after each submit: wakes the routing agent's thread if it idles. Set before start. */
    public void wakeRouter(final Runnable wakeRouter)
    {
        this.wakeRouter = wakeRouter;
    }

    /**
     * Any thread: asks the routing agent to list (or delete) the retained messages matching {@code filter}, of QoS
     * {@code qos} (-1: any) and at least {@code minBytes} stored bytes, at most {@code limit} of them.
     *
     * @return the request's id for {@link #answer}, or 0 when too many requests are pending (try again).
     * @throws IllegalArgumentException when the filter is not a valid, non-shared topic filter.
     */
    public long submit(final String filter, final int qos, final long minBytes, final int limit, final boolean delete)
    {
        final String invalid = TopicFilter.validate(filter);
        if (invalid != null || TopicFilter.isShared(filter))
        {
            throw new IllegalArgumentException(invalid != null ? invalid : "a shared filter has no retained messages");
        }
        if (qos < -1 || qos > 2)
        {
            throw new IllegalArgumentException("qos must be 0, 1 or 2");
        }
        final int max = delete ? DELETE_MAX : LIST_MAX;
        final long id = nextId.getAndIncrement();
        final int slot = (int)(id % SLOTS);
        final Request previous = slots.get(slot);
        if (previous != null && previous.answer == null)
        {
            return 0;
        }
        return enqueue(slot, new Request(id, filter, qos, Math.max(0, minBytes),
            limit <= 0 ? max : Math.min(limit, max), delete));
    }

    /**
     * Any thread: asks the routing agent to list sessions ({@link #SESSIONS_LIST}) or connected clients
     * ({@link #CLIENTS_LIST}) whose client id matches {@code clientFilter} (a glob with {@code *} and {@code ?}, else a
     * prefix; null or empty: all), at most {@code limit}; or to kick ({@link #CLIENT_KICK}) or delete
     * ({@link #SESSION_DELETE}) the session of client id {@code clientFilter}.
     *
     * @return the request's id for {@link #answer}, or 0 when too many requests are pending (try again).
     */
    public long submitSessions(final int kind, final String clientFilter, final int limit)
    {
        if (kind < SESSIONS_LIST || kind > CLIENT_KICK)
        {
            throw new IllegalArgumentException("unknown session request");
        }
        final String filter = clientFilter == null ? "" : clientFilter;
        if ((kind == SESSION_DELETE || kind == CLIENT_KICK) && filter.isEmpty())
        {
            throw new IllegalArgumentException("'client' must name a client id");
        }
        if (filter.length() > CLIENT_FILTER_MAX)
        {
            throw new IllegalArgumentException("client id filter too long");
        }
        final long id = nextId.getAndIncrement();
        final int slot = (int)(id % SLOTS);
        final Request previous = slots.get(slot);
        if (previous != null && previous.answer == null)
        {
            return 0;
        }
        final Request request = new Request(id, filter, -1, 0, limit <= 0 ? LIST_MAX : Math.min(limit, LIST_MAX),
            kind == SESSION_DELETE);
        request.kind = kind;
        return enqueue(slot, request);
    }

    private long enqueue(final int slot, final Request request)
    {
        final long id = request.id;
        slots.set(slot, request);
        if (!queue.offer(request))
        {
            request.answer = "{\"error\":\"too many admin requests pending\"}";
            return 0;
        }
        wakeRouter.run();
        return id;
    }

    /**
     * Any thread: the answer (JSON) to request {@code id}; the empty string while it is still pending, null when the
     * id is unknown or its answer was overwritten by {@link #SLOTS} later requests.
     */
    public String answer(final long id)
    {
        final Request request = slots.get((int)(Math.abs(id) % SLOTS));
        if (request == null || request.id != id)
        {
            return null;
        }
        final String answer = request.answer;
        return answer == null ? "" : answer;
    }

    boolean hasRequests()
    {
        return !queue.isEmpty();
    }

    /** The routing agent: answers one pending request, if any; returns 1 when it did. */
    int poll(final MessageRouter router, final MessageStore store, final SessionRegistry sessions, final TopicTree tree)
    {
        final Request request = queue.poll();
        if (request == null)
        {
            return 0;
        }
        try
        {
            request.answer = switch (request.kind)
            {
                case SESSIONS_LIST, CLIENTS_LIST -> listSessions(request, sessions, tree);
                case SESSION_DELETE, CLIENT_KICK -> endOrKick(request, sessions);
                default -> request.delete ? delete(request, router, store) : list(request, router, store);
            };
        }
        catch (final RuntimeException ex)
        {
            request.answer = "{\"error\":" + json(String.valueOf(ex.getMessage())) + "}";
        }
        return 1;
    }

    private static String list(final Request request, final MessageRouter router, final MessageStore store)
    {
        final StringBuilder sb = new StringBuilder("{\"retained\":[");
        final int[] counts = new int[2]; // [listed, matched]
        router.retained().forEachMatch(request.filter, (topic, offset, length, message) ->
        {
            final long handle = message;
            final DirectBuffer buffer = store.buffer(handle);
            final int at = store.offset(handle);
            final int bytes = store.length(handle);
            final int qos = MessageLayout.qos(buffer, at);
            if ((request.qos >= 0 && qos != request.qos) || bytes < request.minBytes)
            {
                return;
            }
            if (counts[0] < request.limit)
            {
                final String owner = router.retainedQuota().owner(handle);
                sb.append(counts[0] == 0 ? "" : ",")
                    .append("{\"topic\":").append(json(topic.getStringWithoutLengthUtf8(offset, length)))
                    .append(",\"bytes\":").append(bytes)
                    .append(",\"payloadBytes\":").append(MessageLayout.payloadLength(buffer, at))
                    .append(",\"qos\":").append(qos)
                    .append(",\"clientId\":").append(owner == null ? "null" : json(owner))
                    .append('}');
                counts[0]++;
            }
            counts[1]++;
        });
        return sb.append("],\"matched\":").append(counts[1]).append(",\"truncated\":").append(counts[1] > counts[0])
            .append('}').toString();
    }

    private static String delete(final Request request, final MessageRouter router, final MessageStore store)
    {
        final ArrayList<byte[]> topics = new ArrayList<>();
        final int[] matched = new int[1];
        router.retained().forEachMatch(request.filter, (topic, offset, length, message) ->
        {
            final long handle = message;
            final int qos = MessageLayout.qos(store.buffer(handle), store.offset(handle));
            if ((request.qos >= 0 && qos != request.qos) || store.length(handle) < request.minBytes)
            {
                return;
            }
            matched[0]++;
            if (topics.size() < request.limit)
            {
                final byte[] name = new byte[length];
                topic.getBytes(offset, name);
                topics.add(name); // the index may not change during the walk: deleted after it
            }
        });
        final UnsafeBuffer view = new UnsafeBuffer(0, 0);
        int deleted = 0;
        for (final byte[] name : topics)
        {
            view.wrap(name);
            deleted += router.deleteRetained(view, 0, name.length) ? 1 : 0;
        }
        return "{\"deleted\":" + deleted + ",\"matched\":" + matched[0] + ",\"more\":" + (matched[0] > deleted) + "}";
    }

    private static String listSessions(final Request request, final SessionRegistry sessions, final TopicTree tree)
    {
        final boolean clients = request.kind == CLIENTS_LIST;
        final StringBuilder sb = new StringBuilder(clients ? "{\"clients\":[" : "{\"sessions\":[");
        int listed = 0;
        int matched = 0;
        for (final Session session : sessions.sessions())
        {
            if ((clients && !session.isOnline()) || !matches(request.filter, session.clientId))
            {
                continue;
            }
            matched++;
            if (listed >= request.limit)
            {
                continue;
            }
            sb.append(listed++ == 0 ? "" : ",").append("{\"clientId\":").append(json(session.clientId))
                .append(",\"connected\":").append(session.isOnline())
                .append(",\"protocolVersion\":").append(session.version)
                .append(",\"sessionExpiry\":").append(session.expiryInterval)
                .append(",\"persistent\":").append(session.durableId != 0);
            if (!clients)
            {
                sb.append(",\"subscriptions\":").append(tree.subscriptionCount(session.sessionId))
                    .append(",\"queued\":").append(session.window.queue.size())
                    .append(",\"inFlight\":").append(session.window.inFlightCount());
            }
            sb.append('}');
        }
        return sb.append("],\"matched\":").append(matched).append(",\"truncated\":").append(matched > listed)
            .append('}').toString();
    }

    private static String endOrKick(final Request request, final SessionRegistry sessions)
    {
        final Session session = sessions.session(request.filter);
        if (session == null)
        {
            return "{\"error\":\"no such session\",\"clientId\":" + json(request.filter) + "}";
        }
        if (request.kind == CLIENT_KICK)
        {
            final boolean kicked = sessions.kick(session);
            return "{\"clientId\":" + json(request.filter) + ",\"kicked\":" + kicked +
                ",\"sessionKept\":" + (sessions.session(request.filter) == session) + "}";
        }
        final boolean connected = session.isOnline();
        sessions.delete(session);
        return "{\"clientId\":" + json(request.filter) + ",\"deleted\":true,\"disconnected\":" + connected + "}";
    }

    /** A glob ({@code *} any run, {@code ?} one character) when it has either; else a prefix; empty matches all. */
    static boolean matches(final String filter, final String clientId)
    {
        if (filter.indexOf('*') < 0 && filter.indexOf('?') < 0)
        {
            return clientId.startsWith(filter);
        }
        int f = 0;
        int c = 0;
        int star = -1;
        int mark = 0;
        while (c < clientId.length())
        {
            if (f < filter.length() && (filter.charAt(f) == '?' || filter.charAt(f) == clientId.charAt(c)))
            {
                f++;
                c++;
            }
            else if (f < filter.length() && filter.charAt(f) == '*')
            {
                star = f++;
                mark = c;
            }
            else if (star >= 0)
            {
                f = star + 1;
                c = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (f < filter.length() && filter.charAt(f) == '*')
        {
            f++;
        }
        return f == filter.length();
    }

    static String json(final String text)
    {
        final StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (c == '"' || c == '\\')
            {
                sb.append('\\').append(c);
            }
            else if (c < 0x20 || c == 0x7F || c == 0x2028 || c == 0x2029)
            {
                sb.append(String.format("\\u%04x", (int)c));
            }
            else
            {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
