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
    SharedSubscriptionPolicy ROUND_ROBIN = SharedSubscriptionPolicy::roundRobin;

    /**
     * @param group        with at least one member.
     * @param availability check for a member's ability to take the message now.
     * @return the chosen member index in {@code [0, group.memberCount())}, or -1 to deliver to nobody.
     */
    int select(SharedGroup group, SessionAvailability availability);

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
