package dev.skylark.broker.cli;

import dev.skylark.broker.Configuration;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The command line of {@code skylark clients} and {@code skylark sessions}: {@code list [--filter F] [--limit N]} or
 * one action on {@code --client ID}, then {@code [--url URL] [--data.dir DIR | --token T]}, sent to the broker's admin
 * API through {@link RetainedCommand#submitAndWait}. One parser for both commands.
 */
final class SessionAdminCommandLine
{
    private SessionAdminCommandLine()
    {
    }

    static int run(
        final String command,
        final String action,
        final String actionPath,
        final String actionMethod,
        final String[] args,
        final PrintStream out) throws IOException, InterruptedException
    {
        if (args.length == 0 || !("list".equals(args[0]) || action.equals(args[0])))
        {
            throw new IllegalArgumentException(command + " needs a command: list or " + action);
        }
        final boolean one = action.equals(args[0]);
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
                default -> throw new IllegalArgumentException(command + ": unexpected argument '" + args[i] + "'");
            }
        }
        if (one)
        {
            if (client == null || client.isEmpty())
            {
                throw new IllegalArgumentException(command + " " + action + " needs --client ID");
            }
            query.setLength(0);
            RetainedCommand.param(query, "client", client);
        }
        if (token == null)
        {
            token = Files.readString(Path.of(dataDir, "auth", "admin-token")).trim();
        }
        final String path = (one ? actionPath : command) + (query.length() > 0 ? "?" + query : "");
        return RetainedCommand.submitAndWait(url, path, one ? actionMethod : "GET", token, out);
    }
}
