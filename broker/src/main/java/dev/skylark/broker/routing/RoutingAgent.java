package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.MqttVersion;
import dev.skylark.codec.mqtt.PacketType;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.status.AtomicCounter;

import java.lang.System.Logger.Level;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.routing.RouterCommand.*;
import static org.agrona.BitUtil.SIZE_OF_INT;
import static org.agrona.BitUtil.SIZE_OF_SHORT;

/**
 * The routing agent: the single writer of the subscription tree, the session registry, the retained index and
 * every session's queues. It reads commands from the I/O agents' shared ring, routes each PUBLISH once, and
 * writes deliveries to the I/O agents that own the subscribers' connections.
 */
public final class RoutingAgent implements Agent, MessageHandler
{
    private static final System.Logger LOG = System.getLogger(RoutingAgent.class.getName());
    private static final int COMMAND_LIMIT = 256;
    private static final long TICK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(100);

    private final RingBuffer inbound;
    private final DeliveryPublisher out;
    private final NanoClock clock;
    private final RoutingCounters counters;
    private final int inflightMax;
    private final int queueMaxMessages;
    private final int receiveMaximum;
    private final long sessionExpiryMax;
    private final PublishGate gate;
    private final long storeHighWater;
    private final DurableLog log;
    private final JournalRecord journal;
    private final PendingAcks pendingAcks = new PendingAcks();
    private final long checkpointBytes;
    private long lastCheckpointBytes;
    private long nextDurableId = 1;
    private long nextMessageId = 1;
    private boolean replaying;
    private final org.agrona.collections.Long2ObjectHashMap<Session> replaySessions =
        new org.agrona.collections.Long2ObjectHashMap<>();
    private long replayRecords;

    private final TopicTree tree;
    private SysTopics sysTopics;
    private int subscriptionsPerClientMax;
    private int subscribersPerFilterMax;
    private long queueMaxBytes;
    private final MatchResult match = new MatchResult();
    private final RetainedIndex<Long> retained = new RetainedIndex<>();
    /** Expiry deadlines of retained messages that have a Message Expiry Interval, by store handle. */
    private final org.agrona.collections.Long2LongHashMap retainedExpiry = new org.agrona.collections.Long2LongHashMap(0);
    private final MessageStore store = new MessageStore();
    private final UnsafeBuffer storedView = new UnsafeBuffer(0, 0);
    private final Map<String, Session> sessionsByClientId = new HashMap<>();
    private final Int2ObjectHashMap<Session> sessionsById = new Int2ObjectHashMap<>();
    private final Long2ObjectHashMap<Session> sessionsByConnection = new Long2ObjectHashMap<>();
    private final ArrayList<Session> offlineScratch = new ArrayList<>();
    private final ArrayDeque<PendingMessage> pendingPool = new ArrayDeque<>();
    private final ArrayDeque<Integer> freeSessionIds = new ArrayDeque<>();
    private final SessionAvailability availability = new SessionAvailability()
    {
        public boolean isAvailable(final int sessionId)
        {
            return RoutingAgent.this.isAvailable(sessionId);
        }

        public int backlog(final int sessionId)
        {
            final Session session = sessionsById.get(sessionId);
            return session == null ? Integer.MAX_VALUE : session.inFlight.size() + session.queue.size();
        }
    };
    private byte[] reasonScratch = new byte[64];
    private int nextSessionId = 1;
    private long nowNs;
    private long nextTickNs;

    public RoutingAgent(
        final RingBuffer inbound,
        final DeliveryPublisher out,
        final NanoClock clock,
        final RoutingCounters counters,
        final int inflightMax,
        final int queueMaxMessages,
        final int receiveMaximum,
        final long sessionExpiryMax,
        final PublishGate gate,
        final long storeHighWater,
        final SharedSubscriptionPolicy sharedPolicy,
        final DurableLog log,
        final long checkpointBytes)
    {
        this.tree = new TopicTree(sharedPolicy);
        this.log = log;
        this.journal = new JournalRecord(log);
        this.checkpointBytes = checkpointBytes;
        this.gate = gate;
        this.storeHighWater = storeHighWater;
        this.inbound = inbound;
        this.out = out;
        this.clock = clock;
        this.counters = counters;
        this.inflightMax = inflightMax;
        this.queueMaxMessages = queueMaxMessages;
        this.receiveMaximum = receiveMaximum;
        this.sessionExpiryMax = sessionExpiryMax;
    }

    @Override
    public String roleName()
    {
        return "skylark-router";
    }

