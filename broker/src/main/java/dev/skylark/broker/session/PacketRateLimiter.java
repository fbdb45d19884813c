package dev.skylark.broker.session;

/**
 * Per-client packet rate limit by the generic cell rate algorithm (GCRA): one packet per {@code 1/rate} seconds on
 * average, with up to {@code burst} packets at once. No floating point, no timer, no per-client object: a connection
 * keeps one {@code long}, the theoretical arrival time (TAT) of its next packet, and this shared instance (one per
 * I/O thread, held by {@link MqttProtocol}) holds the configured interval and tolerance. Called by
 * {@link MqttConnectionHandler#onPacket} before any packet is decoded.
 */
final class PacketRateLimiter
{
    /** Returned by {@link #admit} when the packet comes too early. */
    static final long REFUSED = Long.MIN_VALUE;

    private final boolean enabled;
    private final long intervalNs;
    private final long toleranceNs;

    /**
     * @param packetsPerSecond the sustained rate; 0 = unlimited.
     * @param burst            packets that may come at once.
     */
    PacketRateLimiter(final int packetsPerSecond, final int burst)
    {
        enabled = packetsPerSecond > 0;
        intervalNs = enabled ? 1_000_000_000L / packetsPerSecond : 0;
        toleranceNs = intervalNs * (burst - 1);
    }

    /** False when every client may send as fast as it likes. */
    boolean enabled()
    {
        return enabled;
    }

    /**
     * @param tatNs the connection's theoretical arrival time (0 before its first packet).
     * @return the connection's next theoretical arrival time when the packet is within the rate, else {@link #REFUSED}
     * (the connection keeps its old value).
     */
    long admit(final long tatNs, final long nowNs)
    {
        final long tat = Math.max(tatNs, nowNs);
        if (tat - nowNs > toleranceNs)
        {
            return REFUSED;
        }
        return tat + intervalNs;
    }
}
