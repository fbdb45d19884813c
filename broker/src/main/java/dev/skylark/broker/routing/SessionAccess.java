package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;

/**
 * What a session may keep receiving, as the routing agent re-checks it: on a resumed session (a narrower token or new
 * rules since it was last online), after a re-authentication, and after the authorization rules were reloaded.
 * Implemented outside routing (it combines the token's {@code acl.sub} and the rules file); immutable, so the I/O
 * thread that builds it and the routing agent that uses it share it safely.
 */
public interface SessionAccess
{
    /** May the session hold a subscription to this filter (as subscribed, a {@code $share/} prefix included)? */
    boolean maySubscribe(String filter);

    /** May a queued message on this topic still be delivered to the session? */
    boolean mayReceive(DirectBuffer topic, int offset, int length);

    /** The same identity and token under the rules in force now ({@code this} when they have not changed). */
    SessionAccess current();
}
