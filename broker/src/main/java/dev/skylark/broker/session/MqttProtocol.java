package dev.skylark.broker.session;

import dev.skylark.broker.auth.AccessControl;
import dev.skylark.broker.auth.AccessRules;
import dev.skylark.broker.auth.ClientAccess;
import dev.skylark.broker.auth.AuthMethods;
import dev.skylark.broker.auth.Authenticator;
import dev.skylark.broker.hook.PublishHookProxy;
import dev.skylark.broker.net.Connection;
import dev.skylark.broker.net.ConnectionHandler;
import dev.skylark.broker.net.ConnectionHandlerFactory;
import dev.skylark.broker.net.DutyCycleHook;
import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.routing.AccessUpdates;
import dev.skylark.broker.routing.Delivery;
import dev.skylark.broker.routing.MessageLayout;
import dev.skylark.broker.routing.RouterProxy;
import dev.skylark.codec.mqtt.AuthDecoder;
import dev.skylark.codec.mqtt.ConnectDecoder;
import dev.skylark.codec.mqtt.DisconnectDecoder;
import dev.skylark.codec.mqtt.PingDecoder;
import dev.skylark.codec.mqtt.PubAckDecoder;
import dev.skylark.codec.mqtt.PublishDecoder;
import dev.skylark.codec.mqtt.SubscribeDecoder;
import dev.skylark.codec.mqtt.UnsubscribeDecoder;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.LongArrayList;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.util.ArrayList;
import java.util.List;

import static dev.skylark.broker.routing.Delivery.*;

/**
 * The MQTT protocol layer of one I/O agent: creates a {@link MqttConnectionHandler} per connection, and on every
 * duty cycle drains the routing agent's deliveries into the connections' outbound buffers. Holds the flyweights,
 * scratch buffers and stateless parts ({@link ConnectHandshake}, {@link PublishAdmission},
 * {@link SubscriptionAdmission}, {@link OutboundPacketWriter}, {@link PacketRateLimiter}) its connections share
 * (one thread, so sharing is safe and allocation-free).
 */
public final class MqttProtocol implements ConnectionHandlerFactory, DutyCycleHook, MessageHandler
{
    private static final int DELIVERY_LIMIT = 256;

    final SessionLimits limits;
    final RouterProxy router;
    final ProtocolCounters counters;
    final ConnectDecoder connectDecoder = new ConnectDecoder();
    final PublishDecoder publishDecoder = new PublishDecoder();
    final PubAckDecoder ackDecoder = new PubAckDecoder();
    final SubscribeDecoder subscribeDecoder = new SubscribeDecoder();
    final UnsubscribeDecoder unsubscribeDecoder = new UnsubscribeDecoder();
    final DisconnectDecoder disconnectDecoder = new DisconnectDecoder();
    final PingDecoder pingDecoder = new PingDecoder();
    final AuthDecoder authDecoder = new AuthDecoder();
    /** Scratch for property blocks built per packet (forwarded properties, CONNACK properties). */
    final ExpandableArrayBuffer scratch = new ExpandableArrayBuffer(1024);
    final ExpandableArrayBuffer propertyScratch = new ExpandableArrayBuffer(1024);
    /** Each SUBSCRIBE entry's options and the I/O side's verdict, two bytes an entry, for the router proxy. */
    final ExpandableArrayBuffer subscriptionScratch = new ExpandableArrayBuffer(256);
    /** Connect/disconnect lines and error lines are limited separately, so errors never hide the normal traffic. */
    final LogLimiter connectionLog = new LogLimiter();
    final LogLimiter errorLog = new LogLimiter();

