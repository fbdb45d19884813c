package dev.skylark.broker.hook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A publish hook for tests: the JDK's HTTP server on a free loopback port. Every request is recorded (headers and
 * body) and answered by the current {@link Handler}; handlers run on their own threads, so one may block.
 */
final class HookServer implements AutoCloseable
{
    static final ObjectMapper JSON = new ObjectMapper();

    /** One request as the hook received it. */
    record Request(String timestamp, String keyId, String signature, String contentType, byte[] body)
    {
        ArrayNode messages()
        {
            try
            {
                return (ArrayNode)JSON.readTree(body);
            }
            catch (final IOException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
    }

    /** What the hook answers. */
    record Answer(int status, byte[] body)
    {
        static Answer ok(final JsonNode messages)
        {
            return new Answer(200, messages.toString().getBytes(StandardCharsets.UTF_8));
        }

        static Answer status(final int status)
        {
            return new Answer(status, "nope".getBytes(StandardCharsets.UTF_8));
        }
    }

    @FunctionalInterface
    interface Handler
    {
        Answer handle(Request request) throws Exception;
    }

    /** Returns every message unchanged. */
    static final Handler ECHO = (request) -> Answer.ok(request.messages());

    final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    /** Released when the test ends, so handlers that wait on it finish. */
    final CountDownLatch release = new CountDownLatch(1);
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    volatile Handler handler;

    HookServer(final Handler handler) throws IOException
    {
        this.handler = handler;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", this::exchange);
        server.setExecutor(executor);
        server.start();
    }

    String url()
    {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    private void exchange(final HttpExchange exchange) throws IOException
    {
        try (exchange)
        {
            final Request request = new Request(
                exchange.getRequestHeaders().getFirst(HookSigner.TIMESTAMP_HEADER),
                exchange.getRequestHeaders().getFirst(HookSigner.KEY_ID_HEADER),
                exchange.getRequestHeaders().getFirst(HookSigner.SIGNATURE_HEADER),
                exchange.getRequestHeaders().getFirst("Content-Type"),
                exchange.getRequestBody().readAllBytes());
            requests.add(request);
            Answer answer;
            try
            {
                answer = handler.handle(request);
            }
            catch (final Exception ex)
            {
                answer = new Answer(599, String.valueOf(ex).getBytes(StandardCharsets.UTF_8));
            }
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(answer.status(), answer.body().length == 0 ? -1 : answer.body().length);
            if (answer.body().length > 0)
            {
                try (OutputStream out = exchange.getResponseBody())
                {
                    out.write(answer.body());
                }
            }
        }
        catch (final IOException ex)
        {
            // the broker gave up on this request (timeout): nothing to answer
        }
    }

    @Override
    public void close()
    {
        release.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
