package dev.skylark.broker.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SharedSubscriptionTest
{
    private static final int MESSAGES = 40;
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
            if (c.getState().isConnected())
            {
                c.disconnect();
            }
        }
        broker.close();
    }

    private Mqtt5BlockingClient connect(final String id)
    {
        final Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id)
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        c.connect();
        clients.add(c);
        return c;
    }

    @Test
    void eachMessageGoesToExactlyOneMember() throws Exception
    {
        final Mqtt5BlockingClient a = connect("ga");
        final Mqtt5BlockingClient b = connect("gb");
        final Mqtt5BlockingClient pub = connect("gpub");
        try (Mqtt5BlockingClient.Mqtt5Publishes pa = a.publishes(MqttGlobalPublishFilter.ALL);
            Mqtt5BlockingClient.Mqtt5Publishes pb = b.publishes(MqttGlobalPublishFilter.ALL))
        {
            a.subscribeWith().topicFilter("$share/g/t/#").qos(MqttQos.AT_LEAST_ONCE).send();
            b.subscribeWith().topicFilter("$share/g/t/#").qos(MqttQos.AT_LEAST_ONCE).send();
            for (int i = 0; i < MESSAGES; i++)
            {
                pub.publishWith().topic("t/" + i).qos(MqttQos.AT_LEAST_ONCE).payload(("" + i).getBytes()).send();
            }
            final List<String> all = new ArrayList<>();
            final int[] perMember = new int[2];
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (all.size() < MESSAGES && System.nanoTime() < deadline)
            {
                Optional<Mqtt5Publish> m = pa.receive(10, TimeUnit.MILLISECONDS);
                if (m.isPresent())
                {
                    all.add(new String(m.get().getPayloadAsBytes()));
                    perMember[0]++;
                }
                m = pb.receive(10, TimeUnit.MILLISECONDS);
                if (m.isPresent())
                {
                    all.add(new String(m.get().getPayloadAsBytes()));
                    perMember[1]++;
                }
            }
            assertEquals(MESSAGES, all.size(), "together the members get every message");
            final Set<String> distinct = new HashSet<>(all);
            assertEquals(MESSAGES, distinct.size(), "no message delivered twice");
            assertTrue(perMember[0] > 0 && perMember[1] > 0,
                "both members get a share: " + perMember[0] + "/" + perMember[1]);
            // nothing extra arrives after all were counted
            assertTrue(pa.receive(200, TimeUnit.MILLISECONDS).isEmpty());
            assertTrue(pb.receive(10, TimeUnit.MILLISECONDS).isEmpty());
        }
    }
}
