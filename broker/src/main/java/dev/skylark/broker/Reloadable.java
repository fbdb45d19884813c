package dev.skylark.broker;

import java.util.Properties;

/**
 * A part of a running broker that can take new settings, or re-read its files, without a restart: registered with
 * {@link ReloadRegistry#register(String, java.util.Set, Reloadable)} and called on SIGHUP
 * ({@link Broker#reload(Properties)}), on the thread that handles the signal, never on an agent's thread.
 */
@FunctionalInterface
public interface Reloadable
{
    /**
     * Applies the new settings (all of them, validated; each part reads its own) and re-reads the files it owns.
     *
     * @param settings the {@code skylark.*} settings as given now (file, environment, JVM flags, command line).
     * @return what changed, one short phrase ("certificate CN=broker.example, valid until ..."), or null when
     * nothing did.
     * @throws Exception when the new state cannot be loaded: the part keeps its old state and the error is logged.
     */
    String reload(Properties settings) throws Exception;
}
