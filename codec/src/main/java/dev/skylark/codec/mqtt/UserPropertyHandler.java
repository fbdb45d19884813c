package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

/**
 * Visitor over the User Properties of a property block; key and value are views into {@code buffer}.
 */
@FunctionalInterface
public interface UserPropertyHandler
{
    void onUserProperty(DirectBuffer buffer, int keyOffset, int keyLength, int valueOffset, int valueLength);
}
