package dev.skylark.broker.cli;

import dev.skylark.broker.Broker;
import dev.skylark.broker.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where settings come from: the properties file takes names with or without the {@code skylark.} prefix and refuses
 * unknown ones; {@code SKYLARK_*} environment variables; and the precedence command line > JVM flag > environment >
 * file > default.
 */
class ConfigurationSourcesTest
{
    @TempDir
    Path dir;

    private final PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    private Properties parse(final Map<String, String> environment, final Properties sources, final String... args)
    {
        final Properties merged = new Properties();
        assertTrue(SkylarkMain.parseSettings(args, 0, merged, null, out, sources, environment));
        return merged;
    }

    @Test
    void theFileTakesShortNames() throws Exception
    {
        final Path file = dir.resolve("skylark.properties");
        Files.writeString(file, "mqtt.port=1884\nskylark.http.port=8081\n");
        final Properties merged = parse(Map.of(), new Properties(), "--config", file.toString());
        assertEquals("1884", merged.getProperty("skylark.mqtt.port"));
        assertEquals("8081", merged.getProperty("skylark.http.port"));
        assertEquals(1884, new Broker.Context(merged).conclude().mqttPort());
    }

    @Test
    void theFileRefusesUnknownNamesWithOrWithoutThePrefix() throws Exception
    {
        final Path file = dir.resolve("skylark.properties");
        Files.writeString(file, "mqtt.prot=1884\n");
        final Properties merged = parse(Map.of(), new Properties(), "--config", file.toString());
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new Broker.Context(merged));
        assertTrue(ex.getMessage().contains("unknown setting 'skylark.mqtt.prot'"), ex.getMessage());
    }

    @Test
    void environmentVariablesNameSettings()
    {
        final Properties sources = new Properties();
        final Properties merged = parse(Map.of("SKYLARK_MQTT_PORT", "1884", "SKYLARK_CLIENT_ID_MAX_LENGTH", "64",
            "SKYLARK_HOME", "/opt/skylark", "PATH", "/bin"), sources);
        assertEquals("1884", merged.getProperty("skylark.mqtt.port"));
        assertEquals("64", merged.getProperty("skylark.client.id.max.length"));
        assertEquals("environment SKYLARK_MQTT_PORT", sources.getProperty("skylark.mqtt.port"));
        assertEquals(2, sources.values().stream().filter((source) -> source.toString().startsWith("environment"))
            .count(), "SKYLARK_HOME is the launcher's, PATH is no setting: " + sources);
        assertEquals("SKYLARK_SHUTDOWN_DRAIN_MS",
            Configuration.environmentVariableOf(Configuration.SHUTDOWN_DRAIN_MS_PROP_NAME));
    }

    @Test
    void unknownEnvironmentVariablesWithThePrefixAreIgnored()
    {
        // Other tools share the prefix (perf-scripts export SKYLARK_JAR): a warning is logged, nothing is set.
        final Properties merged = parse(Map.of("SKYLARK_MQTT_PROT", "1884", "SKYLARK_JAR", "/x.jar"), new Properties());
        assertTrue(merged.stringPropertyNames().stream().noneMatch((name) -> merged.getProperty(name).equals("1884")),
            merged.toString());
    }

    @Test
    void commandLineOverJvmFlagOverEnvironmentOverFileOverDefault() throws Exception
    {
        final Path file = dir.resolve("skylark.properties");
        Files.writeString(file, "mqtt.port=1001\nhttp.port=1001\nmqtts.port=1001\nhttps.port=1001\n");
        final Map<String, String> environment = Map.of("SKYLARK_MQTT_PORT", "2002", "SKYLARK_HTTP_PORT", "2002",
            "SKYLARK_MQTTS_PORT", "2002");
        final String before = System.getProperty("skylark.mqtt.port");
        System.setProperty("skylark.mqtt.port", "3003");
        System.setProperty("skylark.http.port", "3003");
        try
        {
            final Properties sources = new Properties();
            final Properties merged = parse(environment, sources, "--config", file.toString(), "--mqtt.port", "4004");
            assertEquals("4004", merged.getProperty("skylark.mqtt.port"));      // command line
            assertEquals("3003", merged.getProperty("skylark.http.port"));      // JVM flag
            assertEquals("2002", merged.getProperty("skylark.mqtts.port"));     // environment
            assertEquals("1001", merged.getProperty("skylark.https.port"));     // file
            assertEquals(null, merged.getProperty("skylark.bind.address"));     // default
            assertEquals("command line", sources.getProperty("skylark.mqtt.port"));
            assertEquals("jvm flag", sources.getProperty("skylark.http.port"));
            assertEquals("file", sources.getProperty("skylark.https.port"));
        }
        finally
        {
            System.clearProperty("skylark.http.port");
            if (before == null)
            {
                System.clearProperty("skylark.mqtt.port");
            }
            else
            {
                System.setProperty("skylark.mqtt.port", before);
            }
        }
    }
}
