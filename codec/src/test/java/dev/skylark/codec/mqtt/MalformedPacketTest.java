package dev.skylark.codec.mqtt;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static dev.skylark.codec.mqtt.MqttVersion.V3_1_1;
import static dev.skylark.codec.mqtt.MqttVersion.V5;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Malformed and protocol-violating packets as byte literals, one comment per field, each with the exact reason code
 * (in the spirit of Mosquitto's test/broker/*-malformed-*.py and test/unit packet tests).
 */
class MalformedPacketTest
{
    private static final int MALFORMED = ReasonCode.MALFORMED_PACKET;
    private static final int PROTOCOL = ReasonCode.PROTOCOL_ERROR;
    private static final int UNSUPPORTED = ReasonCode.UNSUPPORTED_PROTOCOL_VERSION;
    private static final int TOPIC_NAME = ReasonCode.TOPIC_NAME_INVALID;

    static Stream<Arguments> cases()
    {
        return Stream.of(
            // ---------------------------------------------------------------- CONNECT
            arguments("connect reserved flag", V3_1_1, MALFORMED, """
                10 0c        # CONNECT, remaining length 12
                00 04 'MQTT' # protocol name
                04           # level 4
                03           # flags: clean start + RESERVED bit 0
                00 3c        # keep alive
                00 00        # client id ''
                """),
            arguments("connect fixed header flags not 0", V3_1_1, MALFORMED, """
                11 0c 00 04 'MQTT' 04 02 00 3c 00 00   # 0x11: flags nibble 1
                """),
            arguments("connect wrong protocol name", V3_1_1, UNSUPPORTED, """
                10 0c
                00 04 'MQTX' # protocol name MQTX
                04 02 00 3c 00 00
                """),
            arguments("connect protocol level 6", V5, UNSUPPORTED, """
                10 0d 00 04 'MQTT'
                06           # level 6: unknown
                02 00 3c 00 00 00
                """),
            arguments("connect MQIsdp with level 4", V3_1_1, UNSUPPORTED, """
                10 0e
                00 06 'MQIsdp' # 3.1 name
                04             # but 3.1.1 level
                02 00 3c 00 00
                """),
            arguments("connect will QoS 3", V3_1_1, MALFORMED, """
                10 0c 00 04 'MQTT' 04
                1e           # flags: will QoS 3 | will | clean start
                00 3c 00 00
                """),
            arguments("connect will QoS without will flag", V3_1_1, MALFORMED, """
                10 0c 00 04 'MQTT' 04
                0a           # flags: will QoS 1 | clean start, no will
                00 3c 00 00
                """),
            arguments("connect will retain without will flag", V3_1_1, MALFORMED, """
                10 0c 00 04 'MQTT' 04
                22           # flags: will retain | clean start, no will
                00 3c 00 00
                """),
            arguments("connect v3.1.1 password without user name", V3_1_1, MALFORMED, """
                10 0e 00 04 'MQTT' 04
                42           # flags: password | clean start
                00 3c
                00 00        # client id
                00 00        # password
                """),
            arguments("connect user name flag but no user name", V3_1_1, MALFORMED, """
                10 0c 00 04 'MQTT' 04
                82           # flags: user name | clean start
                00 3c
                00 00        # client id, then nothing
                """),
            arguments("connect remaining length disagrees with bytes", V3_1_1, MALFORMED, """
                10 0e        # says 14, 12 follow
                00 04 'MQTT' 04 02 00 3c 00 00
                """),
            arguments("connect truncated before keep alive", V3_1_1, MALFORMED, """
                10 08 00 04 'MQTT' 04 02   # ends after flags
                """),
            arguments("connect client id overlong NUL c0 80", V3_1_1, MALFORMED, """
                10 0e 00 04 'MQTT' 04 02 00 3c
                00 02 c0 80  # client id: overlong encoding of U+0000
                """),
            arguments("connect client id U+0000", V3_1_1, MALFORMED, """
                10 0d 00 04 'MQTT' 04 02 00 3c
                00 01 00     # client id: U+0000
                """),
            arguments("connect client id surrogate", V3_1_1, MALFORMED, """
                10 0f 00 04 'MQTT' 04 02 00 3c
                00 03 ed a0 80 # client id: U+D800
                """),
            arguments("connect client id longer than packet", V3_1_1, MALFORMED, """
                10 0d 00 04 'MQTT' 04 02 00 3c
                00 05 'a'    # client id length 5, 1 byte present
                """),
            arguments("connect trailing byte", V3_1_1, MALFORMED, """
                10 0d 00 04 'MQTT' 04 02 00 3c 00 00
                ff           # not part of any field
                """),
            arguments("connect v5 topic alias property not allowed", V5, MALFORMED, """
                10 10 00 04 'MQTT' 05 02 00 3c
                03 23 00 01  # properties: Topic Alias 1 (PUBLISH only)
                00 00
                """),
            arguments("connect v5 duplicate session expiry", V5, PROTOCOL, """
                10 17 00 04 'MQTT' 05 02 00 3c
                0a           # property length 10
                11 00 00 00 01 # Session Expiry Interval 1
                11 00 00 00 02 # Session Expiry Interval again
                00 00
                """),
            arguments("connect v5 receive maximum 0", V5, PROTOCOL, """
                10 10 00 04 'MQTT' 05 02 00 3c
                03 21 00 00  # Receive Maximum 0
                00 00
                """),
            arguments("connect v5 maximum packet size 0", V5, PROTOCOL, """
                10 12 00 04 'MQTT' 05 02 00 3c
                05 27 00 00 00 00 # Maximum Packet Size 0
                00 00
                """),
            arguments("connect v5 request problem information 2", V5, PROTOCOL, """
                10 0f 00 04 'MQTT' 05 02 00 3c
                02 17 02     # Request Problem Information 2
                00 00
                """),
            arguments("connect v5 authentication data without method", V5, PROTOCOL, """
                10 11 00 04 'MQTT' 05 02 00 3c
                04 16 00 01 ff # Authentication Data, no Authentication Method
                00 00
                """),
            arguments("connect v5 property length beyond packet", V5, MALFORMED, """
                10 0d 00 04 'MQTT' 05 02 00 3c
                05           # property length 5
                00 00        # only 2 bytes left
                """),
            arguments("connect v5 unknown property 0x7f", V5, MALFORMED, """
                10 0f 00 04 'MQTT' 05 02 00 3c
                02 7f 00     # undefined property identifier
                00 00
                """),
            arguments("connect v5 will topic with wildcard", V5, TOPIC_NAME, """
                10 15 00 04 'MQTT' 05
                06           # flags: will | clean start
                00 3c
                00           # properties: none
                00 00        # client id
                00           # will properties: none
                00 03 'a/#'  # will topic with '#'
                00 00        # will payload
                """),
            arguments("connect v5 will property not allowed (topic alias)", V5, MALFORMED, """
                10 16 00 04 'MQTT' 05 06 00 3c 00 00 00
                03 23 00 01  # will properties: Topic Alias
                00 01 't' 00 00
                """),
            // ---------------------------------------------------------------- PUBLISH
            arguments("publish QoS 3", V3_1_1, MALFORMED, """
                36 05        # PUBLISH, QoS bits 11
                00 01 't' 00 01
                """),
            arguments("publish DUP with QoS 0", V3_1_1, MALFORMED, """
                38 03        # PUBLISH, DUP, QoS 0
                00 01 't'
                """),
            arguments("publish QoS 1 packet id 0", V3_1_1, PROTOCOL, """
                32 05 00 01 't'
                00 00        # packet identifier 0
                """),
            arguments("publish topic with +", V3_1_1, TOPIC_NAME, """
                30 05 00 03 'a/+'
                """),
            arguments("publish topic with #", V5, TOPIC_NAME, """
                30 04 00 01 '#'
                00           # properties: none
                """),
            arguments("publish topic longer than packet", V3_1_1, MALFORMED, """
                30 03 00 05 't'  # topic length 5, 1 byte
                """),
            arguments("publish QoS 1 missing packet id", V3_1_1, MALFORMED, """
                32 04 00 01 't' 00  # one byte of packet identifier
                """),
            arguments("publish v3 empty topic", V3_1_1, MALFORMED, """
                30 02 00 00  # topic ''
                """),
            arguments("publish v5 empty topic without alias", V5, PROTOCOL, """
                30 03 00 00  # topic ''
                00           # properties: none
                """),
            arguments("publish v5 topic alias 0", V5, ReasonCode.TOPIC_ALIAS_INVALID, """
                30 07 00 01 't'
                03 23 00 00  # Topic Alias 0
                """),
            arguments("publish v5 duplicate topic alias", V5, PROTOCOL, """
                30 0a 00 01 't'
                06 23 00 01 23 00 02 # Topic Alias twice
                """),
            arguments("publish v5 session expiry not allowed", V5, MALFORMED, """
                30 09 00 01 't'
                05 11 00 00 00 01 # Session Expiry Interval in PUBLISH
                """),
            arguments("publish v5 payload format indicator 2", V5, PROTOCOL, """
                30 06 00 01 't'
                02 01 02     # Payload Format Indicator 2
                """),
            arguments("publish v5 response topic with wildcard", V5, PROTOCOL, """
                30 09 00 01 't'
                05 08 00 02 'a+' # Response Topic 'a+'
                """),
            arguments("publish v5 subscription identifier 0", V5, PROTOCOL, """
                30 06 00 01 't'
                02 0b 00     # Subscription Identifier 0
                """),
            arguments("publish v5 truncated UTF-8 in content type", V5, MALFORMED, """
                30 09 00 01 't'
                05 03 00 02 e2 82 # Content Type: 2 bytes of a 3-byte sequence
                """),
            arguments("publish v5 user property value missing", V5, MALFORMED, """
                30 09 00 01 't'
                05 26 00 01 'k' 00 # User Property: key 'k', value length cut
                """),
            arguments("publish v5 property length beyond packet", V5, MALFORMED, """
                30 06 00 01 't'
                05 01 00     # property length 5, 2 bytes left
                """),
            arguments("publish v5 non-minimal property length", V5, MALFORMED, """
                30 06 00 01 't'
                80 00        # property length 0 written in 2 bytes
                'x'
                """),
            arguments("publish topic U+0000", V3_1_1, MALFORMED, """
                30 05 00 03 'a' 00 'b'
                """),
            arguments("publish non-minimal remaining length", V3_1_1, MALFORMED, """
                30 83 00     # remaining length 3 in 2 bytes
                00 01 't'
                """),
            arguments("publish 5-byte remaining length", V3_1_1, MALFORMED, """
                30 ff ff ff ff 7f
                """),
            // ---------------------------------------------------------------- PUBACK .. PUBCOMP
            arguments("puback flags 0010", V3_1_1, MALFORMED, "42 02 00 01  # PUBACK with PUBREL's flags"),
            arguments("pubrel flags 0000", V3_1_1, MALFORMED, "60 02 00 01  # PUBREL must be 0x62"),
            arguments("pubrec flags 0001", V3_1_1, MALFORMED, "51 02 00 01"),
            arguments("puback packet id 0", V5, MALFORMED, "40 02 00 00  # packet identifier 0"),
            arguments("puback v3 remaining length 3", V3_1_1, MALFORMED, "40 03 00 01 00"),
            arguments("puback remaining length 1", V5, MALFORMED, "40 01 00"),
            arguments("puback v5 reason 0x92 not for PUBACK", V5, PROTOCOL, "40 03 00 01 92"),
            arguments("pubrel v5 reason 0x10 not for PUBREL", V5, PROTOCOL, "62 03 00 01 10"),
            arguments("pubcomp v5 property not allowed", V5, MALFORMED, """
                70 07 00 01 00
                03 23 00 01  # Topic Alias in PUBCOMP
                """),
            // ---------------------------------------------------------------- SUBSCRIBE
            arguments("subscribe flags 0000", V3_1_1, MALFORMED, """
                80 06        # SUBSCRIBE must be 0x82
                00 01 00 01 'a' 00
                """),
            arguments("subscribe packet id 0", V3_1_1, MALFORMED, "82 06 00 00 00 01 'a' 00"),
            arguments("subscribe v3 no filters", V3_1_1, PROTOCOL, "82 02 00 01"),
            arguments("subscribe v5 no filters", V5, PROTOCOL, "82 03 00 01 00"),
            arguments("subscribe missing options byte", V3_1_1, MALFORMED, "82 05 00 01 00 01 'a'"),
            arguments("subscribe v3 reserved option bits", V3_1_1, MALFORMED, """
                82 06 00 01 00 01 'a'
                04           # options: bit 2 reserved in 3.1.1
                """),
            arguments("subscribe v5 reserved option bits", V5, MALFORMED, """
                82 07 00 01 00 00 01 'a'
                40           # options: bit 6 reserved
                """),
            arguments("subscribe v3 QoS 3", V3_1_1, MALFORMED, "82 06 00 01 00 01 'a' 03"),
            arguments("subscribe v5 QoS 3", V5, PROTOCOL, "82 07 00 01 00 00 01 'a' 03"),
            arguments("subscribe v5 retain handling 3", V5, PROTOCOL, """
                82 07 00 01 00 00 01 'a'
                30           # options: retain handling 3
                """),
            arguments("subscribe v5 no local on shared subscription", V5, PROTOCOL, """
                82 10 00 01 00
                00 0a '$share/g/a' # shared filter
                04           # options: no local
                """),
            arguments("subscribe filter bad UTF-8", V3_1_1, MALFORMED, "82 06 00 01 00 01 ff 00"),
            arguments("subscribe v5 subscription identifier 0", V5, PROTOCOL, """
                82 09 00 01
                02 0b 00     # Subscription Identifier 0
                00 01 'a' 00
                """),
            arguments("subscribe v5 two subscription identifiers", V5, PROTOCOL, """
                82 0b 00 01
                04 0b 01 0b 02 # Subscription Identifier twice
                00 01 'a' 00
                """),
            arguments("subscribe v5 non-minimal subscription identifier", V5, MALFORMED, """
                82 0a 00 01
                03 0b 81 00  # Subscription Identifier 1 in 2 bytes
                00 01 'a' 00
                """),
            // ---------------------------------------------------------------- UNSUBSCRIBE
            arguments("unsubscribe flags 0000", V3_1_1, MALFORMED, "a0 05 00 01 00 01 'a'"),
            arguments("unsubscribe no filters", V3_1_1, PROTOCOL, "a2 02 00 01"),
            arguments("unsubscribe v5 subscription identifier not allowed", V5, MALFORMED, """
                a2 08 00 01
                02 0b 01     # Subscription Identifier in UNSUBSCRIBE
                00 01 'a'
                """),
            arguments("unsubscribe filter truncated", V3_1_1, MALFORMED, "a2 05 00 01 00 04 'a'"),
            // ---------------------------------------------------------------- CONNACK, SUBACK, UNSUBACK
            arguments("connack reserved acknowledge flags", V3_1_1, MALFORMED, "20 02 02 00"),
            arguments("connack v3 return code 6", V3_1_1, MALFORMED, "20 02 00 06"),
            arguments("connack v5 reason 0x10 not for CONNACK", V5, PROTOCOL, "20 03 00 10 00"),
            arguments("suback v3 return code 3", V3_1_1, MALFORMED, "90 03 00 01 03"),
            arguments("suback v5 reason 0x10", V5, PROTOCOL, "90 04 00 01 00 10"),
            arguments("unsuback v3 with payload", V3_1_1, MALFORMED, "b0 03 00 01 00"),
            // ---------------------------------------------------------------- PING, DISCONNECT, AUTH
            arguments("pingreq remaining length 1", V3_1_1, MALFORMED, "c0 01 00"),
            arguments("pingreq flags", V3_1_1, MALFORMED, "c1 00"),
            arguments("pingresp flags", V5, MALFORMED, "d8 00"),
            arguments("disconnect v3 with body", V3_1_1, MALFORMED, "e0 01 00"),
            arguments("disconnect flags", V5, MALFORMED, "e2 00"),
            arguments("disconnect v5 reason 0x05", V5, PROTOCOL, "e0 01 05"),
            arguments("disconnect v5 duplicate session expiry", V5, PROTOCOL, """
                e0 0c 00
                0a 11 00 00 00 01 11 00 00 00 01 # Session Expiry Interval twice
                """),
            arguments("disconnect v5 property length beyond packet", V5, MALFORMED, "e0 02 00 05"),
            arguments("auth in v3.1.1", V3_1_1, MALFORMED, "f0 00"),
            arguments("auth v5 reason 0x01", V5, PROTOCOL, "f0 01 01"),
            arguments("auth v5 session expiry not allowed", V5, MALFORMED, """
                f0 07 18
                05 11 00 00 00 01 # Session Expiry Interval in AUTH
                """),
            arguments("reserved packet type 0", V5, MALFORMED, "00 00"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rejectsWithReasonCode(final String name, final int version, final int reasonCode, final String hex)
    {
        final UnsafeBuffer packet = Bytes.hex(hex);
        if (!name.contains("remaining length"))
        {
            // the literal itself is framed correctly, so the failure comes from the field under test
            assertEquals(true, MqttPrimitives.fixedHeaderLength(packet, 0, packet.capacity()) > 0, name);
        }
        assertEquals(-reasonCode, new Decode().decode(packet, version), name);
    }

    @Test
    void unsupportedProtocolVersionStillReportsLevel()
    {
        final ConnectDecoder d = new ConnectDecoder();
        final UnsafeBuffer packet = Bytes.hex("10 0c 00 04 'MQTT' 07 02 00 3c 00 00");
        assertEquals(-ReasonCode.UNSUPPORTED_PROTOCOL_VERSION, d.wrap(packet, 0, packet.capacity()));
        assertEquals(7, d.protocolVersion());
    }

    @Test
    void invalidFilterSyntaxIsNotADecodeFailure()
    {
        final SubscribeDecoder d = new SubscribeDecoder();
        final UnsafeBuffer packet = Bytes.hex("82 0a 00 01 00 05 'a/#/b' 01");
        assertEquals(0, d.wrap(packet, 0, packet.capacity(), V3_1_1));
        d.nextEntry();
        assertEquals(-ReasonCode.TOPIC_FILTER_INVALID, d.filterStatus());
    }

    @Test
    void v5PublishFromClientWithSubscriptionIdentifierIsVisible()
    {
        final PublishDecoder d = new PublishDecoder();
        final UnsafeBuffer packet = Bytes.hex("30 06 00 01 't' 02 0b 05");
        assertEquals(0, d.wrap(packet, 0, packet.capacity(), V5));
        assertEquals(true, d.hasSubscriptionIdentifier());
    }
}
