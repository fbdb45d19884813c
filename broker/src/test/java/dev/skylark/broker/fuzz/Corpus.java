package dev.skylark.broker.fuzz;

import java.util.List;

import static dev.skylark.broker.fuzz.Packets.bytes;
import static dev.skylark.broker.fuzz.Packets.concat;
import static dev.skylark.broker.fuzz.Packets.packet;
import static dev.skylark.broker.fuzz.Packets.props;
import static dev.skylark.broker.fuzz.Packets.str;

/**
 * Valid conversations to mutate: CONNECTs (3.1.1 and 5.0, with wills, credentials, properties, persistent
 * sessions) and what a connected client sends (publishes at every QoS with and without properties, subscriptions
 * with options, shared and wildcard filters, acknowledgements, pings, AUTH, DISCONNECT). Topics stay under
 * {@code fz/}, {@code a/} and {@code $share/}: the health check's topic is never among them.
 */
final class Corpus
{
    final List<byte[]> connects3;
    final List<byte[]> connects5;
    /** MQTT 3.1 (MQIsdp, level 3): spoken as 3.1.1 with 3.1's client id and CONNACK rules; mutated like the rest. */
    final List<byte[]> connects31;
    final List<byte[]> session3;
    final List<byte[]> session5;

    Corpus(final String clientId)
    {
        connects3 = List.of(
            packet(0x10, str("MQTT"), bytes(4, 0x02, 0, 30), str(clientId)),
            packet(0x10, str("MQTT"), bytes(4, 0x00, 0, 30), str(clientId)),                    // persistent
            packet(0x10, str("MQTT"), bytes(4, 0x2E, 0, 30), str(clientId), str("fz/will"), str("gone")),
            packet(0x10, str("MQTT"), bytes(4, 0xC2, 0, 30), str(clientId), str("user"), str("pass")));
        connects31 = List.of(packet(0x10, str("MQIsdp"), bytes(3, 0x02, 0, 30), str(clientId)));
        connects5 = List.of(
            packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 30), props(), str(clientId)),
            packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 30),
                props(bytes(0x11, 0, 0, 0, 10), bytes(0x21, 0, 8), bytes(0x22, 0, 4), bytes(0x27, 0, 0, 0x40, 0),
                    bytes(0x17, 1), concat(bytes(0x26), str("k"), str("v"))), str(clientId)),
            packet(0x10, str("MQTT"), bytes(5, 0x0E, 0, 30), props(), str(clientId),
                props(bytes(0x18, 0, 0, 0, 1), bytes(0x01, 1)), str("fz/will"), str("gone")),
            packet(0x10, str("MQTT"), bytes(5, 0xC0, 0, 0), props(bytes(0x19, 1)), str(clientId), str("u"), str("p")),
            packet(0x10, str("MQTT"), bytes(5, 0x02, 0, 30), props(), str("")));                 // assigned id
        session3 = List.of(
            packet(0x82, bytes(0, 1), str("a/+/c"), bytes(1), str("fz/#"), bytes(2)),
            packet(0x82, bytes(0, 2), str("#"), bytes(0)),
            packet(0x30, str("fz/t"), bytes('p')),
            packet(0x32, str("a/b/c"), bytes(0, 3), bytes('p', 'a', 'y')),
            packet(0x34, str("fz/q2"), bytes(0, 4), bytes('x')),
            packet(0x31, str("fz/r"), bytes('r')),                                                   // retained
            packet(0x40, bytes(0, 1)),
            packet(0x50, bytes(0, 2)),
            packet(0x62, bytes(0, 4)),
            packet(0x70, bytes(0, 2)),
            packet(0xA2, bytes(0, 5), str("a/+/c")),
            Packets.PINGREQ,
            packet(0xE0));
        session5 = List.of(
            packet(0x82, bytes(0, 1), props(bytes(0x0B, 7)), str("fz/#"), bytes(0x2E)),
            packet(0x82, bytes(0, 2), props(), str("$share/g/a/#"), bytes(1), str("a/+"), bytes(0x16)),
            packet(0x30, str("fz/t"), props(), bytes('p')),
            packet(0x32, str("fz/a"), bytes(0, 3), props(bytes(0x23, 0, 1), bytes(0x01, 1), bytes(0x02, 0, 0, 0, 30),
                concat(bytes(0x03), str("text/plain")), concat(bytes(0x08), str("fz/reply")),
                concat(bytes(0x09), str("cid")), concat(bytes(0x26), str("k"), str("v"))), bytes('x')),
            packet(0x32, str(""), bytes(0, 4), props(bytes(0x23, 0, 1)), bytes('y')),                // alias only
            packet(0x35, str("fz/q2"), bytes(0, 5), props(), bytes('z')),
            packet(0x40, bytes(0, 1, 0x10), props(concat(bytes(0x1F), str("why")))),
            packet(0x50, bytes(0, 2)),
            packet(0x62, bytes(0, 5, 0)),
            packet(0x70, bytes(0, 2, 0x92)),
            packet(0xA2, bytes(0, 6), props(), str("fz/#"), str("a/+")),
            Packets.PINGREQ,
            packet(0xF0, bytes(0x18), props(concat(bytes(0x15), str("x")))),                       // AUTH
            packet(0xE0, bytes(0x04), props(bytes(0x11, 0, 0, 0, 1))));
    }
}
