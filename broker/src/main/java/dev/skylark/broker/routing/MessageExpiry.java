package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * A message's Message Expiry Interval on the routing clock: its deadline when it is taken on, and the interval left
 * written back into the stored copy when it is forwarded. Stateless; called by the routing agent's parts.
 */
final class MessageExpiry
{
    private MessageExpiry()
    {
    }

    /** The routing-clock instant a message's Message Expiry Interval ends, or 0 when it has none. */
    static long deadlineNs(final DirectBuffer buffer, final int offset, final long nowNs)
    {
        final int valueOffset = MessageLayout.expiryValueOffset(buffer, offset);
        if (valueOffset < 0)
        {
            return 0;
        }
        final long seconds = buffer.getInt(valueOffset, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
        return nowNs + TimeUnit.SECONDS.toNanos(seconds) | 1; // never 0, which means "no expiry"
    }

    /** True when {@code deadlineNs} is set and {@code nowNs} has reached it. */
    static boolean isExpired(final long deadlineNs, final long nowNs)
    {
        return deadlineNs != 0 && nowNs - deadlineNs >= 0;
    }

    /**
     * Rewrites the stored message's Message Expiry Interval to the time it has left, as forwarded messages must carry
     * [MQTT-3.3.2-6]; at least 1 s for a message whose delivery had already started before it expired, never more
     * than the interval it carries (a copy forwarded to another node in the duty cycle it was routed in keeps its own).
     */
    static void patchRemaining(
        final MutableDirectBuffer buffer, final int offset, final long deadlineNs, final long nowNs)
    {
        final int valueOffset = deadlineNs == 0 ? -1 : MessageLayout.expiryValueOffset(buffer, offset);
        if (valueOffset >= 0)
        {
            final long remaining = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadlineNs - nowNs + 999_999_999L));
            final long interval = buffer.getInt(valueOffset, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
            // Never more than the interval the copy carries (the deadline's odd bit must not round it up a second).
            buffer.putInt(valueOffset, (int)Math.max(1, Math.min(remaining, interval)), ByteOrder.BIG_ENDIAN);
        }
    }
}
