package dev.skylark.broker.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ops/grafana/skylark-dashboard.json} stays true to the broker: every metric its PromQL queries name is one
 * a freshly started broker (token mode, a journal and a publish hook, so their metrics are there) serves on {@code /metrics}.
 */
class GrafanaDashboardTest
{
    private static final Path DASHBOARD = Path.of("..", "ops", "grafana", "skylark-dashboard.json");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    /** PromQL words that are not metric names. */
    private static final Set<String> PROMQL = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
        "bool", "and", "or", "unless", "offset", "sum", "rate", "irate", "increase", "avg", "max", "min", "count",
        "histogram_quantile", "topk", "bottomk", "delta", "deriv", "abs", "clamp_min", "clamp_max");

    @TempDir
    Path dir;

    @Test
    void everyQueryNamesAMetricTheBrokerExports() throws Exception
    {
        final List<String> expressions = new ArrayList<>();
        collectExpressions(new ObjectMapper().readTree(Files.readString(DASHBOARD)), expressions);
        assertTrue(expressions.size() >= 10, "the dashboard has queries: " + expressions);

        final Set<String> exported = new TreeSet<>();
        // Token mode (authentication's counters), a journal (its health) and a publish hook (its latency): every
        // family the dashboard may chart. The hook URL is never called: nothing is published.
        try (Broker broker = Broker.launch(new Broker.Context().authMode("token").ioThreads(1).mqttPort(0).httpPort(0)
            .durability("os").hookPublish("http://127.0.0.1:9/hook")
            .bindAddress("127.0.0.1").dataDir(dir.resolve("data").toString())))
        {
            final HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            for (final String line : response.body().split("\n"))
            {
                if (!line.isEmpty() && !line.startsWith("#"))
                {
                    final Matcher name = IDENTIFIER.matcher(line);
                    assertTrue(name.lookingAt(), line);
                    exported.add(name.group());
                }
            }
        }

        final Set<String> missing = new TreeSet<>();
        for (final String expression : expressions)
        {
            final Set<String> names = metricNames(expression);
            assertFalse(names.isEmpty(), "a query that names no metric: " + expression);
            for (final String name : names)
            {
                if (!exported.contains(name))
                {
                    missing.add(name + " (in " + expression + ")");
                }
            }
        }
        assertTrue(missing.isEmpty(), "queried but not exported: " + missing + "\nexported: " + exported);
    }

    @Test
    void metricNamesAreFoundInPromQl()
    {
        assertEquals(Set.of("skylark_packets_received_total"),
            metricNames("sum by (type) (rate(skylark_packets_received_total{type=\"publish\",io=~\"0|1\"}[1m]))"));
        assertEquals(Set.of("a_total", "b"), metricNames("a_total / on (io) group_left b offset 5m"));
    }

    /** Metric names in a PromQL expression: identifiers outside label matchers, grouping lists and ranges. */
    static Set<String> metricNames(final String expression)
    {
        final String bare = expression
            .replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"")              // string literals
            .replaceAll("\\{[^}]*}", " ")                              // label matchers
            .replaceAll("\\[[^]]*]", " ")                              // range selectors
            .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
            .replaceAll("\\boffset\\s+\\w+", " ");
        final Set<String> names = new TreeSet<>();
        final Matcher m = IDENTIFIER.matcher(bare);
        while (m.find())
        {
            final String word = m.group();
            final int after = m.end();
            final boolean call = bare.substring(after).stripLeading().startsWith("(");
            if (!call && !PROMQL.contains(word) && !Character.isDigit(word.charAt(0)))
            {
                names.add(word);
            }
        }
        return names;
    }

    private static void collectExpressions(final JsonNode node, final List<String> into)
    {
        if (node.isObject())
        {
            node.fields().forEachRemaining((field) ->
            {
                if (field.getKey().equals("expr"))
                {
                    into.add(field.getValue().asText());
                }
                else
                {
                    collectExpressions(field.getValue(), into);
                }
            });
        }
        else if (node.isArray())
        {
            node.forEach((child) -> collectExpressions(child, into));
        }
    }
}
