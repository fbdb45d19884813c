package dev.skylark.broker.auth;

import org.jose4j.json.JsonUtil;
import org.jose4j.lang.JoseException;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The token and key administration API, independent of any transport: the HTTP listener hands each request under
 * {@code /admin/v1/} to {@link #handle} and writes back the {@link Response}.
 * <p>
 * Every request needs {@code Authorization: Bearer <admin token>} (the token is in {@code <data.dir>/auth/admin-token}).
 * <pre>
 * GET    /admin/v1/keys                 public JWK set
 * POST   /admin/v1/keys/rotate          new signing key            -&gt; {"kid": "..."}
 * POST   /admin/v1/tokens               {"count":N | "clientIds":[..], "ttl":"48h", "pub":[..], "sub":[..]}
 *                                                                   -&gt; {"clientId": "token", ...}
 * GET    /admin/v1/revocations                                     -&gt; {"revoked": [jti, ...]}
 * POST   /admin/v1/revocations          {"jti": [..]}               -&gt; {"revoked": N}
 * DELETE /admin/v1/revocations/{jti}                               -&gt; {"unrevoked": N}
 * GET    /admin/v1/retained?filter=F&amp;qos=Q&amp;minBytes=N&amp;limit=N  list retained messages   -&gt; 202 {"request": id, ...}
 * DELETE /admin/v1/retained?filter=F&amp;qos=Q&amp;minBytes=N&amp;limit=N  delete them              -&gt; 202 {"request": id, ...}
 * GET    /admin/v1/retained/requests/{id}  the answer: 200 {"retained": [...], "matched": N, "truncated": b}
 *                                        or {"deleted": N, "matched": N, "more": b}; 202 while pending
 * (the routing agent owns the retained messages: it answers on its own thread, so a request is queued and its
 * answer fetched; the CLI's {@code skylark retained list|delete} does both)
 * GET    /admin/v1/sessions?filter=F&amp;limit=N   sessions by client id (glob or prefix)  -&gt; 202 {"request": id, ...}
 * DELETE /admin/v1/sessions?client=ID          end a session (its client disconnected, 0x98) -&gt; 202
 * GET    /admin/v1/clients?filter=F&amp;limit=N    the connected sessions                  -&gt; 202
 * POST   /admin/v1/clients/kick?client=ID      disconnect a client (0x98), session kept -&gt; 202
 * GET    /admin/v1/requests/{id}               the answer to any of these (as retained/requests/{id})
 * (the same queue of at most 32 requests into the routing agent; {@code skylark clients|sessions} do both)
 * GET    /admin/v1/nodes                       the cluster's nodes (404 on a single node)
 *                                        -&gt; {"self": N, "leader": N, "nodes": [{"id", "host", "basePort", "live", "role"}]}
 * </pre>
 */
public final class AdminApi
{
    public static final String PREFIX = "/admin/v1/";
    private static final String JSON = "application/json";

    /** The answer to one request. */
    public record Response(int status, String contentType, byte[] body)
    {
        public String bodyText()
        {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /**
     * The retained messages, as the routing agent answers for them (implemented over routing's RetainedAdmin, which
     * this package may not import).
     */
    public interface RetainedAccess
    {
        /** @return a request id, or 0 when too many are pending; IllegalArgumentException for a bad filter. */
        long submit(String filter, int qos, long minBytes, int limit, boolean delete);

        /** @return the answer (JSON), "" while pending, null when unknown. */
        String answer(long id);

        /**
         * A session request ({@code routing.RetainedAdmin.SESSIONS_LIST ... CLIENT_KICK}) on the same queue.
         *
         * @return a request id, or 0 when too many are pending; IllegalArgumentException for bad input.
         */
        long submitSessions(int kind, String clientFilter, int limit);
    }

    /** {@link RetainedAccess#submitSessions} kinds (the values of routing.RetainedAdmin's). */
    public static final int SESSIONS_LIST = 1;
    public static final int CLIENTS_LIST = 2;
    public static final int SESSION_DELETE = 3;
    public static final int CLIENT_KICK = 4;

    private final AuthService auth;
    private RetainedAccess retained;
    private java.util.function.Supplier<String> nodes;

    public AdminApi(final AuthService auth)
    {
        this.auth = auth;
    }

    /** Enables {@code /admin/v1/retained}. */
    public AdminApi retained(final RetainedAccess retained)
    {
        this.retained = retained;
        return this;
    }

    /** Enables {@code /admin/v1/nodes}: {@code nodes} answers with the cluster's nodes as JSON (null: not a cluster). */
    public AdminApi nodes(final java.util.function.Supplier<String> nodes)
    {
        this.nodes = nodes;
        return this;
    }

    /**
     * @param method              HTTP method.
     * @param path                the request path (a query string is ignored).
     * @param authorizationHeader the Authorization header, or null.
     * @param body                the request body, or null.
     */
    public Response handle(final String method, final String path, final String authorizationHeader, final byte[] body)
    {
        final String bearer = authorizationHeader != null && authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7) ?
            authorizationHeader.substring(7).trim() : null;
        if (!auth.isAdminToken(bearer))
        {
            return error(401, "missing or wrong admin bearer token");
        }
        final int query = path.indexOf('?');
        final String route = query >= 0 ? path.substring(0, query) : path;
        if (!route.startsWith(PREFIX))
        {
            return error(404, "not found");
        }
        final String rest = route.substring(PREFIX.length());
        try
        {
            if (rest.equals("nodes") && nodes != null)
            {
                return "GET".equals(method) ? new Response(200, JSON, utf8(nodes.get())) : notAllowed();
            }
            if (rest.equals("keys"))
            {
                return "GET".equals(method) ? new Response(200, JSON, utf8(auth.keyRing().publicJwks())) : notAllowed();
            }
            if (rest.equals("keys/rotate"))
            {
                return "POST".equals(method) ? json(200, Map.of("kid", auth.keyRing().rotate())) : notAllowed();
            }
            if (rest.equals("tokens"))
            {
                return "POST".equals(method) ? issue(parse(body)) : notAllowed();
            }
            if (rest.equals("revocations"))
            {
                if ("GET".equals(method))
                {
                    return json(200, Map.of("revoked", auth.revocations().list()));
                }
                if ("POST".equals(method))
                {
                    final List<String> jtis = strings(parse(body).get("jti"), "jti");
                    if (jtis == null || jtis.isEmpty())
                    {
                        return error(400, "'jti' must be a non-empty array of token ids");
                    }
                    return json(200, Map.of("revoked", auth.revocations().revoke(jtis)));
                }
                return notAllowed();
            }
            if (rest.startsWith("revocations/") && rest.length() > "revocations/".length())
            {
                if (!"DELETE".equals(method))
                {
                    return notAllowed();
                }
                final String jti = URLDecoder.decode(rest.substring("revocations/".length()), StandardCharsets.UTF_8);
                return json(200, Map.of("unrevoked", auth.revocations().unrevoke(List.of(jti))));
            }
            if (retained != null && rest.equals("retained"))
            {
                if (!"GET".equals(method) && !"DELETE".equals(method))
                {
                    return notAllowed();
                }
                final Map<String, String> params = query(query >= 0 ? path.substring(query + 1) : "");
                final boolean delete = "DELETE".equals(method);
                final String filter = params.get("filter");
                if (delete && filter == null)
                {
                    return error(400, "DELETE needs a 'filter' ('#' for every retained message)");
                }
                final long id = retained.submit(filter == null ? "#" : filter, intParam(params, "qos", -1),
                    intParam(params, "minBytes", 0), intParam(params, "limit", 0), delete);
                if (id == 0)
                {
                    return error(503, "too many retained-message requests pending; try again");
                }
                final Map<String, Object> answer = new LinkedHashMap<>();
                answer.put("request", id);
                answer.put("answer", PREFIX + "retained/requests/" + id);
                return json(202, answer);
            }
            if (retained != null && (rest.equals("sessions") || rest.equals("clients") || rest.equals("clients/kick")))
            {
                final Map<String, String> params = query(query >= 0 ? path.substring(query + 1) : "");
                final int kind;
                if (rest.equals("sessions") && "GET".equals(method))
                {
                    kind = SESSIONS_LIST;
                }
                else if (rest.equals("sessions") && "DELETE".equals(method))
                {
                    kind = SESSION_DELETE;
                }
                else if (rest.equals("clients") && "GET".equals(method))
                {
                    kind = CLIENTS_LIST;
                }
                else if (rest.equals("clients/kick") && "POST".equals(method))
                {
                    kind = CLIENT_KICK;
                }
                else
                {
                    return notAllowed();
                }
                final boolean one = kind == SESSION_DELETE || kind == CLIENT_KICK;
                final String client = params.get(one ? "client" : "filter");
                if (one && (client == null || client.isEmpty()))
                {
                    return error(400, "needs 'client' (the client id)");
                }
                final long id = retained.submitSessions(kind, client, one ? 0 : intParam(params, "limit", 0));
                if (id == 0)
                {
                    return error(503, "too many admin requests pending; try again");
                }
                final Map<String, Object> answer = new LinkedHashMap<>();
                answer.put("request", id);
                answer.put("answer", PREFIX + "requests/" + id);
                return json(202, answer);
            }
            if (retained != null && (rest.startsWith("retained/requests/") || rest.startsWith("requests/")))
            {
                if (!"GET".equals(method))
                {
                    return notAllowed();
                }
                final long id;
                try
                {
                    id = Long.parseLong(rest.substring(rest.lastIndexOf('/') + 1));
                }
                catch (final NumberFormatException ex)
                {
                    return error(404, "no such request");
                }
                final String answer = retained.answer(id);
                if (answer == null)
                {
                    return error(404, "no such request (answers are kept for the last few requests)");
                }
                return answer.isEmpty() ? json(202, Map.of("pending", true)) : new Response(200, JSON, utf8(answer));
            }
            return error(404, "not found");
        }
        catch (final IllegalArgumentException ex)
        {
            return error(400, ex.getMessage());
        }
    }

    private static Map<String, String> query(final String query)
    {
        final Map<String, String> params = new LinkedHashMap<>();
        for (final String pair : query.split("&"))
        {
            if (pair.isEmpty())
            {
                continue;
            }
            final int eq = pair.indexOf('=');
            final String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            params.put(name, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return params;
    }

    private static int intParam(final Map<String, String> query, final String name, final int absent)
    {
        final String value = query.get(name);
        if (value == null || value.isEmpty())
        {
            return absent;
        }
        try
        {
            return Integer.parseInt(value);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("'" + name + "' must be a number");
        }
    }

    private Response issue(final Map<String, Object> request)
    {
        final Object count = request.getOrDefault("count", 1L);
        if (!(count instanceof Number number))
        {
            throw new IllegalArgumentException("'count' must be a number");
        }
        final Object ttl = request.getOrDefault("ttl", "24h");
        final long ttlS = ttl instanceof Number n ? n.longValue() : TokenIssuer.parseTtlSeconds(String.valueOf(ttl));
        final List<String> clientIds = strings(request.get("clientIds"), "clientIds");
        final TokenIssuer.Request issue = new TokenIssuer.Request(number.intValue(), clientIds, ttlS,
            strings(request.get("pub"), "pub"), strings(request.get("sub"), "sub"));
        return json(200, new LinkedHashMap<>(auth.issuer().issue(issue)));
    }

    private static List<String> strings(final Object value, final String name)
    {
        if (value == null)
        {
            return null;
        }
        if (!(value instanceof List<?> list))
        {
            throw new IllegalArgumentException("'" + name + "' must be an array of strings");
        }
        final List<String> strings = new ArrayList<>();
        for (final Object item : list)
        {
            if (!(item instanceof String s))
            {
                throw new IllegalArgumentException("'" + name + "' must be an array of strings");
            }
            strings.add(s);
        }
        return strings;
    }

    private static Map<String, Object> parse(final byte[] body)
    {
        if (body == null || body.length == 0)
        {
            return Map.of();
        }
        try
        {
            return JsonUtil.parseJson(new String(body, StandardCharsets.UTF_8));
        }
        catch (final JoseException | RuntimeException ex)
        {
            throw new IllegalArgumentException("body is not a JSON object");
        }
    }

    private static Response json(final int status, final Map<String, ?> body)
    {
        return new Response(status, JSON, utf8(JsonUtil.toJson(body)));
    }

    private static Response notAllowed()
    {
        return error(405, "method not allowed");
    }

    private static Response error(final int status, final String message)
    {
        return json(status, Map.of("error", message));
    }

    private static byte[] utf8(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