    @Override
    public int doWork()
    {
        nowNs = clock.nanoTime();
        int work = inbound.read(this, COMMAND_LIMIT);
        work += pendingAcks.release(log.durableSequence(), out);
        updateGate();
        counters.storedBytes.setRelease(store.bytesInUse());
        if (nowNs - nextTickNs >= 0)
        {
            nextTickNs = nowNs + TICK_INTERVAL_NS;
            onTick();
            if (log.bytesSinceCheckpoint() > Math.max(checkpointBytes, 2 * lastCheckpointBytes))
            {
                writeCheckpoint();
            }
        }
        work += log.doWork();
        return work;
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

    /**
     * Closes the gate to new publishes while stored QoS 1/2 messages exceed the high-water mark, and opens it again
     * below half of it: publishers wait (TCP pushes back) instead of acknowledged messages being dropped.
     */
    private void updateGate()
    {
        final long inUse = store.bytesInUse();
        if (!gate.isClosed())
        {
            if (inUse > storeHighWater || log.isBackPressured())
            {
                gate.close();
                counters.publishGateClosed.incrementRelease();
                LOG.log(Level.WARNING, "stored messages reached " + inUse + " bytes: holding publishers back until " +
                    "subscribers catch up (skylark.store.high.water)");
            }
        }
        else if (inUse < storeHighWater / 2 && !log.isBackPressured())
        {
            gate.open();
            LOG.log(Level.INFO, "stored messages down to " + inUse + " bytes: publishers resume");
        }
    }

    /** True when the inbound ring holds commands; used by the idle strategy before parking. */
    public boolean hasWork()
    {
        return inbound.size() > 0 || pendingAcks.hasReady(log.durableSequence());
    }

    @Override
    public void onMessage(final int msgTypeId, final org.agrona.MutableDirectBuffer buffer, final int index, final int length)
    {
        final long connectionId = buffer.getLong(index + CONNECTION_ID_OFFSET);
        switch (msgTypeId)
        {
            case CONNECT -> onConnect(connectionId, buffer, index);
            case PUBLISH -> onPublish(connectionId, buffer, index, length);
            case PUBREL -> onPubrel(connectionId, buffer.getShort(index + PACKET_ID_OFFSET) & 0xFFFF);
            case NOT_ROUTED -> onNotRouted(
                connectionId,
                buffer.getByte(index + NOT_ROUTED_QOS_OFFSET),
                buffer.getShort(index + NOT_ROUTED_PACKET_ID_OFFSET) & 0xFFFF,
                buffer.getByte(index + NOT_ROUTED_REASON_OFFSET) & 0xFF);
            case ACK -> onAck(
                connectionId,
                buffer.getByte(index + ACK_PACKET_TYPE_OFFSET),
                buffer.getByte(index + ACK_REASON_OFFSET) & 0xFF,
                buffer.getShort(index + ACK_PACKET_ID_OFFSET) & 0xFFFF);
            case SUBSCRIBE -> onSubscribe(connectionId, buffer, index);
            case UNSUBSCRIBE -> onUnsubscribe(connectionId, buffer, index);
            case DISCONNECT -> onDisconnect(
                connectionId,
                buffer.getByte(index + DISCONNECT_KIND_OFFSET),
                buffer.getInt(index + DISCONNECT_SESSION_EXPIRY_OFFSET));
            default -> LOG.log(Level.WARNING, "unknown router command " + msgTypeId);
        }
    }

    // ------------------------------------------------------------------------------------------------ sessions

    private void onConnect(final long connectionId, final DirectBuffer buffer, final int index)
    {
        final int version = buffer.getByte(index + CONNECT_VERSION_OFFSET);
        final int flags = buffer.getByte(index + CONNECT_FLAGS_OFFSET);
        final boolean cleanStart = (flags & CONNECT_FLAG_CLEAN_START) != 0;
        final int clientReceiveMaximum = buffer.getInt(index + CONNECT_RECEIVE_MAXIMUM_OFFSET);
        final long requestedExpiry = buffer.getInt(index + CONNECT_SESSION_EXPIRY_OFFSET) & 0xFFFF_FFFFL;
        final int clientMaxPacketSize = buffer.getInt(index + CONNECT_MAX_PACKET_SIZE_OFFSET);
        final long willDelay = buffer.getInt(index + CONNECT_WILL_DELAY_OFFSET) & 0xFFFF_FFFFL;
        int position = index + CONNECT_CLIENT_ID_OFFSET;
        final int clientIdLength = buffer.getShort(position) & 0xFFFF;
        final String clientId = buffer.getStringWithoutLengthUtf8(position + SIZE_OF_SHORT, clientIdLength);
        position += SIZE_OF_SHORT + clientIdLength;

        Session session = sessionsByClientId.get(clientId);
        boolean sessionPresent = false;
        if (session != null)
        {
            if (session.isOnline())
            {
                // Session takeover: the old connection goes, with DISCONNECT 0x8E where v5 allows it.
                sessionsByConnection.remove(session.connectionId);
                out.disconnect(session.connectionId, ReasonCode.SESSION_TAKEN_OVER);
                counters.takeovers.incrementRelease();
                if (session.willHandle != MessageStore.NULL_HANDLE && (cleanStart || session.willDelay == 0))
                {
                    publishWill(session);
                }
            }
            if (cleanStart)
            {
                endSession(session);
                session = null;
            }
            else
            {
                sessionPresent = true;
                clearWill(session);
            }
        }
        if (session == null)
        {
            session = new Session(allocateSessionId(), clientId);
            sessionsByClientId.put(clientId, session);
            sessionsById.put(session.sessionId, session);
            counters.sessions.setRelease(sessionsById.size());
        }

        final long grantedExpiry = Math.min(requestedExpiry, sessionExpiryMax);
        session.connectionId = connectionId;
        session.offline = false;
        session.version = version;
        session.expiryInterval = grantedExpiry;
        session.sendWindow = Math.max(1, Math.min(inflightMax, clientReceiveMaximum));
        session.maxPacketSize = clientMaxPacketSize > 0 ? clientMaxPacketSize : Integer.MAX_VALUE;
        sessionsByConnection.put(connectionId, session);
        counters.clientsConnected.setRelease(sessionsByConnection.size());
        if (grantedExpiry > 0)
        {
            if (session.durableId == 0)
            {
                session.durableId = nextDurableId++;
            }
            journal.session(session);
        }
        else if (session.durableId != 0)
        {
            journal.sessionEnd(session.durableId); // no longer persistent: it ends with this connection
            session.durableId = 0;
            session.durableSubscriptions.clear();
        }

        if ((flags & CONNECT_FLAG_WILL) != 0)
        {
            session.willHandle = storeWill(buffer, position, buffer.getByte(index + CONNECT_WILL_QOS_OFFSET),
                (flags & CONNECT_FLAG_WILL_RETAIN) != 0);
            session.willDelay = willDelay;
        }

        out.connack(connectionId, sessionPresent, ReasonCode.SUCCESS, grantedExpiry, receiveMaximum);
        if (sessionPresent)
        {
            resendInFlight(session);
            drainQueue(session);
        }
    }

    private void onDisconnect(final long connectionId, final int kind, final int sessionExpiry)
    {
        final Session session = sessionsByConnection.remove(connectionId);
        if (session == null)
        {
            return;
        }
        counters.clientsConnected.setRelease(sessionsByConnection.size());
        session.connectionId = Session.NO_CONNECTION;
        if (sessionExpiry != SESSION_EXPIRY_UNCHANGED)
        {
            session.expiryInterval = Math.min(sessionExpiry & 0xFFFF_FFFFL, sessionExpiryMax);
        }
        if (kind == DISCONNECT_WITH_WILL && session.willHandle != MessageStore.NULL_HANDLE)
        {
            if (session.willDelay == 0 || session.expiryInterval == 0)
            {
                publishWill(session);
            }
            else
            {
                session.willPending = true;
                session.willDeadlineNs = nowNs + TimeUnit.SECONDS.toNanos(Math.min(session.willDelay, session.expiryInterval));
            }
        }
        else
        {
            clearWill(session);
        }

        // Messages that came through a shared subscription go to another member of the group: those not sent yet,
        // and, when the session ends here, those it never acknowledged (QoS 1 may then arrive twice, as allowed).
        redistributeShared(session, session.expiryInterval == 0);
        if (session.expiryInterval == 0)
        {
            endSession(session);
        }
        else
        {
            session.offline = true;
            session.expiryDeadlineNs = session.expiryInterval == Session.NEVER ?
                Long.MAX_VALUE : nowNs + TimeUnit.SECONDS.toNanos(session.expiryInterval);
            if (session.durableId != 0)
            {
                session.offlineSinceEpochMs = System.currentTimeMillis();
                journal.sessionOffline(session);
            }
            // In-flight messages are redelivered on reconnect; until then they count against the window.
        }
    }

    private final ArrayList<PendingMessage> movingScratch = new ArrayList<>();

    /**
     * Hands a departing member's shared-subscription messages to another member of the same group that is online.
     * A message no other member can take stays where it is.
     */
    private void redistributeShared(final Session from, final boolean includeInFlight)
    {
        movingScratch.clear();
        for (final PendingMessage pending : from.queue)
        {
            if (pending.sharedGroup != null && pending.handle != MessageStore.NULL_HANDLE)
            {
                movingScratch.add(pending);
            }
        }
        if (includeInFlight)
        {
            for (final PendingMessage pending : from.inFlightOrder)
            {
                if (pending.sharedGroup != null && pending.handle != MessageStore.NULL_HANDLE &&
                    pending.state != PendingMessage.AWAIT_PUBCOMP)
                {
                    movingScratch.add(pending);
                }
            }
        }
        for (int i = 0; i < movingScratch.size(); i++)
        {
            final PendingMessage pending = movingScratch.get(i);
            final SharedGroup group = pending.sharedGroup;
            final int member = otherOnlineMember(group, from);
            if (member < 0)
            {
                continue;
            }
            final Session target = sessionsById.get(group.memberSessionId(member));
            if (pending.state == PendingMessage.QUEUED)
            {
                from.queue.remove(pending);
            }
            else
            {
                from.inFlight.remove(pending.packetId);
                from.inFlightOrder.remove(pending);
            }
            journalDelivered(from, pending, JournalRecord.DELIVERED_COMPLETE);

            store.wrap(pending.handle, storedView);
            pending.qos = Math.min(MessageLayout.qos(storedView, 0),
                SubscriptionOptions.maxQos(group.memberOptions(member)));
            pending.state = PendingMessage.QUEUED;
            pending.packetId = 0;
            pending.redelivery = false;
            final int subscriptionId = group.memberSubscriptionId(member);
            pending.subscriptionIdCount = 0;
            if (subscriptionId != 0 && target.version == MqttVersion.V5)
            {
                if (pending.subscriptionIds.length < 1)
                {
                    pending.subscriptionIds = new int[1];
                }
                pending.subscriptionIds[0] = subscriptionId;
                pending.subscriptionIdCount = 1;
            }
            pending.messageId = 0;
            if (target.durableId != 0)
            {
                pending.messageId = nextMessageId++;
                journal.beginMessage(pending.messageId, 0);
                journal.addTarget(target.durableId, pending.qos, pending.retain ? Delivery.ENTRY_FLAG_RETAIN : 0,
                    pending.subscriptionIds, 0, pending.subscriptionIdCount);
                journal.endMessage(storedView, 0, storedView.capacity());
            }
            counters.sharedRedistributed.incrementRelease();
            if (target.canSend() && target.queue.isEmpty())
            {
                startInFlight(target, pending);
                sendStored(target, pending, false);
            }
            else
            {
                enqueue(target, pending);
            }
        }
        movingScratch.clear();
    }

    /** A member of the group other than {@code from} that is online, in round-robin order; -1 when none. */
    private int otherOnlineMember(final SharedGroup group, final Session from)
    {
        final int count = group.memberCount();
        final int start = group.cursor() >= 0 && group.cursor() < count ? group.cursor() : 0;
        for (int i = 0; i < count; i++)
        {
            final int index = (start + i) % count;
            final Session candidate = sessionsById.get(group.memberSessionId(index));
            if (candidate != null && candidate != from && candidate.isOnline())
            {
                group.cursor(index + 1);
                return index;
            }
        }
        return -1;
    }

    private void endSession(final Session session)
    {
        if (session.willPending)
        {
            publishWill(session);
        }
        clearWill(session);
        if (tree.removeSession(session.sessionId) > 0)
        {
            counters.subscriptions.setRelease(tree.subscriptionCount());
        }
        for (final PendingMessage pending : session.inFlightOrder)
        {
            releasePending(pending);
        }
        for (final PendingMessage pending : session.queue)
        {
            releasePending(pending);
        }
        session.inFlight.clear();
        session.inFlightOrder.clear();
        session.queue.clear();
        if (session.durableId != 0)
        {
            if (!replaying)
            {
                journal.sessionEnd(session.durableId);
            }
            replaySessions.remove(session.durableId);
            session.durableId = 0;
            session.durableSubscriptions.clear();
        }
        sessionsByClientId.remove(session.clientId);
        sessionsById.remove(session.sessionId);
        freeSessionIds.addLast(session.sessionId);
        counters.sessions.setRelease(sessionsById.size());
    }

    private int allocateSessionId()
    {
        final Integer reused = freeSessionIds.pollFirst();
        return reused != null ? reused : nextSessionId++;
    }

    /** Subscriptions one session may hold (0 = unlimited); more get SUBACK 0x97 (3.1.1: 0x80). Set before start. */
    public void subscriptionsPerClientMax(final int max)
    {
        subscriptionsPerClientMax = max;
    }

    /**
     * Subscribers one topic filter may have, members of shared groups on that filter included (0 = unlimited); more
     * get SUBACK 0x97 (3.1.1: 0x80). Set before start.
     */
    public void subscribersPerFilterMax(final int max)
    {
        subscribersPerFilterMax = max;
    }

    /**
     * Stored bytes of QoS 1/2 messages queued for one offline session (0 = unlimited); a message that would take the
     * queue past it is dropped and counted. Set before start.
     */
    public void queueMaxBytes(final long bytes)
    {
        queueMaxBytes = bytes;
    }

    /**
     * Publishes the broker's figures on {@code $SYS/broker/...} every {@code intervalNs} (0 = off); set before the
     * agent starts.
     */
    public void sysTopics(final long intervalNs, final java.util.function.LongSupplier messagesSent)
    {
        sysTopics = new SysTopics(intervalNs, clock.nanoTime(), messagesSent);
    }

    private void onTick()
    {
        if (sysTopics != null && sysTopics.isDue(nowNs))
        {
            sysTopics.publish(nowNs, sessionsByConnection.size(), sessionsById.size(), tree.subscriptionCount(),
                retained.size(), counters.publishesIn.get(),
                (buffer, offset, length) -> route(buffer, offset, length, -1, MessageStore.NULL_HANDLE));
        }
        offlineScratch.clear();
        for (final Session session : sessionsById.values())
        {
            if (session.offline)
            {
                offlineScratch.add(session);
            }
        }
        for (final Session session : offlineScratch)
        {
            if (session.willPending && nowNs - session.willDeadlineNs >= 0)
            {
                publishWill(session);
            }
            if (nowNs - session.expiryDeadlineNs >= 0)
            {
                LOG.log(Level.DEBUG, "session expired: " + session.clientId);
                endSession(session);
            }
        }
        offlineScratch.clear();
    }

    // ------------------------------------------------------------------------------------------------ wills

    private long storeWill(final DirectBuffer buffer, final int position, final int qos, final boolean retain)
    {
        final int topicLength = buffer.getShort(position) & 0xFFFF;
        final int topicOffset = position + SIZE_OF_SHORT;
        final int propertiesLength = buffer.getInt(topicOffset + topicLength);
        final int propertiesOffset = topicOffset + topicLength + SIZE_OF_INT;
        final int payloadLength = buffer.getInt(propertiesOffset + propertiesLength);
        final int payloadOffset = propertiesOffset + propertiesLength + SIZE_OF_INT;

        final int length = MessageLayout.length(topicLength, propertiesLength, payloadLength);
        final long handle = store.allocate(length);
        final org.agrona.MutableDirectBuffer target = store.buffer(handle);
        final int offset = store.offset(handle);
        target.putByte(offset + MessageLayout.QOS_OFFSET, (byte)qos);
        target.putByte(offset + MessageLayout.FLAGS_OFFSET, (byte)(retain ? MessageLayout.FLAG_RETAIN : 0));
        target.putShort(offset + 2, (short)0);
        target.putShort(offset + MessageLayout.TOPIC_LENGTH_OFFSET, (short)topicLength);
        int p = offset + MessageLayout.TOPIC_OFFSET;
        target.putBytes(p, buffer, topicOffset, topicLength);
        p += topicLength;
        target.putInt(p, propertiesLength);
        target.putBytes(p + SIZE_OF_INT, buffer, propertiesOffset, propertiesLength);
        p += SIZE_OF_INT + propertiesLength;
        target.putInt(p, payloadLength);
        target.putBytes(p + SIZE_OF_INT, buffer, payloadOffset, payloadLength);
        return handle;
    }

    private void publishWill(final Session session)
    {
        final long handle = session.willHandle;
        session.willHandle = MessageStore.NULL_HANDLE;
        session.willPending = false;
        if (handle == MessageStore.NULL_HANDLE)
        {
            return;
        }
        counters.willsPublished.incrementRelease();
        final DirectBuffer buffer = store.buffer(handle);
        final int offset = store.offset(handle);
        route(buffer, offset, store.length(handle), -1, handle);
        store.release(handle);
    }

    private void clearWill(final Session session)
    {
        if (session.willHandle != MessageStore.NULL_HANDLE)
        {
            store.release(session.willHandle);
            session.willHandle = MessageStore.NULL_HANDLE;
        }
        session.willPending = false;
    }

    // ------------------------------------------------------------------------------------------------ publish

    private void onPublish(final long connectionId, final DirectBuffer buffer, final int index, final int length)
    {
        final Session session = sessionsByConnection.get(connectionId);
        final int messageOffset = index + PUBLISH_MESSAGE_OFFSET;
        final int messageLength = length - PUBLISH_MESSAGE_OFFSET;
        final int qos = MessageLayout.qos(buffer, messageOffset);
        final int packetId = buffer.getShort(index + PUBLISH_PACKET_ID_OFFSET) & 0xFFFF;
        if (session == null)
        {
            // The connection ended (closed, or taken over) after the broker read this message, e.g. while it waited
            // at the publish hook. QoS 0 and 1 are routed anyway: a QoS 0 publisher never resends, and a QoS 1
            // duplicate is allowed if it does. QoS 2 is not: exactly-once state lives with the connection's
            // session, and the message was never acknowledged, so a persistent publisher resends it.
            if (qos < 2)
            {
                counters.publishesIn.incrementRelease();
                route(buffer, messageOffset, messageLength, -1, MessageStore.NULL_HANDLE);
            }
            return;
        }
        counters.publishesIn.incrementRelease();

        if (qos == 2 && !session.awaitingPubrel.add(packetId))
        {
            // A resent QoS 2 PUBLISH whose PUBREL has not come yet: already routed once.
            ackWhenDurable(connectionId, PacketType.PUBREC, packetId, ReasonCode.SUCCESS);
            return;
        }

        final int matched = route(buffer, messageOffset, messageLength, session.sessionId, MessageStore.NULL_HANDLE);
        if (qos == 2 && session.durableId != 0)
        {
            journal.received(session.durableId, packetId, true); // a resend after a restart is not routed again
        }
        if (qos > 0)
        {
            final int reason = matched == 0 && session.version == MqttVersion.V5 ?
                ReasonCode.NO_MATCHING_SUBSCRIBERS : ReasonCode.SUCCESS;
            ackWhenDurable(connectionId, qos == 1 ? PacketType.PUBACK : PacketType.PUBREC, packetId, reason);
        }
    }

    /**
     * A QoS 1/2 message the publish hook did not let through: answered in order with the publisher's other acks.
     * At QoS 2 a success-class answer opens the exchange like a routed message (PUBREL then gets PUBCOMP); a
     * resend whose first copy was accepted keeps that first answer.
     */
    private void onNotRouted(final long connectionId, final int qos, final int packetId, final int reason)
    {
        final Session session = sessionsByConnection.get(connectionId);
        if (session == null)
        {
            return; // nobody left to answer
        }
        if (qos == 1)
        {
            ackWhenDurable(connectionId, PacketType.PUBACK, packetId, reason);
            return;
        }
        if (session.awaitingPubrel.contains(packetId))
        {
            ackWhenDurable(connectionId, PacketType.PUBREC, packetId, ReasonCode.SUCCESS);
            return;
        }
        if (reason < ReasonCode.UNSPECIFIED_ERROR)
        {
            session.awaitingPubrel.add(packetId);
            if (session.durableId != 0)
            {
                journal.received(session.durableId, packetId, true);
            }
        }
        ackWhenDurable(connectionId, PacketType.PUBREC, packetId, reason);
    }

    private void onPubrel(final long connectionId, final int packetId)
    {
        final Session session = sessionsByConnection.get(connectionId);
        if (session == null)
        {
            return;
        }
        final boolean known = session.awaitingPubrel.remove(packetId);
        if (known && session.durableId != 0)
        {
            journal.received(session.durableId, packetId, false);
        }
        final int reason = known ? ReasonCode.SUCCESS : ReasonCode.PACKET_IDENTIFIER_NOT_FOUND;
        ackWhenDurable(connectionId, PacketType.PUBCOMP, packetId, reason);
    }

    /**
     * Routes one message to every matching subscription and stores it as retained if flagged.
     *
     * @param storedHandle the message's handle if it already lives in the store, else NULL_HANDLE.
     * @return the number of subscriptions it matched.
     */
    private int route(
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int publisherSessionId,
        final long storedHandle)
    {
        final int qos = MessageLayout.qos(buffer, offset);
        final boolean retain = MessageLayout.retain(buffer, offset);
        final int topicOffset = MessageLayout.topicOffset(offset);
        final int topicLength = MessageLayout.topicLength(buffer, offset);

        final long expiryDeadlineNs = expiryDeadline(buffer, offset);
        long handle = storedHandle;
        if (retain)
        {
            handle = updateRetained(buffer, offset, length, topicOffset, topicLength, handle);
            if (handle != MessageStore.NULL_HANDLE && expiryDeadlineNs != 0)
            {
                retainedExpiry.put(handle, expiryDeadlineNs);
            }
        }
        final boolean journaled = qos > 0 || retain;
        final long messageId = journaled ? nextMessageId++ : 0;
        if (journaled)
        {
            journal.beginMessage(messageId, retain ? JournalRecord.MESSAGE_FLAG_RETAINED : 0);
        }

        tree.match(buffer, topicOffset, topicLength, publisherSessionId, match, availability);
        final int count = match.size();
        if (count == 0)
        {
            if (journaled)
            {
                journal.endMessage(buffer, offset, length);
            }
            return 0;
        }

        out.beginBatch(buffer, offset, length);
        final int[] subscriptionIds = match.subscriptionIds();
        for (int i = 0; i < count; i++)
        {
            final Session session = sessionsById.get(match.sessionId(i));
            if (session == null)
            {
                continue;
            }
            final int deliveredQos = Math.min(qos, match.maxQos(i));
            final int flags = retain && match.retainAsPublished(i) ? Delivery.ENTRY_FLAG_RETAIN : 0;
            final int subscriptionIdCount = session.version == MqttVersion.V5 ? match.subscriptionIdCount(i) : 0;
            final int subscriptionIdOffset = match.subscriptionIdOffset(i);
            if (deliveredQos == 0)
            {
                if (session.isOnline())
                {
                    out.addEntry(session.connectionId, 0, 0, flags, subscriptionIds, subscriptionIdOffset,
                        subscriptionIdCount);
                }
                continue;
            }
            if (handle == MessageStore.NULL_HANDLE)
            {
                handle = store.store(buffer, offset, length); // the routing's own reference, released below
            }
            store.retain(handle); // the pending message's reference
            final PendingMessage pending = newPending(expiryDeadlineNs, handle, deliveredQos, flags != 0,
                subscriptionIds, subscriptionIdOffset, subscriptionIdCount);
            pending.messageId = messageId;
            pending.sharedGroup = match.isShared(i) ? match.sharedGroup(i) : null;
            if (session.durableId != 0)
            {
                journal.addTarget(session.durableId, deliveredQos, flags, subscriptionIds, subscriptionIdOffset,
                    subscriptionIdCount);
            }
            if (session.isOnline() && session.canSend() && session.queue.isEmpty())
            {
                startInFlight(session, pending);
                out.addEntry(session.connectionId, pending.packetId, deliveredQos, flags, subscriptionIds,
                    subscriptionIdOffset, subscriptionIdCount);
            }
            else
            {
                enqueue(session, pending);
            }
        }
        out.endBatch();
        if (journaled)
        {
            journal.endMessage(buffer, offset, length);
        }
        if (handle != MessageStore.NULL_HANDLE && handle != storedHandle)
        {
            store.release(handle); // the routing's own reference; queues and windows hold theirs
        }
        return count;
    }

    private long updateRetained(
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final int topicOffset,
        final int topicLength,
        final long storedHandle)
    {
        final Long previous;
        long handle = storedHandle;
        if (MessageLayout.payloadLength(buffer, offset) == 0)
        {
            previous = retained.remove(buffer, topicOffset, topicLength);
        }
        else
        {
            if (handle == MessageStore.NULL_HANDLE)
            {
                handle = store.store(buffer, offset, length); // reference owned by the routing, released after
            }
            store.retain(handle); // reference owned by the retained index
            previous = retained.put(buffer, topicOffset, topicLength, handle);
        }
        if (previous != null)
        {
            retainedExpiry.remove(previous);
            store.release(previous);
        }
        counters.retained.setRelease(retained.size());
        return handle;
    }

    private boolean isAvailable(final int sessionId)
    {
        final Session session = sessionsById.get(sessionId);
        return session != null && session.isOnline() && session.canSend();
    }

    // ------------------------------------------------------------------------------------------------ QoS 1/2 out

    /** The routing-clock instant a message's Message Expiry Interval ends, or 0 when it has none. */
    private long expiryDeadline(final DirectBuffer buffer, final int offset)
    {
        final int valueOffset = MessageLayout.expiryValueOffset(buffer, offset);
        if (valueOffset < 0)
        {
            return 0;
        }
        final long seconds = buffer.getInt(valueOffset, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
        return nowNs + TimeUnit.SECONDS.toNanos(seconds) | 1; // never 0, which means "no expiry"
    }

    private boolean isExpired(final long expiryDeadlineNs)
    {
        return expiryDeadlineNs != 0 && nowNs - expiryDeadlineNs >= 0;
    }

    /**
     * Rewrites the stored message's Message Expiry Interval to the time it has left, as forwarded messages must carry
     * [MQTT-3.3.2-6]; at least 1 s for a message whose delivery had already started before it expired.
     */
    private void patchRemainingExpiry(final org.agrona.MutableDirectBuffer buffer, final int offset, final long deadlineNs)
    {
        final int valueOffset = deadlineNs == 0 ? -1 : MessageLayout.expiryValueOffset(buffer, offset);
        if (valueOffset >= 0)
        {
            final long remaining = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadlineNs - nowNs + 999_999_999L));
            buffer.putInt(valueOffset, (int)remaining, java.nio.ByteOrder.BIG_ENDIAN);
        }
    }

