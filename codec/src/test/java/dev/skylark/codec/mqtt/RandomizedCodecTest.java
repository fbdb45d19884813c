package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Property-style tests driven by a seeded random generator (deterministic; the seed is in every failure message):
 * random valid packets round-trip, and random or mutated bytes yield only 0 or the codec's own negative reason
 * codes, never an exception. Every buffer is an exact-size UnsafeBuffer, so an out-of-bounds read throws.
 */
class RandomizedCodecTest
{
    private static final int TRIES = 3_000;
    private static final Set<Integer> CODEC_CODES = Set.of(0,
        -ReasonCode.MALFORMED_PACKET, -ReasonCode.PROTOCOL_ERROR, -ReasonCode.UNSUPPORTED_PROTOCOL_VERSION,
        -ReasonCode.TOPIC_NAME_INVALID);
    private static final String ALPHABET = "abcxyz019/ü€$_- ";

    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[1 << 16]);
    private final UnsafeBuffer propsBuffer = new UnsafeBuffer(new byte[4096]);
    private final PropertiesEncoder props = new PropertiesEncoder();

    private static String randomTopic(final SplittableRandom r)
    {
        final StringBuilder sb = new StringBuilder();
        final int n = 1 + r.nextInt(20);
        for (int i = 0; i < n; i++)
        {
            sb.append(ALPHABET.charAt(r.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }

    private static byte[] randomBytes(final SplittableRandom r, final int max)
    {
        final byte[] b = new byte[r.nextInt(max + 1)];
        for (int i = 0; i < b.length; i++)
        {
            b[i] = (byte)r.nextInt(256);
        }
        return b;
    }

    @Test
    void randomValidPublishRoundTrips()
    {
        final PublishDecoder d = new PublishDecoder();
        for (int seed = 0; seed < TRIES; seed++)
        {
            final SplittableRandom r = new SplittableRandom(seed);
            final int version = r.nextBoolean() ? MqttVersion.V5 : MqttVersion.V3_1_1;
            final int qos = r.nextInt(3);
            final boolean dup = qos > 0 && r.nextBoolean();
            final boolean retain = r.nextBoolean();
            final int packetId = qos > 0 ? 1 + r.nextInt(65535) : 0;
            final String topic = randomTopic(r);
            final byte[] payload = randomBytes(r, 300);
            props.wrap(propsBuffer, 0);
            long expiry = -1;
            int alias = 0;
            if (MqttVersion.isV5(version))
            {
                if (r.nextBoolean())
                {
                    expiry = r.nextLong(0x1_0000_0000L);
                    props.messageExpiryInterval(expiry);
                }
                if (r.nextBoolean())
                {
                    alias = 1 + r.nextInt(65535);
                    props.topicAlias(alias);
                }
                for (int k = r.nextInt(3); k > 0; k--)
                {
                    props.userProperty(randomTopic(r), randomTopic(r));
                }
            }
            final UnsafeBuffer t = Bytes.utf8(topic);
            final int n = PublishEncoder.encode(scratch, 0, version,
                new PublishView().flags(qos, dup, retain).packetId(packetId)
                    .topic(t, 0, t.capacity()).properties(propsBuffer, 0, props.length())
                    .payload(new UnsafeBuffer(payload), 0, payload.length));
            final UnsafeBuffer packet = Bytes.exact(scratch, 0, n);
            assertEquals(0, d.wrap(packet, 0, n, version), "seed " + seed);
            assertEquals(qos, d.qos());
            assertEquals(dup, d.dup());
            assertEquals(retain, d.retain());
            assertEquals(packetId, d.packetId());
            assertEquals(topic, d.topic());
            assertArrayEquals(payload, d.payload());
            assertEquals(expiry, d.messageExpiryInterval());
            assertEquals(alias, d.topicAlias());
            assertEquals(props.length(), d.propertiesLength());
        }
    }

    @Test
    void randomValidSubscribeAndConnectRoundTrip()
    {
        final SubscribeDecoder s = new SubscribeDecoder();
        final ConnectDecoder c = new ConnectDecoder();
        final SubscribeEncoder se = new SubscribeEncoder();
        final ConnectEncoder ce = new ConnectEncoder();
        for (int seed = 0; seed < TRIES; seed++)
        {
            final SplittableRandom r = new SplittableRandom(seed);
            final int version = r.nextBoolean() ? MqttVersion.V5 : MqttVersion.V3_1_1;
            final boolean v5 = MqttVersion.isV5(version);
            props.wrap(propsBuffer, 0);
            final int subId = v5 && r.nextBoolean() ? 1 + r.nextInt(268_435_455) : 0;
            if (subId > 0)
            {
                props.subscriptionIdentifier(subId);
            }
            se.subscribe(version, 1 + r.nextInt(65535)).properties(propsBuffer, 0, props.length());
            final List<String> filters = new ArrayList<>();
            final List<Integer> options = new ArrayList<>();
            for (int k = 1 + r.nextInt(5); k > 0; k--)
            {
                final String f = randomTopic(r) + (r.nextBoolean() ? "/#" : "");
                final int o = v5 ? SubscribeEncoder.options(r.nextInt(3), r.nextBoolean() && !f.startsWith("$share/"),
                    r.nextBoolean(), r.nextInt(3)) : r.nextInt(3);
                filters.add(f);
                options.add(o);
                se.filter(f, o);
            }
            int n = se.encode(scratch, 0);
            UnsafeBuffer packet = Bytes.exact(scratch, 0, n);
            assertEquals(0, s.wrap(packet, 0, n, version), "seed " + seed);
            assertEquals(subId, s.subscriptionIdentifier());
            for (int k = 0; k < filters.size(); k++)
            {
                assertTrue(s.nextEntry());
                assertEquals(filters.get(k), s.filter());
                assertEquals((int)options.get(k), s.options());
            }

            final String clientId = randomTopic(r);
            ce.reset().version(version).clientId(clientId).keepAlive(r.nextInt(65536)).cleanStart(r.nextBoolean());
            final boolean will = r.nextBoolean();
            if (will)
            {
                ce.will(r.nextInt(3), r.nextBoolean()).willTopic(randomTopic(r).replace('+', 'p'));
            }
            final byte[] password = r.nextBoolean() ? randomBytes(r, 40) : null;
            if (password != null || r.nextBoolean())
            {
                ce.userName(randomTopic(r));
            }
            if (password != null)
            {
                ce.password(password);
            }
            n = ce.encode(scratch, 0);
            packet = Bytes.exact(scratch, 0, n);
            assertEquals(0, c.wrap(packet, 0, n), "seed " + seed);
            assertEquals(clientId, c.clientId());
            assertEquals(will, c.hasWill());
            if (password != null)
            {
                assertArrayEquals(password, c.password());
            }
        }
    }

    @Test
    void randomBytesNeverThrow()
    {
        final Decode decode = new Decode();
        for (int seed = 0; seed < TRIES * 5; seed++)
        {
            final SplittableRandom r = new SplittableRandom(seed);
            final byte[] bytes = randomBytes(r, 40);
            if (bytes.length >= 2)
            {
                // make the framing plausible half of the time so decoders get past the fixed header
                if (r.nextBoolean() && bytes.length - 2 < 128)
                {
                    bytes[1] = (byte)(bytes.length - 2);
                }
            }
            check(decode, new UnsafeBuffer(bytes), seed);
        }
    }

    @Test
    void mutatedValidPacketsNeverThrow()
    {
        final List<byte[]> corpus = validCorpus();
        final Decode decode = new Decode();
        for (int seed = 0; seed < TRIES * 5; seed++)
        {
            final SplittableRandom r = new SplittableRandom(seed);
            final byte[] original = corpus.get(r.nextInt(corpus.size()));
            byte[] bytes = original.clone();
            final int mutations = 1 + r.nextInt(3);
            for (int m = 0; m < mutations && bytes.length > 0; m++)
            {
                switch (r.nextInt(4))
                {
                    case 0:
                        bytes[r.nextInt(bytes.length)] = (byte)r.nextInt(256);
                        break;
                    case 1:
                        bytes[r.nextInt(bytes.length)] ^= (byte)(1 << r.nextInt(8));
                        break;
                    case 2:
                        bytes = java.util.Arrays.copyOf(bytes, r.nextInt(bytes.length));
                        break;
                    default:
                        final int at = r.nextInt(bytes.length + 1);
                        final byte[] longer = new byte[bytes.length + 1];
                        System.arraycopy(bytes, 0, longer, 0, at);
                        longer[at] = (byte)r.nextInt(256);
                        System.arraycopy(bytes, at, longer, at + 1, bytes.length - at);
                        bytes = longer;
                }
            }
            // keep the remaining length consistent half of the time so the mutation reaches the body
            if (r.nextBoolean() && bytes.length >= 2 && bytes.length - 2 < 128 && (bytes[1] & 0x80) == 0)
            {
                bytes[1] = (byte)(bytes.length - 2);
            }
            check(decode, new UnsafeBuffer(bytes), seed);

            final MqttFramer framer = new MqttFramer(1024);
            final int result = framer.onBytes(new UnsafeBuffer(bytes), 0, bytes.length, (b, o, l) ->
            {
                check(decode, Bytes.exact(b, o, l), -1);
                return true;
            });
            assertTrue(result == bytes.length || result == -ReasonCode.MALFORMED_PACKET ||
                result == -ReasonCode.PACKET_TOO_LARGE, "framer " + result);
        }
    }

    private static void check(final Decode decode, final DirectBuffer buffer, final int seed)
    {
        for (final int version : new int[]{MqttVersion.V3_1_1, MqttVersion.V5})
        {
            try
            {
                final int result = decode.decode(buffer, 0, buffer.capacity(), version);
                if (!CODEC_CODES.contains(result))
                {
                    fail("seed " + seed + " v" + version + " unexpected result " + result + " for " +
                        Bytes.toHex(buffer, 0, buffer.capacity()));
                }
            }
            catch (final RuntimeException ex)
            {
                throw new AssertionError("seed " + seed + " v" + version + " threw on " +
                    Bytes.toHex(buffer, 0, buffer.capacity()), ex);
            }
        }
    }

    private List<byte[]> validCorpus()
    {
        final List<byte[]> corpus = new ArrayList<>();
        for (final int version : new int[]{MqttVersion.V3_1_1, MqttVersion.V5})
        {
            props.wrap(propsBuffer, 0).payloadFormatIndicator(1).messageExpiryInterval(5).contentType("c")
                .responseTopic("r").correlationData(new byte[]{1}).topicAlias(2).userProperty("k", "v")
                .subscriptionIdentifier(3);
            final UnsafeBuffer topic = Bytes.utf8("a/b");
            int n = PublishEncoder.encode(scratch, 0, version,
                new PublishView().flags(1, false, true).packetId(7)
                    .topic(topic, 0, 3).properties(propsBuffer, 0, props.length())
                    .payload(topic, 0, 3));
            corpus.add(copy(n));
            props.wrap(propsBuffer, 0).sessionExpiryInterval(1).receiveMaximum(2).authenticationMethod("m")
                .authenticationData(new byte[]{1}).userProperty("k", "v");
            final int connectProps = props.length();
            final UnsafeBuffer willProps = new UnsafeBuffer(new byte[64]);
            final int willLength = new PropertiesEncoder().wrap(willProps, 0).willDelayInterval(1)
                .contentType("x").length();
            n = new ConnectEncoder().version(version).properties(propsBuffer, 0, connectProps).clientId("id")
                .will(1, true).willProperties(willProps, 0, willLength).willTopic("w").willPayload(topic, 0, 3)
                .userName("u").password(new byte[]{1, 2}).encode(scratch, 0);
            corpus.add(copy(n));
            props.wrap(propsBuffer, 0).subscriptionIdentifier(9).userProperty("k", "v");
            n = new SubscribeEncoder().subscribe(version, 3).properties(propsBuffer, 0, props.length())
                .filter("a/+", 1).filter("$share/g/b/#", 2).encode(scratch, 0);
            corpus.add(copy(n));
            n = new SubscribeEncoder().unsubscribe(version, 3).filter("a/+", 0).filter("x", 0).encode(scratch, 0);
            corpus.add(copy(n));
            props.wrap(propsBuffer, 0).reasonString("r").userProperty("k", "v");
            n = PubAckEncoder.encode(scratch, 0, version, PacketType.PUBREL, 5, 0x92, propsBuffer, 0, props.length());
            corpus.add(copy(n));
            n = SubAckEncoder.encode(scratch, 0, version, PacketType.SUBACK, 5, propsBuffer, 0, props.length(),
                Bytes.hex("00 01 02"), 0, 3);
            corpus.add(copy(n));
            n = ConnAckEncoder.encode(scratch, 0, version, true, 0, propsBuffer, 0, props.length());
            corpus.add(copy(n));
            n = DisconnectEncoder.encode(scratch, 0, version, 0x8B, propsBuffer, 0, props.length());
            corpus.add(copy(n));
        }
        props.wrap(propsBuffer, 0).authenticationMethod("m").authenticationData(new byte[]{1});
        corpus.add(copy(AuthEncoder.encode(scratch, 0, 0x18, propsBuffer, 0, props.length())));
        return corpus;
    }

    private byte[] copy(final int length)
    {
        final byte[] b = new byte[length];
        scratch.getBytes(0, b);
        return b;
    }
}
