package dev.skylark.broker.auth;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing both formats, first-match decisions, substitution, and the start-up errors, without a broker. */
class AccessRulesTest
{
    private static AccessRules skylark(final boolean defaultAllow, final String... lines)
    {
        return AccessRules.parse("acl.conf", List.of(lines), AccessRules.Format.AUTO, defaultAllow);
    }

    private static boolean pub(final ClientAccess access, final String topic)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(topic.getBytes(StandardCharsets.UTF_8));
        return access.mayPublish(buffer, 0, buffer.capacity());
    }

    @Test
    void firstMatchWinsThenTheDefault()
    {
        final AccessRules rules = skylark(false,
            "# telemetry",
            "deny    publish   all          devices/%c/secret",
            "allow   publish   client~dev-* devices/%c/#",
            "allow   both      user:alice   alice/#");
        final ClientAccess dev = rules.forClient("dev-1", null);
        assertTrue(pub(dev, "devices/dev-1/t"));
        assertTrue(pub(dev, "devices/dev-1"), "'x/#' also matches 'x'");
        assertFalse(pub(dev, "devices/dev-1/secret"), "the earlier deny decides");
        assertFalse(pub(dev, "devices/dev-2/t"), "%c is the client's own id");
        assertFalse(pub(dev, "alice/t"), "default deny");
        assertEquals("acl.conf:2 (deny publish devices/%c/secret)",
            dev.describe(dev.publishRule(new UnsafeBuffer("devices/dev-1/secret".getBytes()), 0, 20)));
        final ClientAccess alice = rules.forClient("web-3", "alice");
        assertTrue(pub(alice, "alice/x"));
        assertTrue(alice.maySubscribe("alice/#"));
        assertFalse(alice.maySubscribe("#"), "'#' is not covered by 'alice/#'");
        assertFalse(rules.forClient("other", null).maySubscribe("alice/x"));
        assertTrue(skylark(true, "deny subscribe all x").forClient("c", null).maySubscribe("y"), "default allow");
    }

    @Test
    void aFilterReachingADeniedTopicIsRefusedWhole()
    {
        final ClientAccess access = skylark(true, "deny subscribe all r/secret").forClient("c", null);
        assertFalse(access.maySubscribe("r/#"));
        assertFalse(access.maySubscribe("r/+"));
        assertFalse(access.maySubscribe("+/secret"));
        assertTrue(access.maySubscribe("r/open"));
        assertTrue(access.maySubscribe("+/open"));
        assertTrue(access.maySubscribe("$r/#"), "a leading wildcard never reaches a '$' topic, nor the reverse");
    }

    @Test
    void sharedRulesNameTheGroup()
    {
        final ClientAccess backend = skylark(false,
            "allow subscribe client~backend-* $share/ingest/devices/+/telemetry",
            "deny  subscribe all $share/+/#",
            "allow subscribe all devices/#").forClient("backend-1", null);
        assertTrue(backend.maySubscribe("$share/ingest/devices/+/telemetry"));
        assertTrue(backend.maySubscribe("$share/ingest/devices/d1/telemetry"));
        assertFalse(backend.maySubscribe("$share/other/devices/+/telemetry"), "another group");
        assertFalse(backend.maySubscribe("$share/ingest/devices/#"), "wider than the rule");
        assertTrue(backend.maySubscribe("devices/#"), "plain subscriptions are not shared ones");
    }

    @Test
    void substitutionNeverWidensARule()
    {
        final AccessRules rules = skylark(false, "deny publish all x/%c", "allow publish all devices/%c/#",
            "allow publish all users/%u/#");
        final ClientAccess wild = rules.forClient("+", null);
        assertFalse(pub(wild, "devices/a/t"), "an allow with a wildcard client id does not apply");
        assertFalse(pub(wild, "x/y"), "a deny with a wildcard client id denies everything");
        assertFalse(pub(rules.forClient("c", null), "users/null/t"), "%u without a user name: rule skipped");
        assertTrue(pub(rules.forClient("c", "u1"), "users/u1/t"));
    }

    @Test
    void mosquittoFormat()
    {
        final AccessRules rules = skylark(true,
            "# from mosquitto",
            "topic read public/#",
            "user alice",
            "topic alice/#",
            "topic deny alice/secret",
            "user bob",
            "topic write bob/out",
            "pattern read clients/%u/in",
            "pattern write clients/%c/out");
        assertFalse(rules.defaultAllow(), "a Mosquitto file denies what no line allows");
        final ClientAccess anonymous = rules.forClient("a1", null);
        assertTrue(anonymous.maySubscribe("public/x"));
        assertFalse(pub(anonymous, "public/x"), "read only");
        final ClientAccess alice = rules.forClient("c-alice", "alice");
        assertTrue(pub(alice, "alice/x"));
        assertFalse(alice.maySubscribe("public/x"), "anonymous lines are for clients without a user name");
        assertTrue(alice.maySubscribe("clients/alice/in"));
        assertTrue(pub(alice, "clients/c-alice/out"));
        final ClientAccess bob = rules.forClient("c-bob", "bob");
        assertTrue(pub(bob, "bob/out"));
        assertFalse(bob.maySubscribe("bob/out"));
    }

    @Test
    void anythingNotUnderstoodNamesFileLineAndWhy()
    {
        assertEquals("acl.conf:2: 'permit' is not allow or deny",
            assertThrows(AccessRulesException.class, () -> skylark(false, "# x", "permit publish all a")).getMessage());
        assertEquals("acl.conf:1: 'friends' is not all, anonymous, user:<name>, client:<id>, user~<glob> or client~<glob>",
            assertThrows(AccessRulesException.class, () -> skylark(false, "allow publish friends a")).getMessage());
        assertEquals("acl.conf:1: 'a/#/b' is not a valid topic filter",
            assertThrows(AccessRulesException.class, () -> skylark(false, "allow publish all a/#/b")).getMessage());
        assertEquals("acl.conf:1: '$share/g/a': a $share/ rule is about subscribing only",
            assertThrows(AccessRulesException.class, () -> skylark(false, "allow both all $share/g/a")).getMessage());
        assertEquals("acl.conf:2: access 'readonly' is not read, write, readwrite or deny",
            assertThrows(AccessRulesException.class, () -> skylark(false, "user a", "topic readonly x")).getMessage());
        assertEquals("acl.conf:1: 'auth_plugin' is not supported (Mosquitto acl_file: user, topic, pattern; see " +
            "docs/authorization.md)", assertThrows(AccessRulesException.class, () -> AccessRules.parse("acl.conf",
            List.of("auth_plugin x"), AccessRules.Format.MOSQUITTO, false)).getMessage());
    }

    @Test
    void publishingAllocatesNothing()
    {
        final ClientAccess access = skylark(false, "deny publish all a/b", "allow publish all devices/%c/#")
            .forClient("d", null);
        final UnsafeBuffer topic = new UnsafeBuffer("devices/d/telemetry".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 10_000; i++)
        {
            access.mayPublish(topic, 0, topic.capacity()); // warm up
        }
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)java.lang.management.ManagementFactory.getThreadMXBean();
        final long before = threads.getCurrentThreadAllocatedBytes();
        boolean all = true;
        for (int i = 0; i < 100_000; i++)
        {
            all &= access.mayPublish(topic, 0, topic.capacity());
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(all);
        // One object per decision would be at least 1.6 MB; what is left is the JIT's and the JVM's own noise.
        assertTrue(allocated < 64 * 1024, "allocated " + allocated + " bytes for 100k decisions");
    }

    /** The ten-line telemetry file of docs/authorization.md parses and means what the page says. */
    @Test
    void theReadmeExampleMeansWhatItSays() throws Exception
    {
        final java.nio.file.Path readme = java.nio.file.Path.of("..", "docs", "authorization.md");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isReadable(readme), "docs/authorization.md beside broker/");
        final String text = java.nio.file.Files.readString(readme);
        final int section = text.indexOf("## A telemetry deployment in ten lines");
        assertTrue(section >= 0, "docs/authorization.md has the ten-line example");
        final int start = text.indexOf("```\n", section) + 4;
        final List<String> lines = List.of(text.substring(start, text.indexOf("```", start)).split("\n"));
        assertEquals(10, lines.size(), "ten lines");
        final AccessRules rules = AccessRules.parse("README", lines, AccessRules.Format.AUTO, false);
        final ClientAccess device = rules.forClient("dev-1", null);
        assertTrue(pub(device, "devices/dev-1/telemetry"));
        assertFalse(pub(device, "devices/dev-2/telemetry"));
        assertFalse(pub(device, "devices/dev-1/secrets/key"), "the first line denies secrets to everyone");
        assertTrue(device.maySubscribe("commands/dev-1/#"));
        assertFalse(device.maySubscribe("dashboards/#"));
        final ClientAccess backend = rules.forClient("backend-1", null);
        assertTrue(backend.maySubscribe("$share/ingest/devices/+/telemetry"));
        assertFalse(backend.maySubscribe("$share/other/devices/+/telemetry"));
        assertFalse(backend.maySubscribe("devices/#"));
        final ClientAccess browser = rules.forClient("b-9", "browser-9");
        assertTrue(browser.maySubscribe("dashboards/#"));
        assertFalse(pub(browser, "dashboards/x"));
        assertFalse(browser.maySubscribe("devices/+/telemetry"));
    }
}
