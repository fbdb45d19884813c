package dev.skylark.broker.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.io.IOException;
import java.io.PrintStream;
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
        return SessionAdminCommandLine.run("clients", "kick", "clients/kick", "POST", args, out);
    }
}
