package dev.skylark.broker.auth;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/** What authentication counts, shared by all I/O agents (written only when something is refused). */
public final class AuthCounters
{
    /** CONNECTs refused for their token (any reason). */
    public final AtomicLong connectsRefused = new AtomicLong();
    /** The same refusals by the reason code the client was given (index: the v5 reason code). */
    public final AtomicLongArray connectsRefusedByReason = new AtomicLongArray(256);
    /** Publishes (and will topics) refused by a token's {@code acl.pub}: QoS 0 dropped, QoS 1/2 answered 0x87. */
    public final AtomicLong publishesDenied = new AtomicLong();
    /** Subscriptions refused by a token's {@code acl.sub} (SUBACK 0x87 / 0x80). */
    public final AtomicLong subscriptionsDenied = new AtomicLong();
    /** Live connections closed because their token was revoked. */
    public final AtomicLong revokedDisconnects = new AtomicLong();
    /** Re-authentications (AUTH 0x19 with a {@code skylark-jwt} token) accepted: the new token now applies. */
    public final AtomicLong reauthentications = new AtomicLong();
    /** Re-authentications refused (the connection was closed with DISCONNECT 0x87). */
    public final AtomicLong reauthenticationsRefused = new AtomicLong();
    /** Live connections closed because their token expired. */
    public final AtomicLong expiredDisconnects = new AtomicLong();
}
