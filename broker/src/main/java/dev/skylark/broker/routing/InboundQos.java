package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;

/**
 * A publisher's side of QoS: routes each PUBLISH through the {@link MessageRouter}, keeps the exactly-once state of
 * inbound QoS 2 (PUBREC sent, PUBREL awaited), and answers PUBACK/PUBREC/PUBCOMP once what they acknowledge is
 * durable in the journal. Called by {@link RouterCommandAdapter}; its held acknowledgements are released by the
 * agent's duty cycle.
 */
final class InboundQos
{
    private static final System.Logger LOG = System.getLogger(InboundQos.class.getName());
    private static final long REFUSAL_LOG_INTERVAL_NS = 10_000_000_000L;

    private final MessageRouter router;
    private final DeliveryPublisher out;
    private final DurableLog log;
    private final JournalRecord journal;
    private final RoutingCounters counters;
    private final PendingAcks pendingAcks = new PendingAcks();
    private long lastRefusalLogNs = System.nanoTime() - REFUSAL_LOG_INTERVAL_NS - 1;
    /** The reason a v5 publisher gets when no subscription matched: 0x10 No matching subscribers, or 0x00. */
    private int noMatchingSubscribersReason = ReasonCode.NO_MATCHING_SUBSCRIBERS;
    /** See {@link Fencing}: while set, QoS 1/2 publishes are discarded unacknowledged. */
    private boolean fenced;

    InboundQos(
        final MessageRouter router,
        final DeliveryPublisher out,
        final DurableLog log,
        final JournalRecord journal,
        final RoutingCounters counters)
    {
        this.router = router;
        this.out = out;
        this.log = log;
        this.journal = journal;
        this.counters = counters;
    }

    /**
     * A PUBLISH from {@code connectionId}, whose session is {@code session} or null when the connection has ended.
     */
    void onPublish(
        final long connectionId,
        final Session session,
        final DirectBuffer buffer,
        final int messageOffset,
        final int messageLength,
        final int packetId)
    {
        final int qos = MessageLayout.qos(buffer, messageOffset);
        if (fenced && qos > 0)
        {
            // Cut off from the cluster: nothing this node accepts now can be replicated, and its heir may already
            // own the publisher's session. No PUBACK/PUBREC: the publisher resends it to another node.
            counters.clusterFencedPublishes.incrementRelease();
            return;
        }
        if (session == null)
        {
            // The connection ended (closed, or taken over) after the broker read this message, e.g. while it waited
            // at the publish hook. QoS 0 and 1 are routed anyway: a QoS 0 publisher never resends, and a QoS 1
            // duplicate is allowed if it does. QoS 2 is not: exactly-once state lives with the connection's
            // session, and the message was never acknowledged, so a persistent publisher resends it.
            if (qos < 2 && admitsRetained(null, buffer, messageOffset, messageLength))
            {
                counters.publishesIn.incrementRelease();
                router.route(buffer, messageOffset, messageLength, -1, MessageStore.NULL_HANDLE);
            }
            return;
        }
        counters.publishesIn.incrementRelease();

        if (qos == 2 && session.awaitsPubrel(packetId))
        {
            // A resent QoS 2 PUBLISH whose PUBREL has not come yet: already routed once.
            ackWhenDurable(connectionId, PacketType.PUBREC, packetId, ReasonCode.SUCCESS);
            return;
        }
        if (!admitsRetained(session.clientId, buffer, messageOffset, messageLength))
        {
            // Refused to its sender only: v5 PUBACK/PUBREC 0x97 ends the exchange (no PUBREL follows); 3.1.1 has no
            // negative acknowledgement, so it gets the positive one the spec allows for a message not accepted
            // [MQTT-3.3.5-2]; QoS 0 is dropped. Counted either way.
            if (qos > 0)
            {
                ackWhenDurable(connectionId, qos == 1 ? PacketType.PUBACK : PacketType.PUBREC, packetId,
                    ReasonCode.QUOTA_EXCEEDED);
            }
            return;
        }
        if (qos == 2)
        {
            session.awaitPubrel(packetId);
        }

        if (qos > 0 && log.isFailing())
        {
            refuseWhileJournalFails(connectionId, session, qos, packetId);
            return;
        }

        final int matched = router.route(buffer, messageOffset, messageLength, session.sessionId,
            MessageStore.NULL_HANDLE);
        if (qos == 2 && session.durableId != 0)
        {
            journal.received(session.durableId, packetId, true); // a resend after a restart is not routed again
        }
        if (qos > 0)
        {
            final int reason = matched == 0 && session.version == MqttVersion.V5 ?
                noMatchingSubscribersReason : ReasonCode.SUCCESS;
            ackWhenDurable(connectionId, qos == 1 ? PacketType.PUBACK : PacketType.PUBREC, packetId, reason);
        }
    }

    /** The node is (no longer) fenced; see {@link Fencing}. */
    void fenced(final boolean fenced)
    {
        this.fenced = fenced;
    }