    private PendingMessage newPending(
        final long expiryDeadlineNs,
        final long handle,
        final int qos,
        final boolean retain,
        final int[] subscriptionIds,
        final int subscriptionIdOffset,
        final int subscriptionIdCount)
    {
        PendingMessage pending = pendingPool.pollFirst();
        if (pending == null)
        {
            pending = new PendingMessage();
        }
        pending.expiryDeadlineNs = expiryDeadlineNs;
        pending.handle = handle;
        pending.length = handle == MessageStore.NULL_HANDLE ? 0 : store.length(handle);
        pending.qos = qos;
        pending.retain = retain;
        pending.state = PendingMessage.QUEUED;
        if (pending.subscriptionIds.length < subscriptionIdCount)
        {
            pending.subscriptionIds = new int[subscriptionIdCount];
        }
        System.arraycopy(subscriptionIds, subscriptionIdOffset, pending.subscriptionIds, 0, subscriptionIdCount);
        pending.subscriptionIdCount = subscriptionIdCount;
        return pending;
    }

    private void releasePending(final PendingMessage pending)
    {
        if (pending.handle != MessageStore.NULL_HANDLE)
        {
            store.release(pending.handle);
        }
        pending.reset();
        pendingPool.addLast(pending);
    }

    private void startInFlight(final Session session, final PendingMessage pending)
    {
        pending.packetId = session.nextPacketId();
        pending.state = pending.qos == 1 ? PendingMessage.AWAIT_PUBACK : PendingMessage.AWAIT_PUBREC;
        session.inFlight.put(pending.packetId, pending);
        session.inFlightOrder.addLast(pending);
        if (pending.qos == 2)
        {
            // The subscriber may keep this packet id: a resend after a restart must use it again (exactly once).
            journalDelivered(session, pending, JournalRecord.DELIVERED_SENT);
        }
    }

