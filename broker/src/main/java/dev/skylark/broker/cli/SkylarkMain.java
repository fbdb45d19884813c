package dev.skylark.broker.cli;

import dev.skylark.broker.Broker;
import dev.skylark.broker.Configuration;
import dev.skylark.broker.journal.DataDirectoryLock;
import dev.skylark.broker.net.SelfSignedCertificate;
import dev.skylark.broker.status.BuildInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code skylark} command, on picocli: {@code skylark [run] [--config FILE] [--NAME VALUE | --NAME=VALUE]...}
 * runs the broker; NAME is any setting with or without its {@code skylark.} prefix ({@code --mqtt.port 1884}).
 * Settings come from the defaults, then the file, then {@code SKYLARK_*} environment variables, then JVM flags
 * ({@code -Dskylark.*}), then command-line flags, each overriding the last. Every command answers {@code --help}
 * and {@code --version}.
 * <p>
 * Adding a command is one class annotated with {@code @Command} that extends {@link CliCommand}, and one line in
 * {@link #COMMANDS}.
 */
@Command(name = "skylark", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
    description = "A low-latency MQTT 3.1.1 / 5.0 broker. Without a command: run the broker.",
    synopsisSubcommandLabel = "[COMMAND]")
public final class SkylarkMain extends CliCommand
{
    private static final System.Logger LOG = System.getLogger(SkylarkMain.class.getName());

    /** The commands, in the order {@code --help} lists them: one line each. */
    static final List<Class<? extends CliCommand>> COMMANDS = List.of(
        RunCommand.class,
        TokenCommand.class,
        KeysCommand.class,
        StatCommand.class,
        ConfigCommand.class,
        CertCommand.class,
        PasswdCommand.class,
        RetainedCommand.class,
        ClientsCommand.class,
        SessionsCommand.class);

    /** Options of {@code skylark} itself rather than settings for {@code run}. */
    private static final java.util.Set<String> TOP_LEVEL_OPTIONS = java.util.Set.of("-h", "--help", "-V", "--version");

    /** The properties file read when no {@code --config} is given (bin/skylark sets it to conf/skylark.properties). */
    static final String CONF_VARIABLE = "SKYLARK_CONF";

    @Unmatched
    List<String> settings = new ArrayList<>();

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
        catch (final DataDirectoryLock.DataDirectoryLockedException ex)
        {
            System.err.println("skylark: " + ex.getMessage());
            System.exit(1);
        }
    }

    /**
     * Runs a command in-process and returns its exit status; {@code run} blocks until the broker is stopped (SIGTERM
     * or SIGINT).
     *
     * @throws IllegalArgumentException on bad arguments (status 2 from {@link #main}).
     */
    public static int execute(final String[] args, final PrintStream out)
    {
        final CommandLine commandLine = commandLine(out);
        final CommandLine.ParseResult parsed;
        try
        {
            parsed = commandLine.parseArgs(withDefaultCommand(args));
        }
        catch (final CommandLine.ParameterException ex)
        {
            throw new IllegalArgumentException(ex.getMessage() + " (try --help)", ex);
        }
        try
        {
            if (CommandLine.printHelpIfRequested(parsed))
            {
                return 0;
            }
        }
        finally
        {
            commandLine.getOut().flush();
        }
        CommandLine.ParseResult last = parsed;
        while (last.subcommand() != null)
        {
            last = last.subcommand();
        }
        final CliCommand command = last.commandSpec().commandLine().getCommand();
        command.out = out;
        return command.call();
    }

    /**
     * Settings without a command mean {@code run}: said explicitly, so that a setting whose value is also a command's
     * name ({@code --auth.mode token}) is read as a value, not as the {@code token} command.
     */
    static String[] withDefaultCommand(final String[] args)
    {
        if (args.length == 0 || !args[0].startsWith("-") || TOP_LEVEL_OPTIONS.contains(args[0]))
        {
            return args;
        }
        final String[] run = new String[args.length + 1];
        run[0] = "run";
        System.arraycopy(args, 0, run, 1, args.length);
        return run;
    }

    /** The command tree, printing help and version to {@code out}. */
    static CommandLine commandLine(final PrintStream out)
    {
        final CommandLine commandLine = new CommandLine(new SkylarkMain());
        for (final Class<? extends CliCommand> command : COMMANDS)
        {
            commandLine.addSubcommand(command);
        }
        commandLine.setUsageHelpWidth(140);
        commandLine.setOut(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true));
        final String settingsHelp = settingsHelp();
        commandLine.getCommandSpec().usageMessage().footer(settingsHelp);
        commandLine.getSubcommands().get("run").getCommandSpec().usageMessage().footer(settingsHelp);
        return commandLine;
    }

    @Override
    public Integer call()
    {
        return run(settings, out);
    }

    /** {@code skylark --version}: the version the build wrote into the jar (also when run from classes). */
    static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            return new String[]{ "skylark " + version(), "Java " + Runtime.version() + " (" +
                System.getProperty("java.vendor", "?") + ")" };
        }
    }

    /** The broker's version, e.g. {@code 0.1.0-SNAPSHOT}, or {@code unknown}: the one the start line and /metrics show. */
    public static String version()
    {
        return BuildInfo.VERSION;
    }

    /**
     * Runs the broker until SIGTERM or SIGINT, then stops it gracefully ({@link Broker#shutdown()}) and returns 0.
     * SIGHUP reads the same sources again and reloads what can change live ({@link Broker#reload(Properties)}).
     */
    static int run(final List<String> argList, final PrintStream out)
    {
        final String[] args = argList.toArray(new String[0]);
        final Properties merged = new Properties();
        if (!parseSettings(args, 0, merged, null, out))
        {
            return 0;
        }
        final Broker broker = Broker.launch(new Broker.Context(merged));
        final CountDownLatch stop = new CountDownLatch(1);
        final boolean signals = Signals.onStop(stop::countDown);
        Signals.onReload(() ->
        {
            final Properties again = new Properties();
            try
            {
                parseSettings(args, 0, again, null, out);
            }
            catch (final IllegalArgumentException ex)
            {
                LOG.log(System.Logger.Level.WARNING, "reload refused, nothing changed: " + ex.getMessage());
                return;
            }
            broker.reload(again);
        });
        // Without signal handlers (-Xrs), and for System.exit from elsewhere: close on the JVM's way out.
        final Thread hook = new Thread(broker::close, "skylark-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (!signals)
        {
            LOG.log(System.Logger.Level.WARNING, "no SIGTERM handler: a stop closes the broker without its drain");
        }
        try
        {
            stop.await();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        broker.shutdown();
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
        return parseSettings(args, from, merged, options, out, sources, System.getenv());
    }

    /** As above, with the environment given (tests). */
    static boolean parseSettings(
        final String[] args,
        final int from,
        final Properties merged,
        final OptionSink options,
        final PrintStream out,
        final Properties sources,
        final Map<String, String> environment)
    {
        final Properties fromFile = new Properties();
        final Properties fromFlags = new Properties();
        boolean configGiven = false;
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
                configGiven = true;
                load(Path.of(value), fromFile);
                continue;
            }
            if (options != null && options.accept(name, value))
            {
                continue;
            }
            fromFlags.setProperty(name.startsWith(Configuration.PREFIX) ? name : Configuration.PREFIX + name, value);
        }

        final String defaultFile = environment.getOrDefault(CONF_VARIABLE, "");
        if (!configGiven && !defaultFile.isEmpty())
        {
            load(Path.of(defaultFile), fromFile); // the launcher's conf/skylark.properties; --config wins
        }
        merged.putAll(fromFile);
        fromFile.stringPropertyNames().forEach((name) -> sources.setProperty(name, "file"));
        final List<String> unknown = new ArrayList<>();
        for (final Map.Entry<String, String> variable : new TreeMap<>(environment).entrySet())
        {
            final String key = variable.getKey();
            if (!key.startsWith(Configuration.ENV_PREFIX) || Configuration.ENV_RESERVED.contains(key))
            {
                continue;
            }
            final String name = Configuration.settingOfEnvironmentVariable(key);
            if (name == null)
            {
                unknown.add(key);
                continue;
            }
            merged.setProperty(name, variable.getValue());
            sources.setProperty(name, "environment " + key);
        }
        if (!unknown.isEmpty())
        {
            // Not refused: other tools share the prefix (perf-scripts export SKYLARK_JAR, SKYLARK_ARGS, ...), and the
            // environment is not the operator's to clean. A typo is still said, loudly, and ignored.
            LOG.log(System.Logger.Level.WARNING, "ignoring environment variable(s) " + String.join(", ", unknown) +
                ": no such setting (SKYLARK_ then the setting's name in upper case, dots as underscores)");
        }
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

    /** Reads a properties file; names without the {@code skylark.} prefix get it ({@code mqtt.port=1884}). */
    private static void load(final Path file, final Properties into)
    {
        try (InputStream in = Files.newInputStream(file))
        {
            final Properties raw = new Properties();
            raw.load(in);
            for (final String name : raw.stringPropertyNames())
            {
                into.setProperty(Configuration.fullName(name), raw.getProperty(name));
            }
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read config file " + file + ": " + ex.getMessage());
        }
    }

    private static void usage(final PrintStream out)
    {
        commandLine(out).usage(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true));
    }

    /** The settings, with defaults: the footer of {@code skylark --help} and {@code skylark run --help}. */
    static String settingsHelp()
    {
        final StringBuilder text = new StringBuilder(
            "%nSettings (--NAME VALUE; also NAME=VALUE lines in the --config file, SKYLARK_NAME environment variables"
            + " and -Dskylark.NAME=VALUE JVM flags; precedence: command line > JVM flag > environment > file >"
            + " default):%n");
        for (final Map.Entry<String, Configuration.Setting> entry : Configuration.settings().entrySet())
        {
            final Configuration.Setting setting = entry.getValue();
            text.append(String.format("  %-32s %-10s %s", setting.name(), setting.defaultValue(),
                setting.description()).replace("%", "%%")).append("%n");
        }
        text.append("%nSignals: SIGHUP reloads what can change live (see docs/operations.md); SIGTERM and SIGINT stop"
            + " gracefully.%n");
        return text.toString();
    }
}
