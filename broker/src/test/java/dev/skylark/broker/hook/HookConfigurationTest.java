package dev.skylark.broker.hook;

import dev.skylark.broker.Broker;
import dev.skylark.broker.Configuration;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HookConfigurationTest
{
    @Test
    void noHookByDefault()
    {
        assertNull(new Broker.Context(new Properties()).hookSettings());
    }

    @Test
    void settingsAndTheirDefaults()
    {
        final Properties properties = new Properties();
        properties.setProperty(Configuration.HOOK_PUBLISH_URL_PROP_NAME, "https://hooks.example.com/mqtt");
        HookSettings settings = new Broker.Context(properties).conclude().hookSettings();
        assertEquals("https://hooks.example.com/mqtt", settings.url().toString());
        assertEquals(List.of("#"), settings.topics());
        assertEquals(10_000, settings.timeoutMs());
        assertEquals(HookPolicy.FAIL_CLOSED, settings.policy());
        assertEquals(1000, settings.batchMaxMessages());
        assertEquals(1024 * 1024, settings.batchMaxBytes());
        assertEquals(16 * 1024 * 1024, settings.queueBytes());

        properties.setProperty(Configuration.HOOK_PUBLISH_TOPICS_PROP_NAME, " devices/+/up , alarms/# ,");
        properties.setProperty(Configuration.HOOK_PUBLISH_POLICY_PROP_NAME, "fail-open");
        properties.setProperty(Configuration.HOOK_PUBLISH_TIMEOUT_MS_PROP_NAME, "250");
        settings = new Broker.Context(properties).conclude().hookSettings();
        assertEquals(List.of("devices/+/up", "alarms/#"), settings.topics());
        assertEquals(HookPolicy.FAIL_OPEN, settings.policy());
        assertEquals(250, settings.timeoutMs());
    }

    @Test
    void badValuesAreNamed()
    {
        final Properties properties = new Properties();
        properties.setProperty(Configuration.HOOK_PUBLISH_URL_PROP_NAME, "ftp://example.com/");
        properties.setProperty(Configuration.HOOK_PUBLISH_TOPICS_PROP_NAME, "a/#/b,$share/g/x");
        properties.setProperty(Configuration.HOOK_PUBLISH_POLICY_PROP_NAME, "fail-sometimes");
        properties.setProperty(Configuration.HOOK_PUBLISH_QUEUE_BYTES_PROP_NAME, "100000");
        final List<String> problems = Configuration.validate(properties);
        assertEquals(4, problems.size(), problems.toString());
    }

    @Test
    void theQueueMustHoldTheLargestMessage()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new Broker.Context()
            .hookPublish("http://127.0.0.1:9/hook").hookPublishQueueBytes(1024 * 1024).conclude());
        assertTrue(ex.getMessage().contains(Configuration.HOOK_PUBLISH_QUEUE_BYTES_PROP_NAME), ex.getMessage());
        new Broker.Context().hookPublish("http://127.0.0.1:9/hook").maxPacketSize(64 * 1024)
            .hookPublishQueueBytes(1024 * 1024).conclude();
    }
}
