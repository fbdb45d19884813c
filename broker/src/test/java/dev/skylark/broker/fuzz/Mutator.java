package dev.skylark.broker.fuzz;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Mutates valid packets the way fuzzers find bugs: bit flips, interesting values, inserted, deleted and duplicated
 * bytes, truncation, splices of two packets, reserved header flags, and Remaining Length edits (off by one,
 * non-minimal, five bytes, huge). Half of the mutations that change the body fix the Remaining Length up again,
 * so they reach the field decoders instead of stopping at the framer.
 */
final class Mutator
{
    private static final int[] INTERESTING = {0x00, 0x01, 0x02, 0x7F, 0x80, 0xFF, 0xFE, 0x3F, 0x40, 0x2F, 0x23, 0x2B};

    private final Random random;

    Mutator(final Random random)
    {
        this.random = random;
    }

    /** One to three packets of {@code pool}, concatenated and mutated. */
    byte[] mutatedFrom(final List<byte[]> pool)
    {
        final int count = random.nextInt(8) == 0 ? 2 + random.nextInt(2) : 1;
        final byte[][] parts = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            parts[i] = pool.get(random.nextInt(pool.size()));
        }
        final int target = random.nextInt(count);
        parts[target] = mutate(parts[target], pool);
        return Packets.concat(parts);
    }

    /** Up to 64 random bytes. */
    byte[] randomBytes()
    {
        final byte[] bytes = new byte[1 + random.nextInt(64)];
        random.nextBytes(bytes);
        return bytes;
    }

    byte[] mutate(final byte[] packet, final List<byte[]> pool)
    {
        if (random.nextBoolean() && packet.length > 4)
        {
            return mutateTail(packet);
        }
        byte[] out = packet.clone();
        final int edits = 1 + random.nextInt(3);
        boolean bodyChanged = false;
        for (int e = 0; e < edits; e++)
        {
            switch (random.nextInt(12))
            {
                case 0 -> flipBit(out);
                case 1 -> out[random.nextInt(out.length)] = (byte)random.nextInt(256);
                case 2 -> out[random.nextInt(out.length)] = (byte)INTERESTING[random.nextInt(INTERESTING.length)];
                case 3 ->
                {
                    final int at = random.nextInt(out.length);
                    out[at] = (byte)(out[at] + (random.nextBoolean() ? 1 : -1));
                }
                case 4 ->
                {
                    out = delete(out);
                    bodyChanged = true;
                }
                case 5 ->
                {
                    out = insert(out);
                    bodyChanged = true;
                }
                case 6 ->
                {
                    out = duplicate(out);
                    bodyChanged = true;
                }
                case 7 -> out[0] = (byte)((out[0] & 0xF0) | random.nextInt(16));                // header flags
                case 8 -> out = remainingLength(out);
                case 9 ->
                {
                    out = splice(out, pool.get(random.nextInt(pool.size())));
                    bodyChanged = true;
                }
                case 10 -> out = Arrays.copyOf(out, 1 + random.nextInt(out.length));             // truncate
                default ->
                {
                    // a field byte after the header: where lengths, flags and property ids live
                    if (out.length > 2)
                    {
                        out[2 + random.nextInt(out.length - 2)] = (byte)INTERESTING[random.nextInt(INTERESTING.length)];
                    }
                }
            }
        }
        if (bodyChanged && random.nextBoolean())
        {
            out = fixRemainingLength(out);
        }
        return out;
    }

    /**
     * Changes, inserts or deletes bytes in the second half of the packet only, and keeps its Remaining Length right:
     * topics, filters, options, properties and payloads change while the packet stays a packet, so the connection
     * usually survives and carries the next case.
     */
    private byte[] mutateTail(final byte[] packet)
    {
        final int from = packet.length / 2;
        byte[] out = packet.clone();
        final int edits = 1 + random.nextInt(2);
        for (int e = 0; e < edits; e++)
        {
            final int at = from + random.nextInt(out.length - from);
            switch (random.nextInt(4))
            {
                case 0 -> out[at] = (byte)random.nextInt(256);
                case 1 -> out[at] = (byte)INTERESTING[random.nextInt(INTERESTING.length)];
                case 2 -> out = Packets.concat(java.util.Arrays.copyOf(out, at), new byte[]{(byte)random.nextInt(256)},
                    java.util.Arrays.copyOfRange(out, at, out.length));
                default -> out = Packets.concat(java.util.Arrays.copyOf(out, at),
                    java.util.Arrays.copyOfRange(out, Math.min(out.length, at + 1), out.length));
            }
        }
        return fixRemainingLength(out);
    }

    private void flipBit(final byte[] out)
    {
        out[random.nextInt(out.length)] ^= (byte)(1 << random.nextInt(8));
    }

    private byte[] delete(final byte[] in)
    {
        if (in.length < 3)
        {
            return in;
        }
        final int at = 1 + random.nextInt(in.length - 1);
        final int count = Math.min(in.length - at, 1 + random.nextInt(4));
        final byte[] out = new byte[in.length - count];
        System.arraycopy(in, 0, out, 0, at);
        System.arraycopy(in, at + count, out, at, in.length - at - count);
        return out;
    }

    private byte[] insert(final byte[] in)
    {
        final int at = 1 + random.nextInt(in.length);
        final byte[] extra = new byte[1 + random.nextInt(4)];
        for (int i = 0; i < extra.length; i++)
        {
            extra[i] = (byte)(random.nextBoolean() ? random.nextInt(256) : INTERESTING[random.nextInt(INTERESTING.length)]);
        }
        return Packets.concat(Arrays.copyOf(in, at), extra, Arrays.copyOfRange(in, at, in.length));
    }

    private byte[] duplicate(final byte[] in)
    {
        final int from = random.nextInt(in.length);
        final int length = Math.min(in.length - from, 1 + random.nextInt(8));
        final int at = 1 + random.nextInt(in.length);
        return Packets.concat(Arrays.copyOf(in, at), Arrays.copyOfRange(in, from, from + length),
            Arrays.copyOfRange(in, at, in.length));
    }

    private byte[] splice(final byte[] in, final byte[] other)
    {
        final int cut = 1 + random.nextInt(in.length);
        final int from = random.nextInt(other.length);
        return Packets.concat(Arrays.copyOf(in, cut), Arrays.copyOfRange(other, from, other.length));
    }

    /** Rewrites the Remaining Length: off by one, non-minimal, five bytes long, or huge; the body stays. */
    private byte[] remainingLength(final byte[] in)
    {
        final int headerEnd = headerEnd(in);
        final byte[] body = Arrays.copyOfRange(in, headerEnd, in.length);
        final byte[] length = switch (random.nextInt(5))
        {
            case 0 -> Packets.varint(body.length + 1);
            case 1 -> Packets.varint(Math.max(0, body.length - 1));
            case 2 -> Packets.bytes(0x80 | body.length & 0x7F, 0x80, 0x00);                     // not minimal
            case 3 -> Packets.bytes(0xFF, 0xFF, 0xFF, 0xFF, 0x7F);                                // five bytes
            default -> Packets.varint(random.nextInt(268_435_455));
        };
        return Packets.concat(new byte[]{in[0]}, length, body);
    }

    /** Makes the first packet's Remaining Length match the bytes that follow it again. */
    static byte[] fixRemainingLength(final byte[] in)
    {
        final int headerEnd = headerEnd(in);
        final byte[] body = Arrays.copyOfRange(in, headerEnd, in.length);
        return Packets.concat(new byte[]{in[0]}, Packets.varint(body.length), body);
    }

    /** Where the Remaining Length of the packet at 0 ends (it may be malformed: at most 4 bytes are taken). */
    private static int headerEnd(final byte[] in)
    {
        int at = 1;
        while (at < in.length && at < 5 && (in[at] & 0x80) != 0)
        {
            at++;
        }
        return Math.min(at + 1, in.length);
    }
}
