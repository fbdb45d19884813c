package dev.skylark.broker.cluster;

import dev.skylark.broker.routing.ClusterLink;
import dev.skylark.broker.routing.MessageLayout;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.skylark.broker.routing.ClusterLink.NO_NODE;

/**
 * The cluster registry: a pure, deterministic state machine fed the committed Raft log, one command at a time, on
 * every member. No Aeron types and no wall clock: the only time it knows is the log timestamp given with each
 * command. Every map is ordered, so the events it emits, its snapshot and its {@link #stateHash()} depend on the
 * log alone.
 * <p>
 * State: live nodes (node id ↔ the cluster session that said {@code HELLO}), client-id ownership (owner node and
 * epoch; one epoch counter for the whole cluster, so epochs only rise), routes as counts per (filter, node), and
 * retained messages per topic, capped at {@code retainedMaxBytes} in total (over it a set is refused and counted).
 * Each change is reported through {@link ClusterLink.Events}, on every member in log order; the correlation id of
 * a claim or route change only on its origin node ({@code localNodeId}), 0 elsewhere.
 * <p>
 * Wills: a node sets the will of each client it owns ({@code WILL}, under the claim's epoch) and clears it when it
 * publishes or drops it itself. When the node goes down, each of its wills is due at the node-down log time plus
 * its delay (capped by the session expiry); a claim of the client id before then cancels it; when due it is
 * reported ({@link ClusterLink.Events#onWillDue}, naming the heir as its publisher) and dropped. Will bytes are
 * capped by {@code retainedMaxBytes} too, as a budget of their own (over it a set is refused and counted).
 * <p>
 * Part 2 (session metadata, buddies and heirs) adds command types and snapshot sections: the snapshot is a list of
 * (section, length, bytes), and a decoder skips sections it does not know.
 * <p>
 * Not thread safe: the clustered service's thread alone calls it.
 */
public final class Registry
{
    static final int SNAPSHOT_MAGIC = 0x534B5247; // "SKRG"
    static final int SNAPSHOT_VERSION = 1;
    static final int SECTION_COUNTERS = 1;
    static final int SECTION_NODES = 2;
    static final int SECTION_OWNERS = 3;
    static final int SECTION_ROUTES = 4;
    static final int SECTION_RETAINED = 5;
    static final int SECTION_SEQUENCES = 6;
    /** Wills of clients (numbered apart from part 2's other sections, which are added in parallel). */
    static final int SECTION_WILLS = 16;
    /** A will not due yet: its owner is alive. */
    static final long NOT_DUE = Long.MAX_VALUE;
    /** Log timestamps are in milliseconds (Aeron Cluster's default time unit). */
    static final long TIME_UNITS_PER_SECOND = 1000;

    /** Owner of a client id. */
    static final class Owner
    {
        final int nodeId;
        final long epoch;

        Owner(final int nodeId, final long epoch)
        {
            this.nodeId = nodeId;
            this.epoch = epoch;
        }
    }

    /** A retained message as set, with the node it was published on. */
    static final class Retained
    {
        final int originNodeId;
        final byte[] message;

        Retained(final int originNodeId, final byte[] message)
        {
            this.originNodeId = originNodeId;
            this.message = message;
        }
    }

    private final int localNodeId;
    private final long retainedMaxBytes;
    private ClusterLink.Events events;

    private final TreeMap<Integer, Long> nodeSessions = new TreeMap<>();
    private final Map<Long, Integer> sessionNodes = new HashMap<>();
    private final TreeMap<String, Owner> owners = new TreeMap<>();
    /** filter → (node → count > 0). */
    private final TreeMap<String, TreeMap<Integer, Integer>> routes = new TreeMap<>();
    private final TreeMap<String, Retained> retained = new TreeMap<>();
    /** node → the last command sequence applied in its current session. */
    private final TreeMap<Integer, Integer> sequences = new TreeMap<>();
    private long lastEpoch;
    private long retainedBytes;
    private long retainedRefused;
    private long commandsIgnored;
    private long logTimestamp;
    private int routeEntries;

    /**
     * A client's will as its owning node set it (owner and epoch of the claim it belongs to), with its delay and the
     * session's expiry in seconds; due at {@link #dueTime} once the owner went down, published by {@link #heirNodeId}.
     */
    static final class Will
    {
        final String clientId;
        final int nodeId;
        final long epoch;
        final long delaySeconds;
        final long expirySeconds;
        final byte[] message;
        long dueTime = NOT_DUE;
        int heirNodeId = NO_NODE;

