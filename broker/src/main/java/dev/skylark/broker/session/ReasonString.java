package dev.skylark.broker.session;

import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.Property;
import dev.skylark.codec.mqtt.PropertiesEncoder;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A v5 Reason String property (id 0x1F, two-byte length, UTF-8) encoded once, so a refused acknowledgement on the
 * publish path copies bytes instead of encoding a {@code String}. The constants are the texts of the refusals the
 * session and the routing agent make; longer texts built per packet (CONNACK, DISCONNECT, SUBACK) go through
 * {@link #put}, which caps their length.
 */
final class ReasonString
{
    /** Longest text sent, in chars: a reason is a hint for a human, not a log. */
    static final int MAX_CHARS = 200;

    static final ReasonString TOPIC_BEYOND_LIMITS = of("topic name beyond the broker's length or depth limit");
    static final ReasonString PAYLOAD_NOT_UTF8 =
        of("payload format indicator says UTF-8 but the payload is not valid UTF-8");
    static final ReasonString RESERVED_TOPIC =
        of("topic under a prefix the broker reserves for itself (skylark.reserved.topic.prefixes)");
    static final ReasonString PUBLISH_NOT_ALLOWED = of("topic not allowed by the token's acl.pub");
    static final ReasonString PUBLISH_DENIED_BY_RULES = of("topic not allowed by the broker's authorization rules");
    static final ReasonString PACKET_ID_NOT_FOUND = of("packet identifier not found");
    static final ReasonString JOURNAL_FAILING =
        of("the broker cannot journal messages now (e.g. its disk is full): not accepted, send it again later");
    static final ReasonString RETAINED_QUOTA_EXCEEDED =
        of("retained message over this client's or the broker's retained quota (count or bytes); not stored");

    private final UnsafeBuffer property;

    private ReasonString(final UnsafeBuffer property)
    {
        this.property = property;
    }

    static ReasonString of(final String text)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[3 + 3 * Math.min(text.length(), MAX_CHARS)]);
        final int length = put(new PropertiesEncoder().wrap(buffer, 0), text).length();
        return new ReasonString(new UnsafeBuffer(buffer, 0, length));
    }

    /** The encoded property (id, length, text). */
    DirectBuffer buffer()
    {
        return property;
    }

    /** Bytes of the encoded property. */
    int length()
    {
        return property.capacity();
    }

    /**
     * Appends a Reason String property with {@code text} cut to {@link #MAX_CHARS} and control characters (which a
     * text may carry from client input, and a UTF-8 string should not [MQTT-1.5.4-2]) shown as '?'; allocates
     * (rare packets).
     */
    static PropertiesEncoder put(final PropertiesEncoder properties, final String text)
    {
        final String cut = text.length() <= MAX_CHARS ? text : text.substring(0, MAX_CHARS - 3) + "...";
        StringBuilder clean = null;
        for (int i = 0; i < cut.length(); i++)
        {
            if (Character.isISOControl(cut.charAt(i)))
            {
                if (clean == null)
                {
                    clean = new StringBuilder(cut);
                }
                clean.setCharAt(i, '?');
            }
        }
        return properties.putString(Property.REASON_STRING, clean == null ? cut : clean.toString());
    }

    /** The text for a refusal the routing agent decided on a PUBACK/PUBREC/PUBREL/PUBCOMP, or null. */
    static ReasonString forRoutedAck(final int packetType, final int reasonCode)
    {
        if (reasonCode == ReasonCode.PACKET_IDENTIFIER_NOT_FOUND &&
            (packetType == PacketType.PUBREL || packetType == PacketType.PUBCOMP))
        {
            return PACKET_ID_NOT_FOUND;
        }
        if (reasonCode == ReasonCode.QUOTA_EXCEEDED &&
            (packetType == PacketType.PUBACK || packetType == PacketType.PUBREC))
        {
            return RETAINED_QUOTA_EXCEEDED; // the routing agent's only 0x97 on these: InboundQos's retained quotas
        }
        if (reasonCode == ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR &&
            (packetType == PacketType.PUBACK || packetType == PacketType.PUBREC))
        {
            return JOURNAL_FAILING; // the routing agent's only 0x83 on these: InboundQos while the journal fails
        }
        return null;
    }

    /** The text for one refused SUBSCRIBE entry. */
    static String forSubscription(final int reasonCode)
    {
        switch (reasonCode)
        {
            case ReasonCode.TOPIC_FILTER_INVALID:
                return "invalid topic filter, or beyond the broker's length or depth limit";
            case ReasonCode.NOT_AUTHORIZED:
                return "filter not allowed by the token's acl.sub or the broker's authorization rules";
            case ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED:
                return "shared subscriptions are not available";
            case ReasonCode.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED:
                return "wildcard subscriptions are not available";
            case ReasonCode.QUOTA_EXCEEDED:
                return "quota exceeded: subscriptions/shared groups per client or subscribers/groups per filter";
            case ReasonCode.PROTOCOL_ERROR:
                return "No Local on a shared subscription";
            default:
                return ReasonCode.describe(reasonCode);
        }
    }

    /**
     * "filter 2: ...; filter 3: ..." for the refused entries of a SUBACK, or null when none was refused.
     */
    static String forSubAck(final DirectBuffer reasons, final int offset, final int count)
    {
        StringBuilder text = null;
        for (int i = 0; i < count; i++)
        {
            final int reason = reasons.getByte(offset + i) & 0xFF;
            if (reason >= ReasonCode.UNSPECIFIED_ERROR)
            {
                text = text == null ? new StringBuilder() : text.append("; ");
                text.append("filter ").append(i + 1).append(": ").append(forSubscription(reason));
                if (text.length() > MAX_CHARS)
                {
                    break;
                }
            }
        }
        return text == null ? null : text.toString();
    }
}
