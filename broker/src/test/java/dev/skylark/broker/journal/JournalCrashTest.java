package dev.skylark.broker.journal;

import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The durability contract against a broker in its own JVM killed with SIGKILL at random moments (seeded): every
 * message whose PUBACK (QoS 1) or PUBCOMP (QoS 2, so PUBREC came first) the publisher saw reaches the persistent
 * subscriber after the restart; duplicates are counted, a loss fails. Retained: the last acknowledged value (or a
 * later one) survives. Session expiry: an expired session is not resurrected by a restart.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JournalCrashTest
{
    private static final long SEED = Long.getLong("journal.crash.seed", 20261125L);

    @TempDir
    Path dataDir;
    private final java.util.List<Path> brokerDirs = new java.util.ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void deleteAeronDirectories() throws Exception
    {
        for (final Path dir : brokerDirs)
        {
            BrokerProcess.deleteAeronDirectory(dir);
        }
    }

    @Test
    void qos1AcknowledgedMessagesSurviveKill() throws Exception
    {
        crashLoop(1, 3, "os");
    }

    @Test
    void qos2AcknowledgedMessagesSurviveKill() throws Exception
    {
        crashLoop(2, 2, "os");
    }

    @Test
    void fsyncAcknowledgedMessagesSurviveKill() throws Exception
    {
        crashLoop(1, 2, "fsync");
    }

    /**
     * The issue's reproduction: 100 QoS 1 messages acknowledged, a second broker started on the same directory, the
     * first killed with SIGKILL, a restart. The second start used to replay, checkpoint and delete the generation
     * the running broker appended to (50 of 100 came back); now it exits at once naming the holder's pid.
     */
    @Test
    void secondStartOnTheSameDirectoryIsRefusedAndNothingAcknowledgedIsLost() throws Exception
    {
        final Path dir = Files.createTempDirectory(dataDir, "lock");
        brokerDirs.add(dir);
        final int count = 100;
        try (BrokerProcess first = BrokerProcess.start(dir, "--durability", "os"))
        {
            final String uri = first.uri();
            final MqttClient sub = new MqttClient(uri, "lock-sub", new MemoryPersistence());
            sub.connect(options(false));
            sub.subscribe("lock/#", 1);
            sub.disconnect();
            sub.close();
            final MqttClient pub = new MqttClient(uri, "lock-pub", new MemoryPersistence());
            pub.connect(options(true));
            for (int i = 0; i < count; i++)
            {
                pub.publish("lock/t", String.valueOf(i).getBytes(StandardCharsets.US_ASCII), 1, false); // PUBACK'd
            }
            pub.disconnect();
            pub.close();

            try (BrokerProcess second = BrokerProcess.start(dir, "--durability", "os"))
            {
                final int status = second.waitForExit(60);
                assertEquals(1, status, second.log());
                assertTrue(second.log().contains("in use by another Skylark broker (pid " + first.pid() + ","),
                    second.log());
            }
            first.kill();
        }
        try (BrokerProcess restarted = BrokerProcess.start(dir, "--durability", "os"))
        {
            final Set<String> received = ConcurrentHashMap.newKeySet();
            final MqttClient sub = new MqttClient(restarted.uri(), "lock-sub", new MemoryPersistence());
            sub.setCallback(new MqttCallback()
            {
                public void connectionLost(final Throwable cause)
                {
                }

                public void messageArrived(final String topic, final MqttMessage message)
                {
                    received.add(new String(message.getPayload(), StandardCharsets.US_ASCII));
                }

                public void deliveryComplete(final IMqttDeliveryToken token)
                {
                }
            });
            sub.connect(options(false));
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (received.size() < count && System.nanoTime() - deadlineNs < 0)
            {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            assertEquals(count, received.size(), "redelivered after kill -9: " + received.size() + " of " + count);
            sub.disconnect();
            sub.close();
        }
    }

    @Test
    @Tag("slow")
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void manyKillsQos1AndQos2() throws Exception
    {
        crashLoop(1, 12, "os");
        crashLoop(2, 8, "os");
    }

    private void crashLoop(final int qos, final int iterations, final String durability) throws Exception
    {
        final Path dir = Files.createTempDirectory(dataDir, "q" + qos);
        brokerDirs.add(dir);
        final Random random = new Random(SEED + qos * 31L + iterations);
        final Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        final AtomicLong nextId = new AtomicLong();

        for (int iteration = 0; iteration < iterations; iteration++)
        {
            final BrokerProcess broker = BrokerProcess.start(dir, "--durability", durability);
            try
            {
                final String uri = broker.uri();
                if (iteration == 0)
                {
                    final MqttClient sub = new MqttClient(uri, "crash-sub", new MemoryPersistence());
                    sub.connect(options(false));
                    sub.subscribe("crash/#", qos);
                    sub.disconnect();
                    sub.close();
                }
                // Kill once the publisher has seen this many acknowledgements in this iteration, mid-stream.
                final int killAfter = 200 + random.nextInt(1500);
                final long before = acknowledged.size();
                final MqttAsyncClient pub = new MqttAsyncClient(uri, "crash-pub", new MemoryPersistence());
                pub.setCallback(new MqttCallback()
                {
                    public void connectionLost(final Throwable cause)
                    {
                    }

                    public void messageArrived(final String topic, final MqttMessage message)
                    {
                    }

                    public void deliveryComplete(final IMqttDeliveryToken token)
                    {
                        acknowledged.add((Long)token.getUserContext());
                    }
                });
                final MqttConnectOptions o = options(true);
                o.setMaxInflight(64);
                pub.connect(o).waitForCompletion(10_000);
                final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (acknowledged.size() - before < killAfter)
                {
                    if (System.nanoTime() > deadlineNs)
                    {
                        fail("publisher stalled at " + (acknowledged.size() - before) + " acks\n" + broker.log());
                    }
                    final long id = nextId.incrementAndGet();
                    try
                    {
                        final MqttMessage message = new MqttMessage(Long.toString(id).getBytes());
                        message.setQos(qos);
                        pub.publish("crash/" + (id % 4), message, id, null);
                    }
                    catch (final org.eclipse.paho.client.mqttv3.MqttException ex)
                    {
                        // max in flight: wait for an acknowledgement to free a slot
                        final IMqttDeliveryToken[] pending = pub.getPendingDeliveryTokens();
                        if (pending.length > 0)
                        {
                            try
                            {
                                pending[0].waitForCompletion(1000);
                            }
                            catch (final org.eclipse.paho.client.mqttv3.MqttException slow)
                            {
                                // a slow sync (fsync on a busy disk): the 30 s deadline above decides
                            }
                        }
                    }
                }
                broker.kill();
                pub.disconnectForcibly(0, 0);
                pub.close(true);
            }
            finally
            {
                broker.kill();
            }
        }

        // Restart and collect everything owed to the persistent subscriber.
        final Map<Long, Integer> received = new ConcurrentHashMap<>();
        try (BrokerProcess broker = BrokerProcess.start(dir, "--durability", durability))
        {
            final MqttClient sub = new MqttClient(broker.uri(), "crash-sub", new MemoryPersistence());
            sub.setCallback(new MqttCallback()
            {
                public void connectionLost(final Throwable cause)
                {
                }

                public void messageArrived(final String topic, final MqttMessage message)
                {
                    received.merge(Long.parseLong(new String(message.getPayload())), 1, Integer::sum);
                }

                public void deliveryComplete(final IMqttDeliveryToken token)
                {
                }
            });
            final IMqttToken connected = sub.connectWithResult(options(false));
            assertTrue(connected.getSessionPresent(), "persistent session restored");
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!received.keySet().containsAll(acknowledged) && System.nanoTime() < deadlineNs)
            {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // poll the condition, deadline above
            }
            sub.disconnect();
            sub.close();
            final Set<Long> lost = new TreeSet<>(acknowledged);
            lost.removeAll(received.keySet());
            final long duplicates = received.values().stream().mapToLong(n -> n - 1).sum();
            System.out.println("crash test qos " + qos + " " + durability + ": " + iterations + " kill(s), " +
                acknowledged.size() + " acknowledged, " + received.size() + " delivered after restart, " +
                duplicates + " duplicate(s), " + lost.size() + " lost");
            if (!lost.isEmpty())
            {
                fail(lost.size() + " acknowledged message(s) lost, first " + lost.iterator().next() + "\n" +
                    broker.log());
            }
        }
    }

    @Test
    void retainedLastAcknowledgedValueSurvivesKill() throws Exception
    {
        final Path dir = Files.createTempDirectory(dataDir, "retained");
        brokerDirs.add(dir);
        final Random random = new Random(SEED);
        long lastAcknowledged;
        try (BrokerProcess broker = BrokerProcess.start(dir, "--durability", "os"))
        {
            final MqttClient pub = new MqttClient(broker.uri(), "retain-pub", new MemoryPersistence());
            pub.connect(options(true));
            final int count = 100 + random.nextInt(400);
            for (int i = 1; i <= count; i++)
            {
                pub.publish("state/device", Integer.toString(i).getBytes(), 1, true); // returns after PUBACK
            }
            lastAcknowledged = count;
            broker.kill();
            pub.disconnectForcibly(0, 0);
            pub.close(true);
        }
        try (BrokerProcess broker = BrokerProcess.start(dir, "--durability", "os"))
        {
            final MqttClient sub = new MqttClient(broker.uri(), "retain-sub", new MemoryPersistence());
            final java.util.concurrent.BlockingQueue<String> values = new java.util.concurrent.LinkedBlockingQueue<>();
            sub.setCallback(new MqttCallback()
            {
                public void connectionLost(final Throwable cause)
                {
                }

                public void messageArrived(final String topic, final MqttMessage message)
                {
                    values.add(new String(message.getPayload()));
                }

                public void deliveryComplete(final IMqttDeliveryToken token)
                {
                }
            });
            sub.connect(options(true));
            sub.subscribe("state/#", 1);
            final String value = values.poll(10, TimeUnit.SECONDS);
            assertTrue(value != null && Long.parseLong(value) >= lastAcknowledged,
                "retained " + value + ", last acknowledged " + lastAcknowledged);
            sub.disconnect();
            sub.close();
        }
    }

    @Test
    void expiredSessionIsNotResurrected() throws Exception
    {
        final Path dir = Files.createTempDirectory(dataDir, "expiry");
        brokerDirs.add(dir);
        final long disconnectedAtNs;
        try (BrokerProcess broker = BrokerProcess.start(dir, "--durability", "os", "--session.expiry.max", "1"))
        {
            final String uri = broker.uri();
            final MqttClient shortLived = new MqttClient(uri, "short-lived", new MemoryPersistence());
            shortLived.connect(options(false)); // 3.1.1 persistent: granted the 1 s maximum
            shortLived.subscribe("x/#", 1);
            shortLived.disconnect();
            disconnectedAtNs = System.nanoTime();
            shortLived.close();
            broker.kill();
        }
        // Wait on the clock (the condition is time itself) until the session's expiry has passed.
        while (System.nanoTime() - disconnectedAtNs < TimeUnit.MILLISECONDS.toNanos(1500))
        {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        try (BrokerProcess broker = BrokerProcess.start(dir, "--durability", "os", "--session.expiry.max", "1"))
        {
            final MqttClient again = new MqttClient(broker.uri(), "short-lived", new MemoryPersistence());
            final IMqttToken token = again.connectWithResult(options(false));
            assertFalse(token.getSessionPresent(), "expired session came back after restart");
            again.disconnect();
            again.close();
        }
        assertTrue(journalFiles(dir) > 0);
    }

    private static long journalFiles(final Path dir) throws Exception
    {
        try (Stream<Path> s = Files.walk(dir.resolve("journal")))
        {
            return s.count();
        }
    }

    private static MqttConnectOptions options(final boolean clean)
    {
        final MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(clean);
        o.setAutomaticReconnect(false);
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setConnectionTimeout(10);
        // Paho completes a synchronous publish on its receiver thread but frees the in-flight slot later on its
        // callback thread: under load the slots of acknowledged publishes pile up to the default 10 and the next
        // publish throws "Too many publishes in progress" (seen once at load 20). Each publish here still waits for
        // its PUBACK; the larger limit only absorbs the client's lag.
        o.setMaxInflight(1000);
        return o;
    }
}