    /**
     * Queues behind a full window. The per-session limits (messages and bytes) apply to offline sessions: past them
     * a message is dropped and counted by the limit it hit. A connected subscriber's backlog is bounded instead by
     * the {@link PublishGate}, which holds publishers back, so nothing acknowledged is dropped because a live
     * subscriber is slower than its publishers.
     */
    private void enqueue(final Session session, final PendingMessage pending)
    {
        if (!session.isOnline())
        {
            if (session.queue.size() >= queueMaxMessages)
            {
                drop(session, pending, counters.queueDropped);
                return;
            }
            if (queueMaxBytes > 0 && session.queue.bytes() + pending.length > queueMaxBytes)
            {
                drop(session, pending, counters.queueDroppedBytes);
                return;
            }
        }
        session.queue.addLast(pending);
    }

    private void drop(final Session session, final PendingMessage pending, final AtomicCounter reason)
    {
        reason.incrementRelease();
        journalDelivered(session, pending, JournalRecord.DELIVERED_COMPLETE);
        releasePending(pending);
    }

    /** Sends queued messages while the session's window has room. */
    private void drainQueue(final Session session)
    {
        while (session.isOnline() && session.canSend() && !session.queue.isEmpty())
        {
            final PendingMessage pending = session.queue.pollFirst();
            if (isExpired(pending.expiryDeadlineNs))
            {
                // Expired before its delivery started: this copy is deleted [MQTT-3.3.2-5].
                counters.expired.incrementRelease();
                journalDelivered(session, pending, JournalRecord.DELIVERED_COMPLETE);
                releasePending(pending);
                continue;
            }
            startInFlight(session, pending);
            sendStored(session, pending, false);
        }
    }

