package dev.skylark.broker.hook;

import dev.skylark.broker.routing.MessageLayout;
import org.agrona.DirectBuffer;

/**
 * The layout of one message waiting for the hook, in the ring from the I/O agents and in the agent's batch: who
 * sent it and when, then the message exactly as the routing agent takes it ({@link MessageLayout}), so a message
 * the hook returns unchanged is handed on without being rebuilt.
 *
 * <pre>
 * connectionId:8 receivedAtMs:8 clientIdLength:2 jtiLength:2 clientId:n jti:n message:{@link MessageLayout}
 * </pre>
 * {@code jtiLength} 0 means the client used no token.
 */
final class HookRecord
{
    static final int MSG_TYPE_ID = 1;
    static final int CONNECTION_ID_OFFSET = 0;
    static final int RECEIVED_AT_OFFSET = 8;
    static final int CLIENT_ID_LENGTH_OFFSET = 16;
    static final int JTI_LENGTH_OFFSET = 18;
    static final int CLIENT_ID_OFFSET = 20;

    private HookRecord()
    {
    }

    static long connectionId(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + CONNECTION_ID_OFFSET);
    }

    static long receivedAtMs(final DirectBuffer buffer, final int offset)
    {
        return buffer.getLong(offset + RECEIVED_AT_OFFSET);
    }

    static int clientIdLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + CLIENT_ID_LENGTH_OFFSET) & 0xFFFF;
    }

    static int jtiLength(final DirectBuffer buffer, final int offset)
    {
        return buffer.getShort(offset + JTI_LENGTH_OFFSET) & 0xFFFF;
    }

    static int jtiOffset(final DirectBuffer buffer, final int offset)
    {
        return offset + CLIENT_ID_OFFSET + clientIdLength(buffer, offset);
    }

    /** Where the {@link MessageLayout} part starts. */
    static int messageOffset(final DirectBuffer buffer, final int offset)
    {
        return jtiOffset(buffer, offset) + jtiLength(buffer, offset);
    }

    /** Bytes a record of these parts takes. */
    static int length(
        final int clientIdLength, final int jtiLength, final int topicLength, final int propertiesLength,
        final int payloadLength)
    {
        return CLIENT_ID_OFFSET + clientIdLength + jtiLength +
            MessageLayout.length(topicLength, propertiesLength, payloadLength);
    }
}
