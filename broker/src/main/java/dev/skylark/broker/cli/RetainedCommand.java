package dev.skylark.broker.cli;

import dev.skylark.broker.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code skylark retained list|delete [--filter F] [--qos N] [--min-bytes N] [--limit N] [--url URL]
 * [--data.dir DIR | --token T]}: lists or deletes a running broker's retained messages through its admin API
 * ({@code /admin/v1/retained}; the bearer token is read from {@code DIR/auth/admin-token} unless given), and prints
 * the JSON answer. {@code delete} needs {@code --filter} ({@code '#'} for all).
 */
@Command(name = "retained", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
    description = {
        "A running broker's retained messages, through its admin API.",
        "  list|delete [--filter F] [--qos N] [--min-bytes N] [--limit N] [--url URL] [--data.dir DIR | --token T]"})
final class RetainedCommand extends CliCommand
{
    private static final Pattern ANSWER = Pattern.compile("\"answer\"\\s*:\\s*\"([^\"]+)\"");

    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call()
    {
        try
        {
            return run(args.toArray(new String[0]), out);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("retained: " + ex.getMessage(), ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    static int run(final String[] args, final PrintStream out) throws IOException, InterruptedException
    {
        if (args.length == 0 || !("list".equals(args[0]) || "delete".equals(args[0])))
        {
            throw new IllegalArgumentException("retained needs a command: list or delete");
        }
        final boolean delete = "delete".equals(args[0]);
        String dataDir = System.getProperty(Configuration.DATA_DIR_PROP_NAME, Configuration.DATA_DIR_DEFAULT);
        String url = "http://127.0.0.1:" + Configuration.HTTP_PORT_DEFAULT;
        String token = null;
        final StringBuilder query = new StringBuilder();
        boolean hasFilter = false;
        for (int i = 1; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--filter" ->
                {
                    param(query, "filter", value(args, ++i));
                    hasFilter = true;
                }
                case "--qos" -> param(query, "qos", value(args, ++i));
                case "--min-bytes" -> param(query, "minBytes", value(args, ++i));
                case "--limit" -> param(query, "limit", value(args, ++i));
                case "--url" -> url = value(args, ++i);
                case "--token" -> token = value(args, ++i);
                case "--data.dir", "--skylark.data.dir" -> dataDir = value(args, ++i);
                default -> throw new IllegalArgumentException("retained: unexpected argument '" + args[i] + "'");
            }
        }
        if (delete && !hasFilter)
        {
            throw new IllegalArgumentException("retained delete needs --filter ('#' for every retained message)");
        }
        if (token == null)
        {
            token = Files.readString(Path.of(dataDir, "auth", "admin-token")).trim();
        }
        return submitAndWait(url, "retained" + (query.length() > 0 ? "?" + query : ""), delete ? "DELETE" : "GET",
            token, out);
    }

    /**
     * Submits an admin request that the routing agent answers ({@code /admin/v1/<path>}, 202 with the answer's
     * address), polls its answer for up to 30 s and prints it; shared by {@code retained}, {@code sessions} and
     * {@code clients}.
     *
     * @return 0 when the answer came (200), else 1.
     */
    static int submitAndWait(final String url, final String path, final String method, final String token,
        final PrintStream out) throws IOException, InterruptedException
    {
        final String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        final HttpResponse<String> submitted = send(http, base + "/admin/v1/" + path, method, token);
        final Matcher answer = ANSWER.matcher(submitted.body());
        if (submitted.statusCode() != 202 || !answer.find())
        {
            out.println(submitted.body());
            return 1;
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true)
        {
            final HttpResponse<String> reply = send(http, base + answer.group(1), "GET", token);
            if (reply.statusCode() != 202 || System.nanoTime() > deadline)
            {
                out.println(reply.body());
                return reply.statusCode() == 200 ? 0 : 1;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
        }
    }

    private static HttpResponse<String> send(
        final HttpClient http, final String url, final String method, final String token)
        throws IOException, InterruptedException
    {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + token).method(method, HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    static void param(final StringBuilder query, final String name, final String value)
    {
        query.append(query.length() == 0 ? "" : "&").append(name).append('=')
            .append(URLEncoder.encode(value, StandardCharsets.UTF_8));
    }

    static String value(final String[] args, final int i)
    {
        if (i >= args.length)
        {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }
}
