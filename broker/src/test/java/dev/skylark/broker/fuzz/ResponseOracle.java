package dev.skylark.broker.fuzz;

/**
 * Checks what a broker sends on one connection against the specification, whatever the client sent: every byte
 * belongs to a well-formed server-to-client packet; CONNACK comes first and only once; reason codes are ones the
 * specification allows in that packet (v5 tables in 2.4 and each packet's chapter; 3.1.1 return codes); nothing
 * follows a refusing CONNACK or a DISCONNECT; a 3.1.1 connection never gets a DISCONNECT; PINGRESP only on a
 * connected session. Written from the specification, not from the broker's code, so it can disagree with it.
 */
final class ResponseOracle
{
    private static final int[] CONNACK_CODES = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
        0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
    private static final int[] PUBACK_CODES = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
    private static final int[] PUBREL_CODES = {0x00, 0x92};
    private static final int[] SUBACK_CODES = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
    private static final int[] UNSUBACK_CODES = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
    private static final int[] SERVER_DISCONNECT_CODES = {0x00, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E,
        0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};

    private byte[] pending = new byte[256];
    private int pendingLength;

    private boolean connackSeen;
    private boolean connected;
    private boolean v5;
    private boolean ended;
    /** Reason of the CONNACK (v5 reason or 3.1.1 return code), -1 before it. */
    int connackReason = -1;
    /** Reason of the DISCONNECT the broker sent, -1 when none. */
    int disconnectReason = -1;
    /** PINGRESPs seen so far. */
    long pingResponses;
    long packets;

    boolean isConnected()
    {
        return connected && !ended;
    }

    boolean isV5()
    {
        return v5;
    }

    /** True once the broker has said its last word (refusing CONNACK or DISCONNECT): only the close may follow. */
    boolean hasEnded()
    {
        return ended;
    }

