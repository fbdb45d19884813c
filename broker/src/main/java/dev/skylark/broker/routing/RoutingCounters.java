package dev.skylark.broker.routing;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the routing agent counts, readable from any thread. (The status issue moves these into an Agrona
 * CountersManager so that `skylark stat` can read them from another process.)
 */
public final class RoutingCounters
{
    public final AtomicLong publishesIn = new AtomicLong();
    public final AtomicLong sessions = new AtomicLong();
    public final AtomicLong subscriptions = new AtomicLong();
    public final AtomicLong retained = new AtomicLong();
    public final AtomicLong takeovers = new AtomicLong();
    public final AtomicLong willsPublished = new AtomicLong();
    /** QoS 1/2 messages dropped because a session's queue was full. */
    public final AtomicLong queueDropped = new AtomicLong();
    /** Times stored messages reached the high-water mark and publishers were held back. */
    public final AtomicLong publishGateClosed = new AtomicLong();
    /** Times the routing agent waited for room in an I/O agent's ring. */
    public final AtomicLong outboundRingFull = new AtomicLong();
}
