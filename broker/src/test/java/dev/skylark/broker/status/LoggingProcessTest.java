package dev.skylark.broker.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.skylark.broker.auth.FirstStart;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The broker's log as an operator sees it, from a real process (its own JVM, stdout not a terminal, a Chronicle
 * journal, token authentication on a first start): no Chronicle banner, a start line naming the version, zoned
 * timestamps, readable thread names, one line per refused CONNECT, JSON lines with {@code skylark.log.format=json},
 * and the first-start tokens in a 0600 file instead of the output.
 */
class LoggingProcessTest
{
    private static final Pattern LISTENER = Pattern.compile("(?i)mqtt listener on [^:]+:(\\d+)");
    private static final Pattern ZONED_TIME =
        Pattern.compile("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) ");

    @TempDir
    Path dataDir;

    private Process process;
    private final List<String> stdout = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<String> stderr = java.util.Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void stop() throws Exception
    {
        if (process != null && process.isAlive())
        {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS))
            {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void textLogOfARealProcessIsQuietZonedReadableAndKeepsTokensOffTheOutput() throws Exception
    {
        final int port = start();
        final Path tokens = dataDir.resolve("auth").resolve(FirstStart.TOKENS_FILE_NAME);
        waitFor(() -> countContaining(FirstStart.TOKENS_FILE_NAME) > 0, "first-start line");
        final String all = String.join("\n", stdout) + "\n" + String.join("\n", stderr);

        assertFalse(all.contains("Leave your e-mail"), all);
        assertFalse(all.toLowerCase(java.util.Locale.ROOT).contains("chronicle"), "no Chronicle chatter:\n" + all);
        assertFalse(all.contains("[["), "readable thread names:\n" + all);
        assertTrue(all.contains("Skylark " + BuildInfo.VERSION + " started"), all);
        assertFalse(BuildInfo.VERSION.equals("unknown"));
        for (final String line : stderr)
        {
            assertTrue(ZONED_TIME.matcher(line).find(), "timestamp with zone: " + line);
        }

        // First start without a terminal: the tokens are in a 0600 file, never in the output.
        assertTrue(Files.exists(tokens), all);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokens)));
        final Matcher token = Pattern.compile("client id (\\S+)  token (\\S+)")
            .matcher(Files.readString(tokens));
        assertTrue(token.find());
        assertFalse(all.contains(token.group(2)), "token not in the output");
        assertTrue(all.contains(tokens.toAbsolutePath().toString()), "the output names the file:\n" + all);

        // A refused CONNECT (v3.1.1, bad password) is logged once.
        final int before = stderr.size();
        refusedConnect(port, "intruder-7");
        waitFor(() -> countContaining("intruder-7") >= 1, "refusal logged");
        // A later event proves the log has caught up: a second refused client.
        refusedConnect(port, "intruder-8");
        waitFor(() -> countContaining("intruder-8") >= 1, "second refusal logged");
        assertEquals(1, countContaining("intruder-7"), String.join("\n", stderr.subList(before, stderr.size())));
    }

    @Test
    void jsonLogLinesParseWithLevelLoggerMessageAndTimestamp() throws Exception
    {
        start("--log.format", "json");
        final ObjectMapper json = new ObjectMapper();
        assertFalse(stderr.isEmpty());
        boolean startLine = false;
        for (final String line : new ArrayList<>(stderr))
        {
            final JsonNode node = json.readTree(line);
            for (final String field : new String[] {"timestamp", "level", "logger", "message", "thread"})
            {
                assertNotNull(node.get(field), field + " in " + line);
            }
            assertTrue(node.get("timestamp").asText().matches(
                "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)"), line);
            startLine |= node.get("message").asText().startsWith("Skylark " + BuildInfo.VERSION + " started");
        }
        assertTrue(startLine, String.join("\n", stderr));
    }

    private long countContaining(final String text)
    {
        synchronized (stderr)
        {
            return stderr.stream().filter((line) -> line.contains(text)).count();
        }
    }

    /** A v3.1.1 CONNECT with a user name and a password that is no token; waits for the CONNACK. */
    private static void refusedConnect(final int port, final String clientId) throws IOException
    {
        final byte[] id = clientId.getBytes(StandardCharsets.US_ASCII);
        final byte[] password = "not-a-token".getBytes(StandardCharsets.US_ASCII);
        final java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        body.write(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, (byte)0xC2, 0, 60}); // v3.1.1, user+password, clean
        body.write(0);
        body.write(id.length);
        body.write(id);
        body.write(0);
        body.write(id.length);
        body.write(id); // user name = client id
        body.write(0);
        body.write(password.length);
        body.write(password);
        try (Socket socket = new Socket("127.0.0.1", port))
        {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(0x10);
            socket.getOutputStream().write(body.size());
            body.writeTo(socket.getOutputStream());
            final InputStream in = socket.getInputStream();
            assertEquals(0x20, in.read(), "CONNACK");
            assertEquals(2, in.read());
            in.read();
            final int code = in.read();
            assertTrue(code == 4 || code == 5, "refused: " + code);
        }
    }

    private int start(final String... flags) throws Exception
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (final String argument : ManagementFactory.getRuntimeMXBean().getInputArguments())
        {
            if (argument.startsWith("--add-"))
            {
                command.add(argument);
            }
        }
        command.add("-Xmx256m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.skylark.broker.cli.SkylarkMain");
        command.addAll(List.of("--mqtt.port", "0", "--http.port", "-1", "--bind.address", "127.0.0.1",
            "--io.threads", "1", "--threading", "shared", "--auth.mode", "token", "--durability", "os",
            "--data.dir", dataDir.toString()));
        command.addAll(List.of(flags));
        process = new ProcessBuilder(command).start();
        pump(process.getInputStream(), stdout, "stdout");
        pump(process.getErrorStream(), stderr, "stderr");
        waitFor(() -> ready(stdout) || ready(stderr), "broker started");
        synchronized (stderr)
        {
            for (final String line : stderr)
            {
                final Matcher m = LISTENER.matcher(line);
                if (m.find())
                {
                    return Integer.parseInt(m.group(1));
                }
            }
        }
        throw new AssertionError("no listener line:\n" + String.join("\n", stderr));
    }

    private static boolean ready(final List<String> lines)
    {
        synchronized (lines)
        {
            return lines.stream().anyMatch((line) -> line.contains(" started"));
        }
    }

    private void waitFor(final java.util.function.BooleanSupplier condition, final String what) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean())
        {
            if (!process.isAlive())
            {
                fail(what + ": broker exited " + process.exitValue() + "\n" + String.join("\n", stdout) + "\n" +
                    String.join("\n", stderr));
            }
            if (System.nanoTime() > deadline)
            {
                fail(what + ": timed out\n" + String.join("\n", stdout) + "\n" + String.join("\n", stderr));
            }
            try
            {
                process.onExit().get(20, TimeUnit.MILLISECONDS); // waits for the condition, or for the process's end
            }
            catch (final java.util.concurrent.TimeoutException stillRunning)
            {
                // check again
            }
        }
    }

    private static void pump(final InputStream in, final List<String> lines, final String name)
    {
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader reader2 = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = reader2.readLine()) != null)
                {
                    lines.add(line);
                }
            }
            catch (final IOException ignore)
            {
                // process gone
            }
        }, "broker-" + name);
        reader.setDaemon(true);
        reader.start();
    }
}
