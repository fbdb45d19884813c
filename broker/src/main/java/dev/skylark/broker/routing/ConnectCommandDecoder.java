package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;

import static dev.skylark.broker.routing.RouterCommand.*;
import static org.agrona.BitUtil.SIZE_OF_INT;
import static org.agrona.BitUtil.SIZE_OF_SHORT;

/**
 * A flyweight over one {@link RouterCommand#CONNECT} record on the router ring: fixed fields read in place, the will's
 * topic, properties and payload as offsets into the record. Wrapped once per CONNECT by {@link RouterCommandAdapter}.
 */
final class ConnectCommandDecoder
{
    private DirectBuffer buffer;
    private int index;
    private int clientIdLength;
    private int willTopicOffset;
    private int willTopicLength;
    private int willPropertiesOffset;
    private int willPropertiesLength;
    private int willPayloadOffset;
    private int willPayloadLength;

    ConnectCommandDecoder wrap(final DirectBuffer buffer, final int index)
    {
        this.buffer = buffer;
        this.index = index;
        clientIdLength = buffer.getShort(index + CONNECT_CLIENT_ID_OFFSET) & 0xFFFF;
        if (hasWill())
        {
            final int position = index + CONNECT_CLIENT_ID_OFFSET + SIZE_OF_SHORT + clientIdLength;
            willTopicLength = buffer.getShort(position) & 0xFFFF;
            willTopicOffset = position + SIZE_OF_SHORT;
            willPropertiesLength = buffer.getInt(willTopicOffset + willTopicLength);
            willPropertiesOffset = willTopicOffset + willTopicLength + SIZE_OF_INT;
            willPayloadLength = buffer.getInt(willPropertiesOffset + willPropertiesLength);
            willPayloadOffset = willPropertiesOffset + willPropertiesLength + SIZE_OF_INT;
        }
        else
        {
            willTopicOffset = willTopicLength = willPropertiesOffset = willPropertiesLength = 0;
            willPayloadOffset = willPayloadLength = 0;
        }
        return this;
    }

    DirectBuffer buffer()
    {
        return buffer;
    }

    int version()
    {
        return buffer.getByte(index + CONNECT_VERSION_OFFSET);
    }

    private int flags()
    {
        return buffer.getByte(index + CONNECT_FLAGS_OFFSET);
    }

    boolean cleanStart()
    {
        return (flags() & CONNECT_FLAG_CLEAN_START) != 0;
    }

    boolean hasWill()
    {
        return (flags() & CONNECT_FLAG_WILL) != 0;
    }

    boolean willRetain()
    {
        return (flags() & CONNECT_FLAG_WILL_RETAIN) != 0;
    }

    int willQos()
    {
        return buffer.getByte(index + CONNECT_WILL_QOS_OFFSET);
    }

    int receiveMaximum()
    {
        return buffer.getInt(index + CONNECT_RECEIVE_MAXIMUM_OFFSET);
    }

    /** Seconds, unsigned. */
    long sessionExpiry()
    {
        return buffer.getInt(index + CONNECT_SESSION_EXPIRY_OFFSET) & 0xFFFF_FFFFL;
    }

    int maxPacketSize()
    {
        return buffer.getInt(index + CONNECT_MAX_PACKET_SIZE_OFFSET);
    }

    /** Seconds, unsigned. */
    long willDelay()
    {
        return buffer.getInt(index + CONNECT_WILL_DELAY_OFFSET) & 0xFFFF_FFFFL;
    }

    /** The client id as a String (the session registry's key). */
    String clientId()
    {
        return buffer.getStringWithoutLengthUtf8(index + CONNECT_CLIENT_ID_OFFSET + SIZE_OF_SHORT, clientIdLength);
    }

    int willTopicOffset()
    {
        return willTopicOffset;
    }

    int willTopicLength()
    {
        return willTopicLength;
    }

    int willPropertiesOffset()
    {
        return willPropertiesOffset;
    }

    int willPropertiesLength()
    {
        return willPropertiesLength;
    }

    int willPayloadOffset()
    {
        return willPayloadOffset;
    }

    int willPayloadLength()
    {
        return willPayloadLength;
    }
}
