/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --persistent-subscribers} against an in-process broker with a journal (a fresh one per test: a 3.1.1
 * persistent subscriber's session outlives the run and would be owed, so journal, the next run's messages): the broker
 * journals a QoS 1 message only when a persistent session is owed it, so its
 * {@code skylark_journal_records_appended_total} grows with the option and stays (almost) flat without it, where every
 * session is clean.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LoadGeneratorPersistentSubscribersTest
{
    private static final String APPENDED = "skylark_journal_records_appended_total";

    private static final String SESSIONS = "skylark_sessions";

    @TempDir
    Path dir;
    private Broker broker;

    @BeforeEach
    void startBroker() throws Exception
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0).bindAddress("127.0.0.1")
            .durability("os").dataDir(dir.resolve("data").toString())); // not benchmarks/data
    }

    @AfterEach
    void stopBroker() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "3", "5" })
    void shouldMakeTheBrokerJournalForPersistentSubscribersOnly(final String version) throws Exception
    {
        final long beforeClean = appended();
        final LoadResult clean = run(version, false);
        final long cleanAppended = appended() - beforeClean;

        final long beforePersistent = appended();
        final LoadResult persistent = run(version, true);
        final long persistentAppended = appended() - beforePersistent;

        assertTrue(clean.received() > 0 && persistent.received() > 0, () -> clean.report() + persistent.report());
        // every delivered QoS 1 message was journaled for the persistent subscriber (a record at least each)
        assertTrue(persistentAppended >= persistent.received(),
            () -> APPENDED + " grew by " + persistentAppended + " for " + persistent.received() + " messages");
        // clean sessions only: nothing to replay after a crash, so (next to nothing) journaled
        assertTrue(cleanAppended < clean.received() / 10,
            () -> APPENDED + " grew by " + cleanAppended + " without the option for " + clean.received() + " messages");
        assertFalse(clean.resultLine().contains("persistent_subscribers"), clean.resultLine());
        assertTrue(persistent.resultLine().endsWith(" persistent_subscribers=1"), persistent.resultLine());
    }

    @Test
    void shouldEndTheSessionsOfMqtt5PersistentSubscribersAtTheEndOfTheRun() throws Exception
    {
        run("5", true);

        // DISCONNECT with Session Expiry Interval 0: nothing left to queue a later run's messages for
        awaitMetric(SESSIONS, 0);
    }

    @Test
    void shouldLeaveTheSessionsOfMqtt311PersistentSubscribersOnTheBroker() throws Exception
    {
        run("3", true);

        // 3.1.1 has no way to end a Clean Session 0 session on disconnect: the subscriber's stays (documented)
        awaitMetric(SESSIONS, 1);
    }

    @Test
    void shouldAcceptTheOptionAsAFlag()
    {
        final LoadConfig config = LoadConfig.parse(new String[]{ "--persistent-subscribers", "--qos", "1" });
        assertTrue(config.persistentSubscribers);
        assertEquals(LoadConfig.PERSISTENT_SESSION_EXPIRY_S, config.sessionExpiryS(ClientConnection.Role.SUBSCRIBER));
        assertEquals(0, config.sessionExpiryS(ClientConnection.Role.PUBLISHER));
        assertFalse(LoadConfig.parse(new String[0]).persistentSubscribers);
        assertEquals(0, LoadConfig.parse(new String[0]).sessionExpiryS(ClientConnection.Role.SUBSCRIBER));
    }

    private LoadResult run(final String version, final boolean persistent) throws IOException
    {
        final String[] base = { "--port", Integer.toString(broker.mqttPort()), "--mqtt-version", version,
            "--publishers", "2", "--qos", "1", "--rate", "500", "--duration", "1s", "--warmup", "200ms", "--quiet" };
        final String[] args = persistent ? append(base, "--persistent-subscribers") : base;
        final LoadResult result = new LoadGenerator(LoadConfig.parse(args), new PrintStream(new ByteArrayOutputStream()))
            .execute();
        assertNull(result.failure());
        assertEquals(0, result.lost(), () -> "QoS 1 loss\n" + result.report());

        return result;
    }

    private static String[] append(final String[] args, final String arg)
    {
        final String[] more = java.util.Arrays.copyOf(args, args.length + 1);
        more[args.length] = arg;
        return more;
    }

    private void awaitMetric(final String name, final long expected) throws Exception
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long value;
        while ((value = metric(name)) != expected && System.nanoTime() - deadlineNs < 0)
        {
            Thread.yield(); // each poll is an HTTP round trip to the broker, which paces the loop
        }
        assertEquals(expected, value, name);
    }

    private long appended() throws IOException, InterruptedException
    {
        return metric(APPENDED);
    }

    private long metric(final String name) throws IOException, InterruptedException
    {
        final HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + broker.httpPort() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        for (final String line : response.body().split("\n"))
        {
            if (line.startsWith(name + " ") || line.startsWith(name + "{"))
            {
                return (long)Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError(name + " not in /metrics:\n" + response.body());
    }
}
