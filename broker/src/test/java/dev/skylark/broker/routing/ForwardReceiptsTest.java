package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The receiving side of durable forwards: confirmations wait for the records to be durable, go one per (sender,
 * origin, target) and durable round rather than one per forward, and the marks drop what was applied.
 */
class ForwardReceiptsTest
{
    /** What the link sent: "to:origin:target:upTo". */
    private final List<String> sent = new ArrayList<>();
    private boolean refuse;
    private final ClusterLink link = new ClusterLink()
    {
        public int nodeId()
        {
            return 3;
        }

        public boolean claim(final long correlationId, final String clientId)
        {
            return false;
        }

        public boolean release(final String clientId, final long epoch)
        {
            return false;
        }

        public boolean addRoute(final long correlationId, final String filter)
        {
            return false;
        }

        public boolean removeRoute(final long correlationId, final String filter)
        {
            return false;
        }

        public boolean setRetained(final DirectBuffer message, final int offset, final int length)
        {
            return false;
        }

        public boolean send(final int nodeId, final int type, final DirectBuffer buffer, final int offset,
            final int length)
        {
            if (refuse)
            {
                return false;
            }
            assertEquals(ForwardReceipts.CONFIRM, type);
            assertEquals(ForwardReceipts.CONFIRM_LENGTH, length);
            sent.add(nodeId + ":" + buffer.getInt(offset) + ":" + buffer.getInt(offset + 4) + ":" +
                buffer.getLong(offset + 8));
            return true;
        }

        public boolean hasWork()
        {
            return false;
        }

        public int poll(final Events events, final int limit)
        {
            return 0;
        }
    };

    @Test
    void confirmationsWaitForDurabilityAndGoOncePerRound()
    {
        final ForwardReceipts receipts = new ForwardReceipts();
        for (int id = 1; id <= 100; id++)
        {
            receipts.seen(1, 3, id);
            receipts.owe(1, 1, 3, id, 1000 + id); // the records of forward id end at sequence 1000 + id
        }
        assertFalse(receipts.hasReady(1000), "nothing durable yet");
        assertEquals(0, receipts.confirm(link, 1000));
        assertTrue(receipts.hasReady(1100));
        assertEquals(1, receipts.confirm(link, 1100), "one confirmation for all hundred");
        assertEquals(List.of("1:1:3:100"), sent);
        assertEquals(0, receipts.confirm(link, 1100), "nothing more owed");
        assertEquals(100, receipts.applied(1, 3));
        assertEquals(0, receipts.applied(1, 2), "marks are per (origin, target)");
    }

    @Test
    void theForwardsOfOneRoundShareOneMarkAndTheirConfirmationWaitsForIt()
    {
        final List<String> marks = new ArrayList<>();
        final long[] sequence = { 500 };
        final JournalRecord journal = new JournalRecord(new MarkLog(marks, sequence));
        final ForwardReceipts receipts = new ForwardReceipts();
        for (int id = 1; id <= 50; id++)
        {
            receipts.applied(1, 3, id);
            receipts.owe(1, 1, 3, id, 1000 + id); // the forward's MESSAGE record
        }
        receipts.applied(2, 3, 7);
        sequence[0] = 1050;
        assertEquals(50, receipts.applied(1, 3), "de-duplication does not wait for the mark");
        assertEquals(2, receipts.writeMarks(journal), "one mark per (origin, target), not one per forward");
        assertEquals(List.of("1:3:50@1051", "2:3:7@1052"), marks.stream().sorted().toList());
        assertEquals(0, receipts.writeMarks(journal), "nothing applied since");
        assertFalse(receipts.hasReady(1050), "the messages are durable, the mark is not: a restart would apply them again");
        assertEquals(0, receipts.confirm(link, 1050));
        assertEquals(1, receipts.confirm(link, 1051));
        assertEquals(List.of("1:1:3:50"), sent);
    }

    /** A log that only takes FORWARD_APPLIED marks: "origin:target:id@sequence". */
    private record MarkLog(List<String> marks, long[] sequence) implements DurableLog
    {
        public long append(final DirectBuffer buffer, final int offset, final int length)
        {
            assertEquals(JournalRecord.FORWARD_APPLIED, buffer.getByte(offset + JournalRecord.TYPE_OFFSET));
            marks.add(buffer.getInt(offset + JournalRecord.FORWARD_MARK_ORIGIN_OFFSET) + ":" +
                buffer.getInt(offset + JournalRecord.FORWARD_MARK_TARGET_OFFSET) + ":" +
                buffer.getLong(offset + JournalRecord.FORWARD_MARK_ID_OFFSET) + "@" + ++sequence[0]);
            return sequence[0];
        }

        public int maxRecordLength()
        {
            return 1 << 16;
        }

        public void beginCheckpoint()
        {
        }

        public void endCheckpoint()
        {
        }

        public long lastSequence()
        {
            return sequence[0];
        }

        public long durableSequence()
        {
            return 0;
        }

        public long bytesSinceCheckpoint()
        {
            return 0;
        }

        public boolean isBackPressured()
        {
            return false;
        }

        public int doWork()
        {
            return 0;
        }

        public void replay(final Replayer replayer)
        {
        }

        public void close()
        {
        }
    }

    @Test
    void aSteadyStreamIsConfirmedOneDurableRoundBehind()
    {
        final ForwardReceipts receipts = new ForwardReceipts();
        receipts.owe(1, 1, 3, 10, 110);
        assertEquals(0, receipts.confirm(link, 100)); // candidate taken: id 10 at sequence 110
        receipts.owe(1, 1, 3, 20, 120); // more arrives before 110 is durable
        assertEquals(1, receipts.confirm(link, 115), "the candidate is durable though the latest is not");
        assertEquals(List.of("1:1:3:10"), sent);
        assertEquals(1, receipts.confirm(link, 120));
        assertEquals(List.of("1:1:3:10", "1:1:3:20"), sent);
    }

    @Test
    void aRefusedConfirmationIsRetriedAndAGoneSenderIsForgotten()
    {
        final ForwardReceipts receipts = new ForwardReceipts();
        receipts.owe(1, 1, 3, 5, 1);
        receipts.owe(2, 2, 3, 7, 1);
        refuse = true;
        assertEquals(0, receipts.confirm(link, 10));
        refuse = false;
        receipts.forgetSender(2);
        assertEquals(1, receipts.confirm(link, 10));
        assertEquals(List.of("1:1:3:5"), sent);
    }

    @Test
    void theTriplesTrackedAreBounded()
    {
        final ForwardReceipts receipts = new ForwardReceipts();
        for (int origin = 0; origin < ForwardReceipts.MAX_OWED + 10; origin++)
        {
            receipts.owe(1, origin, 3, 1, 0);
        }
        assertEquals(ForwardReceipts.MAX_OWED, receipts.confirm(link, 0), "one confirmation per tracked triple");
    }
}
