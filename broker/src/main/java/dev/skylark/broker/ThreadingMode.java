package dev.skylark.broker;

/**
 * How the broker's agents are put on threads; chosen by {@link Broker.Context#threadingMode(ThreadingMode)} or the
 * {@code skylark.threading} property ({@code dedicated}, {@code shared}, {@code auto}).
 */
public enum ThreadingMode
{
    /** The routing agent on its own thread, one thread per I/O agent, the publish hook on its own thread. */
    DEDICATED,
    /** The routing agent runs on I/O agent 0's thread: one thread hand-off (and wake-up) less per message. */
    SHARED,
    /**
     * No thread is started: the caller runs every agent once per {@link Broker#doWork()} (tests drive the broker by
     * hand with a controlled clock). Needs durability {@code none}: the journal's Aeron pieces keep their own threads.
     */
    INVOKER;

    /**
     * The mode a {@code skylark.threading} value names: {@code dedicated}, {@code shared}, or {@code auto} (shared on
     * machines with {@code processors} of 2 or fewer, else dedicated).
     */
    public static ThreadingMode named(final String value, final int processors)
    {
        switch (value)
        {
            case "dedicated":
                return DEDICATED;
            case "shared":
                return SHARED;
            case "auto":
                return processors <= 2 ? SHARED : DEDICATED;
            default:
                throw new IllegalArgumentException("threading must be auto, dedicated or shared: " + value);
        }
    }
}
