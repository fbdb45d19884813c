package dev.skylark.broker.http;

import dev.skylark.broker.net.HttpRequestHead;
import dev.skylark.broker.net.HttpService;
import dev.skylark.codec.LogText;

import java.util.ArrayList;
import java.util.List;

/**
 * The plain-request side of the HTTP listener: handlers plugged in by path prefix, longest prefix first. A prefix
 * ending in '/' matches everything below it; one without matches that exact path and everything below
 * {@code prefix + "/"}. Later issues add {@code /metrics} and the admin API with {@link #route}.
 */
public final class HttpRouter implements HttpService
{
    private static final System.Logger LOG = System.getLogger(HttpRouter.class.getName());

    private record Route(String prefix, HttpHandler handler)
    {
        boolean matches(final String path)
        {
            if (prefix.endsWith("/"))
            {
                return path.startsWith(prefix);
            }
            return path.equals(prefix) || path.startsWith(prefix + "/");
        }
    }

    private final List<Route> routes = new ArrayList<>();

    /** Adds a handler for a path prefix; call before the broker starts. */
    public synchronized HttpRouter route(final String prefix, final HttpHandler handler)
    {
        if (!prefix.startsWith("/"))
        {
            throw new IllegalArgumentException("a route prefix starts with '/': " + prefix);
        }
        routes.add(new Route(prefix, handler));
        routes.sort((a, b) -> Integer.compare(b.prefix().length(), a.prefix().length()));
        return this;
    }

    /** Removes the handler of exactly this prefix, if any (e.g. {@code /healthz} moved to the management port). */
    public synchronized HttpRouter without(final String prefix)
    {
        routes.removeIf((route) -> route.prefix().equals(prefix));
        return this;
    }

    /** The default routes: {@code /healthz} and the demo page at {@code /}. */
    public static HttpRouter withDefaults()
    {
        return new HttpRouter()
            .route("/healthz", (request) -> HttpResponse.text(200, "OK", "ok\n"))
            .route("/", new StaticResourceHandler("web"));
    }

    @Override
    public byte[] serve(final HttpRequestHead request)
    {
        final List<Route> snapshot;
        synchronized (this)
        {
            snapshot = List.copyOf(routes);
        }
        for (final Route route : snapshot)
        {
            if (route.matches(request.path()))
            {
                final HttpResponse response = route.handler().handle(request);
                LOG.log(System.Logger.Level.DEBUG, () -> LogText.of(request.method()) + " " +
                    LogText.of(request.path()) + " from " + request.remoteAddress() + " -> " + response.status());
                return response.encode();
            }
        }
        return HttpResponse.notFound(request.path()).encode();
    }
}
