package dev.skylark.broker.cli;

import dev.skylark.broker.Configuration;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * {@code skylark config [--config FILE] [--NAME VALUE]...}: the configuration {@code run} would use with the same
 * arguments, each value with where it came from (command line, JVM flag, environment, file, preset or default), and any problem
 * that would stop the broker.
 */
@Command(name = "config", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
    description = {"Prints the configuration run would use, each value with where it came from.",
        "Any problem that would stop the broker is printed too (exit status 2).",
        "  --config FILE, --NAME VALUE   as for run"})
final class ConfigCommand extends CliCommand
{
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call()
    {
        return run(args.toArray(new String[0]), out);
    }

    static int run(final String[] args, final PrintStream out)
    {
        final Properties merged = new Properties();
        final Properties sources = new Properties();
        if (!SkylarkMain.parseSettings(args, 0, merged, null, out, sources))
        {
            return 0;
        }
        final String preset = merged.getProperty(Configuration.PRESET_PROP_NAME, Configuration.PRESET_DEFAULT).trim();
        for (final Map.Entry<String, Configuration.Setting> entry : Configuration.settings().entrySet())
        {
            final String name = entry.getKey();
            final String given = merged.getProperty(name);
            final String value;
            final String source;
            if (given != null)
            {
                value = given;
                source = sources.getProperty(name, "given");
            }
            else if ("hosted".equals(preset) && Configuration.HOSTED_PRESET.containsKey(name))
            {
                value = Configuration.HOSTED_PRESET.get(name);
                source = "preset hosted";
            }
            else
            {
                value = entry.getValue().defaultValue();
                source = "default";
            }
            out.printf("%-44s %-24s (%s)%n", name, value.isEmpty() ? "\"\"" : value, source);
        }
        final List<String> problems = Configuration.validate(merged);
        for (final String problem : problems)
        {
            out.println("problem: " + problem);
        }
        return problems.isEmpty() ? 0 : 2;
    }
}
