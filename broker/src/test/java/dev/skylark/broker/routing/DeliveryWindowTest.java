package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.ReasonCode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-session delivery window on its own: no rings, no store, no journal; a recorder stands in for every side
 * effect and the clock is a plain number.
 */
class DeliveryWindowTest
{
    private static final int NO_LIMIT = Integer.MAX_VALUE;
    private static final long ONE_MS = 1_000_000L;

    private final Recorder outbound = new Recorder();
    private Session session;
    private DeliveryWindow window;

    @BeforeEach
    void online()
    {
        session = new Session(1, "client");
        session.connectionId = 42;
        window = session.window;
        window.sendWindow = 2;
    }

    @Test
    void fillsTheWindowThenQueuesInOrderAndDrainsOnEachPuback()
    {
        final PendingMessage a = message(1, 10);
        final PendingMessage b = message(1, 10);
        final PendingMessage c = message(1, 10);
        window.offer(a, NO_LIMIT, 0, outbound);
        window.offer(b, NO_LIMIT, 0, outbound);
        window.offer(c, NO_LIMIT, 0, outbound);

        assertEquals(List.of("send " + a.packetId, "send " + b.packetId), outbound.events);
        assertEquals(PendingMessage.AWAIT_PUBACK, a.state);
        assertEquals(1, window.queue.size());
        assertFalse(window.canSend());
        assertEquals(3, window.backlog());

        outbound.events.clear();
        window.onAck(PacketType.PUBACK, ReasonCode.SUCCESS, a.packetId, 0, outbound);
        assertEquals(List.of("delivered " + JournalRecord.DELIVERED_COMPLETE, "recycle", "send " + c.packetId),
            outbound.events);
        assertEquals(0, window.queue.size());
        assertEquals(2, window.inFlightCount());
        assertEquals(List.of(b, c), listOf(window.inFlightOrder()));
    }

    @Test
    void qos2GoesPubrecPubrelPubcompAndJournalsEachStep()
    {
        final PendingMessage m = message(2, 10);
        window.offer(m, NO_LIMIT, 0, outbound);
        final int id = m.packetId;
        assertEquals(List.of("delivered " + JournalRecord.DELIVERED_SENT, "send " + id), outbound.events);

        outbound.events.clear();
        window.onAck(PacketType.PUBREC, ReasonCode.SUCCESS, id, 0, outbound);
        assertEquals(PendingMessage.AWAIT_PUBCOMP, m.state);
        assertEquals(List.of("delivered " + JournalRecord.DELIVERED_RELEASED, "releaseMessage",
            "pubrel " + id + " " + ReasonCode.SUCCESS), outbound.events);

        outbound.events.clear();
        window.onAck(PacketType.PUBACK, ReasonCode.SUCCESS, id, 0, outbound); // wrong ack for the state: ignored
        assertEquals(List.of(), outbound.events);

        window.onAck(PacketType.PUBCOMP, ReasonCode.SUCCESS, id, 0, outbound);
        assertEquals(List.of("delivered " + JournalRecord.DELIVERED_COMPLETE, "recycle"), outbound.events);
        assertEquals(0, window.backlog());
    }

    @Test
    void pubrecWithAnErrorCompletesAQos2Message()
    {
        final PendingMessage m = message(2, 10);
        window.offer(m, NO_LIMIT, 0, outbound);
        outbound.events.clear();
        window.onAck(PacketType.PUBREC, ReasonCode.UNSPECIFIED_ERROR, m.packetId, 0, outbound);
        assertEquals(List.of("delivered " + JournalRecord.DELIVERED_COMPLETE, "recycle"), outbound.events);
        assertEquals(0, window.backlog());
    }

