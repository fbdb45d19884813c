package dev.skylark.broker.cli;

import java.io.PrintStream;
import java.util.concurrent.Callable;

/**
 * A {@code skylark} command: a class annotated with picocli's {@code @Command} (with
 * {@code mixinStandardHelpOptions = true}, so it answers {@code --help} and {@code --version}), listed in
 * {@link SkylarkMain#COMMANDS}. {@link #call()} runs it after parsing and returns the exit status; it prints to
 * {@link #out}; bad input is an {@link IllegalArgumentException} (exit status 2, the message printed).
 */
public abstract class CliCommand implements Callable<Integer>
{
    /** Where the command prints (standard output, or a test's stream). */
    protected PrintStream out = System.out;

    @Override
    public abstract Integer call();
}
