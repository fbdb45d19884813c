package dev.skylark.broker.routing;

import dev.skylark.codec.mqtt.MqttVersion;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;

/**
 * Hands a departing member's shared-subscription messages to another online member of the same group, in the group's
 * round-robin order: those not sent yet and, when the session ends, those it never acknowledged. A message no other
 * member can take stays where it is. Called by {@link SessionRegistry} when a session disconnects.
 */
final class SharedRedistributor
{
    private final Int2ObjectHashMap<Session> sessionsById;
    private final Deliveries deliveries;
    private final MessageStore store;
    private final JournalRecord journal;
    private final DurableIds ids;
    private final RoutingCounters counters;
    private final ArrayList<PendingMessage> moving = new ArrayList<>();
    private final UnsafeBuffer storedView = new UnsafeBuffer(0, 0);

    SharedRedistributor(
        final Int2ObjectHashMap<Session> sessionsById,
        final Deliveries deliveries,
        final MessageStore store,
        final JournalRecord journal,
        final DurableIds ids,
        final RoutingCounters counters)
    {
        this.sessionsById = sessionsById;
        this.deliveries = deliveries;
        this.store = store;
        this.journal = journal;
        this.ids = ids;
        this.counters = counters;
    }

    /**
     * @param includeInFlight the session ends: its unacknowledged messages move too (QoS 1 may then arrive twice, as
     *                        allowed); those past PUBREC stay, only their PUBCOMP is owed.
     */
    void redistribute(final Session from, final boolean includeInFlight)
    {
        moving.clear();
        for (final PendingMessage pending : from.window.queue)
        {
            if (pending.sharedGroup != null && pending.handle != MessageStore.NULL_HANDLE)
            {
                moving.add(pending);
            }
        }
        if (includeInFlight)
        {
            for (final PendingMessage pending : from.window.inFlightOrder())
            {
                if (pending.sharedGroup != null && pending.handle != MessageStore.NULL_HANDLE &&
                    pending.state != PendingMessage.AWAIT_PUBCOMP)
                {
                    moving.add(pending);
                }
            }
        }
        for (int i = 0; i < moving.size(); i++)
        {
            move(from, moving.get(i));
        }
        moving.clear();
    }

    private void move(final Session from, final PendingMessage pending)
    {
        final SharedGroup group = pending.sharedGroup;
        final int member = otherOnlineMember(group, from);
        if (member < 0)
        {
            return;
        }
        final Session target = sessionsById.get(group.memberSessionId(member));
        from.window.remove(pending);
        deliveries.delivered(from, pending, JournalRecord.DELIVERED_COMPLETE);

        store.wrap(pending.handle, storedView);
        pending.qos = Math.min(MessageLayout.qos(storedView, 0), SubscriptionOptions.maxQos(group.memberOptions(member)));
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
            pending.messageId = ids.newMessageId();
            journal.beginMessage(pending.messageId, 0);
            journal.addTarget(target.durableId, pending.qos, pending.retain ? Delivery.ENTRY_FLAG_RETAIN : 0,
                pending.subscriptionIds, 0, pending.subscriptionIdCount);
            journal.endMessage(storedView, 0, storedView.capacity());
        }
        counters.sharedRedistributed.incrementRelease();
        deliveries.offer(target, pending);
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
}
