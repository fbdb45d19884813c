package dev.skylark.broker.auth;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What a first start in token mode shows: two ready-to-use tokens and the commands to try them. The tokens grant
 * access, so they go to an interactive terminal only; when stdout is collected (a service, a container, a pipe) they
 * go to {@value #TOKENS_FILE_NAME} (permissions 0600) in the auth directory, and the log names that file.
 */
public final class FirstStart
{
    /** Validity of the tokens printed on first start. */
    public static final long WELCOME_TOKEN_TTL_S = 24 * 3600;
    /** The only topics the tokens printed on first start may publish and subscribe to. */
    public static final String WELCOME_TOKEN_FILTER = "demo/#";

    private static final System.Logger LOG = System.getLogger(FirstStart.class.getName());

    /** File in the auth directory that holds the first-start tokens when no terminal is attached. */
    public static final String TOKENS_FILE_NAME = "first-start-tokens.txt";

    /** Where the first-start tokens may be shown. */
    public enum Output
    {
        /** An interactive terminal ({@code System.console() != null}): print them. */
        TERMINAL,
        /** Anything else: write them to a 0600 file and log only its path. */
        FILE;

        /** {@link #TERMINAL} when this JVM has an interactive console. */
        public static Output detect()
        {
            return System.console() != null ? TERMINAL : FILE;
        }
    }

    private FirstStart()
    {
    }

    /**
     * Shows the first-start tokens: printed on {@code out} for a terminal, otherwise written to
     * {@code AUTH_DIR/}{@value #TOKENS_FILE_NAME} (0600) with only that path logged.
     *
     * @return the file written, or null when printed.
     */
    public static Path announce(final AuthService auth, final String bindAddress, final int port, final PrintStream out,
        final Output output)
    {
        if (output == Output.TERMINAL)
        {
            printWelcome(auth, bindAddress, port, out);
            return null;
        }
        final ByteArrayOutputStream text = new ByteArrayOutputStream();
        printWelcome(auth, bindAddress, port, new PrintStream(text, true, StandardCharsets.UTF_8));
        final Path file = auth.settings().authDir().resolve(TOKENS_FILE_NAME).toAbsolutePath();
        SecureFiles.writeOwnerOnly(file, text.toString(StandardCharsets.UTF_8));
        // Logged rather than printed: with skylark.log.format=json every line a collector reads stays JSON.
        LOG.log(System.Logger.Level.INFO, "First start, token authentication is on: no terminal attached, so the two " +
            "tokens to try it are in " + file + " (readable by this user only; delete it once read)");
        return file;
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
