package dev.skylark.broker.routing;

/**
 * Asked while choosing a member of a shared subscription group: can this session take a message right now
 * (connected, receive maximum not exhausted, ...)? Implemented by the routing agent over its session registry; it
 * must not allocate and must not modify the {@link TopicTree}.
 */
@FunctionalInterface
public interface SessionAvailability
{
    /** Every session is considered available. */
    SessionAvailability ALL = (sessionId) -> true;

    /**
     * @param sessionId of a shared group member.
     * @return true if the session can be given a message now.
     */
    boolean isAvailable(int sessionId);

    /**
     * @param sessionId of a shared group member.
     * @return how many messages the session has in flight or queued (for the least-in-flight policy).
     */
    default int backlog(final int sessionId)
    {
        return 0;
    }
}
