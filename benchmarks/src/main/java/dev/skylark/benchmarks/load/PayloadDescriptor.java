/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

/**
 * Layout of the header the load generator puts at the start of every PUBLISH payload; the rest is zero padding.
 * <pre>
 *   0                   8              12             16
 *   +-------------------+--------------+--------------+---------------
 *   | send time ns (BE) | publisher id | sequence     | padding ...
 *   +-------------------+--------------+--------------+---------------
 * </pre>
 * The send time is {@link System#nanoTime()} on the same machine: the actual send time when running flat out, the
 * <em>intended</em> time from the schedule when paced, which makes latency coordinated-omission corrected.
 */
public final class PayloadDescriptor
{
    public static final int TIMESTAMP_OFFSET = 0;
    public static final int PUBLISHER_OFFSET = 8;
    public static final int SEQUENCE_OFFSET = 12;
    public static final int HEADER_LENGTH = 16;

    private PayloadDescriptor()
    {
    }
}
