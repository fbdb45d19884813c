package dev.skylark.broker;

import dev.skylark.broker.auth.AuthService;
import dev.skylark.broker.auth.PasswordFile;
import dev.skylark.broker.status.LogSetup;

import java.util.Set;

/**
 * What a running broker reloads on SIGHUP, registered once with its {@link ReloadRegistry}: connection limits, the log
 * level and format, the TLS certificate, the authorization rules file, revocations and keys, and the password file.
 * Called by {@link Broker} after the agents and listeners exist.
 */
final class BrokerReloads
{
    private BrokerReloads()
    {
    }

    static void register(
        final ReloadRegistry reloads, final Broker.Context context, final BrokerAgents agents, final Listeners listeners)
    {
        reloads.register("connection limits", Set.of(Configuration.MAX_CONNECTIONS_PROP_NAME,
            Configuration.MAX_CONNECTIONS_PER_ADDRESS_PROP_NAME), (settings) ->
        {
            final int overall = Configuration.getInt(settings, Configuration.MAX_CONNECTIONS_PROP_NAME);
            final int perAddress = Configuration.getInt(settings, Configuration.MAX_CONNECTIONS_PER_ADDRESS_PROP_NAME);
            if (overall == context.maxConnections && perAddress == context.maxConnectionsPerAddress)
            {
                return null;
            }
            final String what = Configuration.MAX_CONNECTIONS_PROP_NAME + " " + context.maxConnections + " -> " +
                overall + ", " + Configuration.MAX_CONNECTIONS_PER_ADDRESS_PROP_NAME + " " +
                context.maxConnectionsPerAddress + " -> " + perAddress;
            agents.limiter.limits(overall, perAddress);
            context.maxConnections = overall;
            context.maxConnectionsPerAddress = perAddress;
            return what;
        });
        reloads.register("log level", Set.of(Configuration.LOG_LEVEL_PROP_NAME, Configuration.LOG_FORMAT_PROP_NAME),
            (settings) ->
            {
                final String level = Configuration.get(settings, Configuration.LOG_LEVEL_PROP_NAME);
                final String format = Configuration.get(settings, Configuration.LOG_FORMAT_PROP_NAME);
                if (level.equals(context.logLevel) && format.equals(context.logFormat))
                {
                    return null;
                }
                LogSetup.apply(level, format);
                context.logLevel = level;
                context.logFormat = format;
                return "level " + level + ", format " + format;
            });
        reloads.register("tls certificate", Set.of(Configuration.TLS_CERT_PROP_NAME, Configuration.TLS_KEY_PROP_NAME,
            Configuration.TLS_KEYSTORE_PROP_NAME, Configuration.TLS_KEYSTORE_PASSWORD_PROP_NAME), listeners::reloadTls);
        if (context.aclFile != null && !context.aclFile.isEmpty())
        {
            reloads.register("acl file", Set.of(), (settings) ->
            {
                if (!agents.accessControl.reload())
                {
                    throw new IllegalStateException(context.aclFile + " not reloaded: the rules in force stay");
                }
                return context.aclFile + " reloaded";
            });
        }
        if (agents.auth != null)
        {
            reloads.register("revocations and keys", Set.of(), (settings) ->
            {
                final AuthService auth = agents.auth;
                final int revokedBefore = auth.revocations().list().size();
                final String kidBefore = auth.keyRing().signingKey().getKeyId();
                final int keysBefore = auth.keyRing().keys().size();
                auth.refresh();
                final int revoked = auth.revocations().list().size();
                final String kid = auth.keyRing().signingKey().getKeyId();
                final int keys = auth.keyRing().keys().size();
                return revoked == revokedBefore && kid.equals(kidBefore) && keys == keysBefore ? null :
                    revoked + " revoked token id(s), " + keys + " key(s), signing with " + kid;
            });
            if (agents.auth.passwords() != null)
            {
                reloads.register("password file", Set.of(), (settings) ->
                {
                    final PasswordFile passwords = agents.auth.passwords();
                    passwords.reload(); // a file that no longer parses throws: the previous users stay
                    return passwords.path() + ": " + passwords.size() + " user(s)";
                });
            }
        }
    }
}
