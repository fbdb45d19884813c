package dev.skylark.broker.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HiveMqV3Test
{
    private Broker broker;
    private final List<Mqtt3BlockingClient> clients = new ArrayList<>();

    @BeforeEach
    void start()
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
    }

    @AfterEach
    void stop()
    {
        for (final Mqtt3BlockingClient c : clients)
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

    private Mqtt3BlockingClient connect(final String id)
    {
        final Mqtt3BlockingClient c = Mqtt3Client.builder().identifier(id)
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        c.connectWith().cleanSession(true).send();
        clients.add(c);
        return c;
    }

    private static Mqtt3Publish receive(final Mqtt3BlockingClient.Mqtt3Publishes p) throws InterruptedException
    {
        final Optional<Mqtt3Publish> m = p.receive(5, TimeUnit.SECONDS);
        assertTrue(m.isPresent(), "no message within 5 s");
        return m.get();
    }

    private static String text(final Mqtt3Publish p)
    {
        return new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void wildcardsAndQosDowngrade() throws Exception
    {
        final Mqtt3BlockingClient sub = connect("sub3");
        final Mqtt3BlockingClient pub = connect("pub3");
        try (Mqtt3BlockingClient.Mqtt3Publishes publishes = sub.publishes(MqttGlobalPublishFilter.ALL))
        {
            sub.subscribeWith().topicFilter("a/+/c").qos(MqttQos.AT_MOST_ONCE).send();
            sub.subscribeWith().topicFilter("x/#").qos(MqttQos.EXACTLY_ONCE).send();

            pub.publishWith().topic("a/b/c").qos(MqttQos.EXACTLY_ONCE).payload("m1".getBytes()).send();
            Mqtt3Publish m = receive(publishes);
            assertEquals("a/b/c", m.getTopic().toString());
            assertEquals(MqttQos.AT_MOST_ONCE, m.getQos(), "downgraded to subscription max");

            for (final MqttQos q : MqttQos.values())
            {
                pub.publishWith().topic("x/y").qos(q).payload(("q" + q.getCode()).getBytes()).send();
                m = receive(publishes);
                assertEquals("q" + q.getCode(), text(m));
                assertEquals(q, m.getQos());
            }
        }
    }

    @Test
    void retainedAndUnsubscribe() throws Exception
    {
        final Mqtt3BlockingClient pub = connect("pub3");
        pub.publishWith().topic("r/1").qos(MqttQos.EXACTLY_ONCE).retain(true).payload("kept".getBytes()).send();
        final Mqtt3BlockingClient sub = connect("sub3");
        try (Mqtt3BlockingClient.Mqtt3Publishes publishes = sub.publishes(MqttGlobalPublishFilter.ALL))
        {
            sub.subscribeWith().topicFilter("r/+").qos(MqttQos.AT_LEAST_ONCE).send();
            Mqtt3Publish m = receive(publishes);
            assertEquals("kept", text(m));
            assertTrue(m.isRetain());
            assertEquals(MqttQos.AT_LEAST_ONCE, m.getQos());

            pub.publishWith().topic("r/1").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload(new byte[0]).send();
            m = receive(publishes); // the empty retained publish is forwarded to existing subscribers
            assertEquals(0, m.getPayloadAsBytes().length);

            sub.unsubscribeWith().topicFilter("r/+").send();
            sub.subscribeWith().topicFilter("other").qos(MqttQos.AT_LEAST_ONCE).send();
            pub.publishWith().topic("r/1").qos(MqttQos.AT_LEAST_ONCE).payload("after".getBytes()).send();
            pub.publishWith().topic("other").qos(MqttQos.AT_LEAST_ONCE).payload("marker".getBytes()).send();
            assertEquals("marker", text(receive(publishes)), "no retained after clear, nothing after unsubscribe");
        }
    }
}