    /** On reconnect: every unacknowledged message again, in order, with DUP; PUBREL for those past PUBREC. */
    private void resendInFlight(final Session session)
    {
        for (final PendingMessage pending : session.inFlightOrder)
        {
            if (pending.state == PendingMessage.AWAIT_PUBCOMP)
            {
                out.ack(session.connectionId, PacketType.PUBREL, pending.packetId, ReasonCode.SUCCESS);
            }
            else
            {
                sendStored(session, pending, true);
            }
        }
    }

    private void sendStored(final Session session, final PendingMessage pending, final boolean dup)
    {
        store.wrap(pending.handle, storedView);
        patchRemainingExpiry(storedView, 0, pending.expiryDeadlineNs);
        out.beginBatch(storedView, 0, storedView.capacity());
        int flags = pending.retain ? Delivery.ENTRY_FLAG_RETAIN : 0;
        flags |= dup || pending.redelivery ? Delivery.ENTRY_FLAG_DUP : 0;
        out.addEntry(session.connectionId, pending.packetId, pending.qos, flags, pending.subscriptionIds, 0,
            pending.subscriptionIdCount);
        out.endBatch();
    }

    private void onAck(final long connectionId, final int packetType, final int reasonCode, final int packetId)
    {
        final Session session = sessionsByConnection.get(connectionId);
        if (session == null)
        {
            return;
        }
        final PendingMessage pending = session.inFlight.get(packetId);
        if (pending == null)
        {
            if (packetType == PacketType.PUBREC)
            {
                out.ack(connectionId, PacketType.PUBREL, packetId, ReasonCode.PACKET_IDENTIFIER_NOT_FOUND);
            }
            return;
        }
        if (packetType == PacketType.PUBREC && pending.state == PendingMessage.AWAIT_PUBREC &&
            reasonCode < ReasonCode.UNSPECIFIED_ERROR)
        {
            pending.state = PendingMessage.AWAIT_PUBCOMP;
            journalDelivered(session, pending, JournalRecord.DELIVERED_RELEASED);
            store.release(pending.handle);
            pending.handle = MessageStore.NULL_HANDLE;
            out.ack(connectionId, PacketType.PUBREL, packetId, ReasonCode.SUCCESS);
            return;
        }
        final boolean completes =
            (packetType == PacketType.PUBACK && pending.state == PendingMessage.AWAIT_PUBACK) ||
            (packetType == PacketType.PUBCOMP && pending.state == PendingMessage.AWAIT_PUBCOMP) ||
            (packetType == PacketType.PUBREC && pending.state == PendingMessage.AWAIT_PUBREC);
        if (!completes)
        {
            return;
        }
        session.inFlight.remove(packetId);
        journalDelivered(session, pending, JournalRecord.DELIVERED_COMPLETE);
        if (session.inFlightOrder.peekFirst() == pending)
        {
            session.inFlightOrder.pollFirst();
        }
        else
        {
            session.inFlightOrder.remove(pending);
        }
        releasePending(pending);
        drainQueue(session);
    }

    // ------------------------------------------------------------------------------------------------ subscribe

