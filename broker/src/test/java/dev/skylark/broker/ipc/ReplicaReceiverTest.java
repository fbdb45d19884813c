package dev.skylark.broker.ipc;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The buddy's side of journal replication, fed by hand: a stream counts only from a checkpoint's beginning, acks go
 * out only once that checkpoint ended, the previous replica stays readable until the new checkpoint is complete,
 * foreign origins are refused, and drops (heir, stale) delete the replica.
 */
class ReplicaReceiverTest
{
    private static final int SELF = 1;
    private static final long MEMBERS = 0b111;

    @TempDir
    Path dir;

    private final List<long[]> acks = new ArrayList<>(); // {origin, flags, epoch, sequence}
    private final UnsafeBuffer message = new UnsafeBuffer(new byte[4096]);
    private ReplicaReceiver receiver;
    private long nowNs = 1_000_000_000L;

    @BeforeEach
    void setUp()
    {
        receiver = new ReplicaReceiver(SELF, MEMBERS, dir.resolve("replicas"), false, this::onAck, null, null);
    }

    private boolean onAck(final int origin, final DirectBuffer buffer, final int offset, final int length)
    {
        acks.add(new long[] {origin, buffer.getInt(offset + ReplicaStream.ACK_FLAGS_OFFSET),
            buffer.getLong(offset + ReplicaStream.ACK_EPOCH_OFFSET), buffer.getLong(offset + ReplicaStream.ACK_SEQUENCE_OFFSET)});
        assertEquals(SELF, buffer.getInt(offset + ReplicaStream.ACK_FROM_OFFSET));
        return true;
    }

    private void send(final int origin, final long epoch, final long sequence, final int kind, final String payload)
    {
        final byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
        message.putInt(ReplicaStream.ORIGIN_OFFSET, origin);
        message.putLong(ReplicaStream.EPOCH_OFFSET, epoch);
        final int at = ReplicaStream.DATA_HEADER_LENGTH;
        message.putLong(at + JournalStream.SEQUENCE_OFFSET, sequence);
        message.putInt(at + JournalStream.KIND_OFFSET, kind);
        message.putBytes(at + JournalStream.HEADER_LENGTH, bytes);
        receiver.onMessage(message, 0, at + JournalStream.HEADER_LENGTH + bytes.length, sequence * 100);
    }

    private List<String> replay(final int origin)
    {
        final List<String> records = new ArrayList<>();
        assertTrue(receiver.replay(origin, (buffer, offset, length) ->
            records.add(buffer.getStringWithoutLengthUtf8(offset, length))));
        return records;
    }

    private long[] lastAck()
    {
        return acks.get(acks.size() - 1);
    }

    @Test
    void acknowledgesOnlyOnceTheStreamsCheckpointEnded()
    {
        send(0, 7, 10, JournalStream.CHECKPOINT_BEGIN, "");
        send(0, 7, 11, JournalStream.RECORD, "state-a");
        send(0, 7, 12, JournalStream.RECORD, "state-b");
        receiver.afterPoll(nowNs);
        assertTrue(acks.isEmpty(), "no ack inside the first checkpoint: the replica does not hold the whole state yet");

        send(0, 7, 13, JournalStream.CHECKPOINT_END, "");
        receiver.afterPoll(nowNs);
        assertEquals(1, acks.size());
        assertEquals(0, lastAck()[1]);
        assertEquals(7, lastAck()[2]);
        assertEquals(13, lastAck()[3]);

        send(0, 7, 14, JournalStream.RECORD, "publish-1");
        send(0, 7, 15, JournalStream.RECORD, "publish-2");
        receiver.afterPoll(nowNs);
        assertEquals(15, lastAck()[3], "one ack per batch, the last sequence appended");
        receiver.afterPoll(nowNs);
        assertEquals(2, acks.size(), "nothing new: no ack");
        assertEquals(List.of("state-a", "state-b", "publish-1", "publish-2"), replay(0));
    }

