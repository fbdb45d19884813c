package dev.skylark.broker.cli;

import dev.skylark.broker.auth.PasswordFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code skylark passwd}: add, change, set and delete users in a Mosquitto-format file. */
class PasswdCommandTest
{
    @TempDir
    Path dir;

    private String run(final String stdin, final String... args)
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        assertEquals(0, PasswdCommand.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            new PrintStream(bytes, true, StandardCharsets.UTF_8)));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static byte[] utf8(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void addChangeSetDeleteInTheDataDirectorysFileByDefault() throws Exception
    {
        final String data = dir.resolve("data").toString();
        assertTrue(run("", "passwd", "add", "alice", "--password", "one", "--data.dir", data).contains("saved alice"));
        final Path file = dir.resolve("data").resolve("auth").resolve("passwd");
        assertTrue(Files.readString(file).startsWith("alice:$7$101$"), Files.readString(file));
        run("two\n", "passwd", "change", "alice", "--data.dir", data);                     // password from stdin
        run("", "passwd", "set", "bob", "--password", "b", "--hash", "sha512", "--data.dir", data);
        PasswordFile passwords = new PasswordFile(file);
        assertFalse(passwords.verify("alice", utf8("one")));
        assertTrue(passwords.verify("alice", utf8("two")));
        assertTrue(passwords.verify("bob", utf8("b")));
        assertTrue(Files.readString(file).contains("bob:$6$"));

        assertThrows(IllegalArgumentException.class, () -> run("", "passwd", "add", "alice", "--password", "x",
            "--data.dir", data), "add of an existing user");
        assertThrows(IllegalArgumentException.class, () -> run("", "passwd", "change", "carol", "--password", "x",
            "--data.dir", data), "change of a missing user");
        assertThrows(IllegalArgumentException.class, () -> run("", "passwd", "add", "carol", "--data.dir", data),
            "no password at all");
        assertThrows(IllegalArgumentException.class, () -> run("", "passwd", "rename", "carol"), "unknown command");

        run("", "passwd", "delete", "bob", "--data.dir", data);
        passwords = new PasswordFile(file);
        assertEquals(1, passwords.size());
        assertFalse(passwords.contains("bob"));
    }

    @Test
    void theConfiguredFileAndMosquittoPasswdAgree() throws Exception
    {
        final Path file = dir.resolve("mosquitto.passwd");
        run("", "passwd", "add", "dev-1", "--password", "pw-1", "--auth.password.file", file.toString(),
            "--iterations", "1000");
        assertTrue(Files.readString(file).startsWith("dev-1:$7$1000$"));
        if (hasMosquittoPasswd())
        {
            final Process process = new ProcessBuilder(List.of("mosquitto_passwd", "-b", file.toString(), "dev-2", "pw-2"))
                .redirectErrorStream(true).start();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, process.exitValue());
        }
        run("", "passwd", "set", "dev-3", "--password", "pw-3", "--file", file.toString());
        final PasswordFile passwords = new PasswordFile(file);
        assertTrue(passwords.verify("dev-1", utf8("pw-1")));
        assertTrue(passwords.verify("dev-3", utf8("pw-3")));
        if (hasMosquittoPasswd())
        {
            assertTrue(passwords.verify("dev-2", utf8("pw-2")), "mosquitto_passwd kept our lines, we kept its");
        }
    }

    @Test
    void tokenIssueWritesTheConfiguredAudienceAndIssuer() throws Exception
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        assertEquals(0, SkylarkMain.execute(new String[]{ "token", "issue", "--client-id", "dev-9",
            "--data.dir", dir.toString(), "--auth.audience", "mqtt.example.com", "--auth.issuer", "ops" },
            new PrintStream(bytes, true, StandardCharsets.UTF_8)));
        final String json = bytes.toString(StandardCharsets.UTF_8);
        final String token = json.substring(json.indexOf("\"dev-9\":\"") + 9, json.lastIndexOf('"'));
        final String claims = new String(java.util.Base64.getUrlDecoder().decode(token.split("\\.")[1]),
            StandardCharsets.UTF_8);
        assertTrue(claims.contains("\"aud\":\"mqtt.example.com\""), claims);
        assertTrue(claims.contains("\"iss\":\"ops\""), claims);
    }

    private static boolean hasMosquittoPasswd()
    {
        for (final String entry : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
        {
            if (Files.isExecutable(Path.of(entry, "mosquitto_passwd")))
            {
                return true;
            }
        }
        return false;
    }
}
