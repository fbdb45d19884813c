package dev.skylark.broker.hook;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.skylark.broker.hook.HookTests.await;
import static dev.skylark.broker.hook.HookTests.counter;
import static dev.skylark.broker.hook.HookTests.publishes;
import static dev.skylark.broker.hook.HookTests.receive;
import static dev.skylark.broker.hook.HookTests.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hook that stops answering: the messages waiting for it stay within the queue's bytes; QoS 0 beyond that is
 * dropped and counted, QoS 1 publishers are held back (no PUBACK, socket not read) and lose nothing once it answers.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PublishHookBackPressureTest
{
    private static final int QUEUE_BYTES = 64 * 1024;

    @TempDir
    Path dataDir;
    private HookServer hook;
    private Broker broker;
    private final List<Mqtt5BlockingClient> clients = new ArrayList<>();
    private final CountDownLatch hookResumes = new CountDownLatch(1);
    private final AtomicLong largestQueue = new AtomicLong();

    @BeforeEach
    void start() throws Exception
    {
        final AtomicInteger calls = new AtomicInteger();
        hook = new HookServer((request) ->
        {
            if (calls.getAndIncrement() == 0)
            {
                hookResumes.await(); // a hook that stalls on its first request, until the test lets it go
            }
            return HookServer.Answer.ok(request.messages());
        });
        broker = Broker.launch(HookTests.context(dataDir, hook).maxPacketSize(4096).hookPublishQueueBytes(QUEUE_BYTES)
            .hookPublishTimeoutMs(60_000));
    }

    @AfterEach
    void stop()
    {
        hookResumes.countDown();
        HookTests.disconnectAll(clients);
        broker.close();
        hook.close();
    }

    @Test
    void qos0BeyondTheQueueIsDroppedAndCounted() throws Exception
    {
        final Mqtt5BlockingClient sub = HookTests.connect(broker, "sub", clients);
        final Mqtt5BlockingClient pub = HookTests.connect(broker, "pub", clients);
        final int count = 2000;
        final byte[] payload = new byte[200];
        try (Mqtt5BlockingClient.Mqtt5Publishes received = publishes(sub))
        {
            sub.subscribeWith().topicFilter("s/#").qos(MqttQos.AT_MOST_ONCE).send();
            for (int i = 0; i < count; i++)
            {
                pub.toAsync().publishWith().topic("s/x").qos(MqttQos.AT_MOST_ONCE).payload(payload).send();
            }
            await("QoS 0 drops while the hook stalls", () ->
            {
                largestQueue.accumulateAndGet(counter(broker, "skylark_hook_queue_bytes"), Math::max);
                // the first request may still be on its way to the hook when the queue behind it overflows
                return counter(broker, "skylark_hook_queue_full_dropped_total") > 0 && !hook.requests.isEmpty();
            });
            assertEquals(1, hook.requests.size(), "one request in flight, the rest waits");
            assertTrue(largestQueue.get() <= QUEUE_BYTES, "waiting bytes stay within the queue: " + largestQueue);
            assertEquals(0, counter(broker, "skylark_hook_held_back_total"), "QoS 0 publishers are never held back");

            hookResumes.countDown();
            // Everything is accounted for: delivered after the hook, or dropped (and counted) while it stalled.
            final AtomicInteger delivered = new AtomicInteger();
            await("every message delivered or counted as dropped", () ->
            {
                while (received.receiveNow().isPresent())
                {
                    delivered.incrementAndGet();
                }
                return delivered.get() + counter(broker, "skylark_hook_queue_full_dropped_total") == count;
            });
            pub.publishWith().topic("s/end").qos(MqttQos.AT_LEAST_ONCE).payload("end".getBytes()).send();
            assertEquals("end", text(receive(received)), "nothing more came after the count was complete");
            final long dropped = counter(broker, "skylark_hook_queue_full_dropped_total");
            assertEquals(count - dropped, counter(broker, "skylark_hook_messages_delivered_total") - 1);
            assertTrue(dropped > 0 && dropped < count, "dropped " + dropped);
        }
    }

    @Test
    void qos1PublishersAreHeldBackAndLoseNothing() throws Exception
    {
        final Mqtt5BlockingClient sub = HookTests.connect(broker, "sub", clients);
        final Mqtt5BlockingClient pub = HookTests.connect(broker, "pub", clients);
        final int count = 300;
        try (Mqtt5BlockingClient.Mqtt5Publishes received = publishes(sub))
        {
            sub.subscribeWith().topicFilter("s/#").qos(MqttQos.AT_LEAST_ONCE).send();
            final List<CompletableFuture<Mqtt5PublishResult>> acks = new ArrayList<>();
            for (int i = 0; i < count; i++)
            {
                final byte[] payload = Arrays.copyOf(("m" + i + " ").getBytes(), 1000);
                acks.add(pub.toAsync().publishWith().topic("s/x").qos(MqttQos.AT_LEAST_ONCE).payload(payload).send());
            }
            await("the publisher to be held back", () ->
            {
                largestQueue.accumulateAndGet(counter(broker, "skylark_hook_queue_bytes"), Math::max);
                return counter(broker, "skylark_hook_held_back_total") > 0;
            });
            assertEquals(0, acks.stream().filter(CompletableFuture::isDone).count(),
                "no PUBACK while the hook has not decided");
            assertEquals(0, counter(broker, "skylark_hook_queue_full_dropped_total"), "QoS 1 is never dropped");
            assertTrue(largestQueue.get() <= QUEUE_BYTES, "waiting bytes stay within the queue: " + largestQueue);

            hookResumes.countDown();
            for (int i = 0; i < count; i++)
            {
                final Mqtt5PublishResult result = acks.get(i).get(30, TimeUnit.SECONDS);
                assertEquals(0, ((Mqtt5PublishResult.Mqtt5Qos1Result)result).getPubAck().getReasonCode().getCode());
                assertTrue(text(receive(received)).startsWith("m" + i + " "), "message " + i + " in order");
            }
            assertEquals(count, counter(broker, "skylark_hook_messages_delivered_total"));
        }
    }
}
