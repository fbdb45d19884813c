package dev.skylark.broker.http;

import dev.skylark.broker.net.HttpRequestHead;

/** Serves the requests under one path prefix of the HTTP listener (see {@link HttpRouter#route}). */
@FunctionalInterface
public interface HttpHandler
{
    HttpResponse handle(HttpRequestHead request);
}