    /** Decides every CONNECT's token (shared by all agents, thread-safe); NONE unless the broker sets one. */
    Authenticator authenticator = Authenticator.NONE;
    /** Enhanced authentication methods by name (shared, never changed after start); none unless the broker sets them. */
    AuthMethods authMethods = AuthMethods.NONE;
    /** The authorization rules file in force (shared, thread-safe); NONE unless the broker sets one. */
    AccessControl accessControl = AccessControl.NONE;
    /** Topic prefixes the broker owns (clients may not publish there), as bytes. */
    UnsafeBuffer[] reservedPrefixes = prefixes(List.of("$SYS/"));
    /** Hands each connection's access over to the routing agent for its re-checks; null when nothing needs them. */
    AccessUpdates accessUpdates;
    /** Lines naming the rule that refused a PUBLISH or SUBSCRIBE. */
    final LogLimiter accessLog = new LogLimiter();
    private String accessLogPrefix = "";
    private static final System.Logger ACCESS_LOG = System.getLogger("dev.skylark.broker.auth.access");
    /** The publish hook's queue, or null when no hook is configured. */
    PublishHookProxy hook;
    /** Wall-clock time for the publish hook's "received at"; the system clock unless the broker injects one. */
    EpochClock epochClock = SystemEpochClock.INSTANCE;
    /**
     * The I/O thread's time as of its latest duty cycle, packet or tick; never read from a clock here. Good for log
     * rate limits and for marking when a subscriber fell behind.
     */
    long nowNs;

    // The connections' shared parts: stateless between calls, so one of each serves every connection of this thread.
    final PacketRateLimiter rateLimiter;
    final ConnectHandshake handshake = new ConnectHandshake(this);
    final PublishAdmission publishAdmission = new PublishAdmission(this);
    final SubscriptionAdmission subscriptionAdmission = new SubscriptionAdmission(this);
    final OutboundPacketWriter writer = new OutboundPacketWriter(this);

    private final RingBuffer deliveries;
    private IoAgent agent;
    private final ArrayList<Connection> blocked = new ArrayList<>();
    private final ArrayList<Connection> blockedScratch = new ArrayList<>();
    private final LongArrayList deferredDisconnects = new LongArrayList();
    private long clientIdSequence;
    /** See {@link #leaveServerReference}; null: none. */
    String leaveServerReference;
    private final long clientIdPrefix = System.nanoTime();

    public MqttProtocol(
        final SessionLimits limits,
        final RouterProxy router,
        final RingBuffer deliveries,
        final ProtocolCounters counters)
    {
        this.limits = limits;
        this.router = router;
        this.deliveries = deliveries;
        this.counters = counters;
        this.rateLimiter = new PacketRateLimiter(limits.ratePacketsPerSecond(), limits.rateBurst());
    }

    /** The agent this protocol runs on (set once, before it starts). */
    /**
     * The Server Reference a clustered node's v5 clients get with DISCONNECT 0x9C Use another server when the node
     * leaves (shuts down); null: 0x8B Server shutting down.
     */
    public void leaveServerReference(final String reference)
    {
        this.leaveServerReference = reference;
    }

    public void agent(final IoAgent agent)
    {
        this.agent = agent;
    }

    /** How CONNECTs are authenticated (set once, before the agent starts). */
    public void authenticator(final Authenticator authenticator)
    {
        this.authenticator = authenticator;
    }

    /** Enhanced authentication methods (set once, before the agent starts). */
    public void authMethods(final AuthMethods authMethods)
    {
        this.authMethods = authMethods;
    }

    /**
     * Authorization rules and the broker's own topic prefixes (set once, before the agent starts).
     *
     * @param updates where each connection's access is handed to the routing agent (null: no re-checks).
     */
    public void accessControl(
        final AccessControl control, final List<String> reservedPrefixes, final AccessUpdates updates)
    {
        this.accessControl = control;
        this.reservedPrefixes = prefixes(reservedPrefixes);
        this.accessUpdates = updates;
    }

