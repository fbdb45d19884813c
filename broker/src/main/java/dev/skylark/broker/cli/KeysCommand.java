package dev.skylark.broker.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.ArrayList;
import java.util.List;

/** {@code skylark keys [rotate]}: the signing keys in the data directory (see {@link AuthCommands}). */
@Command(name = "keys", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
    description = {"Prints the public signing keys as a JWK set [--data.dir DIR].",
        "  keys rotate        makes a new signing key (the old ones still verify)"},
    subcommands = KeysCommand.Rotate.class)
final class KeysCommand extends CliCommand
{
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call()
    {
        final List<String> all = new ArrayList<>(List.of("keys"));
        all.addAll(args);
        return AuthCommands.execute(all.toArray(new String[0]), out);
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
        description = "Makes a new signing key: {\"kid\": ...} [--data.dir DIR].")
    static final class Rotate extends CliCommand
    {
        @Unmatched
        List<String> args = new ArrayList<>();

        @Override
        public Integer call()
        {
            final List<String> all = new ArrayList<>(List.of("keys", "rotate"));
            all.addAll(args);
            return AuthCommands.execute(all.toArray(new String[0]), out);
        }
    }
}