        Will(final String clientId, final int nodeId, final long epoch, final long delaySeconds,
            final long expirySeconds, final byte[] message)
        {
            this.clientId = clientId;
            this.nodeId = nodeId;
            this.epoch = epoch;
            this.delaySeconds = delaySeconds;
            this.expirySeconds = expirySeconds;
            this.message = message;
        }
    }

    /** client id → its will. */
    private final TreeMap<String, Will> wills = new TreeMap<>();
    /** The wills due (owner down), by due time then client id. */
    private final java.util.TreeSet<Will> dueWills = new java.util.TreeSet<>(
        java.util.Comparator.<Will>comparingLong((w) -> w.dueTime).thenComparing((w) -> w.clientId));
    private long willBytes;
    private long willsRefused;
    private long willsPublished;

    private final UnsafeBuffer eventBuffer = new UnsafeBuffer(new byte[0]);
    private final ExpandableArrayBuffer scratch = new ExpandableArrayBuffer(256);

    public Registry(final int localNodeId, final long retainedMaxBytes, final ClusterLink.Events events)
    {
        this.localNodeId = localNodeId;
        this.retainedMaxBytes = retainedMaxBytes;
        this.events = events;
    }

    /** Where events go from now on (recovery hands them to the routing agent's ring). */
    public void events(final ClusterLink.Events events)
    {
        this.events = events;
    }

    /** Applies one committed command sent by cluster session {@code sessionId} at log time {@code timestamp}. */
    public void onCommand(
        final long sessionId, final long timestamp, final DirectBuffer buffer, final int offset, final int length)
    {
        logTimestamp = timestamp;
        publishDueWills(timestamp);
        final int type = RegistryCommands.type(buffer, offset, length);
        if (type == RegistryCommands.HELLO)
        {
            if (length < RegistryCommands.HELLO_LENGTH)
            {
                commandsIgnored++;
                return;
            }
            hello(sessionId, buffer.getInt(offset + RegistryCommands.NODE_ID_OFFSET));
            return;
        }
        final Integer node = sessionNodes.get(sessionId);
        if (node == null)
        {
            commandsIgnored++; // a session that never said HELLO, or one a newer session of its node replaced
            return;
        }
        final int nodeId = node;
        if (length >= RegistryCommands.SEQUENCE_OFFSET + 4)
        {
            final int sequence = RegistryCommands.sequence(buffer, offset);
            if (sequence != 0)
            {
                if (sequence <= sequences.getOrDefault(nodeId, 0))
                {
                    commandsIgnored++; // a resend of a command already applied
                    return;
                }
                sequences.put(nodeId, sequence);
            }
        }
        switch (type)
        {
            case RegistryCommands.CLAIM:
            case RegistryCommands.RELEASE:
            case RegistryCommands.ROUTE_ADD:
            case RegistryCommands.ROUTE_REMOVE:
            case RegistryCommands.CLAIM_IF:
                if (!RegistryCommands.validLongString(buffer, offset, length))
                {
                    commandsIgnored++;
                    return;
                }
                final long value = RegistryCommands.longValue(buffer, offset);
                final String text = RegistryCommands.string(buffer, offset);
                if (type == RegistryCommands.CLAIM)
                {
                    cancelWill(text); // the client connected (again), anywhere: its old will is void
                    claim(nodeId, value, text);
                }
                else if (type == RegistryCommands.RELEASE)
                {
                    release(nodeId, text, value);
                    releaseWill(nodeId, text, value);
                }
                else if (type == RegistryCommands.CLAIM_IF)
                {
                    claimIf(nodeId, value, text);
                }
                else
                {
                    route(nodeId, value, text, type == RegistryCommands.ROUTE_ADD);
                }
                return;
            case RegistryCommands.RETAINED:
                retained(nodeId, buffer, offset + RegistryCommands.RETAINED_MESSAGE_OFFSET,
                    length - RegistryCommands.RETAINED_MESSAGE_OFFSET);
                return;
            case RegistryCommands.WILL:
                will(nodeId, buffer, offset, length);
                return;
            case RegistryCommands.PING:
                return; // its sequence is the point: the node sees its own ping applied (fencing)
            default:
                commandsIgnored++;
        }
    }

