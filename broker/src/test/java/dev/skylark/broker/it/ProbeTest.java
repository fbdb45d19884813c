package dev.skylark.broker.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Session expiry, ordering under load, large payloads, overlapping subscriptions (HiveMQ v5). */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ProbeTest
{
    private Broker broker;
    private final List<Mqtt5BlockingClient> clients = new ArrayList<>();

    @BeforeEach
    void start()
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
    }

    @AfterEach
    void stop()
    {
        for (final Mqtt5BlockingClient c : clients)
        {
            try
            {
                if (c.getState().isConnected())
                {
                    c.disconnect();
                }
            }
            catch (final RuntimeException ignore)
            {
            }
        }
        broker.close();
    }

    private Mqtt5BlockingClient client(final String id)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id)
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        clients.add(c);
        return c;
    }

    private static Mqtt5Publish receive(final Mqtt5BlockingClient.Mqtt5Publishes p) throws InterruptedException
    {
        final Optional<Mqtt5Publish> m = p.receive(5, TimeUnit.SECONDS);
        assertTrue(m.isPresent(), "no message within 5 s");
        return m.get();
    }

    @Test
    void sessionExpiryZeroDiscardsSessionAtDisconnect() throws Exception
    {
        final Mqtt5BlockingClient c = client("exp0");
        c.connectWith().cleanStart(false).sessionExpiryInterval(0).send();
        c.subscribeWith().topicFilter("e/t").qos(MqttQos.AT_LEAST_ONCE).send();
        c.disconnect();
        final Mqtt5ConnAck ack = c.connectWith().cleanStart(false).sessionExpiryInterval(0).send();
        assertFalse(ack.isSessionPresent(), "v5 session with expiry 0 ends at disconnect");
    }

    @Test
    void sessionExpiryKeepsSessionAndQueuedQos2() throws Exception
    {
        final Mqtt5BlockingClient c = client("exp60");
        c.connectWith().cleanStart(true).sessionExpiryInterval(60).send();
        c.subscribeWith().topicFilter("e/#").qos(MqttQos.EXACTLY_ONCE).send();
        c.disconnect();
        final Mqtt5BlockingClient pub = client("exp-pub");
        pub.connect();
        for (int i = 0; i < 3; i++)
        {
            pub.publishWith().topic("e/" + i).qos(MqttQos.EXACTLY_ONCE).payload(new byte[]{(byte)i}).send();
        }
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = c.publishes(MqttGlobalPublishFilter.ALL))
        {
            final Mqtt5ConnAck ack = c.connectWith().cleanStart(false).sessionExpiryInterval(60).send();
            assertTrue(ack.isSessionPresent());
            for (int i = 0; i < 3; i++)
            {
                final Mqtt5Publish m = receive(publishes);
                assertEquals("e/" + i, m.getTopic().toString());
                assertEquals(MqttQos.EXACTLY_ONCE, m.getQos());
            }
        }
    }

    @Test
    void qos1BurstArrivesCompleteAndInOrder() throws Exception
    {
        final int n = 2000;
        final Mqtt5BlockingClient sub = client("burst-sub");
        sub.connect();
        final Mqtt5BlockingClient pub = client("burst-pub");
        pub.connect();
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = sub.publishes(MqttGlobalPublishFilter.ALL))
        {
            sub.subscribeWith().topicFilter("b/t").qos(MqttQos.AT_LEAST_ONCE).send();
            final Mqtt5Client async = pub;
            final List<java.util.concurrent.CompletableFuture<?>> sent = new ArrayList<>();
            for (int i = 0; i < n; i++)
            {
                sent.add(async.toAsync().publishWith().topic("b/t").qos(MqttQos.AT_LEAST_ONCE)
                    .payload(Integer.toString(i).getBytes()).send());
            }
            for (int i = 0; i < n; i++)
            {
                assertEquals(Integer.toString(i), new String(receive(publishes).getPayloadAsBytes()));
            }
            java.util.concurrent.CompletableFuture.allOf(sent.toArray(new java.util.concurrent.CompletableFuture[0]))
                .get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void largePayloadRoundTrips() throws Exception
    {
        final byte[] payload = new byte[200_000];
        for (int i = 0; i < payload.length; i++)
        {
            payload[i] = (byte)(i * 31);
        }
        final Mqtt5BlockingClient sub = client("big-sub");
        sub.connect();
        final Mqtt5BlockingClient pub = client("big-pub");
        pub.connect();
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = sub.publishes(MqttGlobalPublishFilter.ALL))
        {
            sub.subscribeWith().topicFilter("big").qos(MqttQos.AT_LEAST_ONCE).send();
            for (final MqttQos q : MqttQos.values())
            {
                pub.publishWith().topic("big").qos(q).payload(payload).send();
                assertArrayEquals(payload, receive(publishes).getPayloadAsBytes());
            }
        }
    }

    @Test
    void overlappingSubscriptionsDeliverOnceWithHighestQos() throws Exception
    {
        final Mqtt5BlockingClient sub = client("ov-sub");
        sub.connect();
        final Mqtt5BlockingClient pub = client("ov-pub");
        pub.connect();
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = sub.publishes(MqttGlobalPublishFilter.ALL))
        {
            sub.subscribeWith().topicFilter("o/#").qos(MqttQos.AT_MOST_ONCE).send();
            sub.subscribeWith().topicFilter("o/+").qos(MqttQos.AT_LEAST_ONCE).send();
            pub.publishWith().topic("o/1").qos(MqttQos.EXACTLY_ONCE).payload("x".getBytes()).send();
            pub.publishWith().topic("p").qos(MqttQos.AT_MOST_ONCE).payload("y".getBytes()).send();
            sub.subscribeWith().topicFilter("p").qos(MqttQos.AT_MOST_ONCE).send();
            pub.publishWith().topic("p").qos(MqttQos.AT_MOST_ONCE).payload("marker".getBytes()).send();
            final Mqtt5Publish first = receive(publishes);
            assertEquals("x", new String(first.getPayloadAsBytes()));
            assertEquals(MqttQos.AT_LEAST_ONCE, first.getQos());
            assertEquals("marker", new String(receive(publishes).getPayloadAsBytes()), "delivered once only");
        }
    }

    @Test
    void retainedQosIsMinimumOfStoredAndGranted() throws Exception
    {
        final Mqtt5BlockingClient pub = client("rq-pub");
        pub.connect();
        pub.publishWith().topic("rq/2").qos(MqttQos.EXACTLY_ONCE).retain(true).payload("two".getBytes()).send();
        pub.publishWith().topic("rq/0").qos(MqttQos.AT_MOST_ONCE).retain(true).payload("zero".getBytes()).send();
        final Mqtt5BlockingClient sub = client("rq-sub");
        sub.connect();
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = sub.publishes(MqttGlobalPublishFilter.ALL))
        {
            sub.subscribeWith().topicFilter("rq/2").qos(MqttQos.AT_LEAST_ONCE).send();
            Mqtt5Publish m = receive(publishes);
            assertEquals(MqttQos.AT_LEAST_ONCE, m.getQos());
            assertTrue(m.isRetain());
            sub.subscribeWith().topicFilter("rq/0").qos(MqttQos.EXACTLY_ONCE).send();
            m = receive(publishes);
            assertEquals(MqttQos.AT_MOST_ONCE, m.getQos());
            assertEquals("zero", new String(m.getPayloadAsBytes()));
        }
    }
}
