package dev.skylark.broker;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a reload reports: what each part changed, what failed (old state kept), what needs a restart. */
class ReloadRegistryTest
{
    private static Properties settings(final String... pairs)
    {
        final Properties properties = new Properties();
        for (int i = 0; i < pairs.length; i += 2)
        {
            properties.setProperty(pairs[i], pairs[i + 1]);
        }
        return properties;
    }

    @Test
    void partsReloadAFailingOneDoesNotStopTheOthersAndTheRestNeedsARestart()
    {
        final ReloadRegistry registry = new ReloadRegistry(settings("skylark.max.connections", "1"));
        final AtomicInteger calls = new AtomicInteger();
        registry.register("limits", Set.of(Configuration.MAX_CONNECTIONS_PROP_NAME), (s) ->
        {
            calls.incrementAndGet();
            return "max.connections " + s.getProperty(Configuration.MAX_CONNECTIONS_PROP_NAME);
        });
        registry.register("broken", Set.of(), (s) ->
        {
            throw new IllegalStateException("cannot read the file");
        });
        registry.register("unchanged", Set.of(), (s) -> null);

        final ReloadRegistry.Result result = registry.reload(settings("skylark.max.connections", "2",
            "skylark.topic.max.length", "100"));
        assertEquals(List.of("limits: max.connections 2"), result.changed());
        assertEquals(List.of("broken: cannot read the file"), result.failed());
        assertEquals(Set.of("skylark.topic.max.length"), result.needRestart());
        assertEquals(1, calls.get());

        // Until the restart, the next reload still says so; a setting back at its default changes nothing.
        final ReloadRegistry.Result again = registry.reload(settings("skylark.max.connections", "2",
            "skylark.topic.max.length", "100"));
        assertEquals(Set.of("skylark.topic.max.length"), again.needRestart());
        final ReloadRegistry.Result backToDefault = registry.reload(settings("skylark.max.connections", "2",
            "skylark.topic.max.length", String.valueOf(Configuration.TOPIC_MAX_LENGTH_DEFAULT)));
        assertTrue(backToDefault.needRestart().isEmpty(), backToDefault.toString());
    }

    @Test
    void aNameIsRegisteredOnce()
    {
        final ReloadRegistry registry = new ReloadRegistry(new Properties());
        registry.register("tls", Set.of(), (s) -> null);
        assertThrows(IllegalStateException.class, () -> registry.register("tls", Set.of(), (s) -> null));
        assertEquals(Set.of(), registry.liveSettings());
    }
}
