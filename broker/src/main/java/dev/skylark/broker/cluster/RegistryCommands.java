package dev.skylark.broker.cluster;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static org.agrona.BitUtil.SIZE_OF_INT;

/**
 * The registry's commands as they travel on the cluster ingress and sit in the Raft log: one message each,
 * little-endian (Agrona's default), hand-rolled (SBE is not on the class path).
 *
 * <pre>
 * 0  type:4
 * HELLO         4 nodeId:4
 * CLAIM         4 sequence:4  8 correlationId:8  16 clientIdLength:4  20 clientId:n (UTF-8)
 * RELEASE       4 sequence:4  8 epoch:8          16 clientIdLength:4  20 clientId:n
 * ROUTE_ADD     4 sequence:4  8 correlationId:8  16 filterLength:4    20 filter:n
 * ROUTE_REMOVE  4 sequence:4  8 correlationId:8  16 filterLength:4    20 filter:n
 * RETAINED      4 sequence:4  8 message:n ({@link dev.skylark.broker.routing.MessageLayout}; empty payload clears)
 * WILL          4 sequence:4  8 epoch:8  16 willDelaySeconds:4  20 sessionExpirySeconds:4  24 clientIdLength:4
 *               28 clientId:n  message:m (the will in the MessageLayout, to the end; m = 0 clears)
 * CLAIM_IF      4 sequence:4  8 epoch:8          16 clientIdLength:4  20 clientId:n (a CLAIM only while the client
 *               id's current epoch is {@code epoch}; else nothing: a leaving node's heir takes only what it still owns)
 * PING          4 sequence:4  (no effect: the node agent's round trip through the log, see ClusterNodeAgent)
 * </pre>
 * {@code sequence} numbers a node's commands within its registry session (from 1, set by the node agent as it
 * offers them): the registry applies a command only when its sequence is above the last it applied for that node,
 * so the node agent can resend what was not yet applied after a leader change (ingress to a dead leader is lost)
 * without anything applying twice. 0: not numbered (always applied).
 * The node a command comes from is not in it: the registry knows it from the cluster session that sent
 * {@code HELLO}. Part 2 adds types; a registry ignores (and counts) a type it does not know.
 */
public final class RegistryCommands
{
    public static final int TYPE_OFFSET = 0;
    public static final int NODE_ID_OFFSET = 4;
    public static final int SEQUENCE_OFFSET = 4;
    public static final int LONG_OFFSET = 8;
    public static final int STRING_LENGTH_OFFSET = 16;
    public static final int STRING_OFFSET = 20;
    public static final int RETAINED_MESSAGE_OFFSET = 8;

    public static final int HELLO = 1;
    public static final int CLAIM = 2;
    public static final int RELEASE = 3;
    public static final int ROUTE_ADD = 4;
    public static final int ROUTE_REMOVE = 5;
    public static final int RETAINED = 6;
    /** Numbered apart from part 2's other commands, which are added in parallel. */
    public static final int WILL = 16;

    public static final int WILL_DELAY_OFFSET = 16;
    public static final int WILL_EXPIRY_OFFSET = 20;
    public static final int WILL_CLIENT_ID_LENGTH_OFFSET = 24;
    public static final int WILL_CLIENT_ID_OFFSET = 28;
    /** A conditional claim (cluster leave); numbered apart from the part 2 commands added alongside. */
    public static final int CLAIM_IF = 20;
    /** A no-op of a node's own: coming back applied proves the node's session is live and the log commits. */
    public static final int PING = 32;

    public static final int HELLO_LENGTH = NODE_ID_OFFSET + SIZE_OF_INT;
    public static final int PING_LENGTH = SEQUENCE_OFFSET + SIZE_OF_INT;

    private RegistryCommands()
    {
    }

    public static int encodeHello(final MutableDirectBuffer buffer, final int offset, final int nodeId)
    {
        buffer.putInt(offset + TYPE_OFFSET, HELLO);
        buffer.putInt(offset + NODE_ID_OFFSET, nodeId);
        return HELLO_LENGTH;
    }

    /** PING, numbered by the node agent as it offers it. Returns the length written. */
    public static int encodePing(final MutableDirectBuffer buffer, final int offset)
    {
        buffer.putInt(offset + TYPE_OFFSET, PING);
        buffer.putInt(offset + SEQUENCE_OFFSET, 0);
        return PING_LENGTH;
    }

