package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The broker's figures on $SYS/broker/... reach a $SYS/# subscriber, and a plain # subscriber does not see them. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SysTopicsTest
{
    @Test
    void sysTopicsArePublishedOnTheInterval() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1)
            .bindAddress("127.0.0.1").sysIntervalS(1));
            RawClient sys = new RawClient(broker.mqttPort());
            RawClient all = new RawClient(broker.mqttPort()))
        {
            sys.send(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("sys")).expect(2);
            sys.send(0x82, bytes(0, 1), str("$SYS/#"), bytes(0)).expect(9);
            all.send(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("all")).expect(2);
            all.send(0x82, bytes(0, 1), str("#"), bytes(0)).expect(9);

            final Map<String, String> figures = new HashMap<>();
            while (!figures.containsKey("$SYS/broker/messages/sent"))
            {
                final byte[] publish = sys.expect(3);
                final int topicLength = ((publish[2] & 0xFF) << 8) | (publish[3] & 0xFF);
                final String topic = new String(publish, 4, topicLength, StandardCharsets.UTF_8);
                final String payload = new String(publish, 4 + topicLength, publish.length - 4 - topicLength,
                    StandardCharsets.UTF_8);
                figures.put(topic, payload);
            }
            assertTrue(figures.get("$SYS/broker/version").startsWith("Skylark"), figures.toString());
            assertEquals("2", figures.get("$SYS/broker/clients/connected"), figures.toString());
            assertEquals("2", figures.get("$SYS/broker/subscriptions/count"), figures.toString());
            assertTrue(figures.get("$SYS/broker/uptime").endsWith(" seconds"), figures.toString());
            assertTrue(all.silentFor(300), "'#' does not match $SYS topics");
        }
    }
}
