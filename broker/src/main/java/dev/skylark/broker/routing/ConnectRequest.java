package dev.skylark.broker.routing;

/**
 * What the routing agent needs from a validated CONNECT. Filled once per connection (off the hot path).
 */
public final class ConnectRequest
{
    private static final byte[] EMPTY = new byte[0];

    public int version;
    public boolean cleanStart;
    /** Seconds; 0xFFFFFFFF means never. MQTT 3.1.1: 0 for clean session, never otherwise. */
    public long sessionExpiry;
    /** The client's Receive Maximum (65535 when absent). */
    public int receiveMaximum = 65_535;
    /** The client's Maximum Packet Size (0 when absent: no limit beyond the protocol's). */
    public int maxPacketSize;
    public byte[] clientId = EMPTY;
    public boolean hasWill;
    public int willQos;
    public boolean willRetain;
    public long willDelay;
    public byte[] willTopic = EMPTY;
    /** Will properties as forwarded with the will PUBLISH (without Will Delay Interval). */
    public byte[] willProperties = EMPTY;
    public byte[] willPayload = EMPTY;
}