    /** A cluster session closed (client closed it, or it timed out) at log time {@code timestamp}. */
    public void onSessionClosed(final long sessionId, final long timestamp)
    {
        logTimestamp = timestamp;
        publishDueWills(timestamp);
        final Integer node = sessionNodes.remove(sessionId);
        if (node == null)
        {
            return;
        }
        final int heir = buddyOf(node);
        nodeSessions.remove(node);
        sequences.remove(node);
        if (heir == NO_NODE)
        {
            dropRoutes(node);
            events.onNodeDown(node, heir);
        }
        else
        {
            inherit(node, heir);
        }
        scheduleWills(node, heir, timestamp);
    }

    /**
     * The node on cluster session {@code sessionId} is leaving cleanly (it closed its registry session itself: a
     * shutdown, not a death): the wills of its clients are dropped, not made due — as a single broker's shutdown
     * publishes none. Applied (from the close reason in the log) just before {@link #onSessionClosed}.
     */
    public void onNodeLeaving(final long sessionId)
    {
        final Integer node = sessionNodes.get(sessionId);
        if (node == null)
        {
            return;
        }
        final List<Will> leaving = new ArrayList<>();
        for (final Will will : wills.values())
        {
            if (will.nodeId == node && will.dueTime == NOT_DUE)
            {
                leaving.add(will);
            }
        }
        for (final Will will : leaving)
        {
            removeWill(will);
        }
    }

    /**
     * A cluster timer fired at log time {@code timestamp} (the service schedules one for {@link #nextWillDue()}):
     * the wills due by then are published.
     */
    public void onTimer(final long timestamp)
    {
        logTimestamp = timestamp;
        publishDueWills(timestamp);
    }

    // ---- wills ----

    /** WILL from {@code nodeId}: sets (or, empty message, clears) the will of a client it owns under the epoch. */
    private void will(final int nodeId, final DirectBuffer buffer, final int offset, final int length)
    {
        if (!RegistryCommands.validWill(buffer, offset, length))
        {
            commandsIgnored++;
            return;
        }
        final String clientId = RegistryCommands.willClientId(buffer, offset);
        final long epoch = RegistryCommands.longValue(buffer, offset);
        final int messageOffset = RegistryCommands.willMessageOffset(buffer, offset);
        final int messageLength = offset + length - messageOffset;
        final Owner owner = owners.get(clientId);
        final Will old = wills.get(clientId);
        if (messageLength == 0)
        {
            if (old != null && old.nodeId == nodeId && old.epoch == epoch && old.dueTime == NOT_DUE)
            {
                removeWill(old);
            }
            return;
        }
        if (owner == null || owner.nodeId != nodeId || owner.epoch != epoch ||
            messageLength < MessageLayout.TOPIC_OFFSET || !wellFormed(buffer, messageOffset, messageLength))
        {
            commandsIgnored++; // stale (the client was claimed again or released since) or malformed
            return;
        }
        if (old != null)
        {
            removeWill(old);
        }
        if (willBytes + messageLength > retainedMaxBytes)
        {
            willsRefused++; // over the cap: the will stays on its node only
            return;
        }
        final byte[] copy = new byte[messageLength];
        buffer.getBytes(messageOffset, copy);
        wills.put(clientId, new Will(clientId, nodeId, epoch, RegistryCommands.willDelay(buffer, offset),
            RegistryCommands.willExpiry(buffer, offset), copy));
        willBytes += messageLength;
    }

    /** A claim of {@code clientId}: a will of its previous connection never goes from here (due or not). */
    private void cancelWill(final String clientId)
    {
        final Will will = wills.get(clientId);
        if (will != null)
        {
            removeWill(will);
        }
    }

    /** The owner ended the session (it published or dropped the will itself). */
    private void releaseWill(final int nodeId, final String clientId, final long epoch)
    {
        final Will will = wills.get(clientId);
        if (will != null && will.nodeId == nodeId && will.epoch == epoch && will.dueTime == NOT_DUE)
        {
            removeWill(will);
        }
    }

    private void removeWill(final Will will)
    {
        wills.remove(will.clientId);
        if (will.dueTime != NOT_DUE)
        {
            dueWills.remove(will);
        }
        willBytes -= will.message.length;
    }

    /** {@code nodeId} went down at {@code timestamp}: each will of its clients is due after its delay. */
    private void scheduleWills(final int nodeId, final int heirNodeId, final long timestamp)
    {
        for (final Will will : wills.values())
        {
            if (will.nodeId == nodeId && will.dueTime == NOT_DUE)
            {
                final long delay = Math.min(will.delaySeconds, will.expirySeconds);
                will.dueTime = timestamp + delay * TIME_UNITS_PER_SECOND;
                will.heirNodeId = heirNodeId;
                dueWills.add(will);
            }
        }
        publishDueWills(timestamp);
    }

