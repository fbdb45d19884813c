package dev.skylark.broker.fuzz;

import dev.skylark.broker.Broker;
import dev.skylark.broker.status.CountersSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutated and random input against a live broker, over TCP and over WebSocket (mutated MQTT inside valid frames,
 * mutated frames, known-bad frames, mutated upgrade requests). Throughout, and whatever arrives:
 * <ul>
 * <li>every answer is well-formed and allowed by the specification, and the input whose answer the specification
 * names gets exactly that answer ({@link ResponseOracle}, {@link KnownAnswers});</li>
 * <li>every case ends promptly with an answer or a close, never a hang;</li>
 * <li>a well-behaved publisher and subscriber keep exchanging messages, each within 5 s ({@link HealthCheck});</li>
 * <li>afterwards the broker's own gauges are back to the baseline (open connections, sessions, subscriptions), no
 * agent threw, and the heap after GC grew by less than {@link #HEAP_GROWTH_MAX}.</li>
 * </ul>
 * Seeded and reproducible: the seed is printed; {@code -Dfuzz.seed=N} (or {@code random}), {@code -Dfuzz.cases=N}
 * per transport, {@code -Dfuzz.workers=N}. {@code mvn -Pfuzz-long verify} runs a long campaign (see docs/limits.md).
 * Properties are named {@code fuzz.*}, not {@code skylark.*}: the broker refuses unknown {@code skylark.*} settings.
 */
class LiveFuzzTest
{
    static final long DEFAULT_SEED = 0x5EED_F022L;
    static final long DEFAULT_CASES = 100_000;
    static final long HEAP_GROWTH_MAX = 64L * 1024 * 1024;
    private static final int MAX_PACKET_SIZE = 16 * 1024;

    @TempDir
    Path dataDir;

    @Test
    void tcp() throws Exception
    {
        campaign(FuzzWorker.Transport.TCP);
    }

    @Test
    void webSocket() throws Exception
    {
        campaign(FuzzWorker.Transport.WEBSOCKET);
    }

    private void campaign(final FuzzWorker.Transport transport) throws Exception
    {
        final long seed = seed();
        final long cases = setting("fuzz.cases", DEFAULT_CASES);
        final int workers = (int)setting("fuzz.workers", 4);
        System.out.printf("LiveFuzzTest %s: seed %d, %,d cases, %d workers (reproduce: -Dfuzz.seed=%d " +
            "-Dfuzz.cases=%d -Dfuzz.workers=%d -Dtest=LiveFuzzTest#%s)%n", transport, seed, cases, workers, seed, cases,
            workers, transport == FuzzWorker.Transport.TCP ? "tcp" : "webSocket");
        final Duration budget = Duration.ofSeconds(120 + cases / 500);
        assertTimeoutPreemptively(budget, () -> run(transport, seed, cases, workers),
            "the campaign did not finish within " + budget + " (seed " + seed + ")");
    }

    private void run(final FuzzWorker.Transport transport, final long seed, final long cases, final int workers)
        throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0)
            .httpPort(transport == FuzzWorker.Transport.WEBSOCKET ? 0 : -1).bindAddress("127.0.0.1")
            .dataDir(dataDir.toString()).maxPacketSize(MAX_PACKET_SIZE).sessionExpiryMax(1));
            HealthCheck health = new HealthCheck(broker.mqttPort(), seed))
        {
            health.start();
            awaitGauges(broker, 2, 2, 1, "before fuzzing");
            final long heapBefore = usedHeapAfterGc();
            final int port = transport == FuzzWorker.Transport.TCP ? broker.mqttPort() : broker.httpPort();
            final ConcurrentHashMap<String, LongAdder> outcomes = new ConcurrentHashMap<>();
            final AtomicBoolean failed = new AtomicBoolean();
            final ExecutorService executor = Executors.newFixedThreadPool(workers);
            final List<FuzzWorker> fuzzers = new ArrayList<>();
            final List<Future<Long>> results = new ArrayList<>();
            final long startNs = System.nanoTime();
            try
            {
                for (int i = 0; i < workers; i++)
                {
                    final FuzzWorker worker = new FuzzWorker(i, transport, port, seed, cases / workers +
                        (i < cases % workers ? 1 : 0), MAX_PACKET_SIZE, outcomes, failed);
                    fuzzers.add(worker);
                    results.add(executor.submit(worker));
                }
                long done = 0;
                for (final Future<Long> result : results)
                {
                    try
                    {
                        done += result.get();
                    }
                    catch (final java.util.concurrent.ExecutionException ex)
                    {
                        throw (Error)ex.getCause();
                    }
                }
                final long elapsedNs = System.nanoTime() - startNs;
                long connections = 0;
                for (final FuzzWorker worker : fuzzers)
                {
                    connections += worker.connections();
                }
                print(transport, done, connections, elapsedNs, outcomes, health);
                assertEquals(cases, done, "cases run");
            }
            finally
            {
                executor.shutdownNow();
            }

            assertNull(health.failure, () -> "the well-behaved pair failed during fuzzing: " + health.failure);
            assertTrue(health.delivered > 0, "heartbeats were exchanged");
            assertEquals(0, broker.agentErrors(), "no exception escaped an agent");
            // Fuzzing sessions end once closed (session expiry is capped at 1 s): everything returns to the baseline.
            awaitGauges(broker, 2, 2, 1, "after fuzzing");
            final long heapAfter = usedHeapAfterGc();
            System.out.printf("LiveFuzzTest %s: heap after GC %,d KB before, %,d KB after%n", transport,
                heapBefore / 1024, heapAfter / 1024);
            assertTrue(heapAfter - heapBefore < HEAP_GROWTH_MAX, "heap grew by " + (heapAfter - heapBefore) / 1024 +
                " KB over the campaign");
            assertNull(health.failure, () -> "the well-behaved pair failed: " + health.failure);
        }
    }

    /** Open connections, sessions and subscriptions as the broker counts them, waited for with a deadline. */
    private static void awaitGauges(
        final Broker broker, final long connections, final long sessions, final long subscriptions, final String when)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        CountersSnapshot snapshot = CountersSnapshot.of(broker.countersFile().reader());
        while (System.nanoTime() < deadline && !(snapshot.total("skylark_connections") == connections &&
            snapshot.total("skylark_sessions") == sessions && snapshot.total("skylark_subscriptions") == subscriptions))
        {
            LockSupport.parkNanos(10_000_000);
            snapshot = CountersSnapshot.of(broker.countersFile().reader());
        }
        assertEquals(connections, snapshot.total("skylark_connections"), "open connections " + when);
        assertEquals(connections, broker.connectionCount(), "open connections (I/O agents) " + when);
        assertEquals(sessions, snapshot.total("skylark_sessions"), "sessions " + when);
        assertEquals(subscriptions, snapshot.total("skylark_subscriptions"), "subscriptions " + when);
    }

    private static void print(
        final FuzzWorker.Transport transport,
        final long done,
        final long connections,
        final long elapsedNs,
        final Map<String, LongAdder> outcomes,
        final HealthCheck health)
    {
        final double seconds = elapsedNs / 1e9;
        System.out.printf("LiveFuzzTest %s: %,d cases over %,d connections in %.1f s (%,.0f cases/s); " +
            "%,d heartbeats delivered, slowest %d ms%n", transport, done, connections, seconds, done / seconds,
            health.delivered, TimeUnit.NANOSECONDS.toMillis(health.maxLatencyNs));
        final Map<String, Long> sorted = new TreeMap<>();
        outcomes.forEach((k, v) -> sorted.put(k, v.sum()));
        sorted.forEach((k, v) -> System.out.printf("  %,10d  %s%n", v, k));
    }

    private static long usedHeapAfterGc()
    {
        final Runtime runtime = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++)
        {
            System.gc();
            used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
        }
        return used;
    }

    private static long seed()
    {
        final String value = System.getProperty("fuzz.seed", "").trim();
        if (value.isEmpty())
        {
            return DEFAULT_SEED;
        }
        return "random".equals(value) ? System.nanoTime() : Long.parseLong(value);
    }

    private static long setting(final String name, final long defaultValue)
    {
        final String value = System.getProperty(name, "").trim();
        return value.isEmpty() ? defaultValue : Long.parseLong(value);
    }
}
