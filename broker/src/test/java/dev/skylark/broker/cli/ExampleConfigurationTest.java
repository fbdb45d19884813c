package dev.skylark.broker.cli;

import dev.skylark.broker.Configuration;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code conf/skylark.properties.example} lists every setting with its default: a setting added to
 * {@link Configuration} without regenerating the file ({@code skylark config --example > conf/skylark.properties.example})
 * fails here, and so does a stale name or default.
 */
class ExampleConfigurationTest
{
    private static final Path EXAMPLE = Path.of("..", "conf", "skylark.properties.example");

    @Test
    void everySettingIsInTheExampleWithItsDefault() throws Exception
    {
        final String text = Files.readString(EXAMPLE);
        final List<String> missing = new ArrayList<>();
        for (final Configuration.Setting setting : Configuration.settings().values())
        {
            final String shortName = setting.name().substring(Configuration.PREFIX.length());
            final String line = Configuration.IO_THREADS_PROP_NAME.equals(setting.name()) ?
                "#" + shortName + "=\n" : "#" + shortName + "=" + setting.defaultValue() + "\n";
            if (!text.contains(line))
            {
                missing.add(line.trim());
            }
        }
        assertTrue(missing.isEmpty(), "missing from " + EXAMPLE + " (regenerate it with `skylark config --example`): " +
            missing);
    }

    @Test
    void theExampleUncommentedIsAValidConfiguration() throws Exception
    {
        final StringBuilder uncommented = new StringBuilder();
        for (final String line : Files.readAllLines(EXAMPLE))
        {
            if (line.matches("#[a-z][a-z0-9.]*=.*") && !line.startsWith("#io.threads="))
            {
                uncommented.append(line.substring(1)).append('\n');
            }
        }
        final Properties raw = new Properties();
        raw.load(new StringReader(uncommented.toString()));
        final Properties full = new Properties();
        raw.stringPropertyNames().forEach((name) -> full.setProperty(Configuration.fullName(name), raw.getProperty(name)));
        assertEquals(Configuration.settings().size() - 1, full.size());
        assertEquals(List.of(), Configuration.validate(full));
    }

    @Test
    void theCommittedFileIsWhatTheCommandPrints() throws Exception
    {
        assertEquals(ConfigCommand.example().replaceAll("(?m)^#io\\.threads=.*$", "#io.threads="),
            Files.readString(EXAMPLE), "regenerate with `skylark config --example > conf/skylark.properties.example`");
    }
}
