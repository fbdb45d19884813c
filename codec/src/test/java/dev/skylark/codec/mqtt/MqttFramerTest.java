package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MqttFramerTest
{
    private final List<String> packets = new ArrayList<>();
    private final List<DirectBuffer> buffers = new ArrayList<>();

    private boolean collect(final DirectBuffer buffer, final int offset, final int length)
    {
        packets.add(Bytes.toHex(buffer, offset, length));
        buffers.add(buffer);
        return true;
    }

    /** PINGREQ, a PUBLISH with a 200-byte payload (2-byte remaining length), DISCONNECT. */
    private static UnsafeBuffer stream()
    {
        final UnsafeBuffer out = new UnsafeBuffer(new byte[512]);
        int n = PingEncoder.encodePingReq(out, 0);
        final UnsafeBuffer topic = Bytes.utf8("a/b");
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[200]);
        for (int i = 0; i < 200; i++)
        {
            payload.putByte(i, (byte)i);
        }
        n += PublishEncoder.encode(out, n, MqttVersion.V3_1_1,
            new PublishView().flags(1, false, false).packetId(5)
                .topic(topic, 0, 3).payload(payload, 0, 200));
        n += DisconnectEncoder.encode(out, n, MqttVersion.V3_1_1, 0);
        return Bytes.exact(out, 0, n);
    }

    private static List<String> expected(final UnsafeBuffer s)
    {
        final int publishLength = s.capacity() - 4;
        return List.of(Bytes.toHex(s, 0, 2), Bytes.toHex(s, 2, publishLength), Bytes.toHex(s, 2 + publishLength, 2));
    }

    @Test
    void staticFrameLength()
    {
        final UnsafeBuffer s = stream();
        assertEquals(2, MqttFramer.frameLength(s, 0, s.capacity(), 1024));
        assertEquals(0, MqttFramer.frameLength(s, 2, 1, 1024));          // only the type byte
        assertEquals(0, MqttFramer.frameLength(s, 2, 2, 1024));          // first byte of a 2-byte length
        assertEquals(0, MqttFramer.frameLength(s, 2, 100, 1024));        // header complete, body not
        assertEquals(s.capacity() - 4, MqttFramer.frameLength(s, 2, s.capacity() - 2, 1024));
        assertEquals(-ReasonCode.PACKET_TOO_LARGE, MqttFramer.frameLength(s, 2, 3, 100)); // refused from header
        assertEquals(-ReasonCode.MALFORMED_PACKET,
            MqttFramer.frameLength(Bytes.hex("30 80 00"), 0, 3, 1024));  // non-minimal
        assertEquals(-ReasonCode.MALFORMED_PACKET,
            MqttFramer.frameLength(Bytes.hex("30 ff ff ff ff 01"), 0, 6, Integer.MAX_VALUE)); // 5th byte
        assertEquals(0, MqttFramer.frameLength(Bytes.hex("30 ff ff ff"), 0, 4, Integer.MAX_VALUE));
        assertEquals(-ReasonCode.PACKET_TOO_LARGE,
            MqttFramer.frameLength(Bytes.hex("30 ff ff ff 7f"), 0, 5, 1 << 20));
    }

    @Test
    void wholeChunkIsDeliveredInPlace()
    {
        final UnsafeBuffer s = stream();
        final MqttFramer framer = new MqttFramer(1024);
        assertEquals(s.capacity(), framer.onBytes(s, 0, s.capacity(), this::collect));
        assertEquals(expected(s), packets);
        buffers.forEach((b) -> assertSame(s, b));
        assertEquals(0, framer.pendingBytes());
    }

    @Test
    void splitAtEveryBoundary()
    {
        final UnsafeBuffer s = stream();
        for (int split = 0; split <= s.capacity(); split++)
        {
            packets.clear();
            final MqttFramer framer = new MqttFramer(1024);
            final UnsafeBuffer a = Bytes.exact(s, 0, split);
            final UnsafeBuffer b = Bytes.exact(s, split, s.capacity() - split);
            assertEquals(split, framer.onBytes(a, 0, split, this::collect));
            assertEquals(b.capacity(), framer.onBytes(b, 0, b.capacity(), this::collect));
            assertEquals(expected(s), packets, "split at " + split);
            assertEquals(0, framer.pendingBytes());
        }
    }

    @Test
    void oneByteAtATime()
    {
        final UnsafeBuffer s = stream();
        final MqttFramer framer = new MqttFramer(1024);
        for (int i = 0; i < s.capacity(); i++)
        {
            assertEquals(1, framer.onBytes(Bytes.exact(s, i, 1), 0, 1, this::collect));
        }
        assertEquals(expected(s), packets);
    }

    @Test
    void threeWaySplitsAndCoalescedRepeats()
    {
        final UnsafeBuffer one = stream();
        final UnsafeBuffer s = new UnsafeBuffer(new byte[one.capacity() * 3]);
        for (int k = 0; k < 3; k++)
        {
            s.putBytes(k * one.capacity(), one, 0, one.capacity());
        }
        final List<String> want = new ArrayList<>();
        for (int k = 0; k < 3; k++)
        {
            want.addAll(expected(one));
        }
        for (int i = 0; i < s.capacity(); i += 11)
        {
            for (int j = i; j < s.capacity(); j += 17)
            {
                packets.clear();
                final MqttFramer framer = new MqttFramer(1024);
                framer.onBytes(Bytes.exact(s, 0, i), 0, i, this::collect);
                framer.onBytes(Bytes.exact(s, i, j - i), 0, j - i, this::collect);
                framer.onBytes(Bytes.exact(s, j, s.capacity() - j), 0, s.capacity() - j, this::collect);
                assertEquals(want, packets, i + "/" + j);
            }
        }
    }

    @Test
    void oversizedPacketRefusedFromHeaderBeforeBody()
    {
        final MqttFramer framer = new MqttFramer(100);
        // PUBLISH claiming 200 bytes: only the header has arrived
        assertEquals(-ReasonCode.PACKET_TOO_LARGE, framer.onBytes(Bytes.hex("30 c8 01"), 0, 3, this::collect));
        // same when the header itself is split
        final MqttFramer split = new MqttFramer(100);
        assertEquals(2, split.onBytes(Bytes.hex("30 c8"), 0, 2, this::collect));
        assertEquals(-ReasonCode.PACKET_TOO_LARGE, split.onBytes(Bytes.hex("01"), 0, 1, this::collect));
        // exactly the maximum is fine: 1 + 1 + 98 = 100
        final UnsafeBuffer max = new UnsafeBuffer(new byte[100]);
        max.putByte(0, (byte)0x30);
        max.putByte(1, (byte)98);
        max.putByte(3, (byte)1);
        max.putByte(4, (byte)'t');
        assertEquals(100, new MqttFramer(100).onBytes(max, 0, 100, this::collect));
        assertEquals(1, packets.size());
    }

    @Test
    void badVarInts()
    {
        assertEquals(-ReasonCode.MALFORMED_PACKET,
            new MqttFramer(1 << 20).onBytes(Bytes.hex("c0 00 30 80 80 80 80 01"), 0, 8, this::collect));
        assertEquals(1, packets.size()); // the PINGREQ before it was delivered
        final MqttFramer framer = new MqttFramer(1 << 20);
        assertEquals(3, framer.onBytes(Bytes.hex("30 80 80"), 0, 3, this::collect));
        assertEquals(-ReasonCode.MALFORMED_PACKET, framer.onBytes(Bytes.hex("00"), 0, 1, this::collect));
    }

    /** Refuses each packet the first time it is offered and takes it the second time. */
    private final class RefuseFirst implements MqttPacketHandler
    {
        final List<String> offered = new ArrayList<>();
        boolean refused;

        @Override
        public boolean onPacket(final DirectBuffer buffer, final int offset, final int length)
        {
            offered.add(Bytes.toHex(buffer, offset, length));
            if (!refused)
            {
                refused = true;
                return false;
            }
            refused = false;
            packets.add(Bytes.toHex(buffer, offset, length));
            return true;
        }
    }

    @Test
    void refusedPacketIsCarriedOverWithWhatFollowsAndOfferedAgain()
    {
        final UnsafeBuffer s = stream();
        final int publishLength = s.capacity() - 4;
        final MqttFramer framer = new MqttFramer(1024);
        final RefuseFirst handler = new RefuseFirst();
        assertEquals(s.capacity(), framer.onBytes(s, 0, s.capacity(), handler));
        assertEquals(s.capacity(), framer.pendingBytes(), "PINGREQ refused: all of it carried over");
        assertEquals(2, framer.drain(handler), "PINGREQ taken, PUBLISH refused");
        assertEquals(s.capacity() - 2, framer.pendingBytes());
        assertEquals(publishLength, framer.drain(handler), "PUBLISH taken, DISCONNECT refused");
        assertEquals(2, framer.pendingBytes());
        assertEquals(2, framer.drain(handler));
        assertEquals(0, framer.pendingBytes());
        assertEquals(0, framer.drain(handler));
        assertEquals(expected(s), packets);
        assertEquals(6, handler.offered.size(), "each packet offered twice");

        // refused when completed from the carry-over: the whole packet stays, and new input queues behind it
        packets.clear();
        final MqttFramer f2 = new MqttFramer(1024);
        final RefuseFirst h2 = new RefuseFirst();
        h2.refused = true; // take the PINGREQ at once
        assertEquals(12, f2.onBytes(Bytes.exact(s, 0, 12), 0, 12, h2));
        assertEquals(10, f2.pendingBytes(), "PINGREQ taken, 10 bytes of the PUBLISH carried");
        final UnsafeBuffer rest = Bytes.exact(s, 12, s.capacity() - 12);
        assertEquals(rest.capacity(), f2.onBytes(rest, 0, rest.capacity(), h2));
        assertEquals(s.capacity() - 2, f2.pendingBytes(), "completed PUBLISH refused: kept with the DISCONNECT");
        assertEquals(publishLength, f2.drain(h2));
        assertEquals(2, f2.drain(h2) + f2.drain(h2));
        assertEquals(expected(s), packets);
    }

    @Test
    void deliveryStopsWhileTheHandlerAcceptsNoPackets()
    {
        final UnsafeBuffer s = stream();
        final boolean[] paused = {false};
        final MqttPacketHandler pauseAfterFirst = new MqttPacketHandler()
        {
            @Override
            public boolean onPacket(final DirectBuffer buffer, final int offset, final int length)
            {
                packets.add(Bytes.toHex(buffer, offset, length));
                paused[0] = true; // e.g. reading paused, or the connection closing
                return true;
            }

            @Override
            public boolean acceptsPackets()
            {
                return !paused[0];
            }
        };
        final MqttFramer framer = new MqttFramer(1024);
        assertEquals(s.capacity(), framer.onBytes(s, 0, s.capacity(), pauseAfterFirst));
        assertEquals(1, packets.size());
        assertEquals(s.capacity() - 2, framer.pendingBytes());
        assertEquals(0, framer.drain(pauseAfterFirst), "still paused: nothing offered");
        paused[0] = false;
        assertEquals(s.capacity() - 4, framer.drain(pauseAfterFirst));
        paused[0] = false;
        assertEquals(2, framer.drain(pauseAfterFirst));
        assertEquals(expected(s), packets);
    }

    /** Counts buffers handed out and back. */
    private static final class CountingBuffers implements MqttFramer.CarryOverBuffers
    {
        int acquired;
        int released;

        @Override
        public java.nio.ByteBuffer acquire(final int minCapacity)
        {
            acquired++;
            return java.nio.ByteBuffer.allocateDirect(Math.max(64, Integer.highestOneBit(minCapacity) << 1));
        }

        @Override
        public void release(final java.nio.ByteBuffer buffer)
        {
            released++;
        }
    }

    @Test
    void carryOverBufferIsHeldOnlyWhileItHoldsBytes()
    {
        final UnsafeBuffer s = stream();
        final CountingBuffers buffers = new CountingBuffers();
        final MqttFramer framer = new MqttFramer(1024, buffers);
        assertEquals(s.capacity(), framer.onBytes(s, 0, s.capacity(), this::collect));
        assertEquals(0, buffers.acquired, "whole packets in place: no buffer");
        framer.onBytes(Bytes.exact(s, 0, 5), 0, 5, this::collect);
        assertEquals(1, buffers.acquired);
        framer.onBytes(Bytes.exact(s, 5, s.capacity() - 5), 0, s.capacity() - 5, this::collect);
        assertEquals(0, framer.pendingBytes());
        assertEquals(buffers.acquired, buffers.released, "given back once empty");
        assertEquals(6, packets.size());
    }

    @Test
    void socketReadStraightIntoTheCarryOver()
    {
        final UnsafeBuffer s = stream();
        final MqttFramer framer = new MqttFramer(1024, new CountingBuffers());
        assertEquals(10, framer.onBytes(Bytes.exact(s, 0, 10), 0, 10, this::collect));
        assertEquals(8, framer.pendingBytes());
        final java.nio.ByteBuffer into = framer.carryOverForRead(1024);
        assertEquals(8, into.position());
        assertTrue(into.remaining() >= 1024);
        final byte[] rest = new byte[s.capacity() - 10];
        s.getBytes(10, rest);
        into.put(rest);
        framer.onCarryOverRead(rest.length);
        assertEquals(s.capacity() - 2, framer.drain(this::collect));
        assertEquals(expected(s), packets);
        assertEquals(0, framer.pendingBytes());
    }

    @Test
    void closedFramerDropsItsCarryOverAndLaterInput()
    {
        final UnsafeBuffer s = stream();
        final CountingBuffers buffers = new CountingBuffers();
        final MqttFramer framer = new MqttFramer(1024, buffers);
        framer.onBytes(Bytes.exact(s, 0, 5), 0, 5, this::collect);
        framer.close();
        assertEquals(0, framer.pendingBytes());
        assertEquals(1, buffers.released);
        assertEquals(s.capacity() - 5, framer.onBytes(Bytes.exact(s, 5, s.capacity() - 5), 0, s.capacity() - 5,
            this::collect));
        assertEquals(1, packets.size(), "only the PINGREQ before the close");
        assertEquals(1, buffers.acquired);
    }

    @Test
    void accumulatorGrowsOnlyAsNeeded()
    {
        final UnsafeBuffer big = new UnsafeBuffer(new byte[70_000]);
        final UnsafeBuffer topic = Bytes.utf8("t");
        final int n = PublishEncoder.encode(big, 0, MqttVersion.V3_1_1,
            new PublishView()
                .topic(topic, 0, 1).payload(new UnsafeBuffer(new byte[60_000]), 0, 60_000));
        final MqttFramer framer = new MqttFramer(100_000);
        for (int i = 0; i < n; i += 1000)
        {
            final int len = Math.min(1000, n - i);
            assertEquals(len, framer.onBytes(Bytes.exact(big, i, len), 0, len, this::collect));
        }
        assertEquals(1, packets.size());
        assertTrue(packets.get(0).length() > 100_000);
    }
}
