package dev.skylark.codec.mqtt;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoundTripTest
{
    private final UnsafeBuffer out = new UnsafeBuffer(new byte[4096]);
    private final UnsafeBuffer propsBuffer = new UnsafeBuffer(new byte[1024]);
    private final UnsafeBuffer willPropsBuffer = new UnsafeBuffer(new byte[1024]);
    private final PropertiesEncoder props = new PropertiesEncoder();

    private UnsafeBuffer exact(final int length)
    {
        return Bytes.exact(out, 0, length);
    }

    @ParameterizedTest
    @ValueSource(ints = {MqttVersion.V3_1_1, MqttVersion.V5})
    void publishAllQoS(final int version)
    {
        final UnsafeBuffer topic = Bytes.utf8("sport/tennis/player1");
        final UnsafeBuffer payload = Bytes.utf8("hello world");
        props.wrap(propsBuffer, 0)
            .payloadFormatIndicator(1)
            .messageExpiryInterval(3600)
            .contentType("text/plain")
            .responseTopic("reply/to")
            .correlationData(new byte[]{1, 2, 3})
            .topicAlias(7)
            .userProperty("k1", "v1")
            .userProperty("k2", "v2");
        final int propsLength = MqttVersion.isV5(version) ? props.length() : 0;

        for (int qos = 0; qos <= 2; qos++)
        {
            final int flags = PublishEncoder.flags(qos, qos > 0, true);
            final int n = PublishEncoder.encode(out, 0, version,
                new PublishView().headerFlags(flags).packetId(qos > 0 ? 42 : 0)
                    .topic(topic, 0, topic.capacity()).properties(propsBuffer, 0, propsLength)
                    .payload(payload, 0, payload.capacity()));
            assertEquals(PublishEncoder.encodedLength(version, qos, topic.capacity(), propsLength, payload.capacity()), n);

            final UnsafeBuffer packet = exact(n);
            final PublishDecoder d = new PublishDecoder();
            assertEquals(0, d.wrap(packet, 0, n, version));
            assertEquals(qos, d.qos());
            assertEquals(qos > 0, d.dup());
            assertTrue(d.retain());
            assertEquals("sport/tennis/player1", d.topic());
            assertEquals(qos > 0 ? 42 : 0, d.packetId());
            assertEquals("hello world", MqttPrimitives.string(packet, d.payloadOffset(), d.payloadLength()));
            if (MqttVersion.isV5(version))
            {
                assertEquals(propsLength, d.propertiesLength());
                assertEquals(1, d.payloadFormatIndicator());
                assertEquals(3600, d.messageExpiryInterval());
                assertEquals(7, d.topicAlias());
                assertFalse(d.hasSubscriptionIdentifier());
                assertEquals("text/plain", MqttPrimitives.string(packet, d.contentTypeOffset(), d.contentTypeLength()));
                assertEquals("reply/to", MqttPrimitives.string(packet, d.responseTopicOffset(), d.responseTopicLength()));
                assertEquals(3, d.correlationDataLength());
                assertEquals(2, d.properties().userPropertyCount());
                final List<String> seen = new ArrayList<>();
                d.properties().forEachUserProperty((b, ko, kl, vo, vl) ->
                    seen.add(MqttPrimitives.string(b, ko, kl) + "=" + MqttPrimitives.string(b, vo, vl)));
                assertEquals(List.of("k1=v1", "k2=v2"), seen);
            }
            else
            {
                assertEquals(0, d.propertiesLength());
                assertEquals(-1, d.messageExpiryInterval());
                assertEquals(0, d.topicAlias());
                assertEquals(-1, d.contentTypeLength());
            }

            if (qos > 0)
            {
                PublishEncoder.patchPacketId(packet, 0, 4711);
                PublishEncoder.patchFlags(packet, 0, PublishEncoder.flags(3 - qos, false, false));
                assertEquals(0, d.wrap(packet, 0, n, version));
                assertEquals(4711, d.packetId());
                assertEquals(3 - qos, d.qos());
                assertFalse(d.retain());
                assertFalse(d.dup());
            }
        }
    }

    @Test
    void publishEmptyTopicWithAliasAndEmptyPayload()
    {
        props.wrap(propsBuffer, 0).topicAlias(3);
        final int n = PublishEncoder.encode(out, 0, MqttVersion.V5,
            new PublishView()
                .topic(propsBuffer, 0, 0).properties(propsBuffer, 0, props.length())
                .payload(propsBuffer, 0, 0));
        final PublishDecoder d = new PublishDecoder();
        assertEquals(0, d.wrap(exact(n), 0, n, MqttVersion.V5));
        assertEquals(0, d.topicLength());
        assertEquals(3, d.topicAlias());
        assertEquals(0, d.payloadLength());
    }

    @ParameterizedTest
    @ValueSource(ints = {MqttVersion.V3_1, MqttVersion.V3_1_1, MqttVersion.V5})
    void connectFull(final int version)
    {
        props.wrap(propsBuffer, 0)
            .sessionExpiryInterval(120)
            .receiveMaximum(100)
            .maximumPacketSize(65536)
            .topicAliasMaximum(10)
            .requestResponseInformation(1)
            .requestProblemInformation(0)
            .authenticationMethod("SCRAM-SHA-1")
            .authenticationData(new byte[]{9, 8})
            .userProperty("a", "b");
        final int propsLength = props.length();
        final PropertiesEncoder willProps = new PropertiesEncoder().wrap(willPropsBuffer, 0)
            .willDelayInterval(30)
            .payloadFormatIndicator(1)
            .messageExpiryInterval(10)
            .contentType("ct")
            .responseTopic("rt")
            .correlationData(new byte[]{5})
            .userProperty("w", "x");

        final ConnectEncoder e = new ConnectEncoder()
            .version(version)
            .cleanStart(false)
            .keepAlive(30)
            .properties(propsBuffer, 0, propsLength)
            .clientId("client-1")
            .will(1, true)
            .willProperties(willPropsBuffer, 0, willProps.length())
            .willTopic("will/topic")
            .willPayload(Bytes.utf8("bye"), 0, 3)
            .userName("user")
            .password(new byte[]{1, 2, 3, 4});
        final int n = e.encode(out, 0);
        assertEquals(e.encodedLength(), n);

        final ConnectDecoder d = new ConnectDecoder();
        assertEquals(0, d.wrap(exact(n), 0, n));
        assertEquals(version, d.protocolVersion());
        assertFalse(d.cleanStart());
        assertEquals(30, d.keepAlive());
        assertEquals("client-1", d.clientId());
        assertTrue(d.hasWill());
        assertEquals(1, d.willQos());
        assertTrue(d.willRetain());
        assertEquals("will/topic", d.willTopic());
        assertArrayEquals("bye".getBytes(), d.willPayload());
        assertEquals("user", d.userName());
        assertArrayEquals(new byte[]{1, 2, 3, 4}, d.password());
        if (MqttVersion.isV5(version))
        {
            assertEquals(120, d.sessionExpiryInterval());
            assertEquals(100, d.receiveMaximum());
            assertEquals(65536, d.maximumPacketSize());
            assertEquals(10, d.topicAliasMaximum());
            assertEquals(1, d.requestResponseInformation());
            assertEquals(0, d.requestProblemInformation());
            assertEquals(11, d.authenticationMethodLength());
            assertEquals(2, d.authenticationDataLength());
            assertEquals(1, d.properties().userPropertyCount());
            assertEquals(30, d.willDelayInterval());
            assertEquals("ct", d.willProperties().string(Property.CONTENT_TYPE));
            assertEquals("rt", d.willProperties().string(Property.RESPONSE_TOPIC));
            assertEquals(1, d.willProperties().value(Property.PAYLOAD_FORMAT_INDICATOR));
            assertEquals(10, d.willProperties().value(Property.MESSAGE_EXPIRY_INTERVAL));
            assertArrayEquals(new byte[]{5}, d.willProperties().bytes(Property.CORRELATION_DATA));
        }
        else
        {
            assertEquals(-1, d.sessionExpiryInterval());
            assertEquals(0, d.willPropertiesLength());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {MqttVersion.V3_1_1, MqttVersion.V5})
    void connectMinimal(final int version)
    {
        final ConnectEncoder e = new ConnectEncoder().version(version);
        final int n = e.encode(out, 0);
        final ConnectDecoder d = new ConnectDecoder();
        assertEquals(0, d.wrap(exact(n), 0, n));
        assertTrue(d.cleanStart());
        assertEquals(0, d.clientIdLength());
        assertFalse(d.hasWill());
        assertNull(d.userName());
        assertNull(d.password());
        assertEquals(-1, d.willTopicLength());
    }

    @ParameterizedTest
    @ValueSource(ints = {MqttVersion.V3_1_1, MqttVersion.V5})
    void connack(final int version)
    {
        props.wrap(propsBuffer, 0)
            .sessionExpiryInterval(10)
            .receiveMaximum(20)
            .maximumQos(1)
            .retainAvailable(0)
            .maximumPacketSize(1000)
            .assignedClientIdentifier("auto-1")
            .topicAliasMaximum(5)
            .reasonString("ok")
            .userProperty("x", "y")
            .wildcardSubscriptionAvailable(1)
            .subscriptionIdentifierAvailable(0)
            .sharedSubscriptionAvailable(1)
            .serverKeepAlive(25)
            .responseInformation("resp")
            .serverReference("other")
            .authenticationMethod("m")
            .authenticationData(new byte[]{1});
        final boolean v5 = MqttVersion.isV5(version);
        final int code = v5 ? ReasonCode.NOT_AUTHORIZED : ReasonCode.V3_NOT_AUTHORIZED;
        final int n = ConnAckEncoder.encode(out, 0, version, true, code, propsBuffer, 0, v5 ? props.length() : 0);
        assertEquals(ConnAckEncoder.encodedLength(version, v5 ? props.length() : 0), n);
        final ConnAckDecoder d = new ConnAckDecoder();
        assertEquals(0, d.wrap(exact(n), 0, n, version));
        assertTrue(d.sessionPresent());
        assertEquals(code, d.reasonCode());
        if (v5)
        {
            assertEquals(10, d.sessionExpiryInterval());
            assertEquals(20, d.receiveMaximum());
            assertEquals(1, d.maximumQos());
            assertEquals(1000, d.maximumPacketSize());
            assertEquals(5, d.topicAliasMaximum());
            assertEquals(25, d.serverKeepAlive());
            assertEquals("auto-1", d.assignedClientIdentifier());
            assertEquals("ok", d.reasonString());
            assertEquals("resp", d.properties().string(Property.RESPONSE_INFORMATION));
            assertEquals("other", d.properties().string(Property.SERVER_REFERENCE));
            assertEquals(0, d.properties().value(Property.RETAIN_AVAILABLE));
            assertEquals(1, d.properties().value(Property.WILDCARD_SUBSCRIPTION_AVAILABLE));
            assertEquals(0, d.properties().value(Property.SUBSCRIPTION_IDENTIFIER_AVAILABLE));
            assertEquals(1, d.properties().value(Property.SHARED_SUBSCRIPTION_AVAILABLE));
        }
        else
        {
            assertEquals(4, n);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {MqttVersion.V3_1_1, MqttVersion.V5})
    void acks(final int version)
    {
        final boolean v5 = MqttVersion.isV5(version);
        props.wrap(propsBuffer, 0).reasonString("why").userProperty("a", "b");
        final PubAckDecoder d = new PubAckDecoder();
        for (int type = PacketType.PUBACK; type <= PacketType.PUBCOMP; type++)
        {
            final int code = type <= PacketType.PUBREC ? ReasonCode.NO_MATCHING_SUBSCRIBERS :
                ReasonCode.PACKET_IDENTIFIER_NOT_FOUND;
            // short form
            int n = PubAckEncoder.encode(out, 0, version, type, 65535, 0);
            assertEquals(4, n);
            assertEquals(0, d.wrap(exact(n), 0, n, version));
            assertEquals(type, d.packetType());
            assertEquals(65535, d.packetId());
            assertEquals(0, d.reasonCode());

            if (v5)
            {
                n = PubAckEncoder.encode(out, 0, version, type, 1, code);
                assertEquals(5, n);
                assertEquals(0, d.wrap(exact(n), 0, n, version));
                assertEquals(code, d.reasonCode());

                n = PubAckEncoder.encode(out, 0, version, type, 2, code, propsBuffer, 0, props.length());
                assertEquals(PubAckEncoder.encodedLength(version, code, props.length()), n);
                assertEquals(0, d.wrap(exact(n), 0, n, version));
                assertEquals(code, d.reasonCode());
                assertEquals("why", d.reasonString());
                assertEquals(1, d.properties().userPropertyCount());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {MqttVersion.V3_1_1, MqttVersion.V5})
    void subscribeAndSuback(final int version)
    {
        final boolean v5 = MqttVersion.isV5(version);
        props.wrap(propsBuffer, 0).subscriptionIdentifier(268_435_455).userProperty("u", "p");
        final SubscribeEncoder e = new SubscribeEncoder().subscribe(version, 7)
            .properties(propsBuffer, 0, props.length());
        final String[] filters = {"a/b", "a/+/c", "#", "$share/g/x/#", "bad/#/x", "x/y", "p", "q", "r", "s"};
        for (int i = 0; i < filters.length; i++)
        {
            final int options = v5 ? SubscribeEncoder.options(i % 3, i == 0, i % 2 == 1, i % 3) : i % 3;
            e.filter(filters[i], options);
        }
        final int n = e.encode(out, 0);
        assertEquals(e.encodedLength(), n);

        final SubscribeDecoder d = new SubscribeDecoder();
        assertEquals(0, d.wrap(exact(n), 0, n, version));
        assertEquals(7, d.packetId());
        assertEquals(filters.length, d.entryCount());
        assertEquals(v5 ? 268_435_455 : 0, d.subscriptionIdentifier());
        int i = 0;
        while (d.nextEntry())
        {
            assertEquals(filters[i], d.filter());
            assertEquals(i % 3, d.qos());
            assertEquals(filters[i].startsWith("bad") ? -ReasonCode.TOPIC_FILTER_INVALID : 0, d.filterStatus());
            if (v5)
            {
                assertEquals(i == 0, d.noLocal());
                assertEquals(i % 2 == 1, d.retainAsPublished());
                assertEquals(i % 3, d.retainHandling());
            }
            i++;
        }
        assertEquals(filters.length, i);
        d.rewind();
        assertTrue(d.nextEntry());
        assertEquals("a/b", d.filter());

        final UnsafeBuffer codes = Bytes.hex(v5 ? "00 01 02 80 8f" : "00 01 02 80");
        props.wrap(propsBuffer, 0).reasonString("r");
        final int m = SubAckEncoder.encode(out, 0, version, PacketType.SUBACK, 7, propsBuffer, 0,
            v5 ? props.length() : 0, codes, 0, codes.capacity());
        assertEquals(SubAckEncoder.encodedLength(version, PacketType.SUBACK, v5 ? props.length() : 0,
            codes.capacity()), m);
        final SubAckDecoder s = new SubAckDecoder();
        assertEquals(0, s.wrap(exact(m), 0, m, version));
        assertEquals(7, s.packetId());
        assertEquals(codes.capacity(), s.reasonCodeCount());
        for (int k = 0; k < codes.capacity(); k++)
        {
            assertEquals(codes.getByte(k) & 0xFF, s.reasonCode(k));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {MqttVersion.V3_1_1, MqttVersion.V5})
    void unsubscribeAndUnsuback(final int version)
    {
        final boolean v5 = MqttVersion.isV5(version);
        props.wrap(propsBuffer, 0).userProperty("u", "p");
        final SubscribeEncoder e = new SubscribeEncoder().unsubscribe(version, 9)
            .properties(propsBuffer, 0, props.length())
            .filter("a/b", 0)
            .filter("$share/g/c", 0);
        final int n = e.encode(out, 0);
        final UnsubscribeDecoder d = new UnsubscribeDecoder();
        assertEquals(0, d.wrap(exact(n), 0, n, version));
        assertEquals(9, d.packetId());
        assertEquals(2, d.entryCount());
        assertTrue(d.nextEntry());
        assertEquals("a/b", d.filter());
        assertTrue(d.nextEntry());
        assertEquals("$share/g/c", d.filter());
        assertFalse(d.nextEntry());
        assertEquals(v5 ? 1 : 0, d.properties().userPropertyCount());

        final UnsafeBuffer codes = Bytes.hex("00 11");
        final int m = SubAckEncoder.encode(out, 0, version, PacketType.UNSUBACK, 9, propsBuffer, 0,
            v5 ? props.length() : 0, codes, 0, 2);
        final SubAckDecoder s = new SubAckDecoder();
        assertEquals(0, s.wrap(exact(m), 0, m, version));
        assertEquals(PacketType.UNSUBACK, s.packetType());
        assertEquals(v5 ? 2 : 0, s.reasonCodeCount());
        if (!v5)
        {
            assertEquals(4, m);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {MqttVersion.V3_1_1, MqttVersion.V5})
    void typedUnsubscribeAndUnsubackFronts(final int version)
    {
        final int n = new UnsubscribeEncoder().start(version, 4).filter("a/#").filter("b").encode(out, 0);
        final UnsubscribeDecoder d = new UnsubscribeDecoder();
        assertEquals(0, d.wrap(exact(n), 0, n, version));
        assertEquals(2, d.entryCount());
        final UnsafeBuffer codes = Bytes.hex("00 11");
        final int m = UnsubAckEncoder.encode(out, 0, version, 4, null, 0, 0, codes, 0, 2);
        assertEquals(UnsubAckEncoder.encodedLength(version, 0, 2), m);
        final UnsubAckDecoder a = new UnsubAckDecoder();
        assertEquals(0, a.wrap(exact(m), 0, m, version));
        assertEquals(4, a.packetId());
        assertEquals(MqttVersion.isV5(version) ? 2 : 0, a.reasonCodeCount());
        final UnsafeBuffer suback = Bytes.hex("90 03 00 04 00");
        assertEquals(-ReasonCode.MALFORMED_PACKET, a.wrap(suback, 0, 5, version));
    }

    @Test
    void payloadFormatValidation()
    {
        props.wrap(propsBuffer, 0).payloadFormatIndicator(1);
        final UnsafeBuffer topic = Bytes.utf8("t");
        final PublishDecoder d = new PublishDecoder();
        final UnsafeBuffer good = Bytes.hex("'line 1' 0a 00 'ü'");     // controls and U+0000 are fine in data
        int n = PublishEncoder.encode(out, 0, MqttVersion.V5,
            new PublishView()
                .topic(topic, 0, 1).properties(propsBuffer, 0, props.length())
                .payload(good, 0, good.capacity()));
        assertEquals(0, d.wrap(exact(n), 0, n, MqttVersion.V5));
        assertEquals(0, d.validatePayloadFormat());
        final UnsafeBuffer bad = Bytes.hex("'x' ed a0 80");             // surrogate
        n = PublishEncoder.encode(out, 0, MqttVersion.V5,
            new PublishView()
                .topic(topic, 0, 1).properties(propsBuffer, 0, props.length())
                .payload(bad, 0, bad.capacity()));
        assertEquals(0, d.wrap(exact(n), 0, n, MqttVersion.V5));
        assertEquals(-ReasonCode.PAYLOAD_FORMAT_INVALID, d.validatePayloadFormat());
    }

    @ParameterizedTest
    @ValueSource(ints = {MqttVersion.V3_1_1, MqttVersion.V5})
    void disconnectAndPing(final int version)
    {
        final boolean v5 = MqttVersion.isV5(version);
        final DisconnectDecoder d = new DisconnectDecoder();
        int n = DisconnectEncoder.encode(out, 0, version, 0);
        assertEquals(2, n);
        assertEquals(0, d.wrap(exact(n), 0, n, version));
        assertEquals(0, d.reasonCode());
        if (v5)
        {
            props.wrap(propsBuffer, 0).sessionExpiryInterval(0).reasonString("bye").serverReference("s2");
            n = DisconnectEncoder.encode(out, 0, version, ReasonCode.SERVER_SHUTTING_DOWN, propsBuffer, 0,
                props.length());
            assertEquals(0, d.wrap(exact(n), 0, n, version));
            assertEquals(ReasonCode.SERVER_SHUTTING_DOWN, d.reasonCode());
            assertEquals(0, d.sessionExpiryInterval());
            assertEquals("bye", d.reasonString());
            assertEquals("s2", d.serverReference());

            n = DisconnectEncoder.encode(out, 0, version, ReasonCode.DISCONNECT_WITH_WILL_MESSAGE);
            assertEquals(3, n);
            assertEquals(0, d.wrap(exact(n), 0, n, version));
            assertEquals(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE, d.reasonCode());
        }

        final PingDecoder p = new PingDecoder();
        n = PingEncoder.encodePingReq(out, 0);
        assertEquals(0, p.wrap(exact(n), 0, n, version));
        assertEquals(PacketType.PINGREQ, p.packetType());
        n = PingEncoder.encodePingResp(out, 0);
        assertEquals(0, p.wrap(exact(n), 0, n, version));
        assertEquals(PacketType.PINGRESP, p.packetType());
    }

    @Test
    void auth()
    {
        final AuthDecoder d = new AuthDecoder();
        int n = AuthEncoder.encode(out, 0, 0, null, 0, 0);
        assertEquals(2, n);
        assertEquals(0, d.wrap(exact(n), 0, n, MqttVersion.V5));
        props.wrap(propsBuffer, 0).authenticationMethod("SCRAM").authenticationData(new byte[]{1, 2})
            .reasonString("more").userProperty("a", "b");
        n = AuthEncoder.encode(out, 0, ReasonCode.CONTINUE_AUTHENTICATION, propsBuffer, 0, props.length());
        assertEquals(AuthEncoder.encodedLength(ReasonCode.CONTINUE_AUTHENTICATION, props.length()), n);
        assertEquals(0, d.wrap(exact(n), 0, n, MqttVersion.V5));
        assertEquals(ReasonCode.CONTINUE_AUTHENTICATION, d.reasonCode());
        assertEquals(5, d.authenticationMethodLength());
        assertEquals(2, d.authenticationDataLength());
        assertEquals(-ReasonCode.MALFORMED_PACKET, d.wrap(exact(n), 0, n, MqttVersion.V3_1_1));
    }

    /** Every property alone in every packet kind: accepted where allowed, 0x81 elsewhere; value reads back. */
    @Test
    void everyPropertyInEveryPacketKind()
    {
        final PropertiesDecoder d = new PropertiesDecoder();
        int defined = 0;
        for (int id = 1; id <= Property.MAX_ID; id++)
        {
            if (!Property.isDefined(id))
            {
                assertEquals(-ReasonCode.MALFORMED_PACKET,
                    d.wrap(Bytes.exact(Bytes.hex(String.format("%02x 00 00 00 00", id)), 0, 5), 0, 5,
                    PacketType.PUBLISH));
                continue;
            }
            defined++;
            props.wrap(propsBuffer, 0);
            final long expected;
            switch (Property.type(id))
            {
                case Property.TYPE_BYTE:
                    props.putByte(id, 1);
                    expected = 1;
                    break;
                case Property.TYPE_TWO_BYTE_INTEGER:
                    props.putTwoByteInteger(id, 65535);
                    expected = 65535;
                    break;
                case Property.TYPE_FOUR_BYTE_INTEGER:
                    props.putFourByteInteger(id, 0xFFFF_FFFFL);
                    expected = 0xFFFF_FFFFL;
                    break;
                case Property.TYPE_VARIABLE_BYTE_INTEGER:
                    props.putVariableByteInteger(id, 268_435_455);
                    expected = 268_435_455;
                    break;
                case Property.TYPE_UTF8_STRING_PAIR:
                    props.userProperty("key", "välue");
                    expected = -1;
                    break;
                case Property.TYPE_BINARY_DATA:
                    props.putBytes(id, new byte[]{0, (byte)0xFF});
                    expected = -1;
                    break;
                default:
                    props.putString(id, "välue");
                    expected = -1;
            }
            final UnsafeBuffer block = Bytes.exact(propsBuffer, 0, props.length());
            for (int kind = 1; kind <= Property.WILL_PROPERTIES; kind++)
            {
                if (kind == PacketType.PINGREQ || kind == PacketType.PINGRESP)
                {
                    continue;
                }
                final int result = d.wrap(block, 0, block.capacity(), kind);
                if (Property.isAllowed(id, kind))
                {
                    assertEquals(0, result, Property.name(id) + " in kind " + kind);
                    assertTrue(d.has(id));
                    assertTrue(d.next());
                    assertEquals(id, d.id());
                    assertFalse(d.next());
                    if (expected >= 0)
                    {
                        assertEquals(expected, d.value(id));
                    }
                    else if (id == Property.USER_PROPERTY)
                    {
                        d.rewind();
                        assertTrue(d.nextUserProperty());
                        assertEquals("key", d.key());
                        assertEquals("välue", d.stringValue());
                    }
                    else if (Property.type(id) == Property.TYPE_BINARY_DATA)
                    {
                        assertArrayEquals(new byte[]{0, (byte)0xFF}, d.bytes(id));
                    }
                    else
                    {
                        assertEquals("välue", d.string(id));
                    }
                }
                else
                {
                    assertEquals(-ReasonCode.MALFORMED_PACKET, result, Property.name(id) + " in kind " + kind);
                }
            }
        }
        assertEquals(27, defined);
    }

    @Test
    void publishCarriesRepeatedSubscriptionIdentifiers()
    {
        props.wrap(propsBuffer, 0).subscriptionIdentifier(1).subscriptionIdentifier(300);
        final UnsafeBuffer topic = Bytes.utf8("t");
        final int n = PublishEncoder.encode(out, 0, MqttVersion.V5,
            new PublishView()
                .topic(topic, 0, 1).properties(propsBuffer, 0, props.length())
                .payload(topic, 0, 0));
        final PublishDecoder d = new PublishDecoder();
        assertEquals(0, d.wrap(exact(n), 0, n, MqttVersion.V5));
        assertTrue(d.hasSubscriptionIdentifier());
        assertEquals(2, d.properties().subscriptionIdentifierCount());
        assertTrue(d.properties().next());
        assertEquals(1, d.properties().value());
        assertTrue(d.properties().next());
        assertEquals(300, d.properties().value());
    }
}
