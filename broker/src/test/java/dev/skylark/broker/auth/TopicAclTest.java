package dev.skylark.broker.auth;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopicAclTest
{
    private static boolean topic(final TopicAcl acl, final String topic)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(("xx" + topic).getBytes(StandardCharsets.UTF_8));
        return acl.allowsTopic(buffer, 2, buffer.capacity() - 2); // at an offset, like a packet
    }

    private static boolean filter(final TopicAcl acl, final String filter)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(filter.getBytes(StandardCharsets.UTF_8));
        return acl.allowsFilter(buffer, 0, buffer.capacity());
    }

    @Test
    void absentClaimAllowsEverythingAndEmptyListNothing()
    {
        assertSame(TopicAcl.ALL, TopicAcl.of(null));
        assertTrue(topic(TopicAcl.ALL, "a/b"));
        assertTrue(filter(TopicAcl.ALL, "#"));
        final TopicAcl none = TopicAcl.of(List.of());
        assertFalse(topic(none, "a"));
        assertFalse(filter(none, "a"));
    }

    @Test
    void publishMatchesWildcards()
    {
        final TopicAcl acl = TopicAcl.of(List.of("sensors/+/temp", "devices/d1/#"));
        assertTrue(topic(acl, "sensors/k1/temp"));
        assertFalse(topic(acl, "sensors/k1/humidity"));
        assertFalse(topic(acl, "sensors/k1/temp/x"));
        assertTrue(topic(acl, "devices/d1"));
        assertTrue(topic(acl, "devices/d1/a/b"));
        assertFalse(topic(acl, "devices/d2/a"));
        assertFalse(topic(TopicAcl.of(List.of("#")), "$SYS/x"));
    }

    @Test
    void subscriptionMustBeCoveredByAnAllowedFilter()
    {
        final TopicAcl acl = TopicAcl.of(List.of("sensors/+/temp", "devices/d1/#"));
        assertTrue(filter(acl, "sensors/k1/temp"));
        assertTrue(filter(acl, "sensors/+/temp"));
        assertFalse(filter(acl, "sensors/#"));
        assertFalse(filter(acl, "sensors/+/+"));
        assertFalse(filter(acl, "#"));
        assertTrue(filter(acl, "devices/d1"));
        assertTrue(filter(acl, "devices/d1/#"));
        assertTrue(filter(acl, "devices/d1/+/x"));
        assertFalse(filter(acl, "devices/+/x"));
        assertTrue(filter(acl, "$share/g/devices/d1/#"));
        assertFalse(filter(acl, "$share/g/devices/#"));
        assertFalse(filter(TopicAcl.of(List.of("#")), "$SYS/#"));
        assertTrue(filter(TopicAcl.of(List.of("#")), "a/+/#"));
        assertTrue(filter(TopicAcl.of(List.of("+/#")), "a/b"));
        assertFalse(filter(TopicAcl.of(List.of("a/+")), "a/#"));
    }

    @Test
    void publishCheckAllocatesNothing()
    {
        final TopicAcl acl = TopicAcl.of(List.of("a/b", "sensors/+/temp", "devices/d1/#"));
        final UnsafeBuffer allowed = new UnsafeBuffer("devices/d1/x/y".getBytes(StandardCharsets.UTF_8));
        final UnsafeBuffer denied = new UnsafeBuffer("devices/d2/x/y".getBytes(StandardCharsets.UTF_8));
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)java.lang.management.ManagementFactory.getThreadMXBean();
        int hits = 0;
        for (int i = 0; i < 20_000; i++) // warm up (JIT)
        {
            hits += acl.allowsTopic(allowed, 0, allowed.capacity()) ? 1 : 0;
            hits += acl.allowsTopic(denied, 0, denied.capacity()) ? 1 : 0;
        }
        final long id = Thread.currentThread().getId();
        final long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 100_000; i++)
        {
            hits += acl.allowsTopic(allowed, 0, allowed.capacity()) ? 1 : 0;
            hits += acl.allowsTopic(denied, 0, denied.capacity()) ? 1 : 0;
        }
        final long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(hits == 120_000, "every allowed topic matched once per round");
        assertTrue(allocated < 1024, "200,000 checks allocated " + allocated + " bytes");
    }

    @Test
    void invalidFiltersInAClaimAreRefused()
    {
        assertThrows(IllegalArgumentException.class, () -> TopicAcl.of(List.of("a/#/b")));
        assertThrows(IllegalArgumentException.class, () -> TopicAcl.of(List.of("")));
        assertThrows(IllegalArgumentException.class, () -> TopicAcl.of(List.of("$share/g/a")));
    }
}
