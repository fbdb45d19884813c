package dev.skylark.broker.journal;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import dev.skylark.broker.Broker;
import dev.skylark.broker.status.CountersSnapshot;
import dev.skylark.codec.mqtt.ReasonCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The journal's disk fills up for real (a small tmpfs this test mounts; skipped unless root): no publisher gets
 * PUBACK 0x00 for a message that is not in the journal, QoS 1 is refused with 0x83 while QoS 0 keeps flowing, and
 * acknowledgements resume once space returns — every message acknowledged with 0x00 survives a restart.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JournalDiskFullTest
{
    private static final int PAYLOAD = 8 * 1024;

    @TempDir
    Path temp;
    private Path mount;
    private boolean mounted;
    private Broker broker;
    private final List<Mqtt5Client> clients = new ArrayList<>();

    @BeforeEach
    void mountTmpfs() throws Exception
    {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to mount a tmpfs");
        mount = Files.createDirectory(temp.resolve("small"));
        final Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs",
            mount.toString()).redirectErrorStream(true).start();
        final boolean done = p.waitFor(20, TimeUnit.SECONDS);
        assumeTrue(done && p.exitValue() == 0, "mount -t tmpfs failed: " +
            new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        mounted = true;
    }

    @AfterEach
    void unmount() throws Exception
    {
        for (final Mqtt5Client c : clients)
        {
            try
            {
                c.toBlocking().disconnect();
            }
            catch (final RuntimeException ignore)
            {
                // already gone
            }
        }
        if (broker != null)
        {
            broker.close();
        }
        if (mounted)
        {
            new ProcessBuilder("umount", "-l", mount.toString()).inheritIO().start().waitFor(20, TimeUnit.SECONDS);
        }
    }

    private void start()
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .dataDir(mount.resolve("data").toString()).durability("os").ioThreads(1));
    }

    @Test
    void aFullDiskIsNeverAcknowledgedAndAcknowledgementsResumeWhenSpaceReturns() throws Exception
    {
        start();
        // A persistent subscriber, offline: every QoS 1 message is journaled for it.
        Mqtt5BlockingClient sub = blocking("keeper", false);
        sub.subscribeWith().topicFilter("t/#").qos(MqttQos.AT_LEAST_ONCE).send();
        sub.disconnect();
        clients.remove(sub);
        // An online QoS 0 subscriber on another topic: QoS 0 keeps flowing.
        final Mqtt5BlockingClient live = blocking("live", true);
        live.subscribeWith().topicFilter("q0/#").qos(MqttQos.AT_MOST_ONCE).send();
        final Mqtt5BlockingClient.Mqtt5Publishes liveIn = live.publishes(MqttGlobalPublishFilter.ALL);
        final Mqtt5AsyncClient pub = async("pub");

        final Set<Integer> acknowledged = new HashSet<>();
        final List<CompletableFuture<Mqtt5PublishResult>> waiting = new ArrayList<>();
        int next = 0;
        for (; next < 5; next++)
        {
            assertEquals(0, reason(publish(pub, next), 10));
            acknowledged.add(next);
        }

        final Path filler = mount.resolve("filler");
        fill(filler);

        // Publish until the broker refuses: the failed append is detected, never acknowledged with 0x00.
        int refusedAt = -1;
        for (int attempts = 0; attempts < 200 && refusedAt < 0; attempts++, next++)
        {
            final CompletableFuture<Mqtt5PublishResult> result = publish(pub, next);
            final int reason = reason(result, 2);
            if (reason == 0)
            {
                acknowledged.add(next); // appended before the disk was full (a page still free)
            }
            else if (reason == ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR)
            {
                refusedAt = next;
            }
            else
            {
                assertEquals(-1, reason, "no acknowledgement yet: held until a checkpoint is durable");
                waiting.add(result);
            }
        }
        assertTrue(refusedAt >= 0, "QoS 1 was never refused while the journal's disk was full");
        assertTrue(total("skylark_journal_append_failures_total") > 0);
        assertEquals(1, total("skylark_journal_failing"));
        assertTrue(total("skylark_journal_publishes_refused_total") > 0);

        // QoS 0 still flows while QoS 1 is refused.
        pub.publishWith().topic("q0/x").qos(MqttQos.AT_MOST_ONCE).payload("still".getBytes()).send().get(5,
            TimeUnit.SECONDS);
        final Optional<Mqtt5Publish> q0 = liveIn.receive(5, TimeUnit.SECONDS);
        assertTrue(q0.isPresent(), "QoS 0 kept flowing");
        // Still full: still refused, never 0x00.
        assertEquals(ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR, reason(publish(pub, next++), 5));

        // Space returns: a recovery checkpoint makes everything durable again and acknowledgements resume.
        Files.delete(filler);
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int resumedAt = -1;
        while (resumedAt < 0)
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "acknowledgements never resumed after space returned");
            final int reason = reason(publish(pub, next), 5);
            if (reason == 0)
            {
                acknowledged.add(next);
                resumedAt = next;
            }
            next++;
        }
        for (final CompletableFuture<Mqtt5PublishResult> held : waiting)
        {
            // Held ones are answered too (success: the recovery checkpoint holds them).
            final Mqtt5PublishResult r = held.get(10, TimeUnit.SECONDS);
            final String text = new String(r.getPublish().getPayloadAsBytes(), StandardCharsets.US_ASCII);
            acknowledged.add(Integer.parseInt(text.substring(0, text.indexOf(' '))));
        }
        while (total("skylark_journal_failing") != 0) // the routing agent's slow tick updates the gauge
        {
            assertTrue(System.nanoTime() - deadlineNs < 0, "skylark_journal_failing stayed 1");
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }

        // Every message acknowledged with 0x00 is in the journal: it survives a restart.
        for (final Mqtt5Client c : clients)
        {
            c.toBlocking().disconnect();
        }
        clients.clear();
        broker.close();
        broker = null;
        start();
        sub = Mqtt5Client.builder().identifier("keeper").serverHost("127.0.0.1").serverPort(broker.mqttPort())
            .buildBlocking();
        clients.add(sub);
        final Mqtt5BlockingClient.Mqtt5Publishes kept = sub.publishes(MqttGlobalPublishFilter.ALL); // before CONNECT
        sub.connectWith().cleanStart(false).sessionExpiryInterval(600).send();
        final Set<Integer> delivered = new HashSet<>();
        Optional<Mqtt5Publish> m;
        while ((m = kept.receive(3, TimeUnit.SECONDS)).isPresent())
        {
            final String text = new String(m.get().getPayloadAsBytes(), StandardCharsets.US_ASCII);
            delivered.add(Integer.parseInt(text.substring(0, text.indexOf(' '))));
        }
        final Set<Integer> lost = new HashSet<>(acknowledged);
        lost.removeAll(delivered);
        assertTrue(lost.isEmpty(), "acknowledged with 0x00 but lost: " + lost);
        assertFalse(delivered.contains(refusedAt), "a refused message is not routed");
    }

    private static void fill(final Path filler) throws IOException
    {
        final byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler))
        {
            while (true)
            {
                out.write(block);
            }
        }
        catch (final IOException full)
        {
            // ENOSPC: the file system is full
        }
        assertTrue(Files.size(filler) > 0);
    }

    private static CompletableFuture<Mqtt5PublishResult> publish(final Mqtt5AsyncClient pub, final int i)
    {
        final byte[] payload = new byte[PAYLOAD];
        final byte[] head = (i + " ").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(head, 0, payload, 0, head.length);
        return pub.publishWith().topic("t/a").qos(MqttQos.AT_LEAST_ONCE).payload(payload).send();
    }

    /** The PUBACK's reason code, or -1 when none came within the time. */
    private static int reason(final CompletableFuture<Mqtt5PublishResult> result, final int seconds) throws Exception
    {
        try
        {
            final Mqtt5PublishResult r = result.get(seconds, TimeUnit.SECONDS);
            return ((Mqtt5PublishResult.Mqtt5Qos1Result)r).getPubAck().getReasonCode().getCode();
        }
        catch (final ExecutionException ex)
        {
            if (ex.getCause() instanceof Mqtt5PubAckException nack)
            {
                return nack.getMqttMessage().getReasonCode().getCode();
            }
            throw ex;
        }
        catch (final TimeoutException ex)
        {
            return -1;
        }
    }

    private long total(final String name)
    {
        return CountersSnapshot.of(broker.countersFile().reader()).total(name);
    }

    private Mqtt5BlockingClient blocking(final String id, final boolean clean)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
            .serverPort(broker.mqttPort()).buildBlocking();
        c.connectWith().cleanStart(clean).sessionExpiryInterval(clean ? 0 : 600).send();
        clients.add(c);
        return c;
    }

    private Mqtt5AsyncClient async(final String id) throws Exception
    {
        final Mqtt5AsyncClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
            .serverPort(broker.mqttPort()).buildAsync();
        c.connect().get(10, TimeUnit.SECONDS);
        clients.add(c);
        return c;
    }
}
