package dev.skylark.broker.it;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One publisher, many subscribers spread over the I/O agents: each gets every message, in order per topic. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FanOutTest
{
    private static final int SUBSCRIBERS = 20;
    private static final int MESSAGES = 200;
    private Broker broker;
    private final List<Mqtt5AsyncClient> clients = new ArrayList<>();

    @BeforeEach
    void start()
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
    }

    @AfterEach
    void stop() throws Exception
    {
        final List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (final Mqtt5AsyncClient c : clients)
        {
            if (c.getState().isConnected())
            {
                closing.add(c.disconnect());
            }
        }
        CompletableFuture.allOf(closing.toArray(new CompletableFuture[0])).get(10, TimeUnit.SECONDS);
        broker.close();
    }

    private Mqtt5AsyncClient client(final String id) throws Exception
    {
        final Mqtt5AsyncClient c = Mqtt5Client.builder().identifier(id)
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildAsync();
        c.connect().get(5, TimeUnit.SECONDS);
        clients.add(c);
        return c;
    }

    @Test
    void everySubscriberGetsEveryMessageInOrder() throws Exception
    {
        final CountDownLatch done = new CountDownLatch(SUBSCRIBERS * MESSAGES);
        final List<ConcurrentLinkedQueue<Integer>> received = new ArrayList<>();
        for (int s = 0; s < SUBSCRIBERS; s++)
        {
            final ConcurrentLinkedQueue<Integer> q = new ConcurrentLinkedQueue<>();
            received.add(q);
            client("fan-" + s).subscribeWith().topicFilter("fan/+").qos(MqttQos.AT_LEAST_ONCE)
                .callback(p ->
                {
                    q.add(Integer.parseInt(new String(p.getPayloadAsBytes())));
                    done.countDown();
                })
                .send().get(5, TimeUnit.SECONDS);
        }
        final Mqtt5AsyncClient pub = client("fan-pub");
        final List<CompletableFuture<?>> sent = new ArrayList<>();
        for (int i = 0; i < MESSAGES; i++)
        {
            sent.add(pub.publishWith().topic("fan/" + (i % 3)).qos(MqttQos.values()[i % 3])
                .payload(Integer.toString(i).getBytes()).send());
        }
        CompletableFuture.allOf(sent.toArray(new CompletableFuture[0])).get(10, TimeUnit.SECONDS);
        assertTrue(done.await(15, TimeUnit.SECONDS), "missing " + done.getCount() + " deliveries");
        for (final ConcurrentLinkedQueue<Integer> q : received)
        {
            final List<Integer> got = new ArrayList<>(q);
            assertEquals(MESSAGES, got.size());
            // Order is promised per topic and QoS [MQTT-4.6.0-6]; topic fan/k carries QoS k here.
            final int[] next = {0, 1, 2};
            for (final int value : got)
            {
                final int k = value % 3;
                assertEquals(next[k], value, "order on fan/" + k);
                next[k] += 3;
            }
        }
    }
}