    /** Publishes (as events) and drops every will due at or before {@code timestamp}, earliest first. */
    private void publishDueWills(final long timestamp)
    {
        while (!dueWills.isEmpty() && dueWills.first().dueTime <= timestamp)
        {
            final Will will = dueWills.pollFirst();
            wills.remove(will.clientId);
            willBytes -= will.message.length;
            final int publisher = willPublisher(will);
            if (publisher == NO_NODE)
            {
                willsRefused++; // no live node to publish it
                continue;
            }
            willsPublished++;
            eventBuffer.wrap(will.message);
            events.onWillDue(will.clientId, publisher, eventBuffer, 0, will.message.length);
        }
    }

    /** The heir named when the owner went down; if it is down too, the next live node after it. */
    private int willPublisher(final Will will)
    {
        if (will.heirNodeId != NO_NODE)
        {
            return isLive(will.heirNodeId) ? will.heirNodeId : buddyOf(will.heirNodeId);
        }
        final int next = buddyOf(will.nodeId);
        return next != NO_NODE ? next : isLive(will.nodeId) ? will.nodeId : NO_NODE;
    }

    /** The earliest log time a will is due, or {@link #NOT_DUE}: the service keeps a cluster timer for it. */
    public long nextWillDue()
    {
        return dueWills.isEmpty() ? NOT_DUE : dueWills.first().dueTime;
    }

    /**
     * Node {@code dead} went down with heir {@code heir} (its buddy, live): the heir inherits its routes and its
     * client ids, in this order of events, all at this one log position:
     * <ol>
     * <li>{@code onRoute(filter, heir, true)} for each of the dead node's filters the heir had no route of (each of
     * its filters adds one to the heir's count: the inherited reference, which the heir removes once it has rebuilt
     * the subscriptions it needs), so a publish routed at any point of this sequence reaches the heir;</li>
     * <li>{@code onNodeDown(dead, heir)};</li>
     * <li>{@code onRoute(filter, dead, false)} for each of the dead node's filters (the heir's list of inherited
     * references);</li>
     * <li>{@code onClaimed(0, clientId, heir, newEpoch, dead, oldEpoch)} for each client id the dead node owned, in
     * client-id order, each with a new epoch;</li>
     * <li>{@code onInherited(dead, heir)}: the end of the sequence.</li>
     * </ol>
     */
    private void inherit(final int dead, final int heir)
    {
        final List<String> filters = new ArrayList<>();
        for (final Map.Entry<String, TreeMap<Integer, Integer>> entry : routes.entrySet())
        {
            if (entry.getValue().containsKey(dead))
            {
                filters.add(entry.getKey());
            }
        }
        for (final String filter : filters)
        {
            final TreeMap<Integer, Integer> counts = routes.get(filter);
            final int count = counts.getOrDefault(heir, 0) + 1;
            counts.put(heir, count);
            if (count == 1)
            {
                routeEntries++;
                events.onRoute(filter, heir, true);
            }
        }
        events.onNodeDown(dead, heir);
        dropRoutes(dead);
        final List<String> clientIds = new ArrayList<>();
        for (final Map.Entry<String, Owner> entry : owners.entrySet())
        {
            if (entry.getValue().nodeId == dead)
            {
                clientIds.add(entry.getKey());
            }
        }
        for (final String clientId : clientIds)
        {
            final Owner previous = owners.get(clientId);
            final long epoch = ++lastEpoch;
            owners.put(clientId, new Owner(heir, epoch));
            events.onClaimed(0, clientId, heir, epoch, dead, previous.epoch);
        }
        events.onInherited(dead, heir);
    }

    private void hello(final long sessionId, final int nodeId)
    {
        final Integer boundTo = sessionNodes.get(sessionId);
        if (nodeId < 0 || (boundTo != null && boundTo != nodeId))
        {
            commandsIgnored++;
            return;
        }
        final Long previous = nodeSessions.put(nodeId, sessionId);
        if (previous != null && previous != sessionId)
        {
            sessionNodes.remove(previous);
        }
        sessionNodes.put(sessionId, nodeId);
        sequences.put(nodeId, 0);
        dropRoutes(nodeId); // the node adds its routes again once it sees its own onNodeUp
        events.onNodeUp(nodeId);
    }