    private void onSubscribe(final long connectionId, final DirectBuffer buffer, final int index)
    {
        final Session session = sessionsByConnection.get(connectionId);
        if (session == null)
        {
            return;
        }
        final int packetId = buffer.getShort(index + PACKET_ID_OFFSET) & 0xFFFF;
        final int count = buffer.getShort(index + SUBSCRIBE_COUNT_OFFSET) & 0xFFFF;
        final int subscriptionId = buffer.getInt(index + SUBSCRIBE_SUBSCRIPTION_ID_OFFSET);
        final byte[] reasons = reasons(count);
        int position = index + SUBSCRIBE_ENTRIES_OFFSET;
        for (int i = 0; i < count; i++)
        {
            final int options = buffer.getByte(position) & 0xFF;
            final int result = buffer.getByte(position + 1) & 0xFF;
            final int filterLength = buffer.getShort(position + 2) & 0xFFFF;
            final String filter = buffer.getStringWithoutLengthUtf8(position + 4, filterLength);
            position += 4 + filterLength;
            if (result != ReasonCode.SUCCESS)
            {
                reasons[i] = (byte)result;
                continue;
            }
            final AtomicCounter overQuota = quotaExceeded(session, filter);
            if (overQuota != null)
            {
                overQuota.incrementRelease();
                reasons[i] = (byte)(session.version == MqttVersion.V5 ?
                    ReasonCode.QUOTA_EXCEEDED : ReasonCode.V3_SUBACK_FAILURE);
                continue;
            }
            final boolean existed = tree.subscribe(filter, session.sessionId, options, subscriptionId);
            if (session.durableId != 0)
            {
                session.durableSubscriptions.put(filter, packSubscription(options, subscriptionId));
                journal.subscribe(session.durableId, filter, options, subscriptionId);
            }
            final int grantedQos = SubscriptionOptions.maxQos(options);
            reasons[i] = (byte)grantedQos;
            final int retainHandling = SubscriptionOptions.retainHandling(options);
            if (!TopicFilter.isShared(filter) &&
                (retainHandling == SubscriptionOptions.RETAIN_HANDLING_SEND ||
                (retainHandling == SubscriptionOptions.RETAIN_HANDLING_SEND_IF_NEW && !existed)))
            {
                pendingRetained.add(filter);
                pendingRetainedQos.add(grantedQos);
            }
        }
        counters.subscriptions.setRelease(tree.subscriptionCount());
        out.ackList(connectionId, PacketType.SUBACK, packetId, reasons, count);
        // Retained messages go after the SUBACK, as clients expect.
        for (int i = 0; i < pendingRetained.size(); i++)
        {
            sendRetained(session, pendingRetained.get(i), pendingRetainedQos.get(i), subscriptionId);
        }
        pendingRetained.clear();
        pendingRetainedQos.clear();
    }

    /**
     * The limit a new subscription would break, as the counter of its refusals; null when it is within both (a
     * SUBSCRIBE that replaces the session's own subscription to the same filter adds nothing and always is).
     */
    private AtomicCounter quotaExceeded(final Session session, final String filter)
    {
        if ((subscriptionsPerClientMax == 0 && subscribersPerFilterMax == 0) ||
            tree.hasSubscription(filter, session.sessionId))
        {
            return null;
        }
        if (subscriptionsPerClientMax > 0 && tree.subscriptionCount(session.sessionId) >= subscriptionsPerClientMax)
        {
            return counters.subscriptionsRefusedPerClient;
        }
        if (subscribersPerFilterMax > 0 && tree.subscriberCount(filter) >= subscribersPerFilterMax)
        {
            return counters.subscriptionsRefusedPerFilter;
        }
        return null;
    }

    private final ArrayList<String> pendingRetained = new ArrayList<>();
    private final org.agrona.collections.IntArrayList pendingRetainedQos = new org.agrona.collections.IntArrayList();
    private final int[] oneSubscriptionId = new int[1];

    private void sendRetained(final Session session, final String filter, final int grantedQos, final int subscriptionId)
    {
        oneSubscriptionId[0] = subscriptionId;
        final int subscriptionIdCount = subscriptionId != 0 && session.version == MqttVersion.V5 ? 1 : 0;
        retained.forEachMatch(filter, (topic, topicOffset, topicLength, handle) ->
        {
            final long expiryDeadlineNs = retainedExpiry.get(handle.longValue());
            if (isExpired(expiryDeadlineNs))
            {
                return; // an expired retained message is not delivered (it goes when the topic is next set)
            }
            store.wrap(handle, storedView);
            patchRemainingExpiry(storedView, 0, expiryDeadlineNs);
            final int qos = Math.min(MessageLayout.qos(storedView, 0), grantedQos);
            if (qos == 0)
            {
                out.beginBatch(storedView, 0, storedView.capacity());
                out.addEntry(session.connectionId, 0, 0, Delivery.ENTRY_FLAG_RETAIN, oneSubscriptionId, 0,
                    subscriptionIdCount);
                out.endBatch();
                return;
            }
            store.retain(handle);
            final PendingMessage pending =
                newPending(expiryDeadlineNs, handle, qos, true, oneSubscriptionId, 0, subscriptionIdCount);
            if (session.durableId != 0)
            {
                pending.messageId = nextMessageId++;
                journal.beginMessage(pending.messageId, 0);
                journal.addTarget(session.durableId, qos, Delivery.ENTRY_FLAG_RETAIN, oneSubscriptionId, 0,
                    subscriptionIdCount);
                journal.endMessage(storedView, 0, storedView.capacity());
            }
            if (session.canSend() && session.queue.isEmpty())
            {
                startInFlight(session, pending);
                sendStored(session, pending, false);
            }
            else
            {
                enqueue(session, pending);
            }
        });
    }

    private void onUnsubscribe(final long connectionId, final DirectBuffer buffer, final int index)
    {
        final Session session = sessionsByConnection.get(connectionId);
        if (session == null)
        {
            return;
        }
        final int packetId = buffer.getShort(index + PACKET_ID_OFFSET) & 0xFFFF;
        final int count = buffer.getShort(index + UNSUBSCRIBE_COUNT_OFFSET) & 0xFFFF;
        final byte[] reasons = reasons(count);
        int position = index + UNSUBSCRIBE_ENTRIES_OFFSET;
        for (int i = 0; i < count; i++)
        {
            final int filterLength = buffer.getShort(position) & 0xFFFF;
            final String filter = buffer.getStringWithoutLengthUtf8(position + SIZE_OF_SHORT, filterLength);
            position += SIZE_OF_SHORT + filterLength;
            reasons[i] = (byte)(tree.unsubscribe(filter, session.sessionId) ?
                ReasonCode.SUCCESS : ReasonCode.NO_SUBSCRIPTION_EXISTED);
            if (session.durableId != 0 && session.durableSubscriptions.remove(filter) != null)
            {
                journal.unsubscribe(session.durableId, filter);
            }
        }
        counters.subscriptions.setRelease(tree.subscriptionCount());
        out.ackList(connectionId, PacketType.UNSUBACK, packetId, reasons, count);
    }

    private byte[] reasons(final int count)
    {
        if (reasonScratch.length < count)
        {
            reasonScratch = new byte[count];
        }
        return reasonScratch;
    }