    void onBytes(final byte[] bytes, final int offset, final int length)
    {
        if (pendingLength + length > pending.length)
        {
            pending = java.util.Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + length));
        }
        System.arraycopy(bytes, offset, pending, pendingLength, length);
        pendingLength += length;
        int at = 0;
        while (true)
        {
            final int packetLength = frame(pending, at, pendingLength - at);
            if (packetLength == 0)
            {
                break;
            }
            try
            {
                onPacket(pending, at, packetLength);
            }
            catch (final IndexOutOfBoundsException ex)
            {
                throw fail("a field runs past the end of the packet: " +
                    Packets.hex(java.util.Arrays.copyOfRange(pending, at, at + packetLength), 64));
            }
            at += packetLength;
        }
        System.arraycopy(pending, at, pending, 0, pendingLength - at);
        pendingLength -= at;
    }

    /** The connection closed: no packet may be left half-sent. */
    void onClose()
    {
        check(pendingLength == 0, "the connection closed in the middle of a packet (" + pendingLength + " bytes)");
    }

    private int frame(final byte[] bytes, final int at, final int available)
    {
        if (available < 2)
        {
            return 0;
        }
        int value = 0;
        for (int i = 0; i < 4; i++)
        {
            if (1 + i >= available)
            {
                return 0;
            }
            final int b = bytes[at + 1 + i] & 0xFF;
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                check(b != 0 || i == 0, "non-minimal Remaining Length from the broker");
                final int total = 1 + i + 1 + value;
                return total <= available ? total : 0;
            }
        }
        throw fail("Remaining Length longer than 4 bytes from the broker");
    }

    private void onPacket(final byte[] b, final int at, final int length)
    {
        packets++;
        check(!ended, "a packet after the broker's last word (" + (connackReason >= 0 && !connected ?
            "refusing CONNACK" : "DISCONNECT") + "): " + Packets.hex(java.util.Arrays.copyOfRange(b, at, at + length), 32));
        final int type = (b[at] & 0xFF) >> 4;
        final int flags = b[at] & 0x0F;
        int position = at + 1;
        while ((b[position] & 0x80) != 0)
        {
            position++;
        }
        position++;
        final int end = at + length;
        final int remaining = end - position;
        if (!connackSeen)
        {
            check(type == 2 || type == 15, "the first packet from the broker is type " + type + ", not CONNACK" +
                " (or AUTH, in enhanced authentication)");
        }
        switch (type)
        {
            case 2 -> onConnack(b, flags, position, remaining);
            case 3 -> onPublish(b, flags, position, remaining);
            case 4, 5, 7 -> onAck(b, type, flags, 0, position, remaining, type == 7 ? PUBREL_CODES : PUBACK_CODES);
            case 6 -> onAck(b, type, flags, 2, position, remaining, PUBREL_CODES);
            case 9 -> onSubAck(b, flags, position, remaining, true);
            case 11 -> onSubAck(b, flags, position, remaining, false);
            case 13 ->
            {
                check(flags == 0 && remaining == 0, "malformed PINGRESP");
                check(isConnected(), "PINGRESP on a connection that is not connected");
                pingResponses++;
            }
            case 14 -> onDisconnect(b, flags, position, remaining);
            case 15 -> onAuth(b, flags, position, remaining);
            default -> throw fail("the broker sent packet type " + type + " (" + Packets.hex(
                java.util.Arrays.copyOfRange(b, at, end), 32) + ")");
        }
    }

    private void onConnack(final byte[] b, final int flags, final int at, final int remaining)
    {
        check(!connackSeen, "a second CONNACK");
        check(flags == 0, "CONNACK flags " + flags);
        check(remaining >= 2, "CONNACK shorter than 2 bytes");
        connackSeen = true;
        final int ackFlags = b[at] & 0xFF;
        final int reason = b[at + 1] & 0xFF;
        connackReason = reason;
        check(ackFlags <= 1, "CONNACK acknowledge flags " + ackFlags);
        if (remaining == 2)
        {
            v5 = false; // the 3.1.1 form (also the answer to a protocol level the broker does not speak)
            check(reason <= 5, "3.1.1 CONNACK return code " + reason);
            check(reason == 0 || ackFlags == 0, "session present with a refusing return code");
            connected = reason == 0;
            ended = reason != 0;
        }
        else
        {
            v5 = true;
            check(contains(CONNACK_CODES, reason), "CONNACK reason " + hex(reason) + " is not one the spec allows");
            check(reason < 0x80 || ackFlags == 0, "session present with a refusing reason code");
            checkProperties(b, at + 2, remaining - 2, "CONNACK");
            connected = reason < 0x80;
            ended = reason >= 0x80;
        }
    }

    private void onPublish(final byte[] b, final int flags, final int at, final int remaining)
    {
        check(isConnected(), "PUBLISH before a successful CONNACK");
        final int qos = (flags >> 1) & 3;
        check(qos != 3, "PUBLISH with QoS 3");
        check(qos > 0 || (flags & 0x08) == 0, "DUP set on a QoS 0 PUBLISH");
        check(remaining >= 2, "PUBLISH without a topic length");
        final int topicLength = ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
        int position = at + 2 + topicLength;
        check(position <= at + remaining, "PUBLISH topic longer than the packet");
        for (int i = at + 2; i < position; i++)
        {
            check(b[i] != '+' && b[i] != '#' && b[i] != 0, "wildcard or NUL in a delivered topic");
        }
        if (qos > 0)
        {
            check(position + 2 <= at + remaining, "PUBLISH without a packet id");
            check(b[position] != 0 || b[position + 1] != 0, "PUBLISH with packet id 0");
            position += 2;
        }
        if (v5)
        {
            final int propertiesEnd = checkProperties(b, position, at + remaining - position, "PUBLISH");
            check(topicLength > 0 || hasTopicAlias(b, position), "PUBLISH with neither topic nor alias");
            position = propertiesEnd;
        }
        else
        {
            check(topicLength > 0, "3.1.1 PUBLISH without a topic");
        }
    }

    private static boolean hasTopicAlias(final byte[] b, final int at)
    {
        // Property block: varint length, then (id, value) pairs; Topic Alias is 0x23 with a two-byte value.
        int length = 0;
        int i = 0;
        int position = at;
        int digit;
        do
        {
            digit = b[position++] & 0xFF;
            length |= (digit & 0x7F) << (7 * i++);
        }
        while ((digit & 0x80) != 0);
        final int end = position + length;
        while (position < end)
        {
            final int id = b[position++] & 0xFF;
            if (id == 0x23)
            {
                return true;
            }
            position += propertyValueLength(b, id, position);
        }
        return false;
    }

    private void onAck(
        final byte[] b, final int type, final int flags, final int requiredFlags, final int at, final int remaining,
        final int[] codes)
    {
        check(isConnected(), "acknowledgement type " + type + " before a successful CONNACK");
        check(flags == requiredFlags, "acknowledgement type " + type + " with flags " + flags);
        check(v5 ? remaining >= 2 : remaining == 2, "acknowledgement type " + type + " of length " + remaining);
        check(b[at] != 0 || b[at + 1] != 0, "acknowledgement with packet id 0");
        if (remaining >= 3)
        {
            check(contains(codes, b[at + 2] & 0xFF), "type " + type + " reason " + hex(b[at + 2] & 0xFF) +
                " is not one the spec allows");
        }
        if (remaining >= 4)
        {
            checkProperties(b, at + 3, remaining - 3, "acknowledgement");
        }
    }

    private void onSubAck(final byte[] b, final int flags, final int at, final int remaining, final boolean subscribe)
    {
        final String name = subscribe ? "SUBACK" : "UNSUBACK";
        check(isConnected(), name + " before a successful CONNACK");
        check(flags == 0, name + " flags " + flags);
        check(remaining >= 2 && (b[at] != 0 || b[at + 1] != 0), name + " without a packet id");
        if (!v5)
        {
            if (subscribe)
            {
                check(remaining >= 3, "SUBACK without return codes");
                for (int i = at + 2; i < at + remaining; i++)
                {
                    final int code = b[i] & 0xFF;
                    check(code <= 2 || code == 0x80, "3.1.1 SUBACK return code " + hex(code));
                }
            }
            else
            {
                check(remaining == 2, "3.1.1 UNSUBACK of length " + remaining);
            }
            return;
        }
        final int codesAt = checkProperties(b, at + 2, remaining - 2, name);
        check(codesAt < at + remaining, name + " without reason codes");
        for (int i = codesAt; i < at + remaining; i++)
        {
            final int code = b[i] & 0xFF;
            check(contains(subscribe ? SUBACK_CODES : UNSUBACK_CODES, code), name + " reason " + hex(code) +
                " is not one the spec allows");
        }
    }

    private void onDisconnect(final byte[] b, final int flags, final int at, final int remaining)
    {
        check(connackSeen && v5, "DISCONNECT on a 3.1.1 connection (3.1.1 has no server DISCONNECT)");
        check(flags == 0, "DISCONNECT flags " + flags);
        final int reason = remaining == 0 ? 0 : b[at] & 0xFF;
        check(contains(SERVER_DISCONNECT_CODES, reason), "DISCONNECT reason " + hex(reason) +
            " is not one a server may send");
        if (remaining >= 2)
        {
            checkProperties(b, at + 1, remaining - 1, "DISCONNECT");
        }
        disconnectReason = reason;
        ended = true;
    }

    /** v5 enhanced authentication: before CONNACK (Continue) or on a connected session (Success, Continue). */
    private void onAuth(final byte[] b, final int flags, final int at, final int remaining)
    {
        check(!connackSeen || (v5 && isConnected()), "AUTH on a 3.1.1 or unconnected session");
        check(flags == 0, "AUTH flags " + flags);
        final int reason = remaining == 0 ? 0 : b[at] & 0xFF;
        check(connackSeen ? reason == 0x00 || reason == 0x18 : reason == 0x18, "AUTH reason " + hex(reason));
        if (remaining >= 2)
        {
            checkProperties(b, at + 1, remaining - 1, "AUTH");
        }
    }

    /** Checks a property block (known ids, values inside it); returns where it ends. */
    private int checkProperties(final byte[] b, final int at, final int available, final String packet)
    {
        check(available >= 1, packet + " without its property length");
        int length = 0;
        int position = at;
        for (int i = 0; ; i++)
        {
            check(i < 4 && position < at + available, packet + " property length malformed");
            final int digit = b[position++] & 0xFF;
            length |= (digit & 0x7F) << (7 * i);
            if ((digit & 0x80) == 0)
            {
                break;
            }
        }
        final int end = position + length;
        check(end <= at + available, packet + " properties longer than the packet");
        while (position < end)
        {
            final int id = b[position++] & 0xFF;
            final int valueLength = propertyValueLength(b, id, position);
            check(valueLength >= 0, packet + " carries unknown property " + hex(id));
            position += valueLength;
            check(position <= end, packet + " property " + hex(id) + " runs past the block");
        }
        return end;
    }

    /** Bytes of a property's value, or -1 for an id the specification does not define. */
    private static int propertyValueLength(final byte[] b, final int id, final int at)
    {
        return switch (id)
        {
            case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A -> 1;
            case 0x13, 0x21, 0x22, 0x23 -> 2;
            case 0x02, 0x11, 0x18, 0x27 -> 4;
            case 0x0B -> varintLength(b, at);
            case 0x03, 0x08, 0x09, 0x12, 0x15, 0x16, 0x1A, 0x1C, 0x1F ->
                2 + (((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF));
            case 0x26 ->
            {
                final int key = 2 + (((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF));
                yield key + 2 + (((b[at + key] & 0xFF) << 8) | (b[at + key + 1] & 0xFF));
            }
            default -> -1;
        };
    }

    private static int varintLength(final byte[] b, final int at)
    {
        int i = 0;
        while ((b[at + i] & 0x80) != 0)
        {
            i++;
        }
        return i + 1;
    }

    private static boolean contains(final int[] codes, final int code)
    {
        for (final int c : codes)
        {
            if (c == code)
            {
                return true;
            }
        }
        return false;
    }

    private static String hex(final int code)
    {
        return String.format("0x%02X", code);
    }

    private static void check(final boolean condition, final String what)
    {
        if (!condition)
        {
            throw fail(what);
        }
    }

    private static AssertionError fail(final String what)
    {
        return new AssertionError("broker response violates the specification: " + what);
    }
}
