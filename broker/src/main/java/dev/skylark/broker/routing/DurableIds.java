package dev.skylark.broker.routing;

/**
 * The journal's identities handed out by the routing agent: a durable id per persistent session and a message id
 * per journaled message, both carried on past the highest seen in a replay. Routing agent thread only.
 */
final class DurableIds
{
    private long nextDurableId = 1;
    private long nextMessageId = 1;

    long newDurableId()
    {
        return nextDurableId++;
    }

    long newMessageId()
    {
        return nextMessageId++;
    }

    void durableIdSeen(final long durableId)
    {
        nextDurableId = Math.max(nextDurableId, durableId + 1);
    }

    void messageIdSeen(final long messageId)
    {
        nextMessageId = Math.max(nextMessageId, messageId + 1);
    }
}
