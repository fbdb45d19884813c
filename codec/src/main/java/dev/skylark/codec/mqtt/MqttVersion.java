package dev.skylark.codec.mqtt;

/**
 * Protocol levels carried in the CONNECT variable header.
 */
public final class MqttVersion
{
    /** MQTT 3.1 ("MQIsdp"), accepted for old clients and treated as 3.1.1. */
    public static final int V3_1 = 3;
    /** MQTT 3.1.1 ("MQTT", level 4). */
    public static final int V3_1_1 = 4;
    /** MQTT 5.0 ("MQTT", level 5). */
    public static final int V5 = 5;

    private MqttVersion()
    {
    }

    public static boolean isV5(final int version)
    {
        return version == V5;
    }
}