    private static UnsafeBuffer[] prefixes(final List<String> prefixes)
    {
        final UnsafeBuffer[] buffers = new UnsafeBuffer[prefixes.size()];
        for (int i = 0; i < buffers.length; i++)
        {
            buffers[i] = new UnsafeBuffer(prefixes.get(i).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return buffers;
    }

    /** Is the topic under a prefix the broker owns ("$SYS/" also owns "$SYS")? Allocation-free. */
    boolean reservedTopic(final DirectBuffer topic, final int offset, final int length)
    {
        for (final UnsafeBuffer prefix : reservedPrefixes)
        {
            final int prefixLength = prefix.capacity();
            final boolean slashEnded = prefixLength > 0 && prefix.getByte(prefixLength - 1) == '/';
            final int compared = length >= prefixLength ? prefixLength :
                slashEnded && length == prefixLength - 1 ? length : -1;
            if (compared >= 0 && startsWith(topic, offset, prefix, compared))
            {
                return true;
            }
        }
        return false;
    }

    private static boolean startsWith(
        final DirectBuffer topic, final int offset, final UnsafeBuffer prefix, final int n)
    {
        for (int i = 0; i < n; i++)
        {
            if (topic.getByte(offset + i) != prefix.getByte(i))
            {
                return false;
            }
        }
        return true;
    }

    /** Is a line about a denial due (at most {@link LogLimiter#LINES_PER_SECOND} a second on this thread)? */
    boolean accessLogAdmits()
    {
        final String prefix = accessLog.admit(nowNs);
        if (prefix == null)
        {
            return false;
        }
        accessLogPrefix = prefix;
        return true;
    }

    /** Writes a denial line admitted by {@link #accessLogAdmits()}; control characters shown as '?'. */
    void logAccess(final String line)
    {
        final StringBuilder text = new StringBuilder(accessLogPrefix.length() + line.length()).append(accessLogPrefix);
        for (int i = 0; i < line.length(); i++)
        {
            final char c = line.charAt(i);
            text.append(Character.isISOControl(c) ? '?' : c);
        }
        ACCESS_LOG.log(System.Logger.Level.WARNING, text.toString());
    }

    /**
     * The connection's rules (compiled for its client id and user name), compiled again when the rules were reloaded:
     * one volatile read per call, allocation only after a reload.
     */
    ClientAccess access(final MqttConnectionHandler handler)
    {
        final AccessRules rules = accessControl.current();
        ClientAccess access = handler.access;
        if (access == null || access.rules() != rules)
        {
            access = handler.access = rules.forClient(handler.clientId, handler.userName);
        }
        return access;
    }

    /**
     * Hands the connection's access (token and rules) to the routing agent, which re-checks a resumed session or a
     * re-authenticated one with it. Nothing when neither the token nor a rules file restricts anything.
     */
    void offerAccess(final MqttConnectionHandler handler)
    {
        if (accessUpdates == null ||
            (!accessControl.enabled() && handler.grant.subscribeAcl().unrestricted() && !handler.accessOffered))
        {
            return; // (once offered, a re-authentication always offers again: its wider access replaces the old)
        }
        accessUpdates.offer(handler.connection.id(),
            new GrantedAccess(accessControl, access(handler), handler.grant.subscribeAcl()));
        handler.accessOffered = true;
    }

    /** The wall clock for the publish hook's timestamps (set once, before the agent starts). */
    public void epochClock(final EpochClock epochClock)
    {
        this.epochClock = epochClock;
    }

    /** Messages on the hook's topics go to it before they are routed (set once, before the agent starts). */
    public void hook(final PublishHookProxy hook)
    {
        this.hook = hook;
    }

    @Override
    public ConnectionHandler newHandler(final Connection connection)
    {
        counters.connections.incrementRelease();
        counters.clientConnection(connection.transport(), 1);
        return new MqttConnectionHandler(this, connection);
    }

    @Override
    public int doWork(final long nowNs)
    {
        this.nowNs = nowNs;
        int work = deliveries.read(this, DELIVERY_LIMIT);
        work += retryBlocked();
        return work;
    }

    @Override
    public boolean hasWork()
    {
        return deliveries.size() > 0;
    }

    @Override
    public boolean hasRetries()
    {
        return !blocked.isEmpty() || !deferredDisconnects.isEmpty();
    }

    /** A connection whose packet found the routing ring full: offered again next cycle. */
    void blocked(final Connection connection)
    {
        counters.inboundBackPressure.incrementRelease();
        blocked.add(connection);
    }

    /** Tells the router a connection ended; kept and retried if its ring is full, never lost. */
    void disconnect(final long connectionId, final int kind, final long sessionExpiry)
    {
        if (!deferredDisconnects.isEmpty() || !router.disconnect(connectionId, kind, sessionExpiry))
        {
            deferredDisconnects.addLong(connectionId);
            deferredDisconnects.addLong(((long)kind << 32) | (sessionExpiry & 0xFFFF_FFFFL));
        }
    }

    private int retryBlocked()
    {
        int work = 0;
        while (!deferredDisconnects.isEmpty())
        {
            final long connectionId = deferredDisconnects.getLong(0);
            final long packed = deferredDisconnects.getLong(1);
            if (!router.disconnect(connectionId, (int)(packed >>> 32), (int)packed))
            {
                return work;
            }
            deferredDisconnects.removeAt(1);
            deferredDisconnects.removeAt(0);
            work++;
        }
        if (blocked.isEmpty())
        {
            return work;
        }
        blockedScratch.addAll(blocked);
        blocked.clear();
        for (int i = 0; i < blockedScratch.size(); i++)
        {
            blockedScratch.get(i).resumeReading();
        }
        blockedScratch.clear();
        // Progress is counted by the packets that went through, not by the attempt: a refused retry is idle time.
        return work;
    }

    String assignClientId()
    {
        return "skylark-" + Long.toHexString(clientIdPrefix) + "-" + (++clientIdSequence) + "-" + agent.index();
    }

    @Override
    public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        switch (msgTypeId)
        {
            case Delivery.PUBLISH -> onPublish(buffer, index, length);
            case Delivery.ACK ->
            {
                final MqttConnectionHandler handler = handler(buffer.getLong(index));
                if (handler != null)
                {
                    handler.sendAck(
                        buffer.getByte(index + ACK_PACKET_TYPE_OFFSET),
                        buffer.getShort(index + ACK_PACKET_ID_OFFSET) & 0xFFFF,
                        buffer,
                        index + ACK_REASONS_OFFSET,
                        buffer.getInt(index + ACK_COUNT_OFFSET));
                }
            }
            case Delivery.CONNACK ->
            {
                final MqttConnectionHandler handler = handler(buffer.getLong(index));
                if (handler != null)
                {
                    handler.onConnack(
                        buffer.getByte(index + CONNACK_SESSION_PRESENT_OFFSET) != 0,
                        buffer.getByte(index + CONNACK_REASON_OFFSET) & 0xFF,
                        buffer.getInt(index + CONNACK_SESSION_EXPIRY_OFFSET) & 0xFFFF_FFFFL,
                        buffer.getInt(index + CONNACK_RECEIVE_MAXIMUM_OFFSET));
                }
            }
            case Delivery.DISCONNECT ->
            {
                final MqttConnectionHandler handler = handler(buffer.getLong(index));
                if (handler != null)
                {
                    handler.onServerDisconnect(buffer.getByte(index + DISCONNECT_REASON_OFFSET) & 0xFF);
                }
            }
            default ->
            {
            }
        }
    }

    private void onPublish(final MutableDirectBuffer buffer, final int index, final int length)
    {
        final int count = buffer.getInt(index + PUBLISH_COUNT_OFFSET);
        final int messageOffset = index + PUBLISH_MESSAGE_OFFSET;
        int entry = messageOffset + MessageLayout.length(buffer, messageOffset);
        for (int i = 0; i < count; i++)
        {
            final long connectionId = buffer.getLong(entry + ENTRY_CONNECTION_ID_OFFSET);
            final int subscriptionIdCount = buffer.getInt(entry + ENTRY_SUBSCRIPTION_ID_COUNT_OFFSET);
            final MqttConnectionHandler handler = handler(connectionId);
            if (handler != null)
            {
                handler.deliver(
                    buffer,
                    messageOffset,
                    buffer.getShort(entry + ENTRY_PACKET_ID_OFFSET) & 0xFFFF,
                    buffer.getByte(entry + ENTRY_QOS_OFFSET),
                    buffer.getByte(entry + ENTRY_FLAGS_OFFSET),
                    entry + ENTRY_SUBSCRIPTION_IDS_OFFSET,
                    subscriptionIdCount);
            }
            entry += ENTRY_SUBSCRIPTION_IDS_OFFSET + subscriptionIdCount * 4;
        }
    }

    private MqttConnectionHandler handler(final long connectionId)
    {
        final Connection connection = agent.connection(connectionId);
        return connection != null ? (MqttConnectionHandler)connection.handler() : null;
    }
}
