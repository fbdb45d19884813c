package dev.skylark.broker.http;

import dev.skylark.broker.net.HttpRequestHead;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Serves files from a classpath folder (the demo page, bundled at build time into {@code web/}): {@code /} is
 * {@code index.html}. Names are restricted to {@code [A-Za-z0-9._-]} segments, so nothing outside the folder can be
 * named. Files found are read once and kept; a name that is not there is looked up again each time and never
 * remembered, so the cache holds at most the folder's files whatever names anyone asks for (it once kept a "missing"
 * entry per name: 20,000 requests for unknown names grew the heap by 240 MB).
 */
public final class StaticResourceHandler implements HttpHandler
{
    private static final Map<String, String> TYPES = Map.of(
        "html", "text/html; charset=utf-8",
        "js", "text/javascript; charset=utf-8",
        "css", "text/css; charset=utf-8",
        "svg", "image/svg+xml",
        "png", "image/png",
        "ico", "image/x-icon",
        "map", "application/json");
    private final String folder;
    private final Map<String, byte[]> cache = new ConcurrentHashMap<>();

    public StaticResourceHandler(final String folder)
    {
        this.folder = folder;
    }

    @Override
    public HttpResponse handle(final HttpRequestHead request)
    {
        String name = request.path().substring(1);
        if (name.isEmpty())
        {
            name = "index.html";
        }
        if (!name.matches("([A-Za-z0-9_-][A-Za-z0-9._-]*/)*[A-Za-z0-9_-][A-Za-z0-9._-]*") || name.contains(".."))
        {
            return HttpResponse.notFound(request.path());
        }
        byte[] body = cache.get(name);
        if (body == null)
        {
            body = load(name);
            if (body == null)
            {
                return HttpResponse.notFound(request.path());
            }
            cache.putIfAbsent(name, body);
        }
        final int dot = name.lastIndexOf('.');
        final String type = TYPES.getOrDefault(dot < 0 ? "" : name.substring(dot + 1), "application/octet-stream");
        return HttpResponse.ok(type, body);
    }

    /** How many files are kept: at most the folder's files. */
    int cachedFiles()
    {
        return cache.size();
    }

    /** The file's bytes, or null when the folder has no such file. */
    private byte[] load(final String name)
    {
        try (InputStream in = StaticResourceHandler.class.getClassLoader().getResourceAsStream(folder + "/" + name))
        {
            return in == null ? null : in.readAllBytes();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
