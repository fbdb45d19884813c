package dev.skylark.broker.fuzz;

import java.util.Random;

import static dev.skylark.broker.fuzz.Packets.bytes;
import static dev.skylark.broker.fuzz.Packets.concat;
import static dev.skylark.broker.fuzz.Packets.packet;
import static dev.skylark.broker.fuzz.Packets.props;
import static dev.skylark.broker.fuzz.Packets.str;

/**
 * Bad input whose answer the specification names exactly, mixed into the random cases with random packet ids and
 * topics: the broker must give that answer (v5 reason code, 3.1.1 return code, WebSocket close code) and close.
 */
final class KnownAnswers
{
    /** A case: bytes to send and the answer they must get. */
    record Case(String name, byte[] bytes, int expected)
    {
    }

    /** Expected value meaning "closed with nothing said" (3.1.1 has no DISCONNECT; a first packet not CONNECT). */
    static final int SILENT_CLOSE = -1;

    private final Random random;
    private final int maxPacketSize;

    KnownAnswers(final Random random, final int maxPacketSize)
    {
        this.random = random;
        this.maxPacketSize = maxPacketSize;
    }

    private byte[] id()
    {
        final int id = 1 + random.nextInt(65_535);
        return bytes(id >> 8, id);
    }

    private byte[] topic()
    {
        return str("fz/k" + random.nextInt(100));
    }

