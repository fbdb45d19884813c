package dev.skylark.broker.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.io.IOException;
import java.io.PrintStream;
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
        return SessionAdminCommandLine.run("sessions", "delete", "sessions", "DELETE", args, out);
    }
}
