package dev.skylark.broker.cli;

import dev.skylark.broker.Broker;
import dev.skylark.broker.auth.PasswordFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * {@code skylark passwd add|change|set|delete USER [--password P] [--file FILE] [--hash sha512-pbkdf2|sha512]
 * [--iterations N]}: edits the password file of {@code skylark.auth.mode=password} in Mosquitto's format, so
 * {@code mosquitto_passwd} and Skylark read each other's files. Without {@code --password} the password is the first
 * line of standard input (nothing is echoed: {@code read -s P; printf '%s\n' "$P" | skylark passwd add alice}). The
 * file defaults to {@code skylark.auth.password.file}, else {@code <data.dir>/auth/passwd}; a running broker
 * reloads it within {@code skylark.auth.watch.interval.ms}.
 */
@Command(name = "passwd", mixinStandardHelpOptions = true, versionProvider = SkylarkMain.Version.class,
    description = {
        "Edits the password file of skylark.auth.mode=password, in mosquitto_passwd's format.",
        "  add|change|set|delete USER [--password P] [--file FILE] [--hash sha512-pbkdf2|sha512] [--iterations N]",
        "  Without --password the password is the first line of standard input."})
final class PasswdCommand extends CliCommand
{
    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call()
    {
        final String[] all = new String[args.size() + 1];
        all[0] = "passwd";
        for (int i = 0; i < args.size(); i++)
        {
            all[i + 1] = args.get(i);
        }
        return run(all, System.in, out);
    }

    static int run(final String[] args, final InputStream in, final PrintStream out)
    {
        if (args.length < 3 || args[1].startsWith("-") || args[2].startsWith("-"))
        {
            throw new IllegalArgumentException("usage: skylark passwd add|change|set|delete USER [--password P] " +
                "[--file FILE] [--hash sha512-pbkdf2|sha512] [--iterations N]");
        }
        final PasswordFile.Edit edit;
        try
        {
            edit = PasswordFile.Edit.valueOf(args[1].toUpperCase(Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("unknown command 'passwd " + args[1] + "' (add, change, set, delete)", ex);
        }
        final String user = args[2];
        final String[] password = new String[1];
        final String[] file = new String[1];
        final PasswordFile.Scheme[] scheme = {PasswordFile.Scheme.PBKDF2_SHA512};
        final int[] iterations = {PasswordFile.DEFAULT_ITERATIONS};
        final Properties settings = new Properties();
        final boolean go = SkylarkMain.parseSettings(args, 3, settings, (name, value) ->
        {
            switch (name)
            {
                case "password":
                    password[0] = value;
                    return true;
                case "file":
                    file[0] = value;
                    return true;
                case "hash":
                    if ("sha512-pbkdf2".equals(value))
                    {
                        scheme[0] = PasswordFile.Scheme.PBKDF2_SHA512;
                    }
                    else if ("sha512".equals(value))
                    {
                        scheme[0] = PasswordFile.Scheme.SHA512;
                    }
                    else
                    {
                        throw new IllegalArgumentException("--hash must be sha512-pbkdf2 or sha512, not '" + value + "'");
                    }
                    return true;
                case "iterations":
                    try
                    {
                        iterations[0] = Integer.parseInt(value);
                    }
                    catch (final NumberFormatException ex)
                    {
                        throw new IllegalArgumentException("--iterations needs a number, not '" + value + "'");
                    }
                    return true;
                default:
                    return false;
            }
        }, out);
        if (!go)
        {
            return 0;
        }
        final Path path = file[0] != null ? Path.of(file[0]) : new Broker.Context(settings).passwordFile();
        String hash = null;
        if (edit != PasswordFile.Edit.DELETE)
        {
            final String secret = password[0] != null ? password[0] : firstLine(in);
            if (secret == null || secret.isEmpty())
            {
                throw new IllegalArgumentException("no password: give --password or one line on standard input");
            }
            hash = PasswordFile.hash(scheme[0], secret.getBytes(StandardCharsets.UTF_8), iterations[0], new SecureRandom());
        }
        PasswordFile.edit(path, edit, user, hash);
        out.println((edit == PasswordFile.Edit.DELETE ? "deleted " : "saved ") + user + " in " + path);
        return 0;
    }

    private static String firstLine(final InputStream in)
    {
        try
        {
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("cannot read the password from standard input", ex);
        }
    }
}
