package dev.skylark.broker.auth;

import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.EpochClock;

/**
 * What one connection was granted at CONNECT, or why it was refused. Owned by the connection's I/O thread after
 * CONNECT: {@link #mayPublish}, {@link #maySubscribe} and {@link #liveCheck} are called from there only.
 */
public final class ClientGrant
{
    /** Anyone, anything, forever ({@code skylark.auth.mode=none}). */
    public static final ClientGrant UNRESTRICTED = new ClientGrant(ReasonCode.SUCCESS, null, null, null, 0,
        TopicAcl.ALL, TopicAcl.ALL, null, null, new AuthCounters());

    private final int reasonCode;
    private final String why;
    private final String clientId;
    private final String jti;
    private final long expiresAtMs;
    private final TopicAcl publishAcl;
    private final TopicAcl subscribeAcl;
    private final RevocationList revocations;
    private final EpochClock clock;
    private final AuthCounters counters;
    private String userName;
    private long seenEpoch;

    ClientGrant(
        final int reasonCode,
        final String why,
        final String clientId,
        final String jti,
        final long expiresAtMs,
        final TopicAcl publishAcl,
        final TopicAcl subscribeAcl,
        final RevocationList revocations,
        final EpochClock clock,
        final AuthCounters counters)
    {
        this.reasonCode = reasonCode;
        this.why = why;
        this.clientId = clientId;
        this.jti = jti;
        this.expiresAtMs = expiresAtMs;
        this.publishAcl = publishAcl;
        this.subscribeAcl = subscribeAcl;
        this.revocations = revocations;
        this.clock = clock;
        this.counters = counters;
        this.seenEpoch = -1; // the first tick looks at the list whatever its epoch
    }

    /**
     * A grant made by an {@link AuthMethod} of its own (no revocation list: the method decides who gets in).
     *
     * @param clientId    the client identifier it is for (an empty CONNECT client identifier takes it), or null.
     * @param expiresAtMs epoch milliseconds at which the connection is closed (v5 DISCONNECT 0xA0), 0 for never.
     * @param clock       the clock {@code expiresAtMs} is read against (null when it is 0).
     */
    public static ClientGrant of(
        final String clientId,
        final TopicAcl publishAcl,
        final TopicAcl subscribeAcl,
        final long expiresAtMs,
        final EpochClock clock)
    {
        return new ClientGrant(ReasonCode.SUCCESS, null, clientId, null, expiresAtMs, publishAcl, subscribeAcl, null,
            clock, new AuthCounters());
    }

    /** A refusal; the caller counts it (a refused CONNECT or a refused re-authentication). */
    static ClientGrant refuse(final int reasonCode, final String why, final AuthCounters counters)
    {
        return new ClientGrant(reasonCode, why, null, null, 0, TopicAcl.ALL, TopicAcl.ALL, null, null, counters);
    }

    public boolean refused()
    {
        return reasonCode != ReasonCode.SUCCESS;
    }

    /** The v5 CONNACK reason code of a refusal (the caller maps it for 3.1.1). */
    public int reasonCode()
    {
        return reasonCode;
    }

    /** Why it was refused, for the log (never contains the token). */
    public String why()
    {
        return why;
    }

    /**
     * A copy of this grant for an authenticated user name: what the connection's identity ends up being for the rules
     * (the password file's user, the client certificate's name, the token's subject; null for an anonymous client).
     */
    public ClientGrant withUserName(final String userName)
    {
        if (java.util.Objects.equals(userName, this.userName))
        {
            return this; // nothing to change (an anonymous client of the none mode shares UNRESTRICTED: no copy per connection)
        }
        final ClientGrant copy = new ClientGrant(reasonCode, why, clientId, jti, expiresAtMs, publishAcl, subscribeAcl,
            revocations, clock, counters);
        copy.userName = userName;
        return copy;
    }

    /**
     * The authenticated user name, or null (anonymous; or a grant made without one). Set at CONNECT by the
     * authentication modes ({@link #withUserName}); the session layer makes it the connection's user name.
     */
    public String userName()
    {
        return userName;
    }

    /** The token's subject: the client identifier the connection must use (null when not token-bound). */
    public String clientId()
    {
        return clientId;
    }

    public String jti()
    {
        return jti;
    }

    /** Epoch milliseconds at which the connection is disconnected, 0 for never. */
    public long expiresAtMs()
    {
        return expiresAtMs;
    }

    public TopicAcl publishAcl()
    {
        return publishAcl;
    }

    public TopicAcl subscribeAcl()
    {
        return subscribeAcl;
    }

    /** Publish path, allocation-free: may this client publish to the topic? A refusal is counted. */
    public boolean mayPublish(final DirectBuffer topic, final int offset, final int length)
    {
        if (publishAcl.allowsTopic(topic, offset, length))
        {
            return true;
        }
        counters.publishesDenied.incrementAndGet();
        return false;
    }

    /** May this client subscribe with this (valid) filter? A refusal is counted. */
    public boolean maySubscribe(final DirectBuffer filter, final int offset, final int length)
    {
        if (subscribeAcl.allowsFilter(filter, offset, length))
        {
            return true;
        }
        counters.subscriptionsDenied.incrementAndGet();
        return false;
    }

    /**
     * Slow tick: 0 while the grant holds, else the v5 DISCONNECT reason code to close with —
     * {@link ReasonCode#ADMINISTRATIVE_ACTION} once the token is revoked, {@link ReasonCode#MAXIMUM_CONNECT_TIME}
     * once it expired. Reads one volatile unless the revocation list changed.
     */
    public int liveCheck()
    {
        if (revocations != null)
        {
            final long epoch = revocations.epoch();
            if (epoch != seenEpoch)
            {
                seenEpoch = epoch;
                if (revocations.contains(jti))
                {
                    counters.revokedDisconnects.incrementAndGet();
                    return ReasonCode.ADMINISTRATIVE_ACTION;
                }
            }
        }
        if (expiresAtMs != 0 && clock != null && clock.time() >= expiresAtMs)
        {
            counters.expiredDisconnects.incrementAndGet();
            return ReasonCode.MAXIMUM_CONNECT_TIME;
        }
        return 0;
    }
}
