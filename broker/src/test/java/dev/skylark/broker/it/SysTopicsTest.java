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
                if ((publish[0] & 0x01) != 0)
                {
                    continue; // retained on subscribe (the figures of an earlier interval): wait for live ones
                }
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

    /**
     * The figures are retained under Mosquitto's names: mosquitto_sub, connecting after they were published, gets
     * them at once as retained messages.
     */
    @Test
    void sysTopicsAreRetainedUnderMosquittosNames() throws Exception
    {
        org.junit.jupiter.api.Assumptions.assumeTrue(new java.io.File("/usr/bin/mosquitto_sub").canExecute(),
            "skipped: no mosquitto_sub here");
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1)
            .bindAddress("127.0.0.1").sysIntervalS(1));
            RawClient client = new RawClient(broker.mqttPort()))
        {
            client.send(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("c")).expect(2);
            client.send(0x82, bytes(0, 1), str("$SYS/broker/bytes/received"), bytes(0)).expect(9);
            // A live publish of bytes/received: the figures of an interval with this client connected are out.
            while ((client.expect(3)[0] & 0x01) != 0)
            {
                // retained from before this client: skip
            }
            final Process sub = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p",
                String.valueOf(broker.mqttPort()), "-V", "mqttv311", "-t", "$SYS/broker/#", "-F", "%t\t%p",
                "--retained-only", "-W", "10").redirectErrorStream(true).start();
            final String output = new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(sub.waitFor(20, TimeUnit.SECONDS));
            final Map<String, String> figures = new HashMap<>();
            for (final String line : output.split("\n"))
            {
                final int space = line.indexOf('\t');
                if (line.startsWith("$SYS/") && space > 0)
                {
                    figures.put(line.substring(0, space), line.substring(space + 1));
                }
            }
            for (final String topic : new String[] {"clients/connected", "clients/maximum", "clients/total",
                "load/messages/received/1min", "load/bytes/sent/15min", "bytes/received", "bytes/sent",
                "messages/received", "publish/messages/received", "store/messages/count", "store/messages/bytes",
                "subscriptions/count", "retained messages/count", "uptime", "version"})
            {
                assertTrue(figures.containsKey("$SYS/broker/" + topic), topic + " retained in:\n" + output);
            }
            assertTrue(Long.parseLong(figures.get("$SYS/broker/clients/maximum")) >= 1, output);
            assertTrue(Long.parseLong(figures.get("$SYS/broker/bytes/received")) > 0, output);
            Double.parseDouble(figures.get("$SYS/broker/load/messages/received/1min"));
        }
    }
}
