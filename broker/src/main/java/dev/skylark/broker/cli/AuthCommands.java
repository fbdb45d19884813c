package dev.skylark.broker.cli;

import dev.skylark.broker.Broker;
import dev.skylark.broker.auth.AuthService;
import dev.skylark.broker.auth.TokenIssuer;
import org.agrona.concurrent.SystemEpochClock;
import org.jose4j.json.JsonUtil;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * {@code skylark token issue|revoke|unrevoke|revocations} and {@code skylark keys [rotate]}: they work on the data
 * directory's {@code auth/} folder, so a running broker picks their changes up (it watches the files). Output is
 * JSON, one object, for scripts.
 */
final class AuthCommands
{
    private AuthCommands()
    {
    }

    static int execute(final String[] args, final PrintStream out)
    {
        final String command = args[0];
        final String sub = args.length > 1 && !args[1].startsWith("-") ? args[1] : null;
        if ("keys".equals(command))
        {
            if (sub != null && !"rotate".equals(sub))
            {
                throw new IllegalArgumentException("unknown command 'keys " + sub + "' (keys or keys rotate)");
            }
            final Properties settings = new Properties();
            if (!SkylarkMain.parseSettings(args, sub == null ? 1 : 2, settings, null, out))
            {
                return 0;
            }
            try (AuthService auth = open(settings))
            {
                if (sub == null)
                {
                    out.println(auth.keyRing().publicJwks());
                }
                else
                {
                    out.println(JsonUtil.toJson(Map.of("kid", auth.keyRing().rotate())));
                }
            }
            return 0;
        }

        if (sub == null)
        {
            throw new IllegalArgumentException("token needs a command: issue, revoke, unrevoke or revocations");
        }
        switch (sub)
        {
            case "issue":
                return issue(args, out);
            case "revoke":
            case "unrevoke":
                return revoke(args, "revoke".equals(sub), out);
            case "revocations":
            {
                final Properties settings = new Properties();
                if (!SkylarkMain.parseSettings(args, 2, settings, null, out))
                {
                    return 0;
                }
                try (AuthService auth = open(settings))
                {
                    out.println(JsonUtil.toJson(Map.of("revoked", auth.revocations().list())));
                }
                return 0;
            }
            default:
                throw new IllegalArgumentException("unknown command 'token " + sub + "' (issue, revoke, unrevoke, revocations)");
        }
    }

    private static int issue(final String[] args, final PrintStream out)
    {
        final int[] count = {1};
        final long[] ttlS = {TokenIssuer.parseTtlSeconds("24h")};
        final List<String> clientIds = new ArrayList<>();
        final List<String>[] pub = new List[1];
        final List<String>[] subscribe = new List[1];
        final Properties settings = new Properties();
        final boolean go = SkylarkMain.parseSettings(args, 2, settings, (name, value) ->
        {
            switch (name)
            {
                case "count":
                    try
                    {
                        count[0] = Integer.parseInt(value);
                    }
                    catch (final NumberFormatException ex)
                    {
                        throw new IllegalArgumentException("--count needs a number, not '" + value + "'");
                    }
                    return true;
                case "client-id":
                    clientIds.add(value);
                    return true;
                case "ttl":
                    ttlS[0] = TokenIssuer.parseTtlSeconds(value);
                    return true;
                case "pub":
                    (pub[0] == null ? (pub[0] = new ArrayList<>()) : pub[0]).add(value);
                    return true;
                case "sub":
                    (subscribe[0] == null ? (subscribe[0] = new ArrayList<>()) : subscribe[0]).add(value);
                    return true;
                default:
                    return false;
            }
        }, out);
        if (!go)
        {
            return 0;
        }
        try (AuthService auth = open(settings))
        {
            final Map<String, String> tokens = auth.issuer().issue(
                new TokenIssuer.Request(count[0], clientIds, ttlS[0], pub[0], subscribe[0]));
            out.println(JsonUtil.toJson(new LinkedHashMap<>(tokens)));
        }
        return 0;
    }

    private static int revoke(final String[] args, final boolean revoke, final PrintStream out)
    {
        final List<String> jtis = new ArrayList<>();
        int i = 2;
        while (i < args.length && !args[i].startsWith("--"))
        {
            jtis.add(args[i++]);
        }
        if (jtis.isEmpty())
        {
            throw new IllegalArgumentException("token " + (revoke ? "revoke" : "unrevoke") + " needs one or more token ids (jti)");
        }
        final Properties settings = new Properties();
        if (!SkylarkMain.parseSettings(args, i, settings, null, out))
        {
            return 0;
        }
        try (AuthService auth = open(settings))
        {
            final int changed = revoke ? auth.revocations().revoke(jtis) : auth.revocations().unrevoke(jtis);
            out.println(JsonUtil.toJson(Map.of(revoke ? "revoked" : "unrevoked", changed)));
        }
        return 0;
    }

    private static AuthService open(final Properties settings)
    {
        return AuthService.open(new Broker.Context(settings).authSettings(), SystemEpochClock.INSTANCE);
    }
}
