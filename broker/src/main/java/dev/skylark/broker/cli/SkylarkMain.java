package dev.skylark.broker.cli;

import dev.skylark.broker.Broker;
import dev.skylark.broker.Configuration;
import dev.skylark.broker.net.SelfSignedCertificate;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code skylark} command. {@code skylark [run] [--config FILE] [--NAME VALUE | --NAME=VALUE]...} runs the
 * broker; NAME is any setting with or without its {@code skylark.} prefix ({@code --mqtt.port 1884}). Settings
 * come from the file, then JVM flags ({@code -Dskylark.*}), then command-line flags, each overriding the last.
 * {@code skylark token ...} and {@code skylark keys ...} manage tokens and signing keys in the data directory
 * (see {@link AuthCommands}).
 */
public final class SkylarkMain
{
    private SkylarkMain()
    {
    }

    public static void main(final String[] args)
    {
        try
        {
            System.exit(execute(args, System.out));
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("skylark: " + ex.getMessage());
            System.exit(2);
        }
    }

    /**
     * Runs a command in-process and returns its exit status; {@code run} blocks until the JVM shuts down.
     *
     * @throws IllegalArgumentException on bad arguments (status 2 from {@link #main}).
     */
    public static int execute(final String[] args, final PrintStream out)
    {
        if (args.length > 0 && !args[0].startsWith("-"))
        {
            switch (args[0])
            {
                case "run":
                    return run(Arrays.copyOfRange(args, 1, args.length), out);
                case "token":
                case "keys":
                    return AuthCommands.execute(args, out);
                case "config":
                    return ConfigCommand.run(Arrays.copyOfRange(args, 1, args.length), out);
                case "stat":
                    return StatCommand.run(Arrays.copyOfRange(args, 1, args.length), out);
                case "cert":
                    return cert(args, out);
                default:
                    throw new IllegalArgumentException("unknown command '" + args[0] + "' (try --help)");
            }
        }
        return run(args, out);
    }

