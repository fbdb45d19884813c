package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import dev.skylark.broker.status.CountersSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.it.RawClient.bytes;
import static dev.skylark.broker.it.RawClient.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** QoS 1 messages of a shared subscription member that goes away are delivered by another member. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SharedRedistributionTest
{
    @Test
    void aDepartingMembersUnacknowledgedMessagesGoToAnotherMember() throws Exception
    {
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1)
            .bindAddress("127.0.0.1"));
            RawClient stubborn = new RawClient(broker.mqttPort());
            RawClient worker = new RawClient(broker.mqttPort());
            RawClient publisher = new RawClient(broker.mqttPort()))
        {
            // A v5 member that takes one message at a time (Receive Maximum 1) and never acknowledges it.
            stubborn.send(0x10, str("MQTT"), bytes(5, 0x02, 0, 0), bytes(3, 0x21, 0, 1), str("stubborn")).expect(2);
            stubborn.send(0x82, bytes(0, 1), bytes(0), str("$share/g/jobs"), bytes(1)).expect(9);
            worker.send(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("worker")).expect(2);
            worker.send(0x82, bytes(0, 1), str("$share/g/jobs"), bytes(1)).expect(9);
            publisher.send(0x10, str("MQTT"), bytes(4, 0x02, 0, 0), str("pub")).expect(2);

            final int messages = 10;
            for (int i = 0; i < messages; i++)
            {
                publisher.send(0x32, str("jobs"), bytes(0, i + 1), bytes('0' + i));
                publisher.expect(4);
            }
            final byte[] held = stubborn.expect(3); // the one it holds without acknowledging
            final Set<Integer> done = new HashSet<>();
            while (done.size() < messages - 1)
            {
                done.add(take(worker));
            }
            stubborn.close(); // clean session: it ends, and what it never acknowledged moves on

            done.add(take(worker));
            assertEquals(messages, done.size(), "every job reached the worker once the stubborn member left");
            assertTrue(done.contains(held[held.length - 1] - '0'), "the job the stubborn member held came too");
            assertEquals(1, CountersSnapshot.of(broker.countersFile().reader())
                .total("skylark_shared_redistributed_total"));
        }
    }

    /** Receives a QoS 1 PUBLISH, acknowledges it, returns the job number in its one-byte payload. */
    private static int take(final RawClient client) throws Exception
    {
        final byte[] publish = client.expect(3);
        final int idAt = publish.length - 3;
        client.send(0x40, bytes(publish[idAt], publish[idAt + 1]));
        return publish[publish.length - 1] - '0';
    }
}
