package dev.skylark.broker.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.ArrayList;
import java.util.List;

/** {@code skylark cert self-signed [--host NAME]... [--out DIR] [--days N]} (see {@link SkylarkMain#cert}). */
@Command(name = "cert", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
    description = "TLS certificates for local use.", synopsisSubcommandLabel = "COMMAND",
    subcommands = CertCommand.SelfSigned.class)
final class CertCommand extends CliCommand
{
    @Override
    public Integer call()
    {
        throw new IllegalArgumentException("usage: skylark cert self-signed [--host NAME]... [--out DIR] [--days N]");
    }

    @Command(name = "self-signed", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
        description = {"Makes a self-signed certificate and key, and prints the settings that use them.",
            "  --host NAME        a name or address it is for (repeatable; default localhost, 127.0.0.1)",
            "  --out DIR          where to write cert.pem, key.pem, keystore.p12 (default tls)",
            "  --days N           validity (default 825)"})
    static final class SelfSigned extends CliCommand
    {
        @Unmatched
        List<String> args = new ArrayList<>();

        @Override
        public Integer call()
        {
            final List<String> all = new ArrayList<>(List.of("cert", "self-signed"));
            all.addAll(args);
            return SkylarkMain.cert(all.toArray(new String[0]), out);
        }
    }
}