    /** On a connected session: the DISCONNECT reason (v5) the broker must send before it closes. */
    Case session(final boolean v5, final String clientId)
    {
        final byte[] noProps = v5 ? props() : new byte[0];
        final int pick = random.nextInt(v5 ? 14 : 8);
        return switch (v5 || pick < 7 ? pick : 100 + pick)
        {
            case 0 -> new Case("Remaining Length of five bytes", bytes(0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F), 0x81);
            case 1 -> new Case("Remaining Length over the maximum packet size",
                concat(bytes(0x30), Packets.varint(maxPacketSize)), 0x95);
            case 2 -> new Case("non-minimal Remaining Length", bytes(0xC0, 0x80, 0x00), 0x81);
            case 3 -> new Case("SUBSCRIBE with reserved flags 0000",
                packet(0x80, id(), noProps, topic(), bytes(1)), 0x81);
            case 4 -> new Case("PUBLISH with QoS 3", packet(0x36, topic(), id(), noProps, bytes('x')), 0x81);
            case 5 -> new Case("second CONNECT", v5 ?
                packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 30), props(), str(clientId)) :
                packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 30), str(clientId)), 0x82);
            case 6 -> new Case("PINGREQ with a body", bytes(0xC0, 0x01, 0x00), 0x81);
            case 7 -> new Case("Topic Alias 0", packet(0x30, topic(), props(bytes(0x23, 0, 0)), bytes('x')), 0x94);
            case 8 -> new Case("Topic Alias over the maximum",
                packet(0x30, topic(), props(bytes(0x23, 0xFF, 0xFF)), bytes('x')), 0x94);
            case 9 -> new Case("Subscription Identifier from a client",
                packet(0x32, topic(), id(), props(bytes(0x0B, 5)), bytes('x')), 0x82);
            case 10 -> new Case("Payload Format Indicator twice",
                packet(0x30, topic(), props(bytes(0x01, 0), bytes(0x01, 1)), bytes('x')), 0x82);
            case 11 -> new Case("AUTH without an authentication method",
                packet(0xF0, bytes(0x18), props(concat(bytes(0x15), str("x")))), 0x82);
            case 12 -> new Case("No Local on a shared subscription",
                packet(0x82, id(), props(), str("$share/g/fz/k"), bytes(0x05)), 0x82);
            // 3.1.1 only (its UNSUBACK has no codes; v5 answers 0x8F and stays): an invalid filter is malformed.
            case 107 -> new Case("3.1.1 UNSUBSCRIBE with topic filter '#/x'",
                packet(0xA2, id(), str(random.nextBoolean() ? "#/x" : "")), SILENT_CLOSE);
            default -> new Case("SUBSCRIBE options with reserved bits",
                packet(0x82, id(), props(), topic(), bytes(0xC1)), 0x81);
        };
    }

    /** The first packet of a fresh connection: the CONNACK reason (or 3.1.1 return code) it must get. */
    Case connect(final String clientId)
    {
        return switch (random.nextInt(10))
        {
            case 0 -> new Case("first packet not CONNECT", random.nextBoolean() ? Packets.PINGREQ :
                packet(0x30, topic(), bytes('x')), SILENT_CLOSE);
            case 1 -> new Case("v5 CONNECT with the reserved flag set",
                packet(0x10, str("MQTT"), bytes(5, 0x03, 0, 30), props(), str(clientId)), 0x81);
            case 2 -> new Case("3.1.1 CONNECT with the reserved flag set",
                packet(0x10, str("MQTT"), bytes(4, 0x03, 0, 30), str(clientId)), SILENT_CLOSE);
            case 3 -> new Case("3.1.1 persistent session with an empty client id",
                packet(0x10, str("MQTT"), bytes(4, 0x00, 0, 30), str("")), 0x02);
            case 4 -> new Case("v5 CONNECT with an authentication method the broker does not support",
                packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 30), props(concat(bytes(0x15), str("SCRAM-SHA-1"))),
                    str(clientId)), 0x8C);
            case 5 -> new Case("protocol level 6",
                packet(0x10, str("MQTT"), bytes(6, 0x02, 0, 30), props(), str(clientId)), 0x01);
            case 6 -> new Case("MQTT 3.1 CONNECT with an empty client id",
                packet(0x10, str("MQIsdp"), bytes(3, 0x02, 0, 30), str("")), 0x02);
            case 7 -> new Case("MQTT 3.1 CONNECT with a client id of 24 characters",
                packet(0x10, str("MQIsdp"), bytes(3, 0x02, 0, 30), str("c".repeat(24))), 0x02);
            case 8 -> new Case("v5 CONNECT with a Maximum Packet Size no CONNACK fits in",
                packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 30), props(bytes(0x27, 0, 0, 0, 2 + random.nextInt(3))),
                    str(clientId)), SILENT_CLOSE);
            default -> new Case("v5 CONNECT with Will QoS but no will",
                packet(0x10, str("MQTT"), bytes(5, 0x0A, 0, 30), props(), str(clientId)), 0x81);
        };
    }

    /** A frame the broker must answer with this WebSocket close code. */
    Case frame(final Random masks)
    {
        final byte[] ping = Packets.PINGREQ;
        return switch (random.nextInt(10))
        {
            case 0 -> new Case("unmasked client frame", bytes(0x82, 0x02, 0xC0, 0x00), 1002);
            case 1 -> new Case("reserved bit RSV1", Wire.WebSocket.frame(0xC2, ping, 0, 2, masks), 1002);
            case 2 -> new Case("text frame", Wire.WebSocket.frame(0x81, ping, 0, 2, masks), 1003);
            case 3 -> new Case("reserved opcode 3", Wire.WebSocket.frame(0x83, ping, 0, 2, masks), 1002);
            case 4 -> new Case("fragmented ping", Wire.WebSocket.frame(0x09, bytes('p'), 0, 1, masks), 1002);
            case 5 -> new Case("ping of 126 bytes", Wire.WebSocket.frame(0x89, new byte[126], 0, 126, masks), 1002);
            case 6 -> new Case("continuation with no message", Wire.WebSocket.frame(0x80, ping, 0, 2, masks), 1002);
            case 7 -> new Case("close frame of one byte", Wire.WebSocket.frame(0x88, bytes(3), 0, 1, masks), 1002);
            case 8 -> new Case("close code 1005 on the wire",
                Wire.WebSocket.frame(0x88, bytes(0x03, 0xED), 0, 2, masks), 1002);
            default -> new Case("non-minimal frame length", bytes(0x82, 0xFE, 0x00, 0x02, 1, 2, 3, 4, 0xC0 ^ 1, 0x00 ^ 2),
                1002);
        };
    }
}