    @Test
    void aStreamWhoseBeginningWasMissedAsksForACheckpointAndIsNotKept()
    {
        send(0, 9, 40, JournalStream.RECORD, "lost-beginning");
        send(0, 9, 41, JournalStream.RECORD, "lost-beginning-2");
        receiver.afterPoll(nowNs);
        assertEquals(1, acks.size(), "one request, not one per record");
        assertEquals(ReplicaStream.NEED_CHECKPOINT, lastAck()[1]);
        assertEquals(9, lastAck()[2], "names the stream's epoch, so the origin knows it is meant");
        send(0, 9, 42, JournalStream.RECORD, "x");
        receiver.afterPoll(nowNs + ReplicaReceiver.NEED_CHECKPOINT_INTERVAL_NS - 1);
        assertEquals(1, acks.size(), "asked again at most once a second");
        receiver.afterPoll(nowNs + ReplicaReceiver.NEED_CHECKPOINT_INTERVAL_NS);
        assertEquals(2, acks.size());
        assertEquals(ReplicaStream.NEED_CHECKPOINT, lastAck()[1]);

        // Records of an earlier epoch after a new stream began are not appended either.
        send(0, 10, 50, JournalStream.CHECKPOINT_BEGIN, "");
        send(0, 10, 51, JournalStream.RECORD, "state");
        send(0, 10, 52, JournalStream.CHECKPOINT_END, "");
        send(0, 9, 43, JournalStream.RECORD, "stale");
        assertEquals(List.of("state"), replay(0));
    }

    @Test
    void theOldReplicaStaysUntilTheNewStreamsCheckpointIsComplete()
    {
        send(2, 1, 1, JournalStream.CHECKPOINT_BEGIN, "");
        send(2, 1, 2, JournalStream.RECORD, "old-state");
        send(2, 1, 3, JournalStream.CHECKPOINT_END, "");
        send(2, 1, 4, JournalStream.RECORD, "old-publish");
        receiver.afterPoll(nowNs);
        assertEquals(4, lastAck()[3]);

        // A new stream (the origin restarted it): its checkpoint is under way.
        send(2, 2, 20, JournalStream.CHECKPOINT_BEGIN, "");
        send(2, 2, 21, JournalStream.RECORD, "new-state");
        receiver.afterPoll(nowNs);
        assertEquals(List.of("old-state", "old-publish"), replay(2), "the last complete checkpoint is replayed");
        assertEquals(1, acks.size(), "no ack of the new stream before its checkpoint ended");

        send(2, 2, 22, JournalStream.CHECKPOINT_END, "");
        send(2, 2, 23, JournalStream.RECORD, "new-publish");
        receiver.afterPoll(nowNs);
        assertEquals(2, lastAck()[2]);
        assertEquals(23, lastAck()[3]);
        assertEquals(List.of("new-state", "new-publish"), replay(2));

        // A later checkpoint of the same stream trims the replica as it trims the local journal; acks go on.
        send(2, 2, 24, JournalStream.CHECKPOINT_BEGIN, "");
        send(2, 2, 25, JournalStream.RECORD, "trimmed-state");
        send(2, 2, 26, JournalStream.CHECKPOINT_END, "");
        receiver.afterPoll(nowNs);
        assertEquals(26, lastAck()[3]);
        assertEquals(List.of("trimmed-state"), replay(2));
        assertEquals(1, generations(2), "older generations deleted once the checkpoint ended");
    }

    @Test
    void refusesOriginsThatAreNotOtherMembersAndShortMessages() throws Exception
    {
        send(SELF, 1, 1, JournalStream.CHECKPOINT_BEGIN, "");
        send(3, 1, 1, JournalStream.CHECKPOINT_BEGIN, "");
        send(63, 1, 1, JournalStream.CHECKPOINT_BEGIN, "");
        send(-1, 1, 1, JournalStream.CHECKPOINT_BEGIN, "");
        receiver.onMessage(message, 0, ReplicaStream.DATA_HEADER_LENGTH + JournalStream.HEADER_LENGTH - 1, 0);
        receiver.afterPoll(nowNs);
        assertEquals(5, receiver.rejectedCount());
        assertTrue(acks.isEmpty());
        try (Stream<Path> entries = Files.list(dir.resolve("replicas")))
        {
            assertEquals(0, entries.count(), "no directory for a refused origin");
        }
        assertFalse(receiver.replay(3, (b, o, l) -> { }));
        assertFalse(receiver.replay(SELF, (b, o, l) -> { }));
    }