    static int run(final String[] args, final PrintStream out)
    {
        final Properties merged = new Properties();
        if (!parseSettings(args, 0, merged, null, out))
        {
            return 0;
        }
        final Broker broker = Broker.launch(new Broker.Context(merged));
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            broker.close();
            stopped.countDown();
        }, "skylark-shutdown"));
        try
        {
            stopped.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** Takes a command's own options ({@code --name value}); returns false when the option is not one of them. */
    @FunctionalInterface
    interface OptionSink
    {
        boolean accept(String name, String value);
    }

    /**
     * Reads {@code --config FILE} and {@code --NAME VALUE | --NAME=VALUE} settings from {@code args[from..]} into
     * {@code merged} (file, then {@code -Dskylark.*} JVM flags, then command-line flags); options the sink takes
     * are not settings.
     *
     * @return false when help was asked for (and printed).
     */
    static boolean parseSettings(
        final String[] args, final int from, final Properties merged, final OptionSink options, final PrintStream out)
    {
        return parseSettings(args, from, merged, options, out, new Properties());
    }

    /** As above, and records where each given setting came from ({@code file}, {@code jvm} or {@code flag}). */
    static boolean parseSettings(
        final String[] args,
        final int from,
        final Properties merged,
        final OptionSink options,
        final PrintStream out,
        final Properties sources)
    {
        final Properties fromFile = new Properties();
        final Properties fromFlags = new Properties();
        for (int i = from; i < args.length; i++)
        {
            final String arg = args[i];
            if ("--help".equals(arg) || "-h".equals(arg))
            {
                usage(out);
                return false;
            }
            if (!arg.startsWith("--"))
            {
                throw new IllegalArgumentException("unexpected argument '" + arg + "' (try --help)");
            }
            String name = arg.substring(2);
            String value;
            final int equals = name.indexOf('=');
            if (equals >= 0)
            {
                value = name.substring(equals + 1);
                name = name.substring(0, equals);
            }
            else if (i + 1 < args.length)
            {
                value = args[++i];
            }
            else
            {
                throw new IllegalArgumentException("--" + name + " needs a value");
            }
            if ("config".equals(name))
            {
                load(Path.of(value), fromFile);
                continue;
            }
            if (options != null && options.accept(name, value))
            {
                continue;
            }
            fromFlags.setProperty(name.startsWith(Configuration.PREFIX) ? name : Configuration.PREFIX + name, value);
        }

        merged.putAll(fromFile);
        fromFile.stringPropertyNames().forEach((name) -> sources.setProperty(name, "file"));
        for (final String name : System.getProperties().stringPropertyNames())
        {
            if (name.startsWith(Configuration.PREFIX))
            {
                merged.setProperty(name, System.getProperty(name));
                sources.setProperty(name, "jvm flag");
            }
        }
        merged.putAll(fromFlags);
        fromFlags.stringPropertyNames().forEach((name) -> sources.setProperty(name, "command line"));
        return true;
    }

    /**
     * {@code skylark cert self-signed [--host NAME]... [--out DIR] [--days N]}: a certificate for local use, and the
     * settings that make the TLS listeners use it.
     */
    public static int cert(final String[] args, final PrintStream out)
    {
        if (args.length < 2 || !"self-signed".equals(args[1]))
        {
            throw new IllegalArgumentException("usage: skylark cert self-signed [--host NAME]... [--out DIR] [--days N]");
        }
        final List<String> hosts = new ArrayList<>();
        Path dir = Path.of("tls");
        int days = 825;
        for (int i = 2; i < args.length; i++)
        {
            if (i + 1 >= args.length)
            {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            switch (args[i])
            {
                case "--host" -> hosts.add(args[++i]);
                case "--out" -> dir = Path.of(args[++i]);
                case "--days" -> days = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
            }
        }
        if (hosts.isEmpty())
        {
            hosts.add("localhost");
            hosts.add("127.0.0.1");
        }
        final SelfSignedCertificate.Files files = SelfSignedCertificate.create(dir, hosts, days);
        out.println("made a self-signed certificate for " + String.join(", ", hosts) + " (valid " + days + " days):");
        out.println("  " + files.certificate() + "   certificate (give it to clients: mosquitto_sub --cafile ...)");
        out.println("  " + files.privateKey() + "    private key (PKCS#8, keep it secret)");
        out.println("  " + files.keystore() + "  PKCS#12 with both (its random password is in " +
            files.keystorePassword() + ")");
        out.println("use it with:");
        out.println("  java -jar skylark.jar --tls.cert " + files.certificate() + " --tls.key " + files.privateKey());
        return 0;
    }

    private static void load(final Path file, final Properties into)
    {
        try (InputStream in = Files.newInputStream(file))
        {
            into.load(in);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read config file " + file + ": " + ex.getMessage());
        }
    }

    private static void usage(final PrintStream out)
    {
        out.println("usage: skylark [run] [--config FILE] [--NAME VALUE]...");
        out.println("       skylark token issue [--count N] [--client-id ID]... [--ttl 48h] [--pub FILTER]... [--sub FILTER]...");
        out.println("       skylark token revoke|unrevoke JTI...    skylark token revocations");
        out.println("       skylark keys                           skylark keys rotate");
        out.println("  (token and keys work on the data directory: --data.dir DIR, or --config FILE)");
        out.println("       skylark stat [--data.dir DIR] [--once] [--interval-ms N]   live counters of a running broker");
        out.println("       skylark config [same settings as run]   the effective configuration and where each value came from");
        out.println("       skylark cert self-signed [--host NAME]... [--out DIR] [--days N]");
        out.println();
        out.println("Settings (also -Dskylark.NAME=VALUE JVM flags, or NAME=VALUE lines in the config file):");
        for (final Map.Entry<String, Configuration.Setting> entry : Configuration.settings().entrySet())
        {
            final Configuration.Setting setting = entry.getValue();
            out.printf("  %-32s %-10s %s%n", setting.name(), setting.defaultValue(), setting.description());
        }
    }
}