    /**
     * Every acknowledgement in every state (docs/conformance.md): the wrong type for the delivery it names is a
     * protocol violation (false, nothing changes) [MQTT-4.3.2-2], [MQTT-4.3.3-*]; a repeated PUBREC gets its PUBREL
     * again [MQTT-4.3.3-4]; an unknown id is not a violation.
     */
    @Test
    void everyAcknowledgementInEveryState()
    {
        final int[] acks = {PacketType.PUBACK, PacketType.PUBREC, PacketType.PUBCOMP};
        // state → {PUBACK, PUBREC, PUBCOMP}: accepted?
        final boolean[][] accepted = {
            {true, false, false},   // QoS 1, awaiting PUBACK
            {false, true, false},   // QoS 2, awaiting PUBREC
            {false, true, true},    // QoS 2, awaiting PUBCOMP
        };
        for (int state = 0; state < accepted.length; state++)
        {
            for (int a = 0; a < acks.length; a++)
            {
                online();
                final PendingMessage m = message(state == 0 ? 1 : 2, 10);
                window.offer(m, NO_LIMIT, 0, outbound);
                if (state == 2)
                {
                    window.onAck(PacketType.PUBREC, ReasonCode.SUCCESS, m.packetId, 0, outbound);
                }
                final int before = m.state;
                outbound.events.clear();
                final boolean ok = window.onAck(acks[a], ReasonCode.SUCCESS, m.packetId, 0, outbound);
                final String what = PacketType.name(acks[a]) + " in state " + before;
                assertEquals(accepted[state][a], ok, what);
                if (!ok)
                {
                    assertEquals(List.of(), outbound.events, what + ": nothing sent");
                    assertEquals(before, m.state, what + ": state unchanged");
                }
                else if (state == 2 && acks[a] == PacketType.PUBREC)
                {
                    assertEquals(List.of("pubrel " + m.packetId + " " + ReasonCode.SUCCESS), outbound.events,
                        "a repeated PUBREC gets its PUBREL again");
                    assertEquals(PendingMessage.AWAIT_PUBCOMP, m.state);
                }
            }
        }
        online();
        for (final int ack : acks)
        {
            assertTrue(window.onAck(ack, ReasonCode.SUCCESS, 999, 0, outbound), "unknown id: not a violation");
        }
    }

    @Test
    void unknownPubrecIsAnsweredWithPubrelPacketIdentifierNotFound()
    {
        window.onAck(PacketType.PUBREC, ReasonCode.SUCCESS, 77, 0, outbound);
        assertEquals(List.of("pubrel 77 " + ReasonCode.PACKET_IDENTIFIER_NOT_FOUND), outbound.events);
        outbound.events.clear();
        window.onAck(PacketType.PUBACK, ReasonCode.SUCCESS, 78, 0, outbound);
        assertEquals(List.of(), outbound.events);
    }

    @Test
    void offlineQueueDropsPastTheMessageLimitAndTheByteLimit()
    {
        session.connectionId = Session.NO_CONNECTION;
        window.offer(message(1, 100), 2, 250, outbound);
        window.offer(message(1, 100), 2, 250, outbound);
        assertEquals(2, window.queue.size());
        assertEquals(List.of(), outbound.events);

        window.offer(message(1, 10), 2, 250, outbound);
        assertEquals(List.of("dropped " + DeliveryWindow.DROPPED_QUEUE_FULL,
            "delivered " + JournalRecord.DELIVERED_COMPLETE, "recycle"), outbound.events);

        outbound.events.clear();
        window.offer(message(1, 51), 3, 250, outbound);
        assertEquals(List.of("dropped " + DeliveryWindow.DROPPED_QUEUE_BYTES,
            "delivered " + JournalRecord.DELIVERED_COMPLETE, "recycle"), outbound.events);
        assertEquals(2, window.queue.size());
        assertEquals(200, window.queue.bytes());
    }

    /**
     * Issue #15: a connected subscriber that never acknowledges is capped like an offline one (it used to queue
     * without limit, bounded only by the broker-wide publish gate that held every publisher back).
     */
    @Test
    void onlineQueueIsCappedByTheSameLimits()
    {
        window.sendWindow = 1;
        for (int i = 0; i < 5; i++)
        {
            window.offer(message(1, 100), 2, 1000, outbound);
        }
        assertEquals(1, window.inFlightCount());
        assertEquals(2, window.queue.size(), "the message limit holds while online");
        assertEquals(2, outbound.events.stream().filter(("dropped " + DeliveryWindow.DROPPED_QUEUE_FULL)::equals).count());

        outbound.events.clear();
        window.offer(message(1, 100), 4, 300, outbound); // 200 + 100 = 300: fits exactly
        assertEquals(3, window.queue.size());
        window.offer(message(1, 1), 4, 300, outbound); // 301: one byte over
        assertEquals(3, window.queue.size());
        assertEquals(List.of("dropped " + DeliveryWindow.DROPPED_QUEUE_BYTES,
            "delivered " + JournalRecord.DELIVERED_COMPLETE, "recycle"), outbound.events);
    }