    /** CLAIM, RELEASE, ROUTE_ADD, ROUTE_REMOVE: a long and a string. Returns the length written. */
    public static int encodeLongString(
        final MutableDirectBuffer buffer, final int offset, final int type, final long value, final String text)
    {
        buffer.putInt(offset + TYPE_OFFSET, type);
        buffer.putInt(offset + SEQUENCE_OFFSET, 0);
        buffer.putLong(offset + LONG_OFFSET, value);
        return STRING_LENGTH_OFFSET + buffer.putStringUtf8(offset + STRING_LENGTH_OFFSET, text);
    }

    public static int encodeRetained(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer message, final int messageOffset,
        final int messageLength)
    {
        buffer.putInt(offset + TYPE_OFFSET, RETAINED);
        buffer.putInt(offset + SEQUENCE_OFFSET, 0);
        buffer.putBytes(offset + RETAINED_MESSAGE_OFFSET, message, messageOffset, messageLength);
        return RETAINED_MESSAGE_OFFSET + messageLength;
    }

    /** WILL: sets ({@code messageLength} > 0) or clears a client's will. Returns the length written. */
    public static int encodeWill(
        final MutableDirectBuffer buffer, final int offset, final String clientId, final long epoch,
        final long willDelaySeconds, final long sessionExpirySeconds, final DirectBuffer message,
        final int messageOffset, final int messageLength)
    {
        buffer.putInt(offset + TYPE_OFFSET, WILL);
        buffer.putInt(offset + SEQUENCE_OFFSET, 0);
        buffer.putLong(offset + LONG_OFFSET, epoch);
        buffer.putInt(offset + WILL_DELAY_OFFSET, (int)Math.min(willDelaySeconds, 0xFFFF_FFFFL));
        buffer.putInt(offset + WILL_EXPIRY_OFFSET, (int)Math.min(sessionExpirySeconds, 0xFFFF_FFFFL));
        final int idLength = buffer.putStringUtf8(offset + WILL_CLIENT_ID_LENGTH_OFFSET, clientId);
        final int messageAt = WILL_CLIENT_ID_LENGTH_OFFSET + idLength;
        if (messageLength > 0)
        {
            buffer.putBytes(offset + messageAt, message, messageOffset, messageLength);
        }
        return messageAt + messageLength;
    }

    /** True when a WILL of {@code length} bytes holds its whole client id. */
    public static boolean validWill(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < WILL_CLIENT_ID_OFFSET)
        {
            return false;
        }
        final int idLength = buffer.getInt(offset + WILL_CLIENT_ID_LENGTH_OFFSET);
        return idLength >= 0 && idLength <= length - WILL_CLIENT_ID_OFFSET;
    }

    public static String willClientId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getStringUtf8(offset + WILL_CLIENT_ID_LENGTH_OFFSET);
    }

    /** Where a WILL's message starts (absolute). */
    public static int willMessageOffset(final DirectBuffer buffer, final int offset)
    {
        return offset + WILL_CLIENT_ID_OFFSET + buffer.getInt(offset + WILL_CLIENT_ID_LENGTH_OFFSET);
    }

    public static long willDelay(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + WILL_DELAY_OFFSET) & 0xFFFF_FFFFL;
    }

    public static long willExpiry(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + WILL_EXPIRY_OFFSET) & 0xFFFF_FFFFL;
    }

    /** The sequence of a command other than HELLO (see the class comment). */
    public static int sequence(final DirectBuffer buffer, final int offset)
    {
        return buffer.getInt(offset + SEQUENCE_OFFSET);
    }

    public static void sequence(final MutableDirectBuffer buffer, final int offset, final int sequence)
    {
        buffer.putInt(offset + SEQUENCE_OFFSET, sequence);
    }

    /** The type, or 0 when the message is too short to hold one. */
    public static int type(final DirectBuffer buffer, final int offset, final int length)
    {
        return length < SIZE_OF_INT ? 0 : buffer.getInt(offset + TYPE_OFFSET);
    }

    /** True when a long-and-string command of {@code length} bytes holds its whole string. */
    public static boolean validLongString(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < STRING_OFFSET)
        {
            return false;
        }
        final int textLength = buffer.getInt(offset + STRING_LENGTH_OFFSET);
        return textLength >= 0 && textLength == length - STRING_OFFSET;
    }

    public static long longValue(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + LONG_OFFSET);
    }

    public static String string(final DirectBuffer buffer, final int offset)
    {
        return buffer.getStringUtf8(offset + STRING_LENGTH_OFFSET);
    }
}
