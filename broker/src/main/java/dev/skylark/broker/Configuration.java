package dev.skylark.broker;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Every {@code skylark.*} setting: its name, its default and how its value is checked.
 * <p>
 * One set of names serves JVM flags ({@code -Dskylark.mqtt.port=1884}), a properties file and CLI flags
 * ({@code --mqtt.port 1884}). {@link Broker.Context} reads its defaults from here; {@link #validate(Properties)}
 * refuses unknown {@code skylark.*} names and bad values before any thread starts.
 */
public final class Configuration
{
    public static final String PREFIX = "skylark.";

    /** TCP port of the MQTT listener; 0 picks a free port (the log says which). */
    public static final String MQTT_PORT_PROP_NAME = "skylark.mqtt.port";
    public static final int MQTT_PORT_DEFAULT = 1883;

    /** HTTP + MQTT-over-WebSocket port (used by the WebSocket listener); 0 picks a free port, -1 disables. */
    public static final String HTTP_PORT_PROP_NAME = "skylark.http.port";
    public static final int HTTP_PORT_DEFAULT = 8080;

    /** Address the listeners bind to. */
    public static final String BIND_ADDRESS_PROP_NAME = "skylark.bind.address";
    public static final String BIND_ADDRESS_DEFAULT = "0.0.0.0";

    /** Directory for the journal, keys and other state. */
    public static final String DATA_DIR_PROP_NAME = "skylark.data.dir";
    public static final String DATA_DIR_DEFAULT = "data";

    /**
     * What a PUBACK/PUBREC promises: {@code os} (default) — the message is in the journal's memory-mapped file and
     * survives the broker process being killed; {@code fsync} — it is on disk (group commit) and survives power
     * loss; {@code none} — nothing is journaled, state lives in memory only (tests, benchmarks).
     */
    public static final String DURABILITY_PROP_NAME = "skylark.durability";
    public static final String DURABILITY_DEFAULT = "os";

    /**
     * Journal bytes appended before a checkpoint is written and the older journal deleted (at least twice the
     * last checkpoint's size, so large states are not rewritten too often).
     */
    public static final String JOURNAL_CHECKPOINT_BYTES_PROP_NAME = "skylark.journal.checkpoint.bytes";
    public static final long JOURNAL_CHECKPOINT_BYTES_DEFAULT = 64L * 1024 * 1024;

    /** Number of selector I/O threads; default: available processors. */
    public static final String IO_THREADS_PROP_NAME = "skylark.io.threads";
    public static final int IO_THREADS_DEFAULT = Runtime.getRuntime().availableProcessors();

    /** {@code none} (no authentication, local development) or {@code token} (once token auth lands). */
    public static final String AUTH_MODE_PROP_NAME = "skylark.auth.mode";
    public static final String AUTH_MODE_DEFAULT = "none";

    /** Idle strategy of every agent: {@code park} (default, no core burnt) or {@code spin} (lowest latency, one core per thread). */
    public static final String IDLE_STRATEGY_PROP_NAME = "skylark.idle.strategy";
    public static final String IDLE_STRATEGY_DEFAULT = "park";

    /** Largest MQTT packet accepted (bytes, whole packet); announced to v5 clients as Maximum Packet Size. */
    public static final String MAX_PACKET_SIZE_PROP_NAME = "skylark.max.packet.size";
    public static final int MAX_PACKET_SIZE_DEFAULT = 1024 * 1024;

    /** A socket that sends no CONNECT within this many milliseconds is closed. */
    public static final String CONNECT_TIMEOUT_MS_PROP_NAME = "skylark.connect.timeout.ms";
    public static final int CONNECT_TIMEOUT_MS_DEFAULT = 10_000;

    /** Unacknowledged QoS 1/2 messages the broker sends to one client at once (further ones queue). */
    public static final String INFLIGHT_MAX_PROP_NAME = "skylark.inflight.max";
    public static final int INFLIGHT_MAX_DEFAULT = 32;

    /** Unacknowledged QoS 1/2 publishes the broker accepts from one client (v5 Receive Maximum). */
    public static final String RECEIVE_MAXIMUM_PROP_NAME = "skylark.receive.maximum";
    public static final int RECEIVE_MAXIMUM_DEFAULT = 1024;

    /** QoS 1/2 messages kept for one session that is offline or whose in-flight window is full. */
    public static final String QUEUE_MAX_MESSAGES_PROP_NAME = "skylark.queue.max.messages";
    public static final int QUEUE_MAX_MESSAGES_DEFAULT = 100_000;

    /** Topic aliases a v5 client may use towards the broker (announced in CONNACK). */
    public static final String TOPIC_ALIAS_MAXIMUM_PROP_NAME = "skylark.topic.alias.maximum";
    public static final int TOPIC_ALIAS_MAXIMUM_DEFAULT = 64;

    /** Largest session expiry interval (seconds) the broker grants; v5 clients are told when it is lowered. */
    public static final String SESSION_EXPIRY_MAX_PROP_NAME = "skylark.session.expiry.max";
    public static final long SESSION_EXPIRY_MAX_DEFAULT = 7L * 24 * 3600;

    /** Bytes buffered for one slow subscriber before its QoS 0 messages are dropped (and counted). */
    public static final String OUTBOUND_BUFFER_MAX_PROP_NAME = "skylark.outbound.buffer.max";
    public static final int OUTBOUND_BUFFER_MAX_DEFAULT = 4 * 1024 * 1024;

    /**
     * Bytes of QoS 1/2 and retained messages the broker stores before it holds publishers back (and lets them go
     * again below half of it).
     */
    public static final String STORE_HIGH_WATER_PROP_NAME = "skylark.store.high.water";
    public static final long STORE_HIGH_WATER_DEFAULT = 256L * 1024 * 1024;

    /** Capacity in bytes of the ring from the I/O threads to the routing agent (a power of two). */
    public static final String INBOUND_RING_CAPACITY_PROP_NAME = "skylark.inbound.ring.capacity";
    public static final int INBOUND_RING_CAPACITY_DEFAULT = 16 * 1024 * 1024;

    /** Capacity in bytes of each ring from the routing agent to one I/O thread (a power of two). */
    public static final String OUTBOUND_RING_CAPACITY_PROP_NAME = "skylark.outbound.ring.capacity";
    public static final int OUTBOUND_RING_CAPACITY_DEFAULT = 16 * 1024 * 1024;

    private static final Map<String, Setting> SETTINGS = new LinkedHashMap<>();

    static
    {
        port(MQTT_PORT_PROP_NAME, MQTT_PORT_DEFAULT, "MQTT/TCP listener port (0 = any free port)");
        port(HTTP_PORT_PROP_NAME, HTTP_PORT_DEFAULT, "HTTP + MQTT-over-WebSocket port (0 = any free port, -1 = off)");
        text(BIND_ADDRESS_PROP_NAME, BIND_ADDRESS_DEFAULT, "address the listeners bind to");
        text(DATA_DIR_PROP_NAME, DATA_DIR_DEFAULT, "directory for journal, keys and state");
        choice(DURABILITY_PROP_NAME, DURABILITY_DEFAULT, "what a PUBACK promises: os (survives kill -9), fsync (survives power loss), none (memory only)", "os", "fsync", "none");
        longInteger(JOURNAL_CHECKPOINT_BYTES_PROP_NAME, JOURNAL_CHECKPOINT_BYTES_DEFAULT, 4096, Long.MAX_VALUE, "journal bytes between checkpoints (older journal deleted)");
        integer(IO_THREADS_PROP_NAME, IO_THREADS_DEFAULT, 1, 256, "selector I/O threads (default: available processors)");
        choice(AUTH_MODE_PROP_NAME, AUTH_MODE_DEFAULT, "client authentication", "none");
        choice(IDLE_STRATEGY_PROP_NAME, IDLE_STRATEGY_DEFAULT, "what idle threads do", "park", "spin");
        integer(MAX_PACKET_SIZE_PROP_NAME, MAX_PACKET_SIZE_DEFAULT, 64, 268_435_460, "largest MQTT packet accepted, bytes");
        integer(CONNECT_TIMEOUT_MS_PROP_NAME, CONNECT_TIMEOUT_MS_DEFAULT, 100, 3_600_000, "close sockets that send no CONNECT within this, ms");
        integer(INFLIGHT_MAX_PROP_NAME, INFLIGHT_MAX_DEFAULT, 1, 65_535, "unacknowledged QoS 1/2 messages sent to one client");
        integer(RECEIVE_MAXIMUM_PROP_NAME, RECEIVE_MAXIMUM_DEFAULT, 1, 65_535, "unacknowledged QoS 1/2 publishes accepted from one client");
        integer(QUEUE_MAX_MESSAGES_PROP_NAME, QUEUE_MAX_MESSAGES_DEFAULT, 0, Integer.MAX_VALUE, "queued QoS 1/2 messages per session");
        integer(TOPIC_ALIAS_MAXIMUM_PROP_NAME, TOPIC_ALIAS_MAXIMUM_DEFAULT, 0, 65_535, "topic aliases a v5 client may use");
        longInteger(SESSION_EXPIRY_MAX_PROP_NAME, SESSION_EXPIRY_MAX_DEFAULT, 0, 0xFFFF_FFFFL, "largest session expiry granted, seconds");
        integer(OUTBOUND_BUFFER_MAX_PROP_NAME, OUTBOUND_BUFFER_MAX_DEFAULT, 4096, Integer.MAX_VALUE, "bytes buffered per slow subscriber");
        longInteger(STORE_HIGH_WATER_PROP_NAME, STORE_HIGH_WATER_DEFAULT, 1024 * 1024, Long.MAX_VALUE, "stored message bytes before publishers are held back");
        powerOfTwo(INBOUND_RING_CAPACITY_PROP_NAME, INBOUND_RING_CAPACITY_DEFAULT, "I/O -> routing ring, bytes");
        powerOfTwo(OUTBOUND_RING_CAPACITY_PROP_NAME, OUTBOUND_RING_CAPACITY_DEFAULT, "routing -> I/O ring, bytes (each)");
    }

    private Configuration()
    {
    }

    /** A setting's description, for the README table and {@code --help}. */
    public record Setting(String name, String defaultValue, String description, Validator validator)
    {
    }

    /** Checks a raw value; returns null when valid, else why not. */
    @FunctionalInterface
    public interface Validator
    {
        String check(String value);
    }

    public static Map<String, Setting> settings()
    {
        return Collections.unmodifiableMap(SETTINGS);
    }

    /**
     * Checks every {@code skylark.*} name in the given properties: unknown names and bad values are listed.
     *
     * @return the problems found, empty when all is well.
     */
    public static List<String> validate(final Properties properties)
    {
        final List<String> problems = new ArrayList<>();
        for (final String name : properties.stringPropertyNames())
        {
            if (!name.startsWith(PREFIX))
            {
                continue;
            }
            final Setting setting = SETTINGS.get(name);
            if (setting == null)
            {
                problems.add("unknown setting '" + name + "'");
                continue;
            }
            final String why = setting.validator().check(properties.getProperty(name).trim());
            if (why != null)
            {
                problems.add("bad value for " + name + "='" + properties.getProperty(name) + "': " + why);
            }
        }
        return problems;
    }

    static String get(final Properties properties, final String name)
    {
        final String value = properties.getProperty(name);
        return value != null ? value.trim() : SETTINGS.get(name).defaultValue();
    }

    static int getInt(final Properties properties, final String name)
    {
        return Integer.parseInt(get(properties, name));
    }

    static long getLong(final Properties properties, final String name)
    {
        return Long.parseLong(get(properties, name));
    }

    private static void add(final String name, final Object def, final String description, final Validator validator)
    {
        SETTINGS.put(name, new Setting(name, String.valueOf(def), description, validator));
    }

    private static void text(final String name, final String def, final String description)
    {
        add(name, def, description, (v) -> v.isEmpty() ? "must not be empty" : null);
    }

    private static void choice(final String name, final String def, final String description, final String... allowed)
    {
        add(name, def, description, (v) -> List.of(allowed).contains(v) ? null : "must be one of " + List.of(allowed));
    }

    private static void port(final String name, final int def, final String description)
    {
        integer(name, def, -1, 65_535, description);
    }

    private static void integer(final String name, final int def, final int min, final int max, final String description)
    {
        add(name, def, description, (v) -> checkRange(v, min, max));
    }

    private static void longInteger(final String name, final long def, final long min, final long max, final String description)
    {
        add(name, def, description, (v) -> checkRange(v, min, max));
    }

    private static void powerOfTwo(final String name, final int def, final String description)
    {
        add(name, def, description, (v) ->
        {
            final String why = checkRange(v, 1024, 1 << 30);
            if (why != null)
            {
                return why;
            }
            final int value = Integer.parseInt(v);
            return Integer.bitCount(value) == 1 ? null : "must be a power of two";
        });
    }

    private static String checkRange(final String value, final long min, final long max)
    {
        try
        {
            final long parsed = Long.parseLong(value);
            return parsed < min || parsed > max ? "must be between " + min + " and " + max : null;
        }
        catch (final NumberFormatException ex)
        {
            return "not a whole number";
        }
    }
}
