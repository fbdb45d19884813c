package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import dev.skylark.broker.status.CountersSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.str;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The outbound window with the defaults an ingest backend needs: it follows a v5 client's Receive Maximum, a 3.1.1
 * subscriber (which cannot say) gets a large one, and what is in flight is bounded in bytes
 * ({@code skylark.inflight.max.bytes}), with the queue behind it capped and counted as before.
 * <p>
 * No timing: the subscriber also subscribes to a QoS 0 marker topic. Once the publisher has every PUBACK, the routing
 * agent has taken each message; a marker published after that reaches the subscriber behind every QoS 1 message the
 * window let go, so "what arrived before the marker" is exactly what the broker put in flight.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OutboundWindowTest
{
    private static final int PUBLISH = 3;
    private static final int PUBACK = 4;

    @Test
    void aV5SubscriberWithReceiveMaximum10NeverHasMoreThan10InFlight() throws Exception
    {
        try (Broker broker = launch(new Broker.Context());
            RawClient sub = new RawClient(broker.mqttPort());
            RawClient pub = new RawClient(broker.mqttPort()))
        {
            sub.send(0x10, str("MQTT"), bytes(5, 0x02, 0, 0),
                bytes(3, 0x21, 0, 10),                    // properties: Receive Maximum 10
                str("rm10")).expect(2);
            subscribeWithMarker(sub, true);
            connect(pub, "rm10-pub");

            publishQos1(pub, 50, 1);
            marker(pub);
            final List<Integer> first = qos1BeforeMarker(sub);
            assertEquals(10, first.size(), "in flight before any PUBACK: the client's Receive Maximum");

            sub.send(0x40, bytes(first.get(0) >> 8, first.get(0) & 0xFF)); // PUBACK one
            marker(pub);
            assertEquals(1, qos1BeforeMarker(sub).size(), "one PUBACK frees room for exactly one more");
        }
    }

    @Test
    void a311SubscriberGetsTheGenerousDefaultWindow() throws Exception
    {
        try (Broker broker = launch(new Broker.Context());
            RawClient sub = new RawClient(broker.mqttPort());
            RawClient pub = new RawClient(broker.mqttPort()))
        {
            connect(sub, "v311-sub");
            subscribeWithMarker(sub, false);
            connect(pub, "v311-pub");

            final int messages = 2_000; // far past the old default window of 32
            publishQos1(pub, messages, 1);
            marker(pub);
            assertEquals(messages, qos1BeforeMarker(sub).size(),
                "a 3.1.1 subscriber that has not acknowledged yet has all of them in flight");
        }
    }

    @Test
    void theInFlightBytesBoundQueuesTheRestAndTheQueueBytesBoundDropsAndCounts() throws Exception
    {
        // Every message is stored as 14 + topic (3) + payload (111) = 128 bytes: 8 of them make 1,024.
        try (Broker broker = launch(new Broker.Context().inflightMaxBytes(1024).queueMaxBytes(1024));
            RawClient sub = new RawClient(broker.mqttPort());
            RawClient pub = new RawClient(broker.mqttPort()))
        {
            connect(sub, "bytes-sub");
            subscribeWithMarker(sub, false);
            connect(pub, "bytes-pub");

            publishQos1(pub, 20, 111);
            marker(pub);
            final List<Integer> inFlight = qos1BeforeMarker(sub);
            assertEquals(8, inFlight.size(), "the 8th message reaches 1,024 bytes in flight: the 9th waits");
            assertEquals(4, droppedForBytes(broker), "8 more queued make 1,024 bytes: the last 4 are dropped and counted");

            final ByteArrayOutputStream acks = new ByteArrayOutputStream();
            for (final int id : inFlight)
            {
                acks.writeBytes(RawClient.packet(0x40, bytes(id >> 8, id & 0xFF)));
            }
            sub.sendRaw(acks.toByteArray());
            marker(pub);
            assertEquals(8, qos1BeforeMarker(sub).size(), "the 8 queued went out as the PUBACKs freed the bytes");
            marker(pub);
            assertEquals(0, qos1BeforeMarker(sub).size(), "nothing else was owed");
            assertEquals(4, droppedForBytes(broker));
        }
    }

    private static Broker launch(final Broker.Context context)
    {
        return Broker.launch(context.authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
    }

    private static void connect(final RawClient client, final String clientId) throws Exception
    {
        client.send(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str(clientId)).expect(2);
    }

    /** QoS 1 on {@code w/t}, QoS 0 on {@code w/mark}. */
    private static void subscribeWithMarker(final RawClient sub, final boolean v5) throws Exception
    {
        if (v5)
        {
            sub.send(0x82, bytes(0, 1), bytes(0), str("w/t"), bytes(1)).expect(9);
            sub.send(0x82, bytes(0, 2), bytes(0), str("w/mark"), bytes(0)).expect(9);
        }
        else
        {
            sub.send(0x82, bytes(0, 1), str("w/t"), bytes(1)).expect(9);
            sub.send(0x82, bytes(0, 2), str("w/mark"), bytes(0)).expect(9);
        }
    }

    /** Publishes {@code count} QoS 1 messages to {@code w/t}, 500 at a time, and waits for every PUBACK. */
    private static void publishQos1(final RawClient pub, final int count, final int payloadLength) throws Exception
    {
        for (int sent = 0; sent < count; )
        {
            final int n = Math.min(500, count - sent);
            final ByteArrayOutputStream batch = new ByteArrayOutputStream();
            for (int i = 0; i < n; i++)
            {
                final int id = ++sent;
                batch.writeBytes(RawClient.packet(0x32, str("w/t"), bytes(id >> 8, id & 0xFF), new byte[payloadLength]));
            }
            pub.sendRaw(batch.toByteArray());
            for (int i = 0; i < n; i++)
            {
                pub.expect(PUBACK);
            }
        }
    }

    private static void marker(final RawClient pub) throws Exception
    {
        pub.send(0x30, str("w/mark"), bytes('m'));
    }

    /** The packet ids of the QoS 1 PUBLISHes that arrive before the next marker. */
    private static List<Integer> qos1BeforeMarker(final RawClient sub) throws Exception
    {
        final List<Integer> ids = new ArrayList<>();
        while (true)
        {
            final byte[] publish = sub.expect(PUBLISH);
            if ((publish[0] & 0x06) == 0)
            {
                return ids; // the QoS 0 marker
            }
            int at = 1;
            while ((publish[at++] & 0x80) != 0)
            {
                // remaining length varint
            }
            final int topicLength = ((publish[at] & 0xFF) << 8) | (publish[at + 1] & 0xFF);
            at += 2 + topicLength;
            ids.add(((publish[at] & 0xFF) << 8) | (publish[at + 1] & 0xFF));
        }
    }

    private static long droppedForBytes(final Broker broker)
    {
        long total = 0;
        for (final CountersSnapshot.Entry entry : CountersSnapshot.of(broker.countersFile().reader()).entries())
        {
            if (entry.name().equals("skylark_queue_dropped_total") && entry.labels().contains("bytes"))
            {
                total += entry.value();
            }
        }
        return total;
    }
}
