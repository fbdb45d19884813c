package dev.skylark.broker.cli;

import dev.skylark.broker.Configuration;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
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
        "  --config FILE, --NAME VALUE   as for run",
        "  --example          print a commented properties file listing every setting with its default"})
final class ConfigCommand extends CliCommand
{
    @Unmatched
    List<String> args = new ArrayList<>();

    @Option(names = "--example", description = "print conf/skylark.properties.example (every setting, commented)")
    boolean example;

    @Override
    public Integer call()
    {
        if (example)
        {
            out.print(example());
            out.flush();
            return 0;
        }
        return run(args.toArray(new String[0]), out);
    }

    /**
     * The example configuration file, {@code conf/skylark.properties.example}: every setting, commented out, with its
     * description and default; short names (the file takes them with or without the {@code skylark.} prefix).
     */
    static String example()
    {
        final StringBuilder text = new StringBuilder();
        text.append("# Skylark configuration: every setting with its default, commented out.\n")
            .append("# Written by `skylark config --example`; ExampleConfigurationTest fails when a setting is missing.\n")
            .append("#\n")
            .append("# Use: skylark --config skylark.properties (the bin/skylark launcher reads conf/skylark.properties).\n")
            .append("# Names may omit the \"skylark.\" prefix. Unknown names and bad values stop the broker at start.\n")
            .append("# Precedence: command line (--NAME VALUE) > JVM flag (-Dskylark.NAME=VALUE) > environment\n")
            .append("# (SKYLARK_NAME, e.g. SKYLARK_MQTT_PORT=1884) > this file > default.\n")
            .append("# SIGHUP re-reads this file and applies what can change live (docs/operations.md).\n");
        for (final Configuration.Setting setting : Configuration.settings().values())
        {
            final String shortName = setting.name().substring(Configuration.PREFIX.length());
            text.append("\n# ").append(setting.description()).append('\n');
            if (Configuration.IO_THREADS_PROP_NAME.equals(setting.name()))
            {
                text.append("#").append(shortName).append("=\n"); // the default depends on the machine
                continue;
            }
            text.append('#').append(shortName).append('=').append(escape(setting.defaultValue())).append('\n');
        }
        return text.toString();
    }

    private static String escape(final String value)
    {
        return value.replace("\\", "\\\\");
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
