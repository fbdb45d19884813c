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
     * @return true when taken; false to refuse it (back pressure): the framer stops and carries this packet and
     * everything after it over, to offer again on {@link MqttFramer#drain}.
     */
    boolean onPacket(DirectBuffer buffer, int offset, int length);

    /**
     * Asked before each packet: false stops delivery (reading paused, connection closing) and the rest is carried
     * over without being offered.
     */
    default boolean acceptsPackets()
    {
        return true;
    }
}