    /**
     * Issue #21: the window is bounded in stored bytes as well as by count, so the count can default high (an ingest
     * backend is not throttled) while a slow subscriber holds no more than {@code sendWindowBytes} in flight.
     */
    @Test
    void theWindowIsBoundedInBytesAndOneMessageAlwaysGoes()
    {
        window.sendWindow = 65_535;
        window.sendWindowBytes = 300;
        final PendingMessage a = message(1, 100);
        final PendingMessage b = message(1, 100);
        final PendingMessage c = message(1, 100);
        final PendingMessage d = message(1, 100);
        window.offer(a, NO_LIMIT, 0, outbound);
        window.offer(b, NO_LIMIT, 0, outbound);
        assertTrue(window.canSend(), "200 < 300 bytes in flight: room for one more");
        window.offer(c, NO_LIMIT, 0, outbound);
        assertEquals(300, window.inFlightBytes);
        assertFalse(window.canSend(), "300 bytes in flight: the bound is reached");
        window.offer(d, NO_LIMIT, 0, outbound);
        assertEquals(3, window.inFlightCount());
        assertEquals(1, window.queue.size(), "the 4th waits in the queue, within the queue's own limits");

        outbound.events.clear();
        window.onAck(PacketType.PUBACK, ReasonCode.SUCCESS, a.packetId, 0, outbound);
        assertEquals(List.of("delivered " + JournalRecord.DELIVERED_COMPLETE, "recycle", "send " + d.packetId),
            outbound.events);
        assertEquals(300, window.inFlightBytes);

        for (final PendingMessage m : List.of(b, c, d))
        {
            window.onAck(PacketType.PUBACK, ReasonCode.SUCCESS, m.packetId, 0, outbound);
        }
        assertEquals(0, window.inFlightBytes);
        final PendingMessage big = message(1, 10_000);
        window.offer(big, NO_LIMIT, 0, outbound);
        assertEquals(1, window.inFlightCount(), "a message larger than the bound goes when nothing is in flight");
        assertFalse(window.canSend());
    }

    @Test
    void pubrecRemoveAndClearGiveTheInFlightBytesBack()
    {
        window.sendWindow = 65_535;
        window.sendWindowBytes = 200;
        final PendingMessage q2 = message(2, 100);
        final PendingMessage q1 = message(1, 100);
        window.offer(q2, NO_LIMIT, 0, outbound);
        window.offer(q1, NO_LIMIT, 0, outbound);
        assertFalse(window.canSend());

        window.onAck(PacketType.PUBREC, ReasonCode.SUCCESS, q2.packetId, 0, outbound);
        assertEquals(100, window.inFlightBytes, "past PUBREC the body is released: only the PUBCOMP is owed");
        assertTrue(window.canSend());
        window.onAck(PacketType.PUBCOMP, ReasonCode.SUCCESS, q2.packetId, 0, outbound);
        assertEquals(100, window.inFlightBytes);

        window.remove(q1);
        assertEquals(0, window.inFlightBytes);
        window.offer(message(1, 100), NO_LIMIT, 0, outbound);
        window.clear(outbound);
        assertEquals(0, window.inFlightBytes);
    }

    @Test
    void aQueuedCopyExpiresExactlyAtItsDeadline()
    {
        final long deadlineNs = 5_000 * ONE_MS;
        session.connectionId = Session.NO_CONNECTION;
        final PendingMessage early = message(1, 10);
        early.expiryDeadlineNs = deadlineNs;
        final PendingMessage late = message(1, 10);
        late.expiryDeadlineNs = deadlineNs;
        window.offer(early, NO_LIMIT, 0, outbound);
        window.offer(late, NO_LIMIT, 0, outbound);
        session.connectionId = 42;
        window.sendWindow = 1;

        window.drain(deadlineNs - ONE_MS, outbound);
        assertEquals(List.of("send " + early.packetId), outbound.events);

        outbound.events.clear();
        window.onAck(PacketType.PUBACK, ReasonCode.SUCCESS, early.packetId, deadlineNs + ONE_MS, outbound);
        assertEquals(List.of("delivered " + JournalRecord.DELIVERED_COMPLETE, "recycle",
            "dropped " + DeliveryWindow.DROPPED_EXPIRED, "delivered " + JournalRecord.DELIVERED_COMPLETE, "recycle"),
            outbound.events);
        assertEquals(0, window.backlog());
    }

