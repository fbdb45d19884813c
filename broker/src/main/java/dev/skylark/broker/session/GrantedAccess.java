package dev.skylark.broker.session;

import dev.skylark.broker.auth.AccessControl;
import dev.skylark.broker.auth.AccessRules;
import dev.skylark.broker.auth.ClientAccess;
import dev.skylark.broker.auth.TopicAcl;
import dev.skylark.broker.routing.SessionAccess;
import dev.skylark.codec.mqtt.Topics;
import org.agrona.DirectBuffer;

/**
 * What a connection may receive, as the routing agent re-checks its session: the token's {@code acl.sub} and the
 * rules file (both must allow), for the identity the connection ended up with. Immutable; built by the I/O thread at
 * CONNECT and re-authentication, rebuilt by the routing agent against new rules ({@link #current()}).
 */
final class GrantedAccess implements SessionAccess
{
    private final AccessControl control;
    private final ClientAccess rules;
    private final TopicAcl tokenSubscribe;

    GrantedAccess(final AccessControl control, final ClientAccess rules, final TopicAcl tokenSubscribe)
    {
        this.control = control;
        this.rules = rules;
        this.tokenSubscribe = tokenSubscribe;
    }

    @Override
    public boolean maySubscribe(final String filter)
    {
        final String inner = filter.startsWith(Topics.SHARE_PREFIX) ?
            filter.substring(filter.indexOf('/', Topics.SHARE_PREFIX.length()) + 1) : filter;
        return tokenSubscribe.allowsFilter(inner) && rules.maySubscribe(filter);
    }

    @Override
    public boolean mayReceive(final DirectBuffer topic, final int offset, final int length)
    {
        return tokenSubscribe.allowsTopic(topic, offset, length) && rules.mayReceive(topic, offset, length);
    }

    @Override
    public SessionAccess current()
    {
        final AccessRules now = control.current();
        return now == rules.rules() ? this :
            new GrantedAccess(control, now.forClient(rules.clientId(), rules.userName()), tokenSubscribe);
    }
}
