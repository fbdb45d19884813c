package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;

/**
 * Receives the retained messages matching a filter from {@link RetainedIndex#forEachMatch}. The topic buffer is
 * reused between calls: copy what must outlive the call. Must not modify the index.
 *
 * @param <T> the caller's message handle type.
 */
@FunctionalInterface
public interface RetainedVisitor<T>
{
    /**
     * @param topic   buffer holding the retained message's topic name.
     * @param offset  of the topic in the buffer.
     * @param length  of the topic in bytes.
     * @param message the handle stored with {@link RetainedIndex#put}.
     */
    void onRetained(DirectBuffer topic, int offset, int length, T message);
}
