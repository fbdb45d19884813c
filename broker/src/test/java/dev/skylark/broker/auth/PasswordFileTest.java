package dev.skylark.broker.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The Mosquitto password file: files made by the real mosquitto_passwd, both hash types, edits, reloads. */
class PasswordFileTest
{
    @TempDir
    Path dir;

    static boolean hasMosquittoPasswd()
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

    /** Runs mosquitto_passwd (batch mode) and waits for it. */
    static void mosquittoPasswd(final String... args) throws Exception
    {
        final List<String> command = new java.util.ArrayList<>(List.of("mosquitto_passwd"));
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "mosquitto_passwd finished");
        assertEquals(0, process.exitValue(), output);
    }

    private static byte[] ascii(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsBothHashTypesMadeByMosquittoPasswd() throws Exception
    {
        assumeTrue(hasMosquittoPasswd(), "mosquitto_passwd not on PATH");
        final Path file = dir.resolve("passwd");
        mosquittoPasswd("-c", "-b", file.toString(), "alice", "s3cret-ä");            // $7$ (default)
        mosquittoPasswd("-H", "sha512", "-b", file.toString(), "bob", "hunter2");      // $6$
        mosquittoPasswd("-H", "sha512-pbkdf2", "-b", file.toString(), "carol", "x");
        final String text = Files.readString(file);
        assertTrue(text.contains("alice:$7$101$"), text);
        assertTrue(text.contains("bob:$6$"), text);

        final PasswordFile passwords = new PasswordFile(file);
        assertEquals(3, passwords.size());
        assertTrue(passwords.verify("alice", ascii("s3cret-ä")), "PBKDF2-SHA512, UTF-8 password");
        assertTrue(passwords.verify("bob", ascii("hunter2")), "salted SHA-512");
        assertTrue(passwords.verify("carol", ascii("x")));
        assertFalse(passwords.verify("alice", ascii("s3cret-a")), "one character off");
        assertFalse(passwords.verify("alice", ascii("s3cret-ä ")), "one byte longer");
        assertFalse(passwords.verify("bob", ascii("hunter")), "one byte shorter");
        assertFalse(passwords.verify("alice", ascii("hunter2")), "another user's password");
        assertFalse(passwords.verify("dave", ascii("x")), "unknown user");
        assertFalse(passwords.verify(null, ascii("x")), "no user");
        assertFalse(passwords.verify("alice", null), "no password");
    }

    @Test
    void hashesWrittenHereAreReadByMosquittoPasswdsFormatAndBack() throws Exception
    {
        final Path file = dir.resolve("passwd");
        PasswordFile.edit(file, PasswordFile.Edit.ADD, "alice",
            PasswordFile.hash(PasswordFile.Scheme.PBKDF2_SHA512, ascii("pw-a"), 101, new SecureRandom()));
        PasswordFile.edit(file, PasswordFile.Edit.ADD, "bob",
            PasswordFile.hash(PasswordFile.Scheme.SHA512, ascii("pw-b"), 0, new SecureRandom()));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        final List<String> lines = Files.readAllLines(file);
        assertTrue(lines.get(0).matches("alice:\\$7\\$101\\$[A-Za-z0-9+/]{16}\\$[A-Za-z0-9+/]{86}=="), lines.get(0));
        assertTrue(lines.get(1).matches("bob:\\$6\\$[A-Za-z0-9+/]{16}\\$[A-Za-z0-9+/]{86}=="), lines.get(1));
        final PasswordFile passwords = new PasswordFile(file);
        assertTrue(passwords.verify("alice", ascii("pw-a")));
        assertTrue(passwords.verify("bob", ascii("pw-b")));

        if (hasMosquittoPasswd())
        {
            // mosquitto_passwd rewrites a file it can read: it keeps our lines and adds its own
            mosquittoPasswd("-b", file.toString(), "carol", "pw-c");
            final PasswordFile both = new PasswordFile(file);
            assertTrue(both.verify("alice", ascii("pw-a")));
            assertTrue(both.verify("carol", ascii("pw-c")));
        }
    }

    @Test
    void pbkdf2OfRawBytesIsTheJdksPbkdf2WithHmacSha512ForUtf8() throws Exception
    {
        final byte[] salt = new byte[12];
        new SecureRandom().nextBytes(salt);
        for (final String password : new String[]{ "a", "correct horse battery staple", "päss", "x".repeat(200) })
        {
            final byte[] jdk = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA512")
                .generateSecret(new PBEKeySpec(password.toCharArray(), salt, 101, 512)).getEncoded();
            assertArrayEquals(jdk, PasswordFile.pbkdf2HmacSha512(ascii(password), salt, 101), password);
        }
    }

    @Test
    void anythingNotUnderstoodStopsTheLoadWithFileAndLine() throws Exception
    {
        final Path file = dir.resolve("passwd");
        final String good = "alice:" + PasswordFile.hash(PasswordFile.Scheme.PBKDF2_SHA512, ascii("a"), 101, new SecureRandom());
        final String[][] cases = {
            { "bob:plaintext", "not a hashed password" },
            { "bob:$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", "unsupported hash '$argon2id$'" },
            { "bob:$7$0$AAAAAAAAAAAAAAAA$" + "A".repeat(86) + "==", "iterations must be between 1" },
            { "bob:$7$10001$AAAAAAAAAAAAAAAA$" + "A".repeat(86) + "==", "iterations must be between 1" },
            { "bob:$7$x$AAAAAAAAAAAAAAAA$" + "A".repeat(86) + "==", "malformed $7$" },
            { "bob:$6$AAAAAAAAAAAAAAAA$AAAA", "hash of 3 bytes" },
            { "bob:$6$!!!$" + "A".repeat(86) + "==", "malformed $6$" },
            { "no-colon-here", "expected 'user:hash'" },
            { good, "appears twice" },
        };
        for (final String[] c : cases)
        {
            Files.writeString(file, "# comment\n" + good + "\n\n" + c[0] + "\n");
            final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new PasswordFile(file), c[0]);
            assertTrue(ex.getMessage().contains(file + ":4: "), ex.getMessage());
            assertTrue(ex.getMessage().contains(c[1]), ex.getMessage());
        }
        // the boundaries themselves load
        Files.writeString(file, "a:$7$1$AAAAAAAAAAAAAAAA$" + "A".repeat(86) + "==\nb:$7$10000$AAAAAAAAAAAAAAAA$" +
            "A".repeat(86) + "==\n");
        assertEquals(2, new PasswordFile(file).size());
    }

    @Test
    void changesAreReloadedAndABrokenFileKeepsTheOldUsers() throws Exception
    {
        final Path file = dir.resolve("passwd");
        PasswordFile.edit(file, PasswordFile.Edit.ADD, "alice",
            PasswordFile.hash(PasswordFile.Scheme.PBKDF2_SHA512, ascii("one"), 101, new SecureRandom()));
        final PasswordFile passwords = new PasswordFile(file);
        assertFalse(passwords.refreshIfChanged(), "unchanged");
        assertTrue(passwords.verify("alice", ascii("one")));

        PasswordFile.edit(file, PasswordFile.Edit.CHANGE, "alice",
            PasswordFile.hash(PasswordFile.Scheme.PBKDF2_SHA512, ascii("two"), 101, new SecureRandom()));
        PasswordFile.edit(file, PasswordFile.Edit.SET, "bob",
            PasswordFile.hash(PasswordFile.Scheme.SHA512, ascii("b"), 0, new SecureRandom()));
        assertTrue(passwords.refreshIfChanged() || reloaded(passwords), "changed");
        assertFalse(passwords.verify("alice", ascii("one")), "old password gone");
        assertTrue(passwords.verify("alice", ascii("two")));
        assertTrue(passwords.verify("bob", ascii("b")));

        Files.writeString(file, "alice:oops\n");
        assertThrows(IllegalArgumentException.class, passwords::reload);
        assertTrue(passwords.verify("alice", ascii("two")), "the previous users stay");

        PasswordFile.edit(dir.resolve("other"), PasswordFile.Edit.ADD, "x",
            PasswordFile.hash(PasswordFile.Scheme.SHA512, ascii("x"), 0, new SecureRandom()));
        assertThrows(IllegalArgumentException.class, () -> PasswordFile.edit(dir.resolve("other"),
            PasswordFile.Edit.ADD, "x", "$6$AAAA$AAAA"), "add of an existing user");
        assertThrows(IllegalArgumentException.class, () -> PasswordFile.edit(dir.resolve("other"),
            PasswordFile.Edit.DELETE, "y", null), "delete of a missing user");
        assertThrows(IllegalArgumentException.class, () -> PasswordFile.edit(dir.resolve("other"),
            PasswordFile.Edit.ADD, "a:b", "$6$AAAA$AAAA"), "':' in a user name");
        PasswordFile.edit(dir.resolve("other"), PasswordFile.Edit.DELETE, "x", null);
        assertEquals(0, new PasswordFile(dir.resolve("other")).size());
    }

    /** Same-second rewrites of a same-size file may keep mtime and size: then an explicit reload must see them. */
    private static boolean reloaded(final PasswordFile passwords)
    {
        passwords.reload();
        return true;
    }
}
