package dev.skylark.broker.it;

import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.disconnect.Mqtt5Disconnect;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5DisconnectException;
import dev.skylark.broker.Broker;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Persistent sessions, wills and takeover with independent clients over real sockets. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SessionTest
{
    private Broker broker;
    private String uri;

    @BeforeEach
    void start()
    {
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
        uri = "tcp://127.0.0.1:" + broker.mqttPort();
    }

    @AfterEach
    void stop()
    {
        broker.close();
    }

    private MqttClient paho(final String id, final boolean clean, final BlockingQueue<String> sink) throws Exception
    {
        final MqttClient c = new MqttClient(uri, id, new MemoryPersistence());
        if (sink != null)
        {
            c.setCallback(new org.eclipse.paho.client.mqttv3.MqttCallback()
            {
                public void connectionLost(final Throwable cause)
                {
                }

                public void messageArrived(final String topic, final MqttMessage message)
                {
                    sink.add(topic + ":" + new String(message.getPayload()) + ":q" + message.getQos());
                }

                public void deliveryComplete(final org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token)
                {
                }
            });
        }
        final MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(clean);
        o.setAutomaticReconnect(false);
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        c.connect(o);
        return c;
    }

    private static void close(final MqttClient c) throws Exception
    {
        if (c.isConnected())
        {
            c.disconnect(1000);
        }
        c.close();
    }

    @Test
    void offlineQos1MessagesDeliveredOnReconnect() throws Exception
    {
        final BlockingQueue<String> got = new LinkedBlockingQueue<>();
        MqttClient sub = paho("persist", false, got);
        sub.subscribe("o/#", 1);
        sub.disconnect(1000);
        sub.close();

        final MqttClient pub = paho("pubber", true, null);
        pub.publish("o/1", "first".getBytes(), 1, false);
        pub.publish("o/2", "second".getBytes(), 1, false);
        close(pub);

        sub = paho("persist", false, got);
        try
        {
            assertEquals("o/1:first:q1", got.poll(5, TimeUnit.SECONDS));
            assertEquals("o/2:second:q1", got.poll(5, TimeUnit.SECONDS));
        }
        finally
        {
            close(sub);
        }
    }

    /** CONNECT v3.1.1 with will on "will/t" payload "gone", clean session, keep alive 60. */
    private static byte[] connectWithWill(final String clientId)
    {
        final byte[] id = clientId.getBytes();
        final java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.writeBytes(new byte[]{0, 4, 'M', 'Q', 'T', 'T', 4}); // protocol name, level 4
        b.write(0x0E);                                         // flags: will QoS 1, will flag, clean session
        b.writeBytes(new byte[]{0, 60});                       // keep alive 60
        b.writeBytes(new byte[]{0, (byte)id.length});          // client id
        b.writeBytes(id);
        b.writeBytes(new byte[]{0, 6, 'w', 'i', 'l', 'l', '/', 't'}); // will topic
        b.writeBytes(new byte[]{0, 4, 'g', 'o', 'n', 'e'});           // will payload
        final byte[] body = b.toByteArray();
        final byte[] packet = new byte[body.length + 2];
        packet[0] = 0x10;                                      // CONNECT
        packet[1] = (byte)body.length;                         // remaining length
        System.arraycopy(body, 0, packet, 2, body.length);
        return packet;
    }

    private Socket rawConnect(final byte[] connect) throws Exception
    {
        final Socket s = new Socket("127.0.0.1", broker.mqttPort());
        s.setSoTimeout(5000);
        s.getOutputStream().write(connect);
        final byte[] connack = s.getInputStream().readNBytes(4);
        assertEquals(0x20, connack[0]);
        assertEquals(0, connack[3]);
        return s;
    }

    @Test
    void willPublishedOnAbruptCloseNotOnDisconnect() throws Exception
    {
        final BlockingQueue<String> got = new LinkedBlockingQueue<>();
        final MqttClient watcher = paho("watcher", true, got);
        try
        {
            watcher.subscribe("will/t", 1);
            watcher.subscribe("marker", 1);

            // Normal DISCONNECT: no will.
            try (Socket polite = rawConnect(connectWithWill("polite")))
            {
                polite.getOutputStream().write(new byte[]{(byte)0xE0, 0}); // DISCONNECT, remaining length 0
                assertEquals(-1, polite.getInputStream().read(), "broker closes after DISCONNECT");
            }
            // Abrupt close: will.
            final Socket rude = rawConnect(connectWithWill("rude"));
            rude.setSoLinger(true, 0); // RST, no DISCONNECT
            rude.close();
            assertEquals("will/t:gone:q1", got.poll(5, TimeUnit.SECONDS));

            final MqttClient pub = paho("marker-pub", true, null);
            pub.publish("marker", "m".getBytes(), 1, false);
            close(pub);
            assertEquals("marker:m:q1", got.poll(5, TimeUnit.SECONDS), "only one will, from the rude client");
        }
        finally
        {
            close(watcher);
        }
    }

    @Test
    void takeoverDisconnectsFirstV5ClientWith0x8E() throws Exception
    {
        final CompletableFuture<Integer> reason = new CompletableFuture<>();
        final Mqtt5BlockingClient first = Mqtt5Client.builder().identifier("same")
            .serverHost("127.0.0.1").serverPort(broker.mqttPort())
            .addDisconnectedListener(ctx ->
            {
                final Throwable cause = ctx.getCause();
                if (cause instanceof Mqtt5DisconnectException)
                {
                    final Mqtt5Disconnect d = ((Mqtt5DisconnectException)cause).getMqttMessage();
                    reason.complete(d.getReasonCode().getCode());
                }
                else
                {
                    reason.complete(-1);
                }
            })
            .buildBlocking();
        first.connect();
        final Mqtt5BlockingClient second = Mqtt5Client.builder().identifier("same")
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        second.connect();
        try
        {
            assertEquals(0x8E, reason.get(5, TimeUnit.SECONDS));
            assertNotNull(second.getState());
            assertEquals(true, second.getState().isConnected());
        }
        finally
        {
            second.disconnect();
        }
    }
}
