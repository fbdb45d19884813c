package dev.skylark.broker.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code skylark token issue|revoke|unrevoke|revocations}: tokens, on the data directory's {@code auth/} folder
 * (a running broker picks changes up); the work is {@link AuthCommands}'.
 */
@Command(name = "token", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
    description = "Issues and revokes access tokens (JWT) in the data directory; output is JSON.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = { TokenCommand.Issue.class, TokenCommand.Revoke.class, TokenCommand.Unrevoke.class,
        TokenCommand.Revocations.class })
final class TokenCommand extends CliCommand
{
    @Override
    public Integer call()
    {
        throw new IllegalArgumentException("token needs a command: issue, revoke, unrevoke or revocations");
    }

    /** Hands {@code token SUB ARGS...} to {@link AuthCommands}. */
    abstract static class Sub extends CliCommand
    {
        @Unmatched
        List<String> args = new ArrayList<>();

        abstract String name();

        @Override
        public Integer call()
        {
            final List<String> all = new ArrayList<>(List.of("token", name()));
            all.addAll(args);
            return AuthCommands.execute(all.toArray(new String[0]), out);
        }
    }

    @Command(name = "issue", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
        description = {"Issues tokens: {\"client-id\": \"token\", ...}.",
            "  --count N          how many (1..100; default 1)",
            "  --client-id ID     the token's sub (repeatable; default: random ids)",
            "  --ttl 24h          lifetime (s, m, h, d)",
            "  --pub FILTER       topic filters it may publish to (repeatable; default: all)",
            "  --sub FILTER       topic filters it may subscribe to (repeatable; default: all)",
            "  --data.dir DIR, --config FILE, --NAME VALUE   settings, as for run"})
    static final class Issue extends Sub
    {
        @Override
        String name()
        {
            return "issue";
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
        description = {"Revokes tokens by id (jti): JTI... [--data.dir DIR]; their connections end."})
    static final class Revoke extends Sub
    {
        @Override
        String name()
        {
            return "revoke";
        }
    }

    @Command(name = "unrevoke", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
        description = {"Takes token ids (jti) off the revocation list: JTI... [--data.dir DIR]."})
    static final class Unrevoke extends Sub
    {
        @Override
        String name()
        {
            return "unrevoke";
        }
    }

    @Command(name = "revocations", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
        description = {"Lists the revoked token ids [--data.dir DIR]."})
    static final class Revocations extends Sub
    {
        @Override
        String name()
        {
            return "revocations";
        }
    }
}
