package dev.skylark.broker;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigurationTest
{
    @Test
    void defaultsAreValid()
    {
        assertTrue(Configuration.validate(new Properties()).isEmpty());
        final Broker.Context context = new Broker.Context(new Properties()).conclude();
        assertEquals(Configuration.MQTT_PORT_DEFAULT, context.mqttPort());
        assertEquals(Configuration.HTTP_PORT_DEFAULT, context.httpPort());
    }

    @Test
    void unknownNamesAndBadValuesAreNamed()
    {
        final Properties properties = new Properties();
        properties.setProperty("skylark.mqtt.prot", "1884");
        properties.setProperty("skylark.io.threads", "zero");
        properties.setProperty("skylark.mqtt.port", "70000");
        properties.setProperty("skylark.idle.strategy", "sleepy");
        properties.setProperty("skylark.inbound.ring.capacity", "3000000");
        properties.setProperty("unrelated.name", "ignored");
        final List<String> problems = Configuration.validate(properties);
        assertEquals(5, problems.size(), problems.toString());
        final String all = String.join("\n", problems);
        assertTrue(all.contains("unknown setting 'skylark.mqtt.prot'"), all);
        assertTrue(all.contains("skylark.io.threads='zero': not a whole number"), all);
        assertTrue(all.contains("skylark.mqtt.port='70000': must be between -1 and 65535"), all);
        assertTrue(all.contains("skylark.idle.strategy='sleepy': must be one of [park, spin]"), all);
        assertTrue(all.contains("must be a power of two"), all);

        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new Broker.Context(properties));
        assertTrue(ex.getMessage().contains("skylark.mqtt.prot"), ex.getMessage());
    }

    @Test
    void hostedPresetSetsDefaultsThatExplicitSettingsOverride()
    {
        final Properties properties = new Properties();
        properties.setProperty("skylark.preset", "hosted");
        assertEquals(String.valueOf(64 * 1024 + 512), Configuration.get(properties, "skylark.max.packet.size"));
        assertEquals("23", Configuration.get(properties, "skylark.client.id.max.length"));
        assertEquals("10", Configuration.get(properties, "skylark.rate.limit.packets"));
        assertEquals("8", Configuration.get(properties, "skylark.topic.max.depth"));
        properties.setProperty("skylark.topic.max.depth", "12");
        assertEquals("12", Configuration.get(properties, "skylark.topic.max.depth"));
        assertEquals("1883", Configuration.get(properties, "skylark.mqtt.port"), "untouched by the preset");
        new Broker.Context(properties).conclude();
    }

    @Test
    void boundariesOfARange()
    {
        final Properties properties = new Properties();
        properties.setProperty("skylark.io.threads", "0");
        assertEquals(1, Configuration.validate(properties).size());
        properties.setProperty("skylark.io.threads", "1");
        assertTrue(Configuration.validate(properties).isEmpty());
        properties.setProperty("skylark.io.threads", "256");
        assertTrue(Configuration.validate(properties).isEmpty());
        properties.setProperty("skylark.io.threads", "257");
        assertEquals(1, Configuration.validate(properties).size());
    }

    @Test
    void concludeChecksThePacketSizeAgainstTheRings()
    {
        final Properties properties = new Properties();
        properties.setProperty("skylark.max.packet.size", String.valueOf(4 * 1024 * 1024));
        properties.setProperty("skylark.inbound.ring.capacity", String.valueOf(16 * 1024 * 1024));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> new Broker.Context(properties).conclude());
        assertTrue(ex.getMessage().contains("skylark.max.packet.size"), ex.getMessage());
    }

    /** A fluent setter gets the same range check as its property, at conclude(). */
    @Test
    void settersAreCheckedAtTheirBoundaries()
    {
        assertRejected(fresh().ioThreads(0), Configuration.IO_THREADS_PROP_NAME);
        fresh().ioThreads(1).conclude();
        fresh().ioThreads(256).conclude();
        assertRejected(fresh().ioThreads(257), Configuration.IO_THREADS_PROP_NAME);

        assertRejected(fresh().connectTimeoutMs(99), Configuration.CONNECT_TIMEOUT_MS_PROP_NAME);
        fresh().connectTimeoutMs(100).conclude();

        fresh().keepAliveMax(65_535).conclude();
        assertRejected(fresh().keepAliveMax(65_536), Configuration.KEEP_ALIVE_MAX_PROP_NAME);

        fresh().maximumQos(2).conclude();
        assertRejected(fresh().maximumQos(3), Configuration.MAXIMUM_QOS_PROP_NAME);

        assertRejected(fresh().mqttPort(-2), Configuration.MQTT_PORT_PROP_NAME);
        fresh().mqttPort(65_535).conclude();
        assertRejected(fresh().mqttPort(65_536), Configuration.MQTT_PORT_PROP_NAME);

        assertRejected(fresh().inboundRingCapacity(3 * 1024 * 1024), Configuration.INBOUND_RING_CAPACITY_PROP_NAME);
    }

    /** Ring records hold a packet and 256 bytes of headers, and a ring holds at least 8 records. */
    @Test
    void packetSizeAgainstTheRingsAtTheBoundary()
    {
        final int ring = 64 * 1024;
        final int largest = ring / 8 - 256;
        fresh().inboundRingCapacity(ring).outboundRingCapacity(ring).maxPacketSize(largest).conclude();
        assertRejected(fresh().inboundRingCapacity(ring).outboundRingCapacity(ring).maxPacketSize(largest + 1),
            Configuration.MAX_PACKET_SIZE_PROP_NAME);
    }

    /** With a journal, a packet and its 64 KB of headers must fit Aeron's largest message (16 MB). */
    @Test
    void packetSizeAgainstTheJournalsAeronMessageLength()
    {
        final int ring = 1 << 30;
        final int largest = 16 * 1024 * 1024 - 64 * 1024;
        fresh().durability(Durability.OS).inboundRingCapacity(ring).outboundRingCapacity(ring)
            .maxPacketSize(largest).conclude();
        assertRejected(fresh().durability(Durability.OS).inboundRingCapacity(ring).outboundRingCapacity(ring)
            .maxPacketSize(largest + 1), Configuration.MAX_PACKET_SIZE_PROP_NAME);
        fresh().durability(Durability.NONE).inboundRingCapacity(ring).outboundRingCapacity(ring)
            .maxPacketSize(largest + 1).conclude();
    }

    @Test
    void invokerThreadingNeedsNoJournal()
    {
        fresh().threadingMode(ThreadingMode.INVOKER).durability(Durability.NONE).conclude();
        assertRejected(fresh().threadingMode(ThreadingMode.INVOKER).durability(Durability.OS),
            Configuration.DURABILITY_PROP_NAME);
    }

    @Test
    void modesAreNamedByTheirPropertyValues()
    {
        final Properties properties = new Properties();
        properties.setProperty(Configuration.THREADING_PROP_NAME, "shared");
        properties.setProperty(Configuration.DURABILITY_PROP_NAME, "fsync");
        final Broker.Context context = new Broker.Context(properties);
        assertEquals(ThreadingMode.SHARED, context.threadingMode());
        assertEquals(Durability.FSYNC, context.durability());
        assertEquals(ThreadingMode.DEDICATED, ThreadingMode.named("auto", 4));
        assertEquals(ThreadingMode.SHARED, ThreadingMode.named("auto", 2));
        assertEquals(Durability.NONE, fresh().durability("none").durability());
        assertThrows(IllegalArgumentException.class, () -> fresh().durability("sometimes"));
    }

    private static Broker.Context fresh()
    {
        return new Broker.Context(new Properties());
    }

    /**
     * Issue #15: a message's journal record is cut into parts of at most the link's record length; whatever packet
     * size conclude() accepts, the smallest parts (header and the largest message; one target with 65,535
     * subscription identifiers) fit, so the cut always makes progress.
     */
    @Test
    void theSmallestJournalRecordOfAMessageFitsForEveryAcceptedPacketSize()
    {
        final int ring = 1 << 30;
        for (final int packet : new int[]{ 64, Configuration.MAX_PACKET_SIZE_DEFAULT, 16 * 1024 * 1024 - 64 * 1024 })
        {
            fresh().durability(Durability.OS).inboundRingCapacity(ring).outboundRingCapacity(ring)
                .maxPacketSize(packet).conclude();
            final int recordMax = dev.skylark.broker.ipc.IpcDurableLog.maxRecordLength(
                BrokerAgents.journalRecordSize(packet));
            assertTrue(dev.skylark.broker.routing.DurableLog.MESSAGE_HEADER_LENGTH + 256L + packet <= recordMax,
                packet + " in " + recordMax);
            assertTrue(dev.skylark.broker.routing.DurableLog.SMALLEST_TARGETS_RECORD <= recordMax,
                "one target in " + recordMax);
        }
    }

    private static void assertRejected(final Broker.Context context, final String name)
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, context::conclude);
        assertTrue(ex.getMessage().contains(name), ex.getMessage());
    }

    @Test
    void clusterServerReferenceIsBoundedAndHasNoControlCharacters()
    {
        final Properties properties = new Properties();
        properties.setProperty(Configuration.CLUSTER_SERVER_REFERENCE_PROP_NAME, "a".repeat(1024));
        assertTrue(Configuration.validate(properties).isEmpty(), "1024 characters: accepted");
        properties.setProperty(Configuration.CLUSTER_SERVER_REFERENCE_PROP_NAME, "a".repeat(1025));
        assertEquals(1, Configuration.validate(properties).size(), "1025 characters: refused");
        properties.setProperty(Configuration.CLUSTER_SERVER_REFERENCE_PROP_NAME, "node2:1883\nx");
        assertEquals(1, Configuration.validate(properties).size(), "a control character: refused");
        properties.setProperty(Configuration.CLUSTER_SERVER_REFERENCE_PROP_NAME, "");
        assertTrue(Configuration.validate(properties).isEmpty(), "empty (the default): no reference");
    }
}
