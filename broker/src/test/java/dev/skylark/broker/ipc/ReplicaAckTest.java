package dev.skylark.broker.ipc;

import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code skylark.cluster.ack=replica}: the journal's durable sequence is the lower of the local journal's and the
 * buddy's, so an acknowledgement waits for both; {@code local} counts the local journal only. And the replication
 * agent's checkpoint request is answered by the next checkpoint.
 */
class ReplicaAckTest
{
    @TempDir
    Path dataDir;

    @Test
    void durableIsTheMinimumOfLocalAndBuddyWithReplicaAck() throws Exception
    {
        try (IpcDurableLog log = new IpcDurableLog(dataDir, false, 64 * 1024, () -> { }, new SystemNanoClock()))
        {
            log.replay((b, o, l) -> { });
            log.beginCheckpoint();
            log.endCheckpoint();
            final UnsafeBuffer record = new UnsafeBuffer(new byte[32]);
            long last = 0;
            for (int i = 0; i < 5; i++)
            {
                last = log.append(record, 0, record.capacity());
            }
            log.start();
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (log.durableSequence() < last)
            {
                assertTrue(System.nanoTime() < deadline, "local journal durable");
                log.doWork();
                Thread.onSpinWait();
            }
            assertEquals(last, log.durableSequence(), "local: the journal alone");

            log.ackReplica(true);
            assertEquals(0, log.durableSequence(), "replica: nothing acknowledged by a buddy yet");
            log.replicaAcknowledged(last - 1);
            assertEquals(last - 1, log.durableSequence(), "the buddy is behind: its sequence");
            log.replicaAcknowledged(last + 10);
            assertEquals(last, log.durableSequence(), "the buddy is ahead (of what is durable here): the local one");

            log.ackReplica(false);
            log.replicaAcknowledged(0);
            assertEquals(last, log.durableSequence(), "local again: the buddy does not count");
        }
    }

    @Test
    void aRequestedCheckpointIsAnsweredByTheNextOne()
    {
        try (IpcDurableLog log = new IpcDurableLog(dataDir, false, 64 * 1024, () -> { }, new SystemNanoClock()))
        {
            log.replay((b, o, l) -> { });
            assertFalse(log.checkpointRequested());
            log.requestCheckpoint();
            assertTrue(log.checkpointRequested());
            log.beginCheckpoint();
            assertFalse(log.checkpointRequested(), "begun: answered");
            log.endCheckpoint();
            log.requestCheckpoint();
            log.requestCheckpoint();
            assertTrue(log.checkpointRequested());
            log.beginCheckpoint();
            log.endCheckpoint();
            assertFalse(log.checkpointRequested(), "one checkpoint answers every request made before it");
        }
    }
}
