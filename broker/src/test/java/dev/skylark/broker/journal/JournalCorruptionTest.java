package dev.skylark.broker.journal;

import dev.skylark.broker.Broker;
import dev.skylark.broker.status.CountersFile;
import dev.skylark.broker.status.CountersSnapshot;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A damaged journal on disk: nothing after the damage is lost, nothing damaged is deleted; files owner-only. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JournalCorruptionTest
{
    private static final int MESSAGES = 100;
    private static final int DAMAGED = 50;

    @TempDir
    Path dataDir;
    private Broker broker;
    private final List<MqttClient> clients = new ArrayList<>();

    private void start()
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .dataDir(dataDir.toString()).durability("os").ioThreads(1));
    }

    @AfterEach
    void stop() throws Exception
    {
        for (final MqttClient c : clients)
        {
            try
            {
                if (c.isConnected())
                {
                    c.disconnectForcibly(100, 100);
                }
                c.close();
            }
            catch (final Exception ignore)
            {
                // best effort
            }
        }
        if (broker != null)
        {
            broker.close();
        }
    }

    @Test
    void aFlippedBitInTheMiddleOfAGenerationLosesOnlyThatRecord() throws Exception
    {
        start();
        final MqttClient sub = client("sub", false, null);
        sub.subscribe("t/#", 1);
        sub.disconnect();
        final MqttClient pub = client("pub", true, null);
        for (int i = 0; i < MESSAGES; i++)
        {
            pub.publish("t/a", payload(i), 1, false); // returns once PUBACK came: acknowledged
        }
        pub.disconnect();
        broker.close();
        broker = null;

        // Bit rot in the middle of the generation holding the 100 records.
        final Path damagedFile = flipBitIn(payload(DAMAGED));
        final byte[] damagedBytes = Files.readAllBytes(damagedFile);

        start();
        final CountersSnapshot counters = CountersSnapshot.of(broker.countersFile().reader());
        assertEquals(1, counters.total("skylark_journal_records_skipped_total"));
        assertEquals(1, counters.total("skylark_journal_generations_quarantined_total"));

        final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        client("sub", false, received);
        for (int i = 0; i < MESSAGES; i++)
        {
            if (i == DAMAGED)
            {
                continue; // the damaged record itself cannot be read
            }
            final String m = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(m, "message " + i + " after restart");
            assertEquals(new String(payload(i), StandardCharsets.US_ASCII), m);
        }
        assertNull(received.poll(200, TimeUnit.MILLISECONDS));

        // The original bytes are kept in quarantine, byte for byte, though the start-up checkpoint replaced them.
        final Path quarantined = dataDir.resolve("journal").resolve(ChronicleJournal.QUARANTINE)
            .resolve(dataDir.resolve("journal").relativize(damagedFile));
        assertTrue(Files.exists(quarantined), quarantined.toString());
        assertEquals(-1, java.util.Arrays.mismatch(damagedBytes, Files.readAllBytes(quarantined)));
        assertTrue(Files.notExists(damagedFile), "the damaged generation left the journal once the checkpoint ended");
    }

    @Test
    void journalAeronDirectoryAndCountersAreOwnerOnly() throws Exception
    {
        start();
        final MqttClient sub = client("sub", false, null);
        sub.subscribe("t/#", 1);
        sub.disconnect();
        client("pub", true, null).publish("t/a", payload(1), 1, false); // acknowledged: appended to the journal

        final List<Path> journal = tree(dataDir.resolve("journal"));
        assertTrue(journal.stream().anyMatch(p -> p.toString().endsWith(".cq4")), journal.toString());
        for (final Path p : journal)
        {
            assertEquals(Files.isDirectory(p) ? "rwx------" : "rw-------", mode(p), p.toString());
        }
        final Path aeron = Path.of("/dev/shm", "skylark-aeron-" +
            Integer.toHexString(dataDir.toAbsolutePath().normalize().toString().hashCode()));
        assertTrue(Files.isDirectory(aeron), aeron.toString());
        assertEquals("rwx------", mode(aeron), aeron.toString());
        for (final Path p : tree(aeron))
        {
            assertEquals(Files.isDirectory(p) ? "rwx------" : "rw-------", mode(p), p.toString());
        }
        assertEquals("rw-------", mode(dataDir.resolve(CountersFile.FILE_NAME)));
    }

    private static String mode(final Path p) throws Exception
    {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static List<Path> tree(final Path root) throws Exception
    {
        try (Stream<Path> walk = Files.walk(root))
        {
            return walk.toList();
        }
    }

    private Path flipBitIn(final byte[] marker) throws Exception
    {
        final List<Path> files;
        try (Stream<Path> walk = Files.walk(dataDir.resolve("journal")))
        {
            files = walk.filter(p -> p.toString().endsWith(".cq4")).toList();
        }
        for (final Path file : files)
        {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE))
            {
                final MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_WRITE, 0, channel.size());
                outer:
                for (int i = 0; i + marker.length <= map.limit(); i++)
                {
                    for (int j = 0; j < marker.length; j++)
                    {
                        if (map.get(i + j) != marker[j])
                        {
                            continue outer;
                        }
                    }
                    final int at = i + marker.length / 2;
                    map.put(at, (byte)(map.get(at) ^ 0x04));
                    map.force();
                    return file;
                }
            }
        }
        throw new AssertionError("record not found in " + files);
    }

    private static byte[] payload(final int i)
    {
        return String.format("acknowledged-message-%03d", i).getBytes(StandardCharsets.US_ASCII);
    }

    private MqttClient client(final String id, final boolean clean, final BlockingQueue<String> sink) throws Exception
    {
        final MqttClient c = new MqttClient("tcp://127.0.0.1:" + broker.mqttPort(), id, new MemoryPersistence());
        clients.add(c);
        if (sink != null)
        {
            c.setCallback(new MqttCallback()
            {
                public void connectionLost(final Throwable cause)
                {
                }

                public void messageArrived(final String topic, final MqttMessage message)
                {
                    sink.add(new String(message.getPayload(), StandardCharsets.US_ASCII));
                }

                public void deliveryComplete(final IMqttDeliveryToken token)
                {
                }
            });
        }
        final MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(clean);
        o.setAutomaticReconnect(false);
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setMaxInflight(1000);
        c.connect(o);
        return c;
    }
}