    @Test
    void resendGoesInOrderWithDupAndPubrelForReleasedMessages()
    {
        window.sendWindow = 3;
        final PendingMessage a = message(1, 10);
        final PendingMessage b = message(2, 10);
        final PendingMessage c = message(1, 10);
        window.offer(a, NO_LIMIT, 0, outbound);
        window.offer(b, NO_LIMIT, 0, outbound);
        window.offer(c, NO_LIMIT, 0, outbound);
        window.onAck(PacketType.PUBREC, ReasonCode.SUCCESS, b.packetId, 0, outbound);
        outbound.events.clear();

        window.resend(outbound);
        assertEquals(List.of("dup " + a.packetId, "pubrel " + b.packetId + " " + ReasonCode.SUCCESS,
            "dup " + c.packetId), outbound.events);
    }

    @Test
    void packetIdsSkipThoseInFlightAndWrapAt65535()
    {
        window.sendWindow = 3;
        final PendingMessage a = message(1, 10);
        window.offer(a, NO_LIMIT, 0, outbound);
        assertEquals(1, a.packetId);
        for (int i = 2; i < 65_535; i++)
        {
            window.nextPacketId();
        }
        final PendingMessage b = message(1, 10);
        window.offer(b, NO_LIMIT, 0, outbound);
        assertEquals(65_535, b.packetId);
        final PendingMessage c = message(1, 10);
        window.offer(c, NO_LIMIT, 0, outbound);
        assertEquals(2, c.packetId, "1 is still in flight");
    }

    @Test
    void removeAndClearGiveBackEverything()
    {
        window.sendWindow = 1;
        final PendingMessage a = message(1, 10);
        final PendingMessage b = message(1, 10);
        window.offer(a, NO_LIMIT, 0, outbound);
        window.offer(b, NO_LIMIT, 0, outbound);
        window.remove(b);
        assertEquals(0, window.queue.size());
        window.remove(a);
        assertEquals(0, window.inFlightCount());
        assertFalse(window.inFlightOrder().iterator().hasNext());

        window.offer(a, NO_LIMIT, 0, outbound);
        window.offer(b, NO_LIMIT, 0, outbound);
        outbound.events.clear();
        window.clear(outbound);
        assertEquals(List.of("recycle", "recycle"), outbound.events);
        assertEquals(0, window.backlog());
    }

    private static PendingMessage message(final int qos, final int length)
    {
        final PendingMessage pending = new PendingMessage();
        pending.qos = qos;
        pending.length = length;
        pending.handle = 1;
        return pending;
    }

    private static final class Recorder implements DeliveryWindow.Outbound
    {
        final List<String> events = new ArrayList<>();

        public void send(final Session session, final PendingMessage pending, final boolean dup)
        {
            events.add((dup ? "dup " : "send ") + pending.packetId);
        }

        public void pubrel(final Session session, final int packetId, final int reasonCode)
        {
            events.add("pubrel " + packetId + " " + reasonCode);
        }

        public void delivered(final Session session, final PendingMessage pending, final int journalState)
        {
            events.add("delivered " + journalState);
        }

        public void releaseMessage(final PendingMessage pending)
        {
            events.add("releaseMessage");
            pending.handle = MessageStore.NULL_HANDLE;
        }

        public void recycle(final PendingMessage pending)
        {
            events.add("recycle");
        }

        public void dropped(final Session session, final PendingMessage pending, final int reason)
        {
            events.add("dropped " + reason);
        }
    }

    private static List<PendingMessage> listOf(final Iterable<PendingMessage> messages)
    {
        final List<PendingMessage> list = new ArrayList<>();
        messages.forEach(list::add);
        return list;
    }
}