    private void claim(final int nodeId, final long correlationId, final String clientId)
    {
        final Owner previous = owners.get(clientId);
        final long epoch = ++lastEpoch;
        owners.put(clientId, new Owner(nodeId, epoch));
        events.onClaimed(nodeId == localNodeId ? correlationId : 0, clientId, nodeId, epoch,
            previous == null ? NO_NODE : previous.nodeId, previous == null ? 0 : previous.epoch);
    }

    /**
     * A leaving node's heir claims {@code clientId} only while the leaving node's ownership ({@code epoch}) stands:
     * a client that reconnected elsewhere meanwhile keeps its new owner. Committed as a claim with correlation 0.
     */
    private void claimIf(final int nodeId, final long epoch, final String clientId)
    {
        final Owner owner = owners.get(clientId);
        if (owner != null && owner.epoch == epoch)
        {
            claim(nodeId, 0, clientId);
        }
    }

    private void release(final int nodeId, final String clientId, final long epoch)
    {
        final Owner owner = owners.get(clientId);
        if (owner != null && owner.epoch == epoch && owner.nodeId == nodeId)
        {
            owners.remove(clientId);
            events.onReleased(clientId, nodeId, epoch);
        }
    }

    private void route(final int nodeId, final long correlationId, final String filter, final boolean add)
    {
        TreeMap<Integer, Integer> counts = routes.get(filter);
        if (add)
        {
            if (counts == null)
            {
                counts = new TreeMap<>();
                routes.put(filter, counts);
            }
            final int count = counts.getOrDefault(nodeId, 0) + 1;
            counts.put(nodeId, count);
            if (count == 1)
            {
                routeEntries++;
                events.onRoute(filter, nodeId, true);
            }
        }
        else if (counts != null && counts.containsKey(nodeId))
        {
            final int count = counts.get(nodeId) - 1;
            if (count == 0)
            {
                counts.remove(nodeId);
                routeEntries--;
                if (counts.isEmpty())
                {
                    routes.remove(filter);
                }
                events.onRoute(filter, nodeId, false);
            }
            else
            {
                counts.put(nodeId, count);
            }
        }
        if (nodeId == localNodeId)
        {
            events.onRouteCommitted(correlationId);
        }
    }

    private void dropRoutes(final int nodeId)
    {
        final List<String> emptied = new ArrayList<>();
        for (final Map.Entry<String, TreeMap<Integer, Integer>> entry : routes.entrySet())
        {
            if (entry.getValue().remove(nodeId) != null)
            {
                routeEntries--;
                if (entry.getValue().isEmpty())
                {
                    emptied.add(entry.getKey());
                }
                events.onRoute(entry.getKey(), nodeId, false);
            }
        }
        for (final String filter : emptied)
        {
            routes.remove(filter);
        }
    }

