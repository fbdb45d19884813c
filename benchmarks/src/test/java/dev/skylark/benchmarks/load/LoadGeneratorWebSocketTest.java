/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the load generator over WebSocket against an in-process broker's HTTP listener.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LoadGeneratorWebSocketTest
{
    @TempDir
    static Path dir;
    private static Broker broker;

    @BeforeAll
    static void startBroker() throws Exception
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0).bindAddress("127.0.0.1")
            .durability("none").dataDir(dir.resolve("data").toString())); // not benchmarks/data
    }

    @AfterAll
    static void stopBroker() throws Exception
    {
        if (null != broker)
        {
            broker.close();
        }
    }

    @Test
    void shouldDeliverEveryQos1MessageOverWebSocket() throws IOException
    {
        final LoadResult result = new LoadGenerator(LoadConfig.parse(new String[]{
            "--transport", "ws", "--port", Integer.toString(broker.httpPort()), "--publishers", "2", "--qos", "1",
            "--duration", "1s", "--warmup", "200ms", "--quiet" }), new PrintStream(new ByteArrayOutputStream()))
            .execute();

        assertNull(result.failure());
        assertTrue(result.received() > 0, () -> "received\n" + result.report());
        assertEquals(0, result.lost(), () -> "QoS 1 loss\n" + result.report());
        assertEquals(0, result.gaps(), () -> "missing sequence numbers\n" + result.report());
        assertTrue(result.resultLine().contains(" transport=ws "), result.resultLine());
    }

    @Test
    void shouldExitWithRefusedWhenUpgradeIsRefused()
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exitCode = LoadGenerator.run(new String[]{ "--transport", "ws", "--ws-path", "/nothing-here",
            "--port", Integer.toString(broker.httpPort()), "--duration", "1s", "--quiet" },
            new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));

        final String message = err.toString(StandardCharsets.UTF_8);
        assertEquals(LoadControl.EXIT_REFUSED, exitCode, message);
        assertTrue(message.contains("WebSocket upgrade refused"), message);
    }
}