    @Override
    public void onClose()
    {
        for (final Session session : sessionsById.values())
        {
            if (session.willHandle != MessageStore.NULL_HANDLE)
            {
                store.release(session.willHandle);
                session.willHandle = MessageStore.NULL_HANDLE;
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ journal

    private static long packSubscription(final int options, final int subscriptionId)
    {
        return ((long)subscriptionId << 32) | (options & 0xFF);
    }

    private void journalDelivered(final Session session, final PendingMessage pending, final int state)
    {
        if (session.durableId != 0 && pending.messageId != 0)
        {
            journal.delivered(session.durableId, pending.messageId, state, pending.packetId);
        }
    }

    /**
     * Writes the whole durable state (persistent sessions, their subscriptions and what they are owed, retained
     * messages) as a checkpoint: once it is durable the journal drops everything before it.
     */
    public void writeCheckpoint()
    {
        final long startNs = System.nanoTime();
        log.beginCheckpoint();
        int messages = 0;
        for (final Session session : sessionsById.values())
        {
            if (session.durableId == 0)
            {
                continue;
            }
            journal.session(session);
            if (session.offline)
            {
                journal.sessionOffline(session);
            }
            for (final Map.Entry<String, Long> entry : session.durableSubscriptions.entrySet())
            {
                final long packed = entry.getValue();
                journal.subscribe(session.durableId, entry.getKey(), (int)(packed & 0xFF), (int)(packed >>> 32));
            }
            final org.agrona.collections.IntHashSet.IntIterator received = session.awaitingPubrel.iterator();
            while (received.hasNext())
            {
                journal.received(session.durableId, received.nextValue(), true);
            }
            for (final PendingMessage pending : session.inFlightOrder)
            {
                messages += checkpointPending(session, pending);
            }
            for (final PendingMessage pending : session.queue)
            {
                messages += checkpointPending(session, pending);
            }
        }
        retained.forEachMatch("#", (topic, topicOffset, topicLength, handle) ->
        {
            store.wrap(handle, storedView);
            journal.beginMessage(0, JournalRecord.MESSAGE_FLAG_RETAINED);
            journal.endMessage(storedView, 0, storedView.capacity());
        });
        log.endCheckpoint();
        lastCheckpointBytes = log.bytesSinceCheckpoint();
        LOG.log(Level.DEBUG, "journal checkpoint: " + sessionsById.size() + " session(s), " + messages +
            " owed message(s), " + retained.size() + " retained, " + lastCheckpointBytes + " bytes, " +
            TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - startNs) + " us");
    }

    private int checkpointPending(final Session session, final PendingMessage pending)
    {
        if (pending.messageId == 0)
        {
            pending.messageId = nextMessageId++;
        }
        if (pending.state == PendingMessage.AWAIT_PUBCOMP)
        {
            journal.delivered(session.durableId, pending.messageId, JournalRecord.DELIVERED_RELEASED, pending.packetId);
            return 1;
        }
        store.wrap(pending.handle, storedView);
        journal.beginMessage(pending.messageId, 0);
        journal.addTarget(session.durableId, pending.qos, pending.retain ? Delivery.ENTRY_FLAG_RETAIN : 0,
            pending.subscriptionIds, 0, pending.subscriptionIdCount);
        journal.endMessage(storedView, 0, storedView.capacity());
        if (pending.state == PendingMessage.AWAIT_PUBREC)
        {
            journal.delivered(session.durableId, pending.messageId, JournalRecord.DELIVERED_SENT, pending.packetId);
        }
        return 1;
    }

    /** Replays the journal into this agent, before its thread starts; then writes a fresh checkpoint. */
    public void replay()
    {
        final long startNs = System.nanoTime();
        nowNs = clock.nanoTime();
        replaying = true;
        replayRecords = 0;
        try
        {
            log.replay(this::onReplayRecord);
            finishReplay();
        }
        finally
        {
            replaying = false;
        }
        int owed = 0;
        for (final Session session : sessionsById.values())
        {
            owed += session.inFlight.size() + session.queue.size();
        }
        LOG.log(Level.INFO, "journal replayed in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs) +
            " ms: " + replayRecords + " record(s); restored " + sessionsById.size() + " persistent session(s), " +
            tree.subscriptionCount() + " subscription(s), " + owed + " owed message(s), " + retained.size() +
            " retained message(s)");
        writeCheckpoint();
    }

    private void onReplayRecord(final DirectBuffer buffer, final int offset, final int length)
    {
        replayRecords++;
        final int type = buffer.getByte(offset + JournalRecord.TYPE_OFFSET);
        final long durableId = buffer.getLong(offset + JournalRecord.DURABLE_ID_OFFSET);
        switch (type)
        {
            case JournalRecord.SESSION ->
            {
                final int clientIdLength = buffer.getShort(offset + JournalRecord.SESSION_CLIENT_ID_OFFSET) & 0xFFFF;
                final String clientId = buffer.getStringWithoutLengthUtf8(
                    offset + JournalRecord.SESSION_CLIENT_ID_OFFSET + SIZE_OF_SHORT, clientIdLength);
                Session session = replaySessions.get(durableId);
                if (session == null)
                {
                    final Session previous = sessionsByClientId.get(clientId);
                    if (previous != null)
                    {
                        endSession(previous);
                    }
                    session = new Session(allocateSessionId(), clientId);
                    session.durableId = durableId;
                    session.offline = true;
                    session.offlineSinceEpochMs = System.currentTimeMillis();
                    session.replayIndex = new Long2ObjectHashMap<>();
                    sessionsByClientId.put(clientId, session);
                    sessionsById.put(session.sessionId, session);
                    replaySessions.put(durableId, session);
                }
                session.version = buffer.getInt(offset + JournalRecord.SESSION_VERSION_OFFSET);
                session.expiryInterval = buffer.getLong(offset + JournalRecord.SESSION_EXPIRY_OFFSET);
                session.sendWindow = inflightMax;
                nextDurableId = Math.max(nextDurableId, durableId + 1);
            }
            case JournalRecord.SESSION_OFFLINE ->
            {
                final Session session = replaySessions.get(durableId);
                if (session != null)
                {
                    session.expiryInterval = buffer.getLong(offset + JournalRecord.OFFLINE_EXPIRY_OFFSET);
                    session.offlineSinceEpochMs = buffer.getLong(offset + JournalRecord.OFFLINE_SINCE_OFFSET);
                }
            }
            case JournalRecord.SESSION_END ->
            {
                final Session session = replaySessions.get(durableId);
                if (session != null)
                {
                    endSession(session);
                }
            }
            case JournalRecord.SUBSCRIBE ->
            {
                final Session session = replaySessions.get(durableId);
                if (session != null)
                {
                    final int options = buffer.getByte(offset + JournalRecord.SUBSCRIBE_OPTIONS_OFFSET) & 0xFF;
                    final int subscriptionId = buffer.getInt(offset + JournalRecord.SUBSCRIBE_ID_OFFSET);
                    final int filterLength = buffer.getShort(offset + JournalRecord.SUBSCRIBE_FILTER_OFFSET) & 0xFFFF;
                    final String filter = buffer.getStringWithoutLengthUtf8(
                        offset + JournalRecord.SUBSCRIBE_FILTER_OFFSET + SIZE_OF_SHORT, filterLength);
                    tree.subscribe(filter, session.sessionId, options, subscriptionId);
                    session.durableSubscriptions.put(filter, packSubscription(options, subscriptionId));
                }
            }
            case JournalRecord.UNSUBSCRIBE ->
            {
                final Session session = replaySessions.get(durableId);
                if (session != null)
                {
                    final int filterLength = buffer.getShort(offset + JournalRecord.UNSUBSCRIBE_FILTER_OFFSET) & 0xFFFF;
                    final String filter = buffer.getStringWithoutLengthUtf8(
                        offset + JournalRecord.UNSUBSCRIBE_FILTER_OFFSET + SIZE_OF_SHORT, filterLength);
                    tree.unsubscribe(filter, session.sessionId);
                    session.durableSubscriptions.remove(filter);
                }
            }
            case JournalRecord.MESSAGE -> replayMessage(buffer, offset, length);
            case JournalRecord.DELIVERED -> replayDelivered(buffer, offset, durableId);
            case JournalRecord.RECEIVED ->
            {
                final Session session = replaySessions.get(durableId);
                if (session != null)
                {
                    final int packetId = buffer.getShort(offset + JournalRecord.DELIVERED_PACKET_ID_OFFSET) & 0xFFFF;
                    if (buffer.getByte(offset + JournalRecord.DELIVERED_STATE_OFFSET) != 0)
                    {
                        session.awaitingPubrel.add(packetId);
                    }
                    else
                    {
                        session.awaitingPubrel.remove(packetId);
                    }
                }
            }
            default -> LOG.log(Level.WARNING, "journal: unknown record type " + type + " skipped");
        }
    }

    private void replayMessage(final DirectBuffer buffer, final int offset, final int length)
    {
        final int flags = buffer.getByte(offset + JournalRecord.MESSAGE_FLAGS_OFFSET);
        final int targetCount = buffer.getInt(offset + JournalRecord.MESSAGE_TARGET_COUNT_OFFSET);
        final long messageId = buffer.getLong(offset + JournalRecord.MESSAGE_ID_OFFSET);
        nextMessageId = Math.max(nextMessageId, messageId + 1);
        int position = offset + JournalRecord.MESSAGE_TARGETS_OFFSET;
        for (int i = 0; i < targetCount; i++)
        {
            final int count = buffer.getShort(position + JournalRecord.TARGET_SUBSCRIPTION_ID_COUNT_OFFSET) & 0xFFFF;
            position += JournalRecord.TARGET_SUBSCRIPTION_IDS_OFFSET + count * SIZE_OF_INT;
        }
        final int messageOffset = position;
        final int messageLength = offset + length - position;
        final long handle = store.store(buffer, messageOffset, messageLength);
        if ((flags & JournalRecord.MESSAGE_FLAG_RETAINED) != 0)
        {
            final int topicOffset = MessageLayout.topicOffset(messageOffset);
            final int topicLength = MessageLayout.topicLength(buffer, messageOffset);
            updateRetained(buffer, messageOffset, messageLength, topicOffset, topicLength, handle);
        }
        position = offset + JournalRecord.MESSAGE_TARGETS_OFFSET;
        for (int i = 0; i < targetCount; i++)
        {
            final long durableId = buffer.getLong(position);
            final int qos = buffer.getByte(position + JournalRecord.TARGET_QOS_OFFSET);
            final int targetFlags = buffer.getByte(position + JournalRecord.TARGET_FLAGS_OFFSET);
            final int count = buffer.getShort(position + JournalRecord.TARGET_SUBSCRIPTION_ID_COUNT_OFFSET) & 0xFFFF;
            if (replayIds.length < count)
            {
                replayIds = new int[count];
            }
            for (int j = 0; j < count; j++)
            {
                replayIds[j] = buffer.getInt(position + JournalRecord.TARGET_SUBSCRIPTION_IDS_OFFSET + j * SIZE_OF_INT);
            }
            position += JournalRecord.TARGET_SUBSCRIPTION_IDS_OFFSET + count * SIZE_OF_INT;
            final Session session = replaySessions.get(durableId);
            if (session == null)
            {
                continue;
            }
            store.retain(handle);
            final PendingMessage pending = newPending(0, handle, qos, (targetFlags & Delivery.ENTRY_FLAG_RETAIN) != 0,
                replayIds, 0, count);
            pending.messageId = messageId;
            pending.redelivery = true;
            session.queue.addLast(pending);
            session.replayIndex.put(messageId, pending);
        }
        store.release(handle);
    }

    private int[] replayIds = new int[8];

    private void replayDelivered(final DirectBuffer buffer, final int offset, final long durableId)
    {
        final Session session = replaySessions.get(durableId);
        if (session == null)
        {
            return;
        }
        final int state = buffer.getByte(offset + JournalRecord.DELIVERED_STATE_OFFSET);
        final int packetId = buffer.getShort(offset + JournalRecord.DELIVERED_PACKET_ID_OFFSET) & 0xFFFF;
        final long messageId = buffer.getLong(offset + JournalRecord.DELIVERED_MESSAGE_ID_OFFSET);
        nextMessageId = Math.max(nextMessageId, messageId + 1);
        PendingMessage pending = session.replayIndex.get(messageId);
        if (state == JournalRecord.DELIVERED_SENT)
        {
            if (pending != null && pending.state == PendingMessage.QUEUED)
            {
                pending.state = PendingMessage.AWAIT_PUBREC;
                pending.packetId = packetId;
            }
        }
        else if (state == JournalRecord.DELIVERED_RELEASED)
        {
            if (pending == null)
            {
                // From a checkpoint: only the PUBREL is owed.
                pending = newPending(0, MessageStore.NULL_HANDLE, 2, false, oneSubscriptionId, 0, 0);
                pending.messageId = messageId;
                session.replayIndex.put(messageId, pending);
            }
            else if (pending.handle != MessageStore.NULL_HANDLE)
            {
                store.release(pending.handle);
                pending.handle = MessageStore.NULL_HANDLE;
            }
            pending.state = PendingMessage.AWAIT_PUBCOMP;
            pending.packetId = packetId;
        }
        else if (pending != null)
        {
            if (pending.state == PendingMessage.AWAIT_PUBCOMP)
            {
                pending.packetId = 0;
            }
            pending.state = PendingMessage.REPLAY_DONE;
            session.replayIndex.remove(messageId);
        }
    }

    private void finishReplay()
    {
        final long nowEpochMs = System.currentTimeMillis();
        offlineScratch.clear();
        for (final Session session : sessionsById.values())
        {
            // QoS 2 messages sent or released become in flight again under their packet ids (resent with DUP, or
            // PUBREL, on reconnect); those acknowledged since they were journaled are dropped; the rest wait in order.
            final int queued = session.queue.size();
            for (int i = 0; i < queued; i++)
            {
                final PendingMessage pending = session.queue.pollFirst();
                if (pending.state == PendingMessage.QUEUED)
                {
                    session.queue.addLast(pending);
                }
                else if (pending.state == PendingMessage.REPLAY_DONE)
                {
                    releasePending(pending);
                }
                else
                {
                    restoreInFlight(session, pending);
                }
            }
            for (final PendingMessage pending : session.replayIndex.values())
            {
                if (pending.state == PendingMessage.AWAIT_PUBCOMP && session.inFlight.get(pending.packetId) != pending)
                {
                    restoreInFlight(session, pending); // from a checkpoint: only the PUBREL is owed
                }
            }
            session.replayIndex = null;
            final long offlineMs = Math.max(0, nowEpochMs - session.offlineSinceEpochMs);
            if (session.expiryInterval == Session.NEVER)
            {
                session.expiryDeadlineNs = Long.MAX_VALUE;
            }
            else
            {
                final long remainingMs = TimeUnit.SECONDS.toMillis(session.expiryInterval) - offlineMs;
                session.expiryDeadlineNs = nowNs + TimeUnit.MILLISECONDS.toNanos(remainingMs);
                if (remainingMs <= 0)
                {
                    offlineScratch.add(session);
                }
            }
        }
        for (final Session session : offlineScratch)
        {
            endSession(session);
        }
        offlineScratch.clear();
        replaySessions.clear();
        counters.sessions.set(sessionsById.size());
        counters.subscriptions.set(tree.subscriptionCount());
    }

    private void restoreInFlight(final Session session, final PendingMessage pending)
    {
        if (session.inFlight.containsKey(pending.packetId))
        {
            // Two owed messages under one packet id cannot both be in flight: send this one again under a new id.
            if (pending.handle != MessageStore.NULL_HANDLE)
            {
                pending.state = PendingMessage.QUEUED;
                session.queue.addLast(pending);
            }
            else
            {
                releasePending(pending);
            }
            return;
        }
        session.inFlight.put(pending.packetId, pending);
        session.inFlightOrder.addLast(pending);
    }

    /** For tests and status: publisher acknowledgements waiting for the journal. */
    public int pendingAckCount()
    {
        return pendingAcks.size();
    }

    /** For tests and status: number of sessions, online or not. */
    public int sessionCount()
    {
        return sessionsById.size();
    }


}
