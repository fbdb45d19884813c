package dev.skylark.broker.routing;

/**
 * Whether the I/O agents may hand new PUBLISH packets to the routing agent. Closed by the routing agent while the
 * messages it stores for subscribers exceed the configured high-water mark; an I/O agent that finds it closed stops
 * reading that connection, so back pressure reaches the publishers' sockets and memory stays bounded.
 */
public final class PublishGate
{
    private volatile boolean closed;

    public boolean isClosed()
    {
        return closed;
    }

    void close()
    {
        closed = true;
    }

    void open()
    {
        closed = false;
    }
}