    /**
     * The journal cannot append: a QoS 1/2 message is neither routed nor acknowledged as received. v5 gets PUBACK or
     * PUBREC 0x83 (Implementation specific error — 0x89 Server busy is not a PUBACK/PUBREC reason code, and 0x97 is
     * the publisher's own retained quota) with a Reason String naming the journal, and may resend later; 3.1.1
     * has no negative PUBACK, so the connection is closed and the client resends after reconnecting. Sent at once,
     * ahead of acknowledgements still waiting for the journal (those go out, success, once a checkpoint written after
     * the failure is durable — it holds what they acknowledge).
     */
    private void refuseWhileJournalFails(final long connectionId, final Session session, final int qos,
        final int packetId)
    {
        counters.journal.publishesRefused.incrementRelease();
        if (qos == 2)
        {
            session.pubrelArrived(packetId);
        }
        if (session.version == MqttVersion.V5)
        {
            // 0x83, not 0x97: the publisher is over no quota of its own, and the Reason String must say the journal.
            out.ack(connectionId, qos == 1 ? PacketType.PUBACK : PacketType.PUBREC, packetId,
                ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR);
        }
        else
        {
            out.disconnect(connectionId, ReasonCode.UNSPECIFIED_ERROR);
        }
    }

    /**
     * Whether a message fits the retained quotas of its sender ({@code clientId}, null: only the broker-wide ones);
     * a non-retained message or a clear always does. Counts and logs (rate-limited) a refusal.
     */
    private boolean admitsRetained(
        final String clientId, final DirectBuffer buffer, final int messageOffset, final int messageLength)
    {
        if (!MessageLayout.retain(buffer, messageOffset))
        {
            return true;
        }
        final int verdict = router.admitsRetained(clientId, buffer, messageOffset, messageLength);
        if (verdict == RetainedQuota.ADMITTED)
        {
            return true;
        }
        countRefused(counters, verdict);
        final long nowNs = System.nanoTime();
        if (nowNs - lastRefusalLogNs > REFUSAL_LOG_INTERVAL_NS)
        {
            lastRefusalLogNs = nowNs;
            LOG.log(System.Logger.Level.WARNING, "retained message from " + printable(clientId) +
                " refused: over " + RetainedQuota.describe(verdict) + " (further refusals are counted in " +
                "skylark_retained_refused_total, logged at most every 10 s)");
        }
        return false;
    }

    /** Client-chosen text for a log line, control characters escaped so that it cannot forge lines. */
    static String printable(final String text)
    {
        if (text == null)
        {
            return "(a closed connection)";
        }
        final StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++)
        {
            final char c = text.charAt(i);
            if (c < 0x20 || c == 0x7F)
            {
                sb.append(String.format("\\x%02x", (int)c));
            }
            else
            {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    static void countRefused(final RoutingCounters counters, final int verdict)
    {
        switch (verdict)
        {
            case RetainedQuota.OVER_BROKER_COUNT -> counters.retainedRefusedBrokerMessages.incrementRelease();
            case RetainedQuota.OVER_BROKER_BYTES -> counters.retainedRefusedBrokerBytes.incrementRelease();
            case RetainedQuota.OVER_CLIENT_COUNT -> counters.retainedRefusedClientMessages.incrementRelease();
            default -> counters.retainedRefusedClientBytes.incrementRelease();
        }
    }

    /**
     * A QoS 1/2 message the publish hook did not let through: answered in order with the publisher's other acks.
     * At QoS 2 a success-class answer opens the exchange like a routed message (PUBREL then gets PUBCOMP); a
     * resend whose first copy was accepted keeps that first answer.
     */
    void noMatchingSubscribers(final boolean say0x10)
    {
        noMatchingSubscribersReason = say0x10 ? ReasonCode.NO_MATCHING_SUBSCRIBERS : ReasonCode.SUCCESS;
    }

    void onNotRouted(final Session session, final int qos, final int packetId, final int reason)
    {
        final long connectionId = session.connectionId;
        if (qos == 1)
        {
            ackWhenDurable(connectionId, PacketType.PUBACK, packetId, reason);
            return;
        }
        if (session.awaitsPubrel(packetId))
        {
            ackWhenDurable(connectionId, PacketType.PUBREC, packetId, ReasonCode.SUCCESS);
            return;
        }
        if (reason < ReasonCode.UNSPECIFIED_ERROR)
        {
            session.awaitPubrel(packetId);
            if (session.durableId != 0)
            {
                journal.received(session.durableId, packetId, true);
            }
        }
        ackWhenDurable(connectionId, PacketType.PUBREC, packetId, reason);
    }

    void onPubrel(final Session session, final int packetId)
    {
        final boolean known = session.pubrelArrived(packetId);
        if (known && session.durableId != 0)
        {
            journal.received(session.durableId, packetId, false);
        }
        final int reason = known ? ReasonCode.SUCCESS : ReasonCode.PACKET_IDENTIFIER_NOT_FOUND;
        ackWhenDurable(session.connectionId, PacketType.PUBCOMP, packetId, reason);
    }

    /** Sends the acknowledgements whose journal records are now durable; returns how many. */
    int releaseDurableAcks()
    {
        return pendingAcks.release(log.durableSequence(), out);
    }

    boolean hasDurableAcks()
    {
        return pendingAcks.hasReady(log.durableSequence());
    }

    int pendingAckCount()
    {
        return pendingAcks.size();
    }

    /**
     * Sends a publisher's acknowledgement once everything journaled so far is durable (at once when nothing is
     * waiting and the log has caught up, e.g. durability {@code none}).
     */
    private void ackWhenDurable(final long connectionId, final int packetType, final int packetId, final int reason)
    {
        final long sequence = log.lastSequence();
        if (pendingAcks.isEmpty() && sequence <= log.durableSequence())
        {
            out.ack(connectionId, packetType, packetId, reason);
        }
        else
        {
            pendingAcks.add(sequence, connectionId, packetType, packetId, reason);
        }
    }
}
