package dev.skylark.broker.auth;

import java.io.PrintStream;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** What a first start in token mode prints: two ready-to-use tokens and the commands to try them. */
public final class FirstStart
{
    /** Validity of the tokens printed on first start. */
    public static final long WELCOME_TOKEN_TTL_S = 24 * 3600;
    /** The only topics the tokens printed on first start may publish and subscribe to. */
    public static final String WELCOME_TOKEN_FILTER = "demo/#";

    private FirstStart()
    {
    }

    public static void printWelcome(final AuthService auth, final String bindAddress, final int port, final PrintStream out)
    {
        final Map<String, String> tokens = auth.issuer().issue(
            new TokenIssuer.Request(2, List.of(), WELCOME_TOKEN_TTL_S, List.of(WELCOME_TOKEN_FILTER),
                List.of(WELCOME_TOKEN_FILTER)));
        final Iterator<Map.Entry<String, String>> it = tokens.entrySet().iterator();
        final Map.Entry<String, String> sub = it.next();
        final Map.Entry<String, String> pub = it.next();
        final String host = "0.0.0.0".equals(bindAddress) || "::".equals(bindAddress) ? "127.0.0.1" : bindAddress;
        final StringBuilder text = new StringBuilder();
        text.append("\n=== Skylark: first start, token authentication is on ===\n")
            .append("Created the Ed25519 signing key in ").append(auth.settings().authDir().toAbsolutePath()).append('\n')
            .append("Two tokens to try it (valid 24 h, limited to the topics ").append(WELCOME_TOKEN_FILTER)
            .append("; one client id connects once at a time, so one each):\n")
            .append("  client id ").append(sub.getKey()).append("  token ").append(sub.getValue()).append('\n')
            .append("  client id ").append(pub.getKey()).append("  token ").append(pub.getValue()).append('\n')
            .append("\nmosquitto:\n")
            .append("  mosquitto_sub -h ").append(host).append(" -p ").append(port).append(" -V mqttv5 -i ").append(sub.getKey())
            .append(" -u ").append(sub.getKey()).append(" -P '").append(sub.getValue()).append("' -t 'demo/#' -v\n")
            .append("  mosquitto_pub -h ").append(host).append(" -p ").append(port).append(" -V mqttv5 -i ").append(pub.getKey())
            .append(" -u ").append(pub.getKey()).append(" -P '").append(pub.getValue()).append("' -t demo/hello -m 'hi'\n")
            .append("\nMQTT.js:\n")
            .append("  npx mqtt sub -h ").append(host).append(" -p ").append(port).append(" -i ").append(sub.getKey())
            .append(" -u ").append(sub.getKey()).append(" -P '").append(sub.getValue()).append("' -t 'demo/#' -v\n")
            .append("  mqtt.connect('mqtt://").append(host).append(':').append(port).append("', { clientId: '")
            .append(pub.getKey()).append("', username: '").append(pub.getKey()).append("', password: '")
            .append(pub.getValue()).append("' }).publish('demo/hello', 'hi')\n")
            .append("\nThese two may only use ").append(WELCOME_TOKEN_FILTER).append(" topics. Tokens for other topics:\n")
            .append("  skylark token issue --count 5 --ttl 48h [--pub FILTER] [--sub FILTER]\n")
            .append("========================================================\n");
        out.print(text);
        out.flush();
    }
}
