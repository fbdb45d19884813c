package dev.skylark.broker.net;

import org.agrona.DirectBuffer;

/**
 * What the protocol layer does with one connection's input. Called only on the connection's I/O thread.
 */
public interface ConnectionHandler
{
    /** {@link #onTick(long)}'s answer when nothing is due: no timer is armed for the connection. */
    long NO_DEADLINE = Long.MAX_VALUE;

    /**
     * A whole MQTT packet, framed; the bytes are valid only during the call.
     *
     * @return false to pause: the packet is offered again later, and nothing more is read from the socket until
     * {@link Connection#resumeReading()} (back pressure reaches TCP).
     */
    boolean onPacket(DirectBuffer buffer, int offset, int length, long nowNs);

    /**
     * The byte stream cannot be framed: the negative reason code from the framer (malformed remaining length,
     * packet too large). The connection is closed after this call returns, once pending output is flushed.
     */
    void onFramingError(int reasonCode);

    /**
     * The connection's timer fired (or the I/O agent swept all its connections, e.g. after a revocation): enforce
     * whatever is due at {@code nowNs} (connect timeout, keep-alive, ...). Also called once when the handler is
     * attached, to learn its first deadline.
     *
     * @return the next time ({@code nowNs} domain) at which it must be called again, or {@link #NO_DEADLINE}. A
     * deadline may be later than the true one would be after more input (re-checked lazily when it fires); one that
     * moves earlier is announced with {@link Connection#scheduleTimer(long)}.
     */
    long onTick(long nowNs);

    /**
     * The broker is stopping: a last chance to write a goodbye (v5 DISCONNECT 0x8B) before the flush and close.
     */
    void onShutdown();

    /**
     * The connection is closed (by the peer, an I/O error, or locally). Called exactly once.
     *
     * @param cause why, for the log.
     */
    void onClosed(String cause);
}
