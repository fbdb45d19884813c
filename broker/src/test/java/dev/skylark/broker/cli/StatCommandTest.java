package dev.skylark.broker.cli;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatCommandTest
{
    @TempDir
    Path dataDir;

    @Test
    void printsTheCountersOfARunningBroker() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").ioThreads(2).mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .dataDir(dataDir.toString())))
        {
            final ByteArrayOutputStream out = new ByteArrayOutputStream();
            final int exit = SkylarkMain.execute(new String[]{"stat", "--once", "--data.dir", dataDir.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8));
            final String text = out.toString(StandardCharsets.UTF_8);
            assertEquals(0, exit);
            assertTrue(text.contains("pid " + ProcessHandle.current().pid() + ", running"), text);
            assertTrue(text.contains("PUBLISH packets sent (io-0)"), text);
            assertTrue(text.contains("PUBLISH packets sent (all)"), text);
            assertTrue(text.contains("sessions (online and offline)"), text);
        }
    }

    @Test
    void saysWhenThereIsNoBroker()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> SkylarkMain.execute(new String[]{"stat", "--once", "--data.dir", dataDir.toString()},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
        assertTrue(ex.getMessage().contains("no counters file"), ex.getMessage());
    }
}
