package dev.skylark.broker.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscribe;
import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HiveMqV5Test
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

    private Mqtt5BlockingClient connect(final String id)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id)
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        c.connectWith().cleanStart(true).send();
        clients.add(c);
        return c;
    }

    private static Mqtt5Publish receive(final Mqtt5BlockingClient.Mqtt5Publishes p) throws InterruptedException
    {
        final Optional<Mqtt5Publish> m = p.receive(5, TimeUnit.SECONDS);
        assertTrue(m.isPresent(), "no message within 5 s");
        return m.get();
    }

    private static String text(final Mqtt5Publish p)
    {
        return new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void wildcardsAndQosDowngrade() throws Exception
    {
        final Mqtt5BlockingClient sub = connect("sub");
        final Mqtt5BlockingClient pub = connect("pub");
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = sub.publishes(MqttGlobalPublishFilter.ALL))
        {
            sub.subscribeWith().topicFilter("a/+/c").qos(MqttQos.AT_LEAST_ONCE).send();
            sub.subscribeWith().topicFilter("x/#").qos(MqttQos.EXACTLY_ONCE).send();

            pub.publishWith().topic("a/b/c").qos(MqttQos.EXACTLY_ONCE).payload("m1".getBytes()).send();
            Mqtt5Publish m = receive(publishes);
            assertEquals("a/b/c", m.getTopic().toString());
            assertEquals("m1", text(m));
            assertEquals(MqttQos.AT_LEAST_ONCE, m.getQos(), "downgraded to subscription max");

            pub.publishWith().topic("a/b/d").qos(MqttQos.AT_MOST_ONCE).payload("nomatch".getBytes()).send();
            for (final MqttQos q : MqttQos.values())
            {
                pub.publishWith().topic("x/y/z").qos(q).payload(("q" + q.getCode()).getBytes()).send();
                m = receive(publishes);
                assertEquals("x/y/z", m.getTopic().toString());
                assertEquals("q" + q.getCode(), text(m));
                assertEquals(q, m.getQos());
            }
            pub.publishWith().topic("x").qos(MqttQos.AT_LEAST_ONCE).payload("parent".getBytes()).send();
            m = receive(publishes);
            assertEquals("x", m.getTopic().toString(), "# matches the parent level");
        }
    }

    @Test
    void retainedDeliveredOnSubscribeAndCleared() throws Exception
    {
        final Mqtt5BlockingClient pub = connect("pub");
        pub.publishWith().topic("r/1").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload("kept".getBytes()).send();

        final Mqtt5BlockingClient sub = connect("sub");
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = sub.publishes(MqttGlobalPublishFilter.ALL))
        {
            sub.subscribeWith().topicFilter("r/#").qos(MqttQos.AT_LEAST_ONCE).send();
            final Mqtt5Publish m = receive(publishes);
            assertEquals("kept", text(m));
            assertTrue(m.isRetain());
        }
        pub.publishWith().topic("r/1").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload(new byte[0]).send();

        final Mqtt5BlockingClient sub2 = connect("sub2");
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = sub2.publishes(MqttGlobalPublishFilter.ALL))
        {
            sub2.subscribeWith().topicFilter("r/#").qos(MqttQos.AT_LEAST_ONCE).send();
            pub.publishWith().topic("r/marker").qos(MqttQos.AT_LEAST_ONCE).payload("marker".getBytes()).send();
            final Mqtt5Publish m = receive(publishes);
            assertEquals("marker", text(m), "cleared retained message must not be delivered");
        }
    }

    @Test
    void unsubscribeStopsDelivery() throws Exception
    {
        final Mqtt5BlockingClient sub = connect("sub");
        final Mqtt5BlockingClient pub = connect("pub");
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = sub.publishes(MqttGlobalPublishFilter.ALL))
        {
            sub.subscribeWith().topicFilter("u/1").qos(MqttQos.AT_LEAST_ONCE).send();
            sub.subscribeWith().topicFilter("u/2").qos(MqttQos.AT_LEAST_ONCE).send();
            pub.publishWith().topic("u/1").qos(MqttQos.AT_LEAST_ONCE).payload("a".getBytes()).send();
            assertEquals("a", text(receive(publishes)));
            sub.unsubscribeWith().topicFilter("u/1").send();
            pub.publishWith().topic("u/1").qos(MqttQos.AT_LEAST_ONCE).payload("b".getBytes()).send();
            pub.publishWith().topic("u/2").qos(MqttQos.AT_LEAST_ONCE).payload("c".getBytes()).send();
            assertEquals("c", text(receive(publishes)), "u/1 delivery must stop after UNSUBSCRIBE");
        }
    }

    @Test
    void propertiesForwardedUnchanged() throws Exception
    {
        final Mqtt5BlockingClient sub = connect("sub");
        final Mqtt5BlockingClient pub = connect("pub");
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = sub.publishes(MqttGlobalPublishFilter.ALL))
        {
            sub.subscribeWith().topicFilter("p/t").qos(MqttQos.AT_LEAST_ONCE).send();
            pub.publishWith().topic("p/t").qos(MqttQos.AT_LEAST_ONCE).payload("x".getBytes())
                .contentType("text/plain")
                .responseTopic("reply/here")
                .correlationData(new byte[]{1, 2, 3})
                .userProperties().add("k1", "v1").add("k2", "v2").add("k1", "v3").applyUserProperties()
                .send();
            final Mqtt5Publish m = receive(publishes);
            assertEquals("text/plain", m.getContentType().orElseThrow().toString());
            assertEquals("reply/here", m.getResponseTopic().orElseThrow().toString());
            final byte[] corr = new byte[3];
            m.getCorrelationData().orElseThrow().get(corr);
            assertArrayEquals(new byte[]{1, 2, 3}, corr);
            final List<String> props = new ArrayList<>();
            m.getUserProperties().asList().forEach(p -> props.add(p.getName() + "=" + p.getValue()));
            assertEquals(List.of("k1=v1", "k2=v2", "k1=v3"), props);
        }
    }

    @Test
    void noLocal() throws Exception
    {
        final Mqtt5BlockingClient self = connect("self");
        final Mqtt5BlockingClient other = connect("other");
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = self.publishes(MqttGlobalPublishFilter.ALL))
        {
            self.subscribeWith().topicFilter("n/t").qos(MqttQos.AT_LEAST_ONCE).noLocal(true).send();
            self.publishWith().topic("n/t").qos(MqttQos.AT_LEAST_ONCE).payload("own".getBytes()).send();
            other.publishWith().topic("n/t").qos(MqttQos.AT_LEAST_ONCE).payload("theirs".getBytes()).send();
            assertEquals("theirs", text(receive(publishes)), "no-local: own message must not come back");
        }
    }
}
