package dev.skylark.broker;

import ch.qos.logback.classic.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A reload (SIGHUP) applies a new log level without a restart, and says so; the same level again changes nothing. */
class LogLevelReloadTest
{
    @TempDir
    Path dataDir;

    @Test
    void aReloadAppliesTheNewLogLevel()
    {
        final Logger root = (Logger)LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        try (Broker broker = Broker.launch(new Broker.Context().mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .authMode("none").durability("none").dataDir(dataDir.toString())))
        {
            assertEquals("INFO", root.getLevel().toString());

            final Properties settings = new Properties();
            settings.setProperty(Configuration.LOG_LEVEL_PROP_NAME, "debug");
            final ReloadRegistry.Result result = broker.reload(settings);
            assertTrue(result.changed().contains("log level: level debug, format text"), result.toString());
            assertEquals("DEBUG", root.getLevel().toString());

            final ReloadRegistry.Result again = broker.reload(settings);
            assertTrue(again.changed().stream().noneMatch((line) -> line.startsWith("log level")), again.toString());

            settings.setProperty(Configuration.LOG_LEVEL_PROP_NAME, "info");
            broker.reload(settings);
            assertEquals("INFO", root.getLevel().toString());
        }
        finally
        {
            root.setLevel(ch.qos.logback.classic.Level.INFO);
        }
    }
}
