package dev.skylark.broker.net;

/**
 * Extra work an I/O agent does on every duty cycle, between reading sockets and flushing them: draining the
 * routing agent's deliveries into connections' outbound buffers.
 */
public interface DutyCycleHook
{
    /**
     * @return how much work was done (0 when idle).
     */
    int doWork(long nowNs);

    /**
     * @return true when work is waiting, checked just before the agent blocks in select().
     */
    boolean hasWork();

    /**
     * @return true when something refused by back pressure waits to be retried: the agent then idles in short
     * selects (1 ms) instead of waiting for the next deadline, without spinning a core while the pressure lasts.
     */
    boolean hasRetries();
}
