package dev.skylark.broker.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.ArrayList;
import java.util.List;

/** {@code skylark run [--config FILE] [--NAME VALUE]...}: runs the broker (also what {@code skylark} alone does). */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
    description = {
        "Runs the broker until SIGTERM or SIGINT (graceful stop, exit status 0); SIGHUP reloads what can change live.",
        "  --config FILE      a properties file (NAME=VALUE lines, with or without the skylark. prefix)",
        "  --NAME VALUE       any setting below, with or without its skylark. prefix (also --NAME=VALUE)"})
final class RunCommand extends CliCommand
{
    @Unmatched
    List<String> settings = new ArrayList<>();

    @Override
    public Integer call()
    {
        return SkylarkMain.run(settings, out);
    }
}
