package dev.skylark.broker.routing;

/**
 * Chooses which member of a shared subscription group receives a message. Called on the match hot path: must not
 * allocate. May keep per group state in {@link SharedGroup#cursor()}.
 */
@FunctionalInterface
public interface SharedSubscriptionPolicy
{
    /**
     * Round robin over the members, starting after the member chosen last time. Members the availability check
     * rejects are skipped; if no member is available the next member in turn is chosen anyway so the message is
     * queued for a persistent session rather than dropped.
     */
    SharedSubscriptionPolicy ROUND_ROBIN = (group, availability, publisher) -> roundRobin(group, availability);

    /**
     * The same publisher's messages go to the same member while it is available (so one device's stream keeps its
     * order at one backend); another available member takes over when it is not.
     */
    SharedSubscriptionPolicy STICKY_BY_PUBLISHER = SharedSubscriptionPolicy::stickyByPublisher;

    /** The available member with the fewest messages in flight or queued; ties go round robin. */
    SharedSubscriptionPolicy LEAST_IN_FLIGHT = (group, availability, publisher) -> leastInFlight(group, availability);

    /**
     * @param group        with at least one member.
     * @param availability check for a member's ability to take the message now.
     * @param publisherSessionId the publishing session, or -1 for the broker itself (wills).
     * @return the chosen member index in {@code [0, group.memberCount())}, or -1 to deliver to nobody.
     */
    int select(SharedGroup group, SessionAvailability availability, int publisherSessionId);

    /** The policy named by {@code skylark.shared.subscription.policy}. */
    static SharedSubscriptionPolicy named(final String name)
    {
        switch (name)
        {
            case "round-robin":
                return ROUND_ROBIN;
            case "sticky":
                return STICKY_BY_PUBLISHER;
            case "least-in-flight":
                return LEAST_IN_FLIGHT;
            default:
                throw new IllegalArgumentException("unknown shared subscription policy: " + name);
        }
    }

    /**
     * The {@link #STICKY_BY_PUBLISHER} policy: a hash of the publisher picks the first member to try.
     */
    static int stickyByPublisher(
        final SharedGroup group, final SessionAvailability availability, final int publisherSessionId)
    {
        final int count = group.memberCount();
        if (0 == count)
        {
            return -1;
        }
        final int start = Math.floorMod(publisherSessionId * 0x9E3779B9, count);
        for (int i = 0; i < count; i++)
        {
            final int index = (start + i) % count;
            if (availability.isAvailable(group.memberSessionId(index)))
            {
                return index;
            }
        }
        return start;
    }

    /**
     * The {@link #LEAST_IN_FLIGHT} policy.
     */
    static int leastInFlight(final SharedGroup group, final SessionAvailability availability)
    {
        final int count = group.memberCount();
        if (0 == count)
        {
            return -1;
        }
        final int start = group.cursor() >= 0 && group.cursor() < count ? group.cursor() : 0;
        int best = -1;
        int bestBacklog = Integer.MAX_VALUE;
        for (int i = 0; i < count; i++)
        {
            final int index = (start + i) % count;
            final int sessionId = group.memberSessionId(index);
            if (availability.isAvailable(sessionId))
            {
                final int backlog = availability.backlog(sessionId);
                if (backlog < bestBacklog)
                {
                    best = index;
                    bestBacklog = backlog;
                }
            }
        }
        if (best < 0)
        {
            best = start;
        }
        group.cursor(best + 1);
        return best;
    }

    /**
     * The {@link #ROUND_ROBIN} policy.
     *
     * @param group        with members.
     * @param availability check for a member's ability to take the message now.
     * @return the chosen member index, -1 if the group is empty.
     */
    static int roundRobin(final SharedGroup group, final SessionAvailability availability)
    {
        final int count = group.memberCount();
        if (0 == count)
        {
            return -1;
        }

        int start = group.cursor();
        if (start >= count || start < 0)
        {
            start = 0;
        }

        for (int i = 0; i < count; i++)
        {
            int index = start + i;
            if (index >= count)
            {
                index -= count;
            }

            if (availability.isAvailable(group.memberSessionId(index)))
            {
                group.cursor(index + 1);
                return index;
            }
        }

        group.cursor(start + 1);
        return start;
    }
}
