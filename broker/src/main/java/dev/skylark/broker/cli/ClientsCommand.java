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
 * {@code skylark clients list|kick [--filter F] [--limit N] [--client ID] [--url URL] [--data.dir DIR | --token T]}: lists the connected clients or disconnects one (DISCONNECT 0x98 Administrative action; its session stays as its expiry says)
 * through a running broker's admin API (the bearer token is read from {@code DIR/auth/admin-token} unless given), and
 * prints the JSON answer.
 */
@Command(name = "clients", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
    description = {
        "A running broker's connected clients, through its admin API (kick: DISCONNECT 0x98).",
        "  list [--filter GLOB|PREFIX] [--limit N] | kick --client ID   [--url URL] [--data.dir DIR | --token T]"})
final class ClientsCommand extends CliCommand
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
            throw new IllegalArgumentException("clients: " + ex.getMessage(), ex);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    static int run(final String[] args, final PrintStream out) throws IOException, InterruptedException
    {
        if (args.length == 0 || !("list".equals(args[0]) || "kick".equals(args[0])))
        {
            throw new IllegalArgumentException("clients needs a command: list or kick");
        }
        final boolean one = "kick".equals(args[0]);
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
                default -> throw new IllegalArgumentException("clients: unexpected argument '" + args[i] + "'");
            }
        }
        if (one)
        {
            if (client == null || client.isEmpty())
            {
                throw new IllegalArgumentException("clients kick needs --client ID");
            }
            query.setLength(0);
            RetainedCommand.param(query, "client", client);
        }
        if (token == null)
        {
            token = Files.readString(Path.of(dataDir, "auth", "admin-token")).trim();
        }
        final String path = (one ? "clients/kick" : "clients") + (query.length() > 0 ? "?" + query : "");
        return RetainedCommand.submitAndWait(url, path,
            one ? "POST" : "GET", token, out);
    }
}
