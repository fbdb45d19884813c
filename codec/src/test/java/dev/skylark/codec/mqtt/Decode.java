package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

/** Test dispatcher: decodes one whole packet with the decoder for its type. */
final class Decode
{
    private final ConnectDecoder connect = new ConnectDecoder();
    private final ConnAckDecoder connAck = new ConnAckDecoder();
    private final PublishDecoder publish = new PublishDecoder();
    private final PubAckDecoder pubAck = new PubAckDecoder();
    private final SubscribeDecoder subscribe = new SubscribeDecoder();
    private final SubAckDecoder subAck = new SubAckDecoder();
    private final UnsubscribeDecoder unsubscribe = new UnsubscribeDecoder();
    private final PingDecoder ping = new PingDecoder();
    private final DisconnectDecoder disconnect = new DisconnectDecoder();
    private final AuthDecoder auth = new AuthDecoder();

    int decode(final DirectBuffer buffer, final int offset, final int length, final int version)
    {
        if (length < 1)
        {
            return -ReasonCode.MALFORMED_PACKET;
        }
        switch (PacketType.of(buffer.getByte(offset)))
        {
            case PacketType.CONNECT:
                return connect.wrap(buffer, offset, length);
            case PacketType.CONNACK:
                return connAck.wrap(buffer, offset, length, version);
            case PacketType.PUBLISH:
                return publish.wrap(buffer, offset, length, version);
            case PacketType.PUBACK:
            case PacketType.PUBREC:
            case PacketType.PUBREL:
            case PacketType.PUBCOMP:
                return pubAck.wrap(buffer, offset, length, version);
            case PacketType.SUBSCRIBE:
                return drain(subscribe.wrap(buffer, offset, length, version));
            case PacketType.SUBACK:
            case PacketType.UNSUBACK:
                return subAck.wrap(buffer, offset, length, version);
            case PacketType.UNSUBSCRIBE:
                return unsubscribe.wrap(buffer, offset, length, version);
            case PacketType.PINGREQ:
            case PacketType.PINGRESP:
                return ping.wrap(buffer, offset, length, version);
            case PacketType.DISCONNECT:
                return disconnect.wrap(buffer, offset, length, version);
            case PacketType.AUTH:
                return auth.wrap(buffer, offset, length, version);
            default:
                return -ReasonCode.MALFORMED_PACKET;
        }
    }

    int decode(final DirectBuffer buffer, final int version)
    {
        return decode(buffer, 0, buffer.capacity(), version);
    }

    /** After a successful decode, walk every view so that reads beyond the buffer would throw. */
    private int drain(final int result)
    {
        if (result == 0)
        {
            while (subscribe.nextEntry())
            {
                subscribe.filterStatus();
                subscribe.qos();
            }
            subscribe.properties().forEachUserProperty((b, ko, kl, vo, vl) -> { });
        }
        return result;
    }
}
