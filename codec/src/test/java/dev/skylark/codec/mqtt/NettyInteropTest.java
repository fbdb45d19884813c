package dev.skylark.codec.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttSubscribeMessage;
import io.netty.handler.codec.mqtt.MqttSubscriptionOption;
import io.netty.handler.codec.mqtt.MqttTopicSubscription;
import io.netty.util.AttributeKey;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interoperability with an independent implementation (Netty's codec-mqtt): bytes Netty encodes decode with our
 * flyweights, and bytes we encode decode with Netty.
 */
class NettyInteropTest
{
    private static final AttributeKey<io.netty.handler.codec.mqtt.MqttVersion> VERSION_KEY =
        AttributeKey.valueOf("NETTY_CODEC_MQTT_VERSION");

    private final UnsafeBuffer out = new UnsafeBuffer(new byte[4096]);
    private final UnsafeBuffer propsBuffer = new UnsafeBuffer(new byte[1024]);

    private static UnsafeBuffer nettyEncode(final io.netty.handler.codec.mqtt.MqttVersion version, final Object msg)
    {
        final EmbeddedChannel channel = new EmbeddedChannel(MqttEncoder.INSTANCE);
        channel.attr(VERSION_KEY).set(version);
        assertTrue(channel.writeOutbound(msg));
        final ByteBuf buf = channel.readOutbound();
        final byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        buf.release();
        channel.finishAndReleaseAll();
        return new UnsafeBuffer(bytes);
    }

    private static MqttProperties publishProperties()
    {
        final MqttProperties p = new MqttProperties();
        p.add(new MqttProperties.IntegerProperty(Property.MESSAGE_EXPIRY_INTERVAL, 3600));
        p.add(new MqttProperties.IntegerProperty(Property.PAYLOAD_FORMAT_INDICATOR, 1));
        p.add(new MqttProperties.StringProperty(Property.CONTENT_TYPE, "application/json"));
        p.add(new MqttProperties.StringProperty(Property.RESPONSE_TOPIC, "reply/here"));
        p.add(new MqttProperties.BinaryProperty(Property.CORRELATION_DATA, new byte[]{7, 8, 9}));
        p.add(new MqttProperties.UserProperty("trace", "t-1"));
        return p;
    }

    @Test
    void nettyToSkylark()
    {
        final io.netty.handler.codec.mqtt.MqttVersion v5 = io.netty.handler.codec.mqtt.MqttVersion.MQTT_5;
        final MqttProperties connectProps = new MqttProperties();
        connectProps.add(new MqttProperties.IntegerProperty(Property.SESSION_EXPIRY_INTERVAL, 300));
        connectProps.add(new MqttProperties.IntegerProperty(Property.RECEIVE_MAXIMUM, 50));
        final MqttProperties willProps = new MqttProperties();
        willProps.add(new MqttProperties.IntegerProperty(Property.WILL_DELAY_INTERVAL, 5));
        final MqttConnectMessage connect = MqttMessageBuilders.connect().protocolVersion(v5).clientId("netty-1")
            .cleanSession(true).keepAlive(45).willFlag(true).willQoS(MqttQoS.AT_LEAST_ONCE).willTopic("will/t")
            .willMessage("gone".getBytes(StandardCharsets.UTF_8)).willRetain(true).willProperties(willProps)
            .hasUser(true).username("user").hasPassword(true).password("secret".getBytes(StandardCharsets.UTF_8))
            .properties(connectProps).build();
        UnsafeBuffer bytes = nettyEncode(v5, connect);
        final ConnectDecoder c = new ConnectDecoder();
        assertEquals(0, c.wrap(bytes, 0, bytes.capacity()));
        assertEquals(MqttVersion.V5, c.protocolVersion());
        assertEquals("netty-1", c.clientId());
        assertEquals(45, c.keepAlive());
        assertEquals(300, c.sessionExpiryInterval());
        assertEquals(50, c.receiveMaximum());
        assertEquals(5, c.willDelayInterval());
        assertEquals("will/t", c.willTopic());
        assertEquals(1, c.willQos());
        assertTrue(c.willRetain());
        assertEquals("user", c.userName());
        assertArrayEquals("secret".getBytes(StandardCharsets.UTF_8), c.password());

        for (final io.netty.handler.codec.mqtt.MqttVersion version :
            new io.netty.handler.codec.mqtt.MqttVersion[]{io.netty.handler.codec.mqtt.MqttVersion.MQTT_3_1_1, v5})
        {
            final int ours = version == v5 ? MqttVersion.V5 : MqttVersion.V3_1_1;
            final MqttPublishMessage publish = MqttMessageBuilders.publish().topicName("sensors/a").retained(true)
                .qos(MqttQoS.EXACTLY_ONCE).messageId(99).payload(Unpooled.wrappedBuffer(new byte[]{1, 2, 3}))
                .properties(version == v5 ? publishProperties() : MqttProperties.NO_PROPERTIES).build();
            bytes = nettyEncode(version, publish);
            final PublishDecoder p = new PublishDecoder();
            assertEquals(0, p.wrap(bytes, 0, bytes.capacity(), ours));
            assertEquals("sensors/a", p.topic());
            assertEquals(2, p.qos());
            assertTrue(p.retain());
            assertEquals(99, p.packetId());
            assertArrayEquals(new byte[]{1, 2, 3}, p.payload());
            if (version == v5)
            {
                assertEquals(3600, p.messageExpiryInterval());
                assertEquals(1, p.payloadFormatIndicator());
                assertEquals("application/json", p.properties().string(Property.CONTENT_TYPE));
                assertEquals("reply/here", p.properties().string(Property.RESPONSE_TOPIC));
                assertEquals(3, p.correlationDataLength());
                assertEquals(1, p.properties().userPropertyCount());
            }

            final MqttSubscribeMessage subscribe = MqttMessageBuilders.subscribe().messageId(12)
                .addSubscription("a/+/c", new MqttSubscriptionOption(MqttQoS.AT_LEAST_ONCE, version == v5, true,
                    MqttSubscriptionOption.RetainedHandlingPolicy.SEND_AT_SUBSCRIBE_IF_NOT_YET_EXISTS))
                .addSubscription("$share/g/x/#", new MqttSubscriptionOption(MqttQoS.EXACTLY_ONCE, false, false,
                    MqttSubscriptionOption.RetainedHandlingPolicy.DONT_SEND_AT_SUBSCRIBE))
                .build();
            bytes = nettyEncode(version, subscribe);
            final SubscribeDecoder s = new SubscribeDecoder();
            assertEquals(0, s.wrap(bytes, 0, bytes.capacity(), ours), Bytes.toHex(bytes, 0, bytes.capacity()));
            assertEquals(12, s.packetId());
            assertTrue(s.nextEntry());
            assertEquals("a/+/c", s.filter());
            assertEquals(1, s.qos());
            if (version == v5)
            {
                assertTrue(s.noLocal());
                assertTrue(s.retainAsPublished());
                assertEquals(1, s.retainHandling());
            }
            assertTrue(s.nextEntry());
            assertEquals("$share/g/x/#", s.filter());
            assertEquals(2, s.qos());
            assertFalse(s.nextEntry());

            bytes = nettyEncode(version, MqttMessageBuilders.unsubscribe().messageId(13).addTopicFilter("a/b").build());
            final UnsubscribeDecoder u = new UnsubscribeDecoder();
            assertEquals(0, u.wrap(bytes, 0, bytes.capacity(), ours));
            assertEquals(1, u.entryCount());
        }

        bytes = nettyEncode(v5, MqttMessageBuilders.pubAck().packetId(5).reasonCode((byte)0x10).build());
        final PubAckDecoder a = new PubAckDecoder();
        assertEquals(0, a.wrap(bytes, 0, bytes.capacity(), MqttVersion.V5));
        assertEquals(5, a.packetId());
        assertEquals(0x10, a.reasonCode());

        bytes = nettyEncode(v5, MqttMessageBuilders.disconnect().reasonCode((byte)0x04).build());
        final DisconnectDecoder d = new DisconnectDecoder();
        assertEquals(0, d.wrap(bytes, 0, bytes.capacity(), MqttVersion.V5));
        assertEquals(0x04, d.reasonCode());
    }

    @Test
    void skylarkToNetty()
    {
        final EmbeddedChannel channel = new EmbeddedChannel(new MqttDecoder());
        final PropertiesEncoder props = new PropertiesEncoder().wrap(propsBuffer, 0)
            .sessionExpiryInterval(77).receiveMaximum(9).userProperty("k", "v");
        int n = new ConnectEncoder().version(MqttVersion.V5).clientId("skylark-1").keepAlive(20)
            .properties(propsBuffer, 0, props.length()).userName("u").password(new byte[]{1}).encode(out, 0);
        final MqttConnectMessage connect = (MqttConnectMessage)feed(channel, n);
        assertEquals("skylark-1", connect.payload().clientIdentifier());
        assertEquals(20, connect.variableHeader().keepAliveTimeSeconds());
        assertEquals(5, connect.variableHeader().version());
        assertEquals(77, connect.variableHeader().properties().getProperty(Property.SESSION_EXPIRY_INTERVAL).value());
        assertEquals("u", connect.payload().userName());

        props.wrap(propsBuffer, 0).messageExpiryInterval(10).contentType("text/plain").topicAlias(3)
            .correlationData(new byte[]{4, 5});
        final UnsafeBuffer topic = Bytes.utf8("a/b/c");
        final UnsafeBuffer payload = Bytes.utf8("payload");
        n = PublishEncoder.encode(out, 0, MqttVersion.V5,
            new PublishView().flags(1, true, false).packetId(321)
                .topic(topic, 0, topic.capacity()).properties(propsBuffer, 0, props.length())
                .payload(payload, 0, payload.capacity()));
        final MqttPublishMessage publish = (MqttPublishMessage)feed(channel, n);
        assertEquals("a/b/c", publish.variableHeader().topicName());
        assertEquals(321, publish.variableHeader().packetId());
        assertEquals(MqttQoS.AT_LEAST_ONCE, publish.fixedHeader().qosLevel());
        assertTrue(publish.fixedHeader().isDup());
        assertEquals(10, publish.variableHeader().properties().getProperty(Property.MESSAGE_EXPIRY_INTERVAL).value());
        assertEquals("text/plain", publish.variableHeader().properties().getProperty(Property.CONTENT_TYPE).value());
        assertEquals(3, publish.variableHeader().properties().getProperty(Property.TOPIC_ALIAS).value());
        assertEquals("payload", publish.payload().toString(StandardCharsets.UTF_8));
        publish.release();

        props.wrap(propsBuffer, 0).subscriptionIdentifier(1000);
        n = new SubscribeEncoder().subscribe(MqttVersion.V5, 8).properties(propsBuffer, 0, props.length())
            .filter("x/+", SubscribeEncoder.options(2, true, true, 2)).filter("#", 0).encode(out, 0);
        final MqttSubscribeMessage subscribe = (MqttSubscribeMessage)feed(channel, n);
        final List<MqttTopicSubscription> subs = subscribe.payload().topicSubscriptions();
        assertEquals(2, subs.size());
        assertEquals("x/+", subs.get(0).topicFilter());
        assertEquals(MqttQoS.EXACTLY_ONCE, subs.get(0).option().qos());
        assertTrue(subs.get(0).option().isNoLocal());
        assertTrue(subs.get(0).option().isRetainAsPublished());
        assertEquals(MqttSubscriptionOption.RetainedHandlingPolicy.DONT_SEND_AT_SUBSCRIBE,
            subs.get(0).option().retainHandling());
        assertEquals(1000, subscribe.idAndPropertiesVariableHeader().properties()
            .getProperty(Property.SUBSCRIPTION_IDENTIFIER).value());

        n = PubAckEncoder.encode(out, 0, MqttVersion.V5, PacketType.PUBREC, 44, 0x10);
        assertEquals(io.netty.handler.codec.mqtt.MqttMessageType.PUBREC, feed(channel, n).fixedHeader().messageType());
        n = PingEncoder.encodePingReq(out, 0);
        assertEquals(io.netty.handler.codec.mqtt.MqttMessageType.PINGREQ, feed(channel, n).fixedHeader().messageType());
        n = DisconnectEncoder.encode(out, 0, MqttVersion.V5, 0x8B);
        assertEquals(io.netty.handler.codec.mqtt.MqttMessageType.DISCONNECT,
            feed(channel, n).fixedHeader().messageType());
        channel.finishAndReleaseAll();
    }

    private MqttMessage feed(final EmbeddedChannel channel, final int length)
    {
        final byte[] bytes = new byte[length];
        out.getBytes(0, bytes);
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
        final MqttMessage message = channel.readInbound();
        assertTrue(message.decoderResult().isSuccess(), String.valueOf(message.decoderResult().cause()));
        return message;
    }
}
