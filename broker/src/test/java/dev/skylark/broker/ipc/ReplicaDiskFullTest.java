package dev.skylark.broker.ipc;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The buddy's disk fills up for real (a small tmpfs this test mounts; skipped unless root), as in
 * {@code JournalDiskFullTest} for the local journal: the replica stops acknowledging at the failed append, asks the
 * origin for a new checkpoint (once a second, not per record), acknowledges nothing of the broken stream, and
 * acknowledges again once a checkpoint was written after space returned.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReplicaDiskFullTest
{
    @TempDir
    Path temp;

    private Path mount;
    private boolean mounted;
    private ReplicaReceiver receiver;
    private final List<long[]> acks = new ArrayList<>(); // {flags, epoch, sequence}
    private final UnsafeBuffer message = new UnsafeBuffer(new byte[8192]);

    @BeforeEach
    void mountTmpfs() throws Exception
    {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to mount a tmpfs");
        mount = Files.createDirectory(temp.resolve("small"));
        final Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs",
            mount.toString()).redirectErrorStream(true).start();
        final boolean done = p.waitFor(20, TimeUnit.SECONDS);
        assumeTrue(done && p.exitValue() == 0, "mount -t tmpfs failed: " +
            new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        mounted = true;
    }

    @AfterEach
    void unmount() throws Exception
    {
        if (receiver != null)
        {
            receiver.close();
        }
        if (mounted)
        {
            new ProcessBuilder("umount", "-l", mount.toString()).inheritIO().start().waitFor(20, TimeUnit.SECONDS);
        }
    }

    private boolean onAck(final int origin, final DirectBuffer buffer, final int offset, final int length)
    {
        acks.add(new long[] {buffer.getInt(offset + ReplicaStream.ACK_FLAGS_OFFSET),
            buffer.getLong(offset + ReplicaStream.ACK_EPOCH_OFFSET),
            buffer.getLong(offset + ReplicaStream.ACK_SEQUENCE_OFFSET)});
        return true;
    }

    private void send(final long epoch, final long sequence, final int kind, final int payloadLength)
    {
        message.putInt(ReplicaStream.ORIGIN_OFFSET, 0);
        message.putLong(ReplicaStream.EPOCH_OFFSET, epoch);
        final int at = ReplicaStream.DATA_HEADER_LENGTH;
        message.putLong(at + JournalStream.SEQUENCE_OFFSET, sequence);
        message.putInt(at + JournalStream.KIND_OFFSET, kind);
        message.setMemory(at + JournalStream.HEADER_LENGTH, payloadLength, (byte)sequence);
        receiver.onMessage(message, 0, at + JournalStream.HEADER_LENGTH + payloadLength, 0);
    }

    private long[] lastAck()
    {
        return acks.get(acks.size() - 1);
    }

    @Test
    void aFullDiskStopsAcknowledgementsUntilACheckpointIsWrittenAgain() throws Exception
    {
        receiver = new ReplicaReceiver(1, 0b11, mount.resolve("replicas"), false, this::onAck, null, null);
        long nowNs = 1_000_000_000L;
        long seq = 1;
        send(1, seq++, JournalStream.CHECKPOINT_BEGIN, 0);
        send(1, seq++, JournalStream.RECORD, 100);
        send(1, seq++, JournalStream.CHECKPOINT_END, 0);
        receiver.afterPoll(nowNs);
        assertEquals(seq - 1, lastAck()[2]);

        final Path filler = mount.resolve("filler");
        fill(filler);

        long failedAt = -1;
        for (int i = 0; i < 20_000 && failedAt < 0; i++)
        {
            send(1, seq++, JournalStream.RECORD, 4096);
            receiver.afterPoll(nowNs);
            if (lastAck()[0] == ReplicaStream.NEED_CHECKPOINT)
            {
                failedAt = seq - 1;
            }
        }
        assertTrue(failedAt > 0, "the replica's append never failed on a full disk");
        final long lastGood = acks.stream().filter((a) -> a[0] == 0).mapToLong((a) -> a[2]).max().orElse(0);
        assertTrue(lastGood < failedAt, "nothing at or after the failed append acknowledged");
        assertEquals(1, lastAck()[1], "the request names the broken stream");

        // The stream goes on: dropped, never acknowledged; asked again at most once a second.
        final int acksBefore = acks.size();
        for (int i = 0; i < 10; i++)
        {
            send(1, seq++, JournalStream.RECORD, 100);
            receiver.afterPoll(nowNs);
        }
        assertEquals(acksBefore, acks.size());
        receiver.afterPoll(nowNs + ReplicaReceiver.NEED_CHECKPOINT_INTERVAL_NS);
        assertEquals(ReplicaStream.NEED_CHECKPOINT, lastAck()[0]);

        // Space returns; the origin starts a new stream from a checkpoint: acknowledged again.
        Files.delete(filler);
        send(2, seq++, JournalStream.CHECKPOINT_BEGIN, 0);
        send(2, seq++, JournalStream.RECORD, 100);
        receiver.afterPoll(nowNs);
        assertEquals(ReplicaStream.NEED_CHECKPOINT, lastAck()[0], "no ack inside the recovery checkpoint");
        send(2, seq++, JournalStream.CHECKPOINT_END, 0);
        send(2, seq++, JournalStream.RECORD, 100);
        receiver.afterPoll(nowNs + 2 * ReplicaReceiver.NEED_CHECKPOINT_INTERVAL_NS);
        assertEquals(0, lastAck()[0]);
        assertEquals(2, lastAck()[1]);
        assertEquals(seq - 1, lastAck()[2]);
        final int[] records = {0};
        assertTrue(receiver.replay(0, (b, o, l) -> records[0]++));
        assertEquals(2, records[0], "the recovery checkpoint's record and the one after it");
    }

    private static void fill(final Path filler) throws IOException
    {
        final byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler))
        {
            while (true)
            {
                out.write(block);
            }
        }
        catch (final IOException full)
        {
            // ENOSPC: the file system is full
        }
        assertTrue(Files.size(filler) > 0);
    }
}
