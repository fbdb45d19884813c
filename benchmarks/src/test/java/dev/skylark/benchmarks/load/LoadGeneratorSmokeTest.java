/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs the load generator for about a second against a Mosquitto started on free ports: one anonymous listener, one
 * that refuses everyone (to see CONNACK refused). Skipped when mosquitto is not installed.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LoadGeneratorSmokeTest
{
    private static final long PORT_DEADLINE_NS = TimeUnit.SECONDS.toNanos(5);

    @TempDir
    static Path tempDir;

    private static Process mosquitto;
    private static int openPort;
    private static int passwordPort;

    @BeforeAll
    static void startMosquitto() throws IOException
    {
        final String executable = findMosquitto();
        assumeTrue(null != executable, "mosquitto not installed");

        // A port chosen free can be taken again before mosquitto binds it (it then exits at once): try fresh ports.
        for (int attempt = 1; ; attempt++)
        {
            openPort = freePort();
            passwordPort = freePort();
            if (openPort == passwordPort)
            {
                continue;
            }
            final Path config = tempDir.resolve("mosquitto.conf");
            Files.writeString(config, String.join("\n",
                "per_listener_settings true",
                "persistence false",
                "set_tcp_nodelay true",
                "max_queued_messages 1000000",
                "max_inflight_messages 100",
                "listener " + openPort + " 127.0.0.1",
                "allow_anonymous true",
                "listener " + passwordPort + " 127.0.0.1",
                "allow_anonymous false", // no password file: every CONNECT is refused with "not authorised"
                ""));

            final Path log = tempDir.resolve("mosquitto-" + attempt + ".log");
            mosquitto = new ProcessBuilder(executable, "-c", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
            try
            {
                awaitPort(openPort);
                awaitPort(passwordPort);
                return;
            }
            catch (final IllegalStateException ex)
            {
                mosquitto.destroyForcibly();
                final String output = Files.readString(log);
                if (attempt == 3)
                {
                    throw new IllegalStateException(ex.getMessage() + "; mosquitto said: " + output, ex);
                }
                System.err.println("mosquitto did not start (attempt " + attempt + "): " + output);
            }
        }
    }

    @AfterAll
    static void stopMosquitto() throws InterruptedException
    {
        if (null != mosquitto)
        {
            mosquitto.destroy();
            if (!mosquitto.waitFor(5, TimeUnit.SECONDS))
            {
                mosquitto.destroyForcibly();
            }
        }
    }

    @Test
    void shouldDeliverEveryQos1MessageFlatOut() throws IOException
    {
        final LoadResult result = run("--port", Integer.toString(openPort), "--publishers", "2", "--qos", "1",
            "--duration", "1s", "--warmup", "200ms");

        assertNull(result.failure());
        assertTrue(result.received() > 0, () -> "received\n" + result.report());
        assertEquals(0, result.lost(), () -> "QoS 1 loss\n" + result.report());
        assertEquals(0, result.gaps(), () -> "missing sequence numbers\n" + result.report());
        assertEquals(result.received(), result.latency().getTotalCount());
        assertTrue(result.ackLatency().getTotalCount() > 0, "PUBACK latency recorded");
    }

    @Test
    void shouldReportPubackLatencyOfEveryPacedQos1MessageWithWindowOne() throws IOException
    {
        final LoadResult result = run("--port", Integer.toString(openPort), "--publishers", "20", "--qos", "1",
            "--inflight", "1", "--rate", "2000", "--duration", "1s", "--warmup", "200ms");

        assertNull(result.failure());
        assertEquals(0, result.lost(), () -> "QoS 1 loss\n" + result.report());
        // window 1: every id is tracked, so every publish sent in the window gets its PUBACK latency
        assertEquals(result.sent(), result.ackLatency().getTotalCount(), "acks recorded");
        assertTrue(result.ackLatencyUs(50) > 0 && result.ackLatencyUs(99) >= result.ackLatencyUs(50));
        assertTrue(result.resultLine().matches(".* puback_p50_us=[0-9.]+ puback_p99_us=[0-9.]+ .*"),
            result.resultLine());
    }

    @Test
    void shouldShareQos0PacedStreamOverMqtt5() throws IOException
    {
        final LoadResult result = run("--port", Integer.toString(openPort), "--publishers", "3", "--qos", "0",
            "--mqtt-version", "5", "--subscribers", "2", "--shared-group", "g", "--rate", "3000",
            "--duration", "1s", "--warmup", "200ms", "--threads", "1");

        assertNull(result.failure());
        assertEquals(3000, result.sent(), 30, "paced sends");
        assertTrue(result.received() > 0, () -> "received\n" + result.report());
    }

    @Test
    void shouldExitWithRefusedWhenConnackRefused()
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exitCode = LoadGenerator.run(new String[]{ "--port", Integer.toString(passwordPort),
            "--username", "nobody", "--password", "wrong", "--duration", "1s", "--quiet" },
            new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));

        assertEquals(LoadControl.EXIT_REFUSED, exitCode, err.toString(StandardCharsets.UTF_8));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("refused CONNECT"), err.toString());
    }

    @Test
    void shouldExitWithUnreachableWhenNothingListens() throws IOException
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exitCode = LoadGenerator.run(new String[]{ "--port", Integer.toString(freePort()), "--quiet" },
            new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));

        assertEquals(LoadControl.EXIT_UNREACHABLE, exitCode, err.toString(StandardCharsets.UTF_8));
    }

    private static LoadResult run(final String... args) throws IOException
    {
        final String[] all = new String[args.length + 1];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--quiet";

        return new LoadGenerator(LoadConfig.parse(all), new PrintStream(new ByteArrayOutputStream())).execute();
    }

    private static String findMosquitto()
    {
        final String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin";
        for (final String dir : path.split(File.pathSeparator))
        {
            final File candidate = new File(dir, "mosquitto");
            if (candidate.canExecute())
            {
                return candidate.getAbsolutePath();
            }
        }

        return null;
    }

    private static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            return socket.getLocalPort();
        }
    }

    private static void awaitPort(final int port)
    {
        final long deadlineNs = System.nanoTime() + PORT_DEADLINE_NS;
        while (true)
        {
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            }
            catch (final IOException ex)
            {
                if (!mosquitto.isAlive() || System.nanoTime() - deadlineNs > 0)
                {
                    throw new IllegalStateException("mosquitto did not listen on port " + port, ex);
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
    }
}