    private void retained(final int nodeId, final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < MessageLayout.TOPIC_OFFSET || !wellFormed(buffer, offset, length))
        {
            commandsIgnored++;
            return;
        }
        final String topic = buffer.getStringWithoutLengthUtf8(
            MessageLayout.topicOffset(offset), MessageLayout.topicLength(buffer, offset));
        final Retained old = retained.get(topic);
        final long oldBytes = old == null ? 0 : old.message.length;
        if (MessageLayout.payloadLength(buffer, offset) == 0)
        {
            if (old != null)
            {
                retained.remove(topic);
                retainedBytes -= oldBytes;
            }
        }
        else
        {
            if (retainedBytes - oldBytes + length > retainedMaxBytes)
            {
                retainedRefused++;
                return;
            }
            final byte[] copy = new byte[length];
            buffer.getBytes(offset, copy);
            retained.put(topic, new Retained(nodeId, copy));
            retainedBytes += length - oldBytes;
        }
        events.onRetained(nodeId, buffer, offset, length);
    }

    private static boolean wellFormed(final DirectBuffer buffer, final int offset, final int length)
    {
        final int end = offset + length;
        final int propertiesLengthOffset = MessageLayout.propertiesLengthOffset(buffer, offset);
        if (propertiesLengthOffset + 4 > end)
        {
            return false;
        }
        final int propertiesLength = MessageLayout.propertiesLength(buffer, offset);
        if (propertiesLength < 0 || propertiesLengthOffset + 4 + propertiesLength + 4 > end)
        {
            return false;
        }
        final int payloadLength = MessageLayout.payloadLength(buffer, offset);
        return payloadLength >= 0 && MessageLayout.payloadLengthOffset(buffer, offset) + 4 + payloadLength == end;
    }

    /**
     * Reports the whole state as events (nodes up, owners, routes, retained messages), as if the log that built it
     * were replayed: after loading a snapshot, the routing agent rebuilds its view from these.
     */
    public void replayState()
    {
        for (final Integer node : nodeSessions.keySet())
        {
            events.onNodeUp(node);
        }
        for (final Map.Entry<String, Owner> entry : owners.entrySet())
        {
            events.onClaimed(0, entry.getKey(), entry.getValue().nodeId, entry.getValue().epoch, NO_NODE, 0);
        }
        for (final Map.Entry<String, TreeMap<Integer, Integer>> entry : routes.entrySet())
        {
            for (final Integer node : entry.getValue().keySet())
            {
                events.onRoute(entry.getKey(), node, true);
            }
        }
        for (final Retained r : retained.values())
        {
            eventBuffer.wrap(r.message);
            events.onRetained(r.originNodeId, eventBuffer, 0, r.message.length);
        }
    }

    // ---- snapshot ----

    /** Encodes the whole state into {@code buffer} at 0; returns the length. */
    public int encodeSnapshot(final MutableDirectBuffer buffer)
    {
        int at = 0;
        buffer.putInt(at, SNAPSHOT_MAGIC);
        buffer.putInt(at + 4, SNAPSHOT_VERSION);
        at += 8;

        int start = beginSection(buffer, at, SECTION_COUNTERS);
        at = start;
        buffer.putLong(at, lastEpoch);
        buffer.putLong(at + 8, retainedRefused);
        buffer.putLong(at + 16, commandsIgnored);
        buffer.putLong(at + 24, logTimestamp);
        at = endSection(buffer, start, at + 32);

        start = beginSection(buffer, at, SECTION_NODES);
        at = start;
        buffer.putInt(at, nodeSessions.size());
        at += 4;
        for (final Map.Entry<Integer, Long> entry : nodeSessions.entrySet())
        {
            buffer.putInt(at, entry.getKey());
            buffer.putLong(at + 4, entry.getValue());
            at += 12;
        }
        at = endSection(buffer, start, at);

        start = beginSection(buffer, at, SECTION_OWNERS);
        at = start;
        buffer.putInt(at, owners.size());
        at += 4;
        for (final Map.Entry<String, Owner> entry : owners.entrySet())
        {
            at += buffer.putStringUtf8(at, entry.getKey());
            buffer.putInt(at, entry.getValue().nodeId);
            buffer.putLong(at + 4, entry.getValue().epoch);
            at += 12;
        }
        at = endSection(buffer, start, at);

        start = beginSection(buffer, at, SECTION_ROUTES);
        at = start;
        buffer.putInt(at, routeEntries);
        at += 4;
        for (final Map.Entry<String, TreeMap<Integer, Integer>> entry : routes.entrySet())
        {
            for (final Map.Entry<Integer, Integer> count : entry.getValue().entrySet())
            {
                at += buffer.putStringUtf8(at, entry.getKey());
                buffer.putInt(at, count.getKey());
                buffer.putInt(at + 4, count.getValue());
                at += 8;
            }
        }
        at = endSection(buffer, start, at);

        start = beginSection(buffer, at, SECTION_RETAINED);
        at = start;
        buffer.putInt(at, retained.size());
        at += 4;
        for (final Retained r : retained.values())
        {
            buffer.putInt(at, r.originNodeId);
            buffer.putInt(at + 4, r.message.length);
            buffer.putBytes(at + 8, r.message);
            at += 8 + r.message.length;
        }
        at = endSection(buffer, start, at);

        start = beginSection(buffer, at, SECTION_SEQUENCES);
        at = start;
        buffer.putInt(at, sequences.size());
        at += 4;
        for (final Map.Entry<Integer, Integer> entry : sequences.entrySet())
        {
            buffer.putInt(at, entry.getKey());
            buffer.putInt(at + 4, entry.getValue());
            at += 8;
        }
        at = endSection(buffer, start, at);

        start = beginSection(buffer, at, SECTION_WILLS);
        at = start;
        buffer.putLong(at, willsRefused);
        buffer.putLong(at + 8, willsPublished);
        buffer.putInt(at + 16, wills.size());
        at += 20;
        for (final Will will : wills.values())
        {
            at += buffer.putStringUtf8(at, will.clientId);
            buffer.putInt(at, will.nodeId);
            buffer.putLong(at + 4, will.epoch);
            buffer.putLong(at + 12, will.delaySeconds);
            buffer.putLong(at + 20, will.expirySeconds);
            buffer.putLong(at + 28, will.dueTime);
            buffer.putInt(at + 36, will.heirNodeId);
            buffer.putInt(at + 40, will.message.length);
            buffer.putBytes(at + 44, will.message);
            at += 44 + will.message.length;
        }
        return endSection(buffer, start, at);
    }

    private static int beginSection(final MutableDirectBuffer buffer, final int at, final int section)
    {
        buffer.putInt(at, section);
        return at + 8;
    }

    private static int endSection(final MutableDirectBuffer buffer, final int start, final int end)
    {
        buffer.putInt(start - 4, end - start);
        return end;
    }

    /** Replaces the state with a snapshot made by {@link #encodeSnapshot}; emits nothing (see {@link #replayState}). */
    public void loadSnapshot(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < 8 || buffer.getInt(offset) != SNAPSHOT_MAGIC || buffer.getInt(offset + 4) != SNAPSHOT_VERSION)
        {
            throw new IllegalStateException("not a registry snapshot (version " + SNAPSHOT_VERSION + ")");
        }
        clear();
        int at = offset + 8;
        final int end = offset + length;
        while (at < end)
        {
            final int section = buffer.getInt(at);
            final int sectionLength = buffer.getInt(at + 4);
            at += 8;
            final int sectionEnd = at + sectionLength;
            switch (section)
            {
                case SECTION_COUNTERS:
                    lastEpoch = buffer.getLong(at);
                    retainedRefused = buffer.getLong(at + 8);
                    commandsIgnored = buffer.getLong(at + 16);
                    logTimestamp = buffer.getLong(at + 24);
                    break;
                case SECTION_NODES:
                {
                    int p = at + 4;
                    for (int i = 0, n = buffer.getInt(at); i < n; i++, p += 12)
                    {
                        nodeSessions.put(buffer.getInt(p), buffer.getLong(p + 4));
                        sessionNodes.put(buffer.getLong(p + 4), buffer.getInt(p));
                    }
                    break;
                }
                case SECTION_OWNERS:
                {
                    int p = at + 4;
                    for (int i = 0, n = buffer.getInt(at); i < n; i++)
                    {
                        final String clientId = buffer.getStringUtf8(p);
                        p += 4 + buffer.getInt(p);
                        owners.put(clientId, new Owner(buffer.getInt(p), buffer.getLong(p + 4)));
                        p += 12;
                    }
                    break;
                }
                case SECTION_ROUTES:
                {
                    int p = at + 4;
                    for (int i = 0, n = buffer.getInt(at); i < n; i++)
                    {
                        final String filter = buffer.getStringUtf8(p);
                        p += 4 + buffer.getInt(p);
                        routes.computeIfAbsent(filter, (k) -> new TreeMap<>()).put(buffer.getInt(p), buffer.getInt(p + 4));
                        routeEntries++;
                        p += 8;
                    }
                    break;
                }
                case SECTION_RETAINED:
                {
                    int p = at + 4;
                    for (int i = 0, n = buffer.getInt(at); i < n; i++)
                    {
                        final int origin = buffer.getInt(p);
                        final byte[] message = new byte[buffer.getInt(p + 4)];
                        buffer.getBytes(p + 8, message);
                        p += 8 + message.length;
                        final int topicLength = ((message[MessageLayout.TOPIC_LENGTH_OFFSET] & 0xFF)) |
                            ((message[MessageLayout.TOPIC_LENGTH_OFFSET + 1] & 0xFF) << 8);
                        retained.put(new String(message, MessageLayout.TOPIC_OFFSET, topicLength,
                            StandardCharsets.UTF_8), new Retained(origin, message));
                        retainedBytes += message.length;
                    }
                    break;
                }
                case SECTION_SEQUENCES:
                {
                    int p = at + 4;
                    for (int i = 0, n = buffer.getInt(at); i < n; i++, p += 8)
                    {
                        sequences.put(buffer.getInt(p), buffer.getInt(p + 4));
                    }
                    break;
                }
                case SECTION_WILLS:
                {
                    willsRefused = buffer.getLong(at);
                    willsPublished = buffer.getLong(at + 8);
                    int p = at + 20;
                    for (int i = 0, n = buffer.getInt(at + 16); i < n; i++)
                    {
                        final String clientId = buffer.getStringUtf8(p);
                        p += 4 + buffer.getInt(p);
                        final byte[] message = new byte[buffer.getInt(p + 40)];
                        buffer.getBytes(p + 44, message);
                        final Will will = new Will(clientId, buffer.getInt(p), buffer.getLong(p + 4),
                            buffer.getLong(p + 12), buffer.getLong(p + 20), message);
                        will.dueTime = buffer.getLong(p + 28);
                        will.heirNodeId = buffer.getInt(p + 36);
                        p += 44 + message.length;
                        wills.put(clientId, will);
                        willBytes += message.length;
                        if (will.dueTime != NOT_DUE)
                        {
                            dueWills.add(will);
                        }
                    }
                    break;
                }
                default:
                    break; // a section from a later version: skipped
            }
            at = sectionEnd;
        }
    }

    private void clear()
    {
        nodeSessions.clear();
        sessionNodes.clear();
        owners.clear();
        routes.clear();
        retained.clear();
        sequences.clear();
        wills.clear();
        dueWills.clear();
        willBytes = 0;
        willsRefused = 0;
        willsPublished = 0;
        lastEpoch = 0;
        retainedBytes = 0;
        retainedRefused = 0;
        commandsIgnored = 0;
        logTimestamp = 0;
        routeEntries = 0;
    }

    /** A 64-bit hash (FNV-1a) of the whole state, as its snapshot encodes it: equal states, equal hashes. */
    public long stateHash()
    {
        final int length = encodeSnapshot(scratch);
        long hash = 0xcbf29ce484222325L;
        for (int i = 0; i < length; i++)
        {
            hash ^= scratch.getByte(i) & 0xFF;
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    // ---- queries (tests, metrics, admin) ----

    public boolean isLive(final int nodeId)
    {
        return nodeSessions.containsKey(nodeId);
    }

    /**
     * The buddy of {@code nodeId}: the live node that holds the replica of its journal and becomes its heir when it
     * goes down. The next live node id above it, wrapping round; {@link ClusterLink#NO_NODE} when no other node is
     * live. Deterministic: every member computes the same from the log.
     */
    public int buddyOf(final int nodeId)
    {
        Integer next = nodeSessions.higherKey(nodeId);
        if (next == null && !nodeSessions.isEmpty())
        {
            next = nodeSessions.firstKey();
        }
        return next == null || next == nodeId ? NO_NODE : next;
    }

    public List<Integer> liveNodes()
    {
        return new ArrayList<>(nodeSessions.keySet());
    }

    /** The owner node of {@code clientId}, or {@link ClusterLink#NO_NODE}. */
    public int owner(final String clientId)
    {
        final Owner owner = owners.get(clientId);
        return owner == null ? NO_NODE : owner.nodeId;
    }

    /** The current epoch of {@code clientId}, or 0. */
    public long epoch(final String clientId)
    {
        final Owner owner = owners.get(clientId);
        return owner == null ? 0 : owner.epoch;
    }

    /** The last command sequence applied for {@code nodeId} in its current session (0: none). */
    public int appliedSequence(final int nodeId)
    {
        return sequences.getOrDefault(nodeId, 0);
    }

    /** The cluster session {@code nodeId} is live on, or -1. */
    public long sessionOf(final int nodeId)
    {
        final Long session = nodeSessions.get(nodeId);
        return session == null ? -1 : session;
    }

    public long lastEpoch()
    {
        return lastEpoch;
    }

    public int routeCount(final String filter, final int nodeId)
    {
        final TreeMap<Integer, Integer> counts = routes.get(filter);
        return counts == null ? 0 : counts.getOrDefault(nodeId, 0);
    }

    /** Route entries: (filter, node) pairs with a count above zero. */
    public int routeEntries()
    {
        return routeEntries;
    }

    public int ownerCount()
    {
        return owners.size();
    }

    /** Every client id's owner, in client id order (read only; the ownership log, a diagnostic for tests). */
    java.util.SortedMap<String, Owner> ownersView()
    {
        return java.util.Collections.unmodifiableSortedMap(owners);
    }

    public long retainedBytes()
    {
        return retainedBytes;
    }

    public int retainedCount()
    {
        return retained.size();
    }

    public long retainedRefused()
    {
        return retainedRefused;
    }

    /** Wills held (due or not). */
    public int willCount()
    {
        return wills.size();
    }

    /** Wills due: their owner is down and they wait for their delay. */
    public int dueWillCount()
    {
        return dueWills.size();
    }

    public long willBytes()
    {
        return willBytes;
    }

    /** Wills refused (over the cap) or dropped when due (no live node to publish them). */
    public long willsRefused()
    {
        return willsRefused;
    }

    public long willsPublished()
    {
        return willsPublished;
    }

    public long commandsIgnored()
    {
        return commandsIgnored;
    }

    public long logTimestamp()
    {
        return logTimestamp;
    }
}