    @Test
    void replicaFilesAreOwnerOnly() throws Exception
    {
        send(0, 1, 1, JournalStream.CHECKPOINT_BEGIN, "");
        send(0, 1, 2, JournalStream.CHECKPOINT_END, "");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("replicas"))));
        try (Stream<Path> walk = Files.walk(dir.resolve("replicas/node-0")))
        {
            walk.forEach((p) ->
            {
                try
                {
                    assertEquals(Files.isDirectory(p) ? "rwx------" : "rw-------",
                        PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
                }
                catch (final java.io.IOException ex)
                {
                    throw new java.io.UncheckedIOException(ex);
                }
            });
        }
    }

    @Test
    void theHeirsDropAndAStaleReplicaDeleteIt()
    {
        send(0, 1, 1, JournalStream.CHECKPOINT_BEGIN, "");
        send(0, 1, 2, JournalStream.CHECKPOINT_END, "");
        send(2, 1, 1, JournalStream.CHECKPOINT_BEGIN, "");
        send(2, 1, 2, JournalStream.CHECKPOINT_END, "");
        assertTrue(Files.isDirectory(dir.resolve("replicas/node-0")));

        receiver.requestDrop(0);
        receiver.slowTick(nowNs, (n) -> -1);
        assertFalse(Files.exists(dir.resolve("replicas/node-0")), "dropped once its heir took over");
        assertFalse(receiver.replay(0, (b, o, l) -> { }));

        // Node 2 is live with another buddy (node 0): its replica here is stale, kept STALE_NS, then deleted.
        receiver.slowTick(nowNs, (n) -> n == 2 ? 0 : -1);
        receiver.slowTick(nowNs + ReplicaReceiver.STALE_NS - 1, (n) -> n == 2 ? 0 : -1);
        assertTrue(Files.isDirectory(dir.resolve("replicas/node-2")));
        receiver.slowTick(nowNs + ReplicaReceiver.STALE_NS, (n) -> n == 2 ? 0 : -1);
        assertFalse(Files.exists(dir.resolve("replicas/node-2")));
    }

    @Test
    void aReplicaOfANodeNotLiveIsKeptAndSurvivesARestartOfTheReceiver()
    {
        send(0, 1, 1, JournalStream.CHECKPOINT_BEGIN, "");
        send(0, 1, 2, JournalStream.RECORD, "kept");
        send(0, 1, 3, JournalStream.CHECKPOINT_END, "");
        receiver.slowTick(nowNs, (n) -> -1);
        receiver.slowTick(nowNs + 10 * ReplicaReceiver.STALE_NS, (n) -> -1);
        receiver.close();
        receiver = new ReplicaReceiver(SELF, MEMBERS, dir.resolve("replicas"), false, this::onAck, null, null);
        assertEquals(List.of("kept"), replay(0));
        // The restarted receiver continues a new stream of node 0 in a new generation.
        send(0, 2, 10, JournalStream.CHECKPOINT_BEGIN, "");
        send(0, 2, 11, JournalStream.RECORD, "after-restart");
        send(0, 2, 12, JournalStream.CHECKPOINT_END, "");
        assertEquals(List.of("after-restart"), replay(0));
    }

    private long generations(final int origin)
    {
        try (Stream<Path> entries = Files.list(dir.resolve("replicas/node-" + origin)))
        {
            return entries.filter((p) -> p.getFileName().toString().startsWith("gen-")).count();
        }
        catch (final java.io.IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }
}
