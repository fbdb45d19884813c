package dev.skylark.broker.it;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A QoS 2 message sent at once to an online persistent subscriber is journaled as "sent under packet id N" while it is
 * routed, before the MESSAGE record that ends its routing. The replay must still put it back in flight under N: after
 * a restart the subscriber gets it again with DUP under the same id. Before the fix the replay dropped the early "sent"
 * record and the message was queued, to go out under the next free id (here 1 instead of 2). Run on a one-node
 * cluster: its restored session is still its own after the rejoin (no heir took it), so the node keeps it.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class InFlightQos2RestartTest
{
    @TempDir
    Path dataDir;
    private Broker broker;
    private final InJvmCluster cluster = new InJvmCluster();

    private Broker launch()
    {
        return Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0).bindAddress("127.0.0.1")
            .dataDir(dataDir.toString()).durability("os").clusterLink(cluster.link(1)));
    }

    @AfterEach
    void stop()
    {
        if (broker != null)
        {
            broker.close();
        }
    }

    private static byte[] b(final int... v)
    {
        return RawClient.bytes(v);
    }

    private static byte[] connect5(final String clientId, final boolean cleanStart)
    {
        final byte[] id = clientId.getBytes(StandardCharsets.UTF_8);
        return RawClient.packet(0x10,                                  // CONNECT
            b(0, 4, 'M', 'Q', 'T', 'T', 5),                            // protocol name, level 5
            b(cleanStart ? 0x02 : 0x00, 0, 60),                        // flags, keep alive 60
            b(5, 0x11, 0, 0, 0x01, 0x2C),                              // properties: Session Expiry Interval 300
            b(0, id.length), id);                                      // client id
    }

    private static int packetId(final byte[] publish)
    {
        int at = 1;
        while ((publish[at] & 0x80) != 0)
        {
            at++;
        }
        at++;
        final int topicLength = ((publish[at] & 0xFF) << 8) | (publish[at + 1] & 0xFF);
        at += 2 + topicLength;
        return ((publish[at] & 0xFF) << 8) | (publish[at + 1] & 0xFF);
    }

    @Test
    void aQos2MessageSentWhileRoutedComesAgainUnderItsPacketIdWithDupAfterARestart() throws Exception
    {
        broker = launch();
        final int inFlightId;
        try (RawClient sub = new RawClient(broker.mqttPort()))
        {
            sub.sendRaw(connect5("q2", true));
            assertEquals(0, sub.expect(2)[3], "CONNACK success");
            final byte[] filter = "q2/t".getBytes(StandardCharsets.UTF_8);
            sub.send(0x82, b(0, 1), b(0), b(0, filter.length), filter, b(2)); // SUBSCRIBE q2/t QoS 2
            sub.expect(9);
            final Mqtt5BlockingClient pub = Mqtt5Client.builder().identifier("pub").serverHost("127.0.0.1")
                .serverPort(broker.mqttPort()).buildBlocking();
            pub.connect();
            pub.publishWith().topic("q2/t").qos(MqttQos.EXACTLY_ONCE).payload("done".getBytes()).send();
            final byte[] completed = sub.expect(3);
            final int completedId = packetId(completed);
            sub.send(0x50, b(completedId >> 8, completedId & 0xFF));      // PUBREC
            sub.expect(6);                                                // PUBREL
            sub.send(0x70, b(completedId >> 8, completedId & 0xFF));      // PUBCOMP: this one is done
            pub.publishWith().topic("q2/t").qos(MqttQos.EXACTLY_ONCE).payload("once".getBytes()).send();
            pub.disconnect();
            final byte[] first = sub.expect(3);
            assertEquals(0x34, first[0] & 0xFF, "QoS 2, first delivery");
            inFlightId = packetId(first); // never answered
            assertEquals(completedId + 1, inFlightId, "the next packet id");
        }
        cluster.nodeDown(1); // alone: no heir, its client ids stay its own
        broker.close();
        broker = launch();
        try (RawClient again = new RawClient(broker.mqttPort()))
        {
            again.sendRaw(connect5("q2", false));
            final byte[] connack = again.expect(2);
            assertEquals(1, connack[2], "session present 1");
            final byte[] resent = again.expect(3);
            assertEquals(0x3C, resent[0] & 0xFF, "QoS 2 with DUP");
            assertEquals(inFlightId, packetId(resent), "under the packet id it went out with");
            assertEquals(1, cluster.owner("q2"));
        }
    }
}
