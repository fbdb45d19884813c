package dev.skylark.broker.routing;

/**
 * Packed MQTT v5 subscription options, the same bit layout as the options byte of a SUBSCRIBE payload so a decoder
 * can pass the byte straight through (MQTT 3.1.1 subscriptions use only the QoS bits).
 * <pre>
 *   bit  7 6   5 4              3                  2         1 0
 *       [ 0 0 | retain handling | retain as published | no local | max QoS ]
 * </pre>
 */
public final class SubscriptionOptions
{
    public static final int MAX_QOS_MASK = 0x03;
    public static final int NO_LOCAL_FLAG = 0x04;
    public static final int RETAIN_AS_PUBLISHED_FLAG = 0x08;
    public static final int RETAIN_HANDLING_SHIFT = 4;
    public static final int RETAIN_HANDLING_MASK = 0x30;

    /** Send retained messages at the time of the subscribe. */
    public static final int RETAIN_HANDLING_SEND = 0;
    /** Send retained messages only if the subscription did not already exist. */
    public static final int RETAIN_HANDLING_SEND_IF_NEW = 1;
    /** Do not send retained messages at the time of the subscribe. */
    public static final int RETAIN_HANDLING_DO_NOT_SEND = 2;

    private SubscriptionOptions()
    {
    }

    /**
     * Pack the options.
     *
     * @param maxQos            0, 1 or 2.
     * @param noLocal           do not deliver messages published by the subscribing session itself.
     * @param retainAsPublished keep the RETAIN flag as published rather than clearing it.
     * @param retainHandling    one of the {@code RETAIN_HANDLING_*} values.
     * @return the packed options.
     */
    public static int pack(
        final int maxQos, final boolean noLocal, final boolean retainAsPublished, final int retainHandling)
    {
        return (maxQos & MAX_QOS_MASK) |
            (noLocal ? NO_LOCAL_FLAG : 0) |
            (retainAsPublished ? RETAIN_AS_PUBLISHED_FLAG : 0) |
            ((retainHandling << RETAIN_HANDLING_SHIFT) & RETAIN_HANDLING_MASK);
    }

    /**
     * Options for a plain subscription with the given maximum QoS (what MQTT 3.1.1 can express).
     *
     * @param maxQos 0, 1 or 2.
     * @return the packed options.
     */
    public static int ofQos(final int maxQos)
    {
        return maxQos & MAX_QOS_MASK;
    }

    public static int maxQos(final int options)
    {
        return options & MAX_QOS_MASK;
    }

    public static boolean noLocal(final int options)
    {
        return (options & NO_LOCAL_FLAG) != 0;
    }

    public static boolean retainAsPublished(final int options)
    {
        return (options & RETAIN_AS_PUBLISHED_FLAG) != 0;
    }

    public static int retainHandling(final int options)
    {
        return (options & RETAIN_HANDLING_MASK) >>> RETAIN_HANDLING_SHIFT;
    }

    /**
     * Is the packed value valid per MQTT v5 3.8.3.1: QoS 0..2, retain handling 0..2, reserved bits zero.
     *
     * @param options packed options.
     * @return true if valid.
     */
    public static boolean isValid(final int options)
    {
        return (options & ~0x3F) == 0 && maxQos(options) != 3 && retainHandling(options) != 3;
    }

    public static String toString(final int options)
    {
        return "{qos=" + maxQos(options) +
            ", noLocal=" + noLocal(options) +
            ", retainAsPublished=" + retainAsPublished(options) +
            ", retainHandling=" + retainHandling(options) + "}";
    }
}
