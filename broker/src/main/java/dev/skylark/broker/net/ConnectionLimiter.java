package dev.skylark.broker.net;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Caps open connections overall and per source address. Checked at accept, before any TLS or WebSocket work, so a
 * flood costs the broker one accept and one close per socket; released when a connection closes on whichever I/O
 * thread owns it (hence the atomics: this is the one structure the I/O threads share, touched only at connect and
 * close, never per message).
 */
public final class ConnectionLimiter
{
    /** Volatile: SIGHUP may change them ({@link #limits(int, int)}); read once per accept. */
    private volatile int maxConnections;
    private volatile int maxPerAddress;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perAddress = new ConcurrentHashMap<>();
    private final AtomicLong refused = new AtomicLong();

    /**
     * @param maxConnections 0 = unlimited.
     * @param maxPerAddress  0 = unlimited.
     */
    public ConnectionLimiter(final int maxConnections, final int maxPerAddress)
    {
        this.maxConnections = maxConnections;
        this.maxPerAddress = maxPerAddress;
    }

    /**
     * New limits, from the next accept on (a reload): connections open beyond them stay open. Per address, only the
     * connections accepted while a per-address limit was set are counted.
     */
    public void limits(final int maxConnections, final int maxPerAddress)
    {
        this.maxConnections = maxConnections;
        this.maxPerAddress = maxPerAddress;
    }

    /** Takes a slot for a new connection from this address, or refuses it (counted). */
    boolean tryAcquire(final InetAddress address)
    {
        final int maxConnections = this.maxConnections;
        final int maxPerAddress = this.maxPerAddress;
        if (maxConnections > 0 && open.incrementAndGet() > maxConnections)
        {
            open.decrementAndGet();
            refused.incrementAndGet();
            return false;
        }
        if (maxConnections <= 0)
        {
            open.incrementAndGet();
        }
        if (maxPerAddress > 0 && address != null)
        {
            final AtomicInteger count = perAddress.computeIfAbsent(address, (a) -> new AtomicInteger());
            if (count.incrementAndGet() > maxPerAddress)
            {
                count.decrementAndGet();
                open.decrementAndGet();
                refused.incrementAndGet();
                return false;
            }
        }
        return true;
    }

    /** Gives back the slot of a closed connection. */
    void release(final InetAddress address)
    {
        open.decrementAndGet();
        if (address != null && !perAddress.isEmpty()) // counted while a per-address limit was set
        {
            final AtomicInteger count = perAddress.get(address);
            if (count != null && count.decrementAndGet() <= 0)
            {
                perAddress.remove(address, count);
            }
        }
    }

    /** Open connections right now. */
    public int open()
    {
        return open.get();
    }

    /** Connections refused at accept for being over a limit. */
    public long refused()
    {
        return refused.get();
    }
}
