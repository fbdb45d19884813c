package dev.skylark.codec.mqtt;

import org.agrona.DirectBuffer;

/**
 * Receives whole MQTT packets from an {@link MqttFramer}. The bytes are valid only during the call.
 */
@FunctionalInterface
public interface MqttPacketHandler
{
    /**
     * @param buffer holding the packet, starting at its fixed-header byte.
     * @param offset of the fixed-header byte.
     * @param length of the whole packet.
     * @return true to continue, false to pause delivery (back pressure): the framer returns after this packet.
     */
    boolean onPacket(DirectBuffer buffer, int offset, int length);
}
