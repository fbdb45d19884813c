package dev.skylark.broker.cli;

import dev.skylark.broker.Configuration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code skylark sessions list|delete [--filter F] [--limit N] [--client ID] [--url URL] [--data.dir DIR | --token T]}: lists sessions (connected or not: expiry, subscriptions, queued and in-flight) or ends one (its client disconnected first)
 * through a running broker's admin API (the bearer token is read from {@code DIR/auth/admin-token} unless given), and
 * prints the JSON answer.
 */
@Command(name = "sessions", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
    description = {
        "A running broker's sessions, through its admin API (delete ends one).",
        "  list [--filter GLOB|PREFIX] [--limit N] | delete --client ID   [--url URL] [--data.dir DIR | --token T]"})
final class SessionsCommand extends CliCommand
{
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call()
    {
        try
        {
            return run(args.toArray(new String[0]), out);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("sessions: " + ex.getMessage(), ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    static int run(final String[] args, final PrintStream out) throws IOException, InterruptedException
    {
        if (args.length == 0 || !("list".equals(args[0]) || "delete".equals(args[0])))
        {
            throw new IllegalArgumentException("sessions needs a command: list or delete");
        }
        final boolean one = "delete".equals(args[0]);
        String dataDir = System.getProperty(Configuration.DATA_DIR_PROP_NAME, Configuration.DATA_DIR_DEFAULT);
        String url = "http://127.0.0.1:" + Configuration.HTTP_PORT_DEFAULT;
        String token = null;
        String client = null;
        final StringBuilder query = new StringBuilder();
        for (int i = 1; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--filter" -> RetainedCommand.param(query, "filter", RetainedCommand.value(args, ++i));
                case "--limit" -> RetainedCommand.param(query, "limit", RetainedCommand.value(args, ++i));
                case "--client" -> client = RetainedCommand.value(args, ++i);
                case "--url" -> url = RetainedCommand.value(args, ++i);
                case "--token" -> token = RetainedCommand.value(args, ++i);
                case "--data.dir", "--skylark.data.dir" -> dataDir = RetainedCommand.value(args, ++i);
                default -> throw new IllegalArgumentException("sessions: unexpected argument '" + args[i] + "'");
            }
        }
        if (one)
        {
            if (client == null || client.isEmpty())
            {
                throw new IllegalArgumentException("sessions delete needs --client ID");
            }
            query.setLength(0);
            RetainedCommand.param(query, "client", client);
        }
        if (token == null)
        {
            token = Files.readString(Path.of(dataDir, "auth", "admin-token")).trim();
        }
        final String path = (one ? "sessions" : "sessions") + (query.length() > 0 ? "?" + query : "");
        return RetainedCommand.submitAndWait(url, path,
            one ? "DELETE" : "GET", token, out);
    }
}
