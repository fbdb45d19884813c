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

    /**
     * Number of selector I/O threads; default: available processors, but one on machines with 2 or fewer, where the
     * clients share the cores and every hand-off between broker threads is a wake-up the scheduler may delay (one
     * thread measured 1.7x the QoS 1 throughput and half the paced p99 of two on a 2-core VM).
     */
    public static final String IO_THREADS_PROP_NAME = "skylark.io.threads";
    public static final int IO_THREADS_DEFAULT =
        Runtime.getRuntime().availableProcessors() <= 2 ? 1 : Runtime.getRuntime().availableProcessors();

    /**
     * {@code token} (default): the CONNECT password must be a signed JWT whose {@code sub} is the client id; or
     * {@code none}: no authentication, for local development only (a warning is logged at start).
     */
    public static final String AUTH_MODE_PROP_NAME = "skylark.auth.mode";
    public static final String AUTH_MODE_DEFAULT = "token";

    /** Seconds of leeway when checking a token's {@code exp} and {@code nbf} against the broker's clock. */
    public static final String AUTH_CLOCK_SKEW_S_PROP_NAME = "skylark.auth.clock.skew.s";
    public static final long AUTH_CLOCK_SKEW_S_DEFAULT = 30;

    /**
     * 0 (default), or the longest a token is honoured, in seconds from its {@code iat} (or from the CONNECT when it
     * has none); it also bounds tokens without {@code exp}, which otherwise never expire.
     */
    public static final String AUTH_TOKEN_MAX_LIFETIME_S_PROP_NAME = "skylark.auth.token.max.lifetime.s";
    public static final long AUTH_TOKEN_MAX_LIFETIME_S_DEFAULT = 0;

    /** Disconnect a live connection when its token expires ({@code true}, default) or let it run on ({@code false}). */
    public static final String AUTH_EXPIRY_DISCONNECT_PROP_NAME = "skylark.auth.expiry.disconnect";
    public static final String AUTH_EXPIRY_DISCONNECT_DEFAULT = "true";

    /** Longest CONNECT password taken for a token, bytes; longer ones are refused (0x86) before any parsing. */
    public static final String AUTH_TOKEN_MAX_BYTES_PROP_NAME = "skylark.auth.token.max.bytes";
    public static final int AUTH_TOKEN_MAX_BYTES_DEFAULT = 8192;

    /** Optional JWK set file of further public keys (EdDSA, ES256, RS256; each with a {@code kid}) to accept. */
    public static final String AUTH_JWKS_FILE_PROP_NAME = "skylark.auth.jwks.file";
    public static final String AUTH_JWKS_FILE_DEFAULT = "";

    /** Optional file holding an HS256 shared secret (at least 32 bytes) to accept HS256 tokens. */
    public static final String AUTH_HS256_SECRET_FILE_PROP_NAME = "skylark.auth.hs256.secret.file";
    public static final String AUTH_HS256_SECRET_FILE_DEFAULT = "";

    /**
     * Admit a CONNECT that none of the {@link #AUTH_MODE_PROP_NAME} modes accepts (no token, no user name, no client
     * certificate) as an anonymous client, which the rules file then governs; {@code false} (default) refuses it
     * (0x86 / return code 4). Ignored with {@code none}, which admits everyone.
     */
    public static final String AUTH_ANONYMOUS_PROP_NAME = "skylark.auth.anonymous";
    public static final boolean AUTH_ANONYMOUS_DEFAULT = false;

    /**
     * The Mosquitto-format password file ({@code user:$7$...} / {@code $6$} lines, as {@code mosquitto_passwd} and
     * {@code skylark passwd} write them) of {@code skylark.auth.mode=password}; empty (default): {@code
     * <data.dir>/auth/passwd}. Reloaded when it changes and on SIGHUP.
     */
    public static final String AUTH_PASSWORD_FILE_PROP_NAME = "skylark.auth.password.file";
    public static final String AUTH_PASSWORD_FILE_DEFAULT = "";

    /** When set, every token's {@code aud} must name this value, and {@code skylark token issue} writes it. */
    public static final String AUTH_AUDIENCE_PROP_NAME = "skylark.auth.audience";
    public static final String AUTH_AUDIENCE_DEFAULT = "";

    /** When set, every token's {@code iss} must be this value, and {@code skylark token issue} writes it. */
    public static final String AUTH_ISSUER_PROP_NAME = "skylark.auth.issuer";
    public static final String AUTH_ISSUER_DEFAULT = "";

    /** How often the broker looks for revocations and key rotations made by the {@code skylark} command, ms. */
    public static final String AUTH_WATCH_INTERVAL_MS_PROP_NAME = "skylark.auth.watch.interval.ms";
    public static final int AUTH_WATCH_INTERVAL_MS_DEFAULT = 1000;

    /** Idle strategy of every agent: {@code park} (default, no core burnt) or {@code spin} (lowest latency, one core per thread). */
    public static final String IDLE_STRATEGY_PROP_NAME = "skylark.idle.strategy";
    public static final String IDLE_STRATEGY_DEFAULT = "park";

    /**
     * {@code dedicated}: the routing agent has its own thread; {@code shared}: it runs on I/O thread 0, saving a
     * thread hand-off (and a wake-up) per message; {@code auto}: shared on machines with 2 cores or fewer. (The
     * third mode, {@link ThreadingMode#INVOKER}, runs no thread at all and is set through
     * {@code Broker.Context.threadingMode} by code that drives the broker itself.)
     */
    public static final String THREADING_PROP_NAME = "skylark.threading";
    public static final String THREADING_DEFAULT = "auto";

    /** {@code default} (permissive limits) or {@code hosted} (a hosted service's published limits, see README). */
    public static final String PRESET_PROP_NAME = "skylark.preset";
    public static final String PRESET_DEFAULT = "default";

    /** Longest topic name or filter accepted, bytes (longer: PUBACK/SUBACK 0x90/0x8F, v3.1.1 close / 0x80). */
    public static final String TOPIC_MAX_LENGTH_PROP_NAME = "skylark.topic.max.length";
    public static final int TOPIC_MAX_LENGTH_DEFAULT = 65_535;

    /** Most levels in a topic name or filter. */
    public static final String TOPIC_MAX_DEPTH_PROP_NAME = "skylark.topic.max.depth";
    public static final int TOPIC_MAX_DEPTH_DEFAULT = 128;

    /** Longest client ID accepted, bytes (longer: CONNACK 0x85 / 3.1.1 return code 2). */
    public static final String CLIENT_ID_MAX_LENGTH_PROP_NAME = "skylark.client.id.max.length";
    public static final int CLIENT_ID_MAX_LENGTH_DEFAULT = 256;

    /** Packets per second one client may send (token bucket refill); 0 = unlimited. PINGREQ counts too. */
    public static final String RATE_LIMIT_PACKETS_PROP_NAME = "skylark.rate.limit.packets";
    public static final int RATE_LIMIT_PACKETS_DEFAULT = 0;

    /** Packets a client may send at once before the rate applies (token bucket size). */
    public static final String RATE_LIMIT_BURST_PROP_NAME = "skylark.rate.limit.burst";
    public static final int RATE_LIMIT_BURST_DEFAULT = 100;

    /** Over the rate: {@code disconnect} (v5 DISCONNECT 0x96, 3.1.1 close) or {@code slow} (stop reading the socket). */
    public static final String RATE_LIMIT_MODE_PROP_NAME = "skylark.rate.limit.mode";
    public static final String RATE_LIMIT_MODE_DEFAULT = "disconnect";

    /** Open connections allowed (0 = unlimited; the process's open-file limit applies anyway). */
    public static final String MAX_CONNECTIONS_PROP_NAME = "skylark.max.connections";
    /** Open connections allowed from one source address (0 = unlimited). */
    public static final String MAX_CONNECTIONS_PER_ADDRESS_PROP_NAME = "skylark.max.connections.per.address";

    /** Subscriptions one client may hold (0 = unlimited); more get SUBACK 0x97 Quota exceeded (3.1.1: 0x80). */
    public static final String SUBSCRIPTIONS_PER_CLIENT_MAX_PROP_NAME = "skylark.subscriptions.per.client.max";

    /**
     * Subscribers one topic filter may have, shared-group members on that filter included (0 = unlimited); more get
     * SUBACK 0x97 Quota exceeded (3.1.1: 0x80).
     */
    public static final String SUBSCRIBERS_PER_FILTER_MAX_PROP_NAME = "skylark.subscribers.per.filter.max";

    /**
     * Shared groups one topic filter may have ({@code $share/g1/a/b} and {@code $share/g2/a/b} are two groups on
     * {@code a/b}; each gets a copy of every message), 0 = unlimited; a SUBSCRIBE that would add another gets SUBACK
     * 0x97 Quota exceeded (3.1.1: 0x80). Joining an existing group is not limited by this.
     */
    public static final String SHARED_GROUPS_PER_FILTER_MAX_PROP_NAME = "skylark.shared.groups.per.filter.max";
    public static final int SHARED_GROUPS_PER_FILTER_MAX_DEFAULT = 1000;

    /**
     * Shared subscriptions (groups joined) one client may hold, 0 = unlimited; more get SUBACK 0x97 Quota exceeded
     * (3.1.1: 0x80). Re-subscribing to a group the client is already in does not count again.
     */
    public static final String SHARED_GROUPS_PER_CLIENT_MAX_PROP_NAME = "skylark.shared.groups.per.client.max";
    public static final int SHARED_GROUPS_PER_CLIENT_MAX_DEFAULT = 100;

    /** Seconds between updates of the $SYS/broker/... topics (0 = off). */
    public static final String SYS_INTERVAL_S_PROP_NAME = "skylark.sys.interval.s";

    /** Whether the admin API under /admin/v1/ answers peers other than loopback (the bearer token applies anyway). */
    public static final String ADMIN_REMOTE_PROP_NAME = "skylark.admin.remote";

    /** Largest MQTT packet accepted (bytes, whole packet); announced to v5 clients as Maximum Packet Size. */
    public static final String MAX_PACKET_SIZE_PROP_NAME = "skylark.max.packet.size";
    public static final int MAX_PACKET_SIZE_DEFAULT = 1024 * 1024;

    /** A socket that sends no CONNECT within this many milliseconds is closed. */
    public static final String CONNECT_TIMEOUT_MS_PROP_NAME = "skylark.connect.timeout.ms";
    public static final int CONNECT_TIMEOUT_MS_DEFAULT = 10_000;

    /**
     * Unacknowledged QoS 1/2 messages the broker sends to one client at once (further ones queue). A v5 client's
     * Receive Maximum lowers it for that client; a 3.1.1 client, which has none, gets this. Large by default so one
     * backend subscriber that drains many devices is not throttled by a count: the window is bounded in memory by
     * {@link #INFLIGHT_MAX_BYTES_PROP_NAME}, and a subscriber that stops acknowledging by the slow-consumer timeout.
     */
    public static final String INFLIGHT_MAX_PROP_NAME = "skylark.inflight.max";
    public static final int INFLIGHT_MAX_DEFAULT = 65_535;

    /**
     * Stored bytes (as in {@link #QUEUE_MAX_BYTES_PROP_NAME}) of the QoS 1/2 messages in flight to one client past
     * which no further one starts; the rest queue within the queue limits. One message always may go, whatever its
     * size. With {@code skylark.queue.max.bytes} this bounds what one slow subscriber holds in the store.
     */
    public static final String INFLIGHT_MAX_BYTES_PROP_NAME = "skylark.inflight.max.bytes";
    public static final int INFLIGHT_MAX_BYTES_DEFAULT = 16 * 1024 * 1024;

    /** Unacknowledged QoS 1/2 publishes the broker accepts from one client (v5 Receive Maximum). */
    public static final String RECEIVE_MAXIMUM_PROP_NAME = "skylark.receive.maximum";
    public static final int RECEIVE_MAXIMUM_DEFAULT = 1024;

    /** QoS 1/2 messages kept for one session that is offline or whose in-flight window is full. */
    public static final String QUEUE_MAX_MESSAGES_PROP_NAME = "skylark.queue.max.messages";
    public static final int QUEUE_MAX_MESSAGES_DEFAULT = 100_000;

    /**
     * Stored bytes of the QoS 1/2 messages queued for one session, offline or behind a full window while online
     * (topic, properties and payload plus 14 bytes each); a message that would go past it is dropped for that
     * session and counted. 0 = unlimited.
     */
    public static final String QUEUE_MAX_BYTES_PROP_NAME = "skylark.queue.max.bytes";
    public static final long QUEUE_MAX_BYTES_DEFAULT = 64L * 1024 * 1024;

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

    /** Longest keep-alive (seconds) a client may use; 0 lets clients choose. v5 clients asking for more or 0 are told. */
    public static final String KEEP_ALIVE_MAX_PROP_NAME = "skylark.keep.alive.max";
    public static final int KEEP_ALIVE_MAX_DEFAULT = 0;

    /** Prefix of the Response Information a v5 client gets when it asks (the client id is appended); empty = none. */
    public static final String RESPONSE_INFORMATION_PREFIX_PROP_NAME = "skylark.response.information.prefix";
    public static final String RESPONSE_INFORMATION_PREFIX_DEFAULT = "responses/";

    /** Highest QoS the broker accepts and grants (0, 1 or 2). */
    public static final String MAXIMUM_QOS_PROP_NAME = "skylark.maximum.qos";
    public static final int MAXIMUM_QOS_DEFAULT = 2;

    /** How a shared subscription group picks the member for a message: round-robin, sticky, least-in-flight. */
    public static final String SHARED_SUBSCRIPTION_POLICY_PROP_NAME = "skylark.shared.subscription.policy";
    public static final String SHARED_SUBSCRIPTION_POLICY_DEFAULT = "round-robin";

    /** Whether retained messages are supported. */
    public static final String RETAIN_AVAILABLE_PROP_NAME = "skylark.retain.available";
    /** Whether subscriptions may use + and #. */
    public static final String WILDCARD_SUBSCRIPTIONS_PROP_NAME = "skylark.wildcard.subscriptions.available";
    /** Whether $share/ subscriptions are supported. */
    public static final String SHARED_SUBSCRIPTIONS_PROP_NAME = "skylark.shared.subscriptions.available";
    /** Whether subscription identifiers are supported. */
    public static final String SUBSCRIPTION_IDENTIFIERS_PROP_NAME = "skylark.subscription.identifiers.available";
    /** Whether payloads marked as UTF-8 (payload format indicator 1) are checked and refused with 0x99 when not. */
    public static final String PAYLOAD_FORMAT_CHECK_PROP_NAME = "skylark.payload.format.check";

    /**
     * Whether a v5 PUBACK/PUBREC for a message no subscription matched says 0x10 No matching subscribers (true, as the
     * specification allows) or 0x00 Success (false: for older clients that take any non-zero code as a failure).
     * The message is accepted either way.
     */
    public static final String PUBACK_NO_MATCHING_SUBSCRIBERS_PROP_NAME = "skylark.puback.no.matching.subscribers";
    public static final boolean PUBACK_NO_MATCHING_SUBSCRIBERS_DEFAULT = true;

    /**
     * A subscriber more than {@code skylark.outbound.buffer.max} behind for this long is disconnected (v5 0x97
     * Quota exceeded; its will is published); 0 = only drop its QoS 0 messages.
     */
    public static final String SLOW_CONSUMER_TIMEOUT_MS_PROP_NAME = "skylark.slow.consumer.timeout.ms";
    public static final long SLOW_CONSUMER_TIMEOUT_MS_DEFAULT = 30_000;

    /**
     * Retained messages the broker keeps in all; a retained PUBLISH that would add one more is refused (v5
     * PUBACK/PUBREC 0x97 Quota exceeded; 3.1.1 acknowledged and dropped; QoS 0 dropped), all counted. Clearing a
     * retained message (empty payload) is always accepted. 0 = unlimited.
     */
    public static final String RETAINED_MAX_MESSAGES_PROP_NAME = "skylark.retained.max.messages";
    public static final int RETAINED_MAX_MESSAGES_DEFAULT = 100_000;

    /** Stored bytes of all retained messages; a retained PUBLISH that would go past it is refused. 0 = unlimited. */
    public static final String RETAINED_MAX_BYTES_PROP_NAME = "skylark.retained.max.bytes";
    public static final long RETAINED_MAX_BYTES_DEFAULT = 64L * 1024 * 1024;

    /**
     * Retained messages one client id may have set (counted while the broker runs; retained messages replayed from
     * the journal count only broker-wide); more are refused like the broker-wide limit. 0 = unlimited.
     */
    public static final String RETAINED_CLIENT_MAX_MESSAGES_PROP_NAME = "skylark.retained.client.max.messages";
    public static final int RETAINED_CLIENT_MAX_MESSAGES_DEFAULT = 1_000;

    /** Stored bytes of the retained messages one client id may have set; past it they are refused. 0 = unlimited. */
    public static final String RETAINED_CLIENT_MAX_BYTES_PROP_NAME = "skylark.retained.client.max.bytes";
    public static final long RETAINED_CLIENT_MAX_BYTES_DEFAULT = 8L * 1024 * 1024;

    /**
     * Largest will (topic, properties and payload bytes) a CONNECT may carry; a bigger one is refused with CONNACK
     * 0x97 Quota exceeded (3.1.1: 0x03 Server unavailable). 0 = unlimited.
     */
    public static final String WILL_MAX_BYTES_PROP_NAME = "skylark.will.max.bytes";
    public static final int WILL_MAX_BYTES_DEFAULT = 64 * 1024;

    /** Capacity in bytes of the ring from the I/O threads to the routing agent (a power of two). */
    public static final String INBOUND_RING_CAPACITY_PROP_NAME = "skylark.inbound.ring.capacity";
    public static final int INBOUND_RING_CAPACITY_DEFAULT = 16 * 1024 * 1024;

    /** Capacity in bytes of each ring from the routing agent to one I/O thread (a power of two). */
    public static final String OUTBOUND_RING_CAPACITY_PROP_NAME = "skylark.outbound.ring.capacity";
    public static final int OUTBOUND_RING_CAPACITY_DEFAULT = 16 * 1024 * 1024;

    /** Path of the MQTT-over-WebSocket endpoint on the HTTP and HTTPS listeners. */
    public static final String WS_PATH_PROP_NAME = "skylark.ws.path";
    public static final String WS_PATH_DEFAULT = "/mqtt";

    /** When true, a WebSocket handshake without {@code Sec-WebSocket-Protocol} is refused (one naming only other subprotocols always is). */
    public static final String WS_SUBPROTOCOL_STRICT_PROP_NAME = "skylark.ws.subprotocol.strict";
    public static final boolean WS_SUBPROTOCOL_STRICT_DEFAULT = false;

    /** Comma-separated {@code Origin} values allowed to open the WebSocket; empty allows any. */
    public static final String WS_ALLOWED_ORIGINS_PROP_NAME = "skylark.ws.allowed.origins";
    public static final String WS_ALLOWED_ORIGINS_DEFAULT = "";

    /** Comma-separated proxy IP addresses whose {@code X-Forwarded-For} names the client in logs; empty trusts none. */
    public static final String HTTP_TRUSTED_PROXIES_PROP_NAME = "skylark.http.trusted.proxies";
    public static final String HTTP_TRUSTED_PROXIES_DEFAULT = "";

    /** MQTT over TLS port; the listener starts when a certificate is configured (-1 = off, 0 = any free port). */
    public static final String MQTTS_PORT_PROP_NAME = "skylark.mqtts.port";
    public static final int MQTTS_PORT_DEFAULT = 8883;

    /** HTTPS + MQTT over secure WebSocket port; starts when a certificate is configured (-1 = off, 0 = any free port). */
    public static final String HTTPS_PORT_PROP_NAME = "skylark.https.port";
    public static final int HTTPS_PORT_DEFAULT = 8884;

    /** PEM certificate chain (leaf first) of the TLS listeners; with {@link #TLS_KEY_PROP_NAME}. */
    public static final String TLS_CERT_PROP_NAME = "skylark.tls.cert";
    /** PEM PKCS#8 private key of {@link #TLS_CERT_PROP_NAME}. */
    public static final String TLS_KEY_PROP_NAME = "skylark.tls.key";
    /** PKCS#12 keystore holding the key and chain (instead of cert + key). */
    public static final String TLS_KEYSTORE_PROP_NAME = "skylark.tls.keystore";
    /**
     * Which name of a verified client certificate becomes the connection's user name (for the rules file, and the
     * {@code certificate} auth mode): {@code cn} (default, the subject's common name), {@code san-dns} (first DNS
     * subject alternative name), {@code san-uri} (first URI one) or {@code none}.
     */
    public static final String TLS_IDENTITY_PROP_NAME = "skylark.tls.identity";
    public static final String TLS_IDENTITY_DEFAULT = "cn";
    /** Password of {@link #TLS_KEYSTORE_PROP_NAME}. */
    public static final String TLS_KEYSTORE_PASSWORD_PROP_NAME = "skylark.tls.keystore.password";
    /** Client certificates: {@code none}, {@code optional} or {@code required} (mutual TLS; needs {@link #TLS_CA_PROP_NAME}). */
    public static final String TLS_CLIENT_AUTH_PROP_NAME = "skylark.tls.client.auth";
    public static final String TLS_CLIENT_AUTH_DEFAULT = "none";
    /** PEM CA bundle that client certificates must chain to. */
    public static final String TLS_CA_PROP_NAME = "skylark.tls.ca";
    /**
     * When true and no certificate is configured, a self-signed certificate for localhost is made in the data
     * directory on first start (local development only) and the TLS listeners use it.
     */
    public static final String TLS_SELF_SIGNED_PROP_NAME = "skylark.tls.self.signed";
    public static final boolean TLS_SELF_SIGNED_DEFAULT = false;

    /**
     * URL (http or https) the publish hook POSTs batches of messages to; the broker routes what it answers. Empty
     * (default): no hook.
     */
    public static final String HOOK_PUBLISH_URL_PROP_NAME = "skylark.hook.publish.url";
    public static final String HOOK_PUBLISH_URL_DEFAULT = "";

    /** Comma-separated topic filters whose messages go through the publish hook. */
    public static final String HOOK_PUBLISH_TOPICS_PROP_NAME = "skylark.hook.publish.topics";
    public static final String HOOK_PUBLISH_TOPICS_DEFAULT = "#";

    /** How long one hook request may take before the failure policy applies, ms. */
    public static final String HOOK_PUBLISH_TIMEOUT_MS_PROP_NAME = "skylark.hook.publish.timeout.ms";
    public static final long HOOK_PUBLISH_TIMEOUT_MS_DEFAULT = 10_000;

    /**
     * What a failed hook request (status other than 200, timeout, malformed answer, no connection) means for its
     * messages: {@code fail-closed} (default: dropped, QoS 1/2 answered 0x80) or {@code fail-open} (routed unchanged).
     */
    public static final String HOOK_PUBLISH_POLICY_PROP_NAME = "skylark.hook.publish.policy";
    public static final String HOOK_PUBLISH_POLICY_DEFAULT = "fail-closed";

    /** Most messages in one hook request. */
    public static final String HOOK_PUBLISH_BATCH_MAX_MESSAGES_PROP_NAME = "skylark.hook.publish.batch.max.messages";
    public static final int HOOK_PUBLISH_BATCH_MAX_MESSAGES_DEFAULT = 1000;

    /** Most message bytes in one hook request (a larger single message goes alone). */
    public static final String HOOK_PUBLISH_BATCH_MAX_BYTES_PROP_NAME = "skylark.hook.publish.batch.max.bytes";
    public static final int HOOK_PUBLISH_BATCH_MAX_BYTES_DEFAULT = 1024 * 1024;

    /**
     * Bytes of messages that may wait for the hook (a power of two); beyond, QoS 0 is dropped and counted and QoS 1/2
     * publishers are held back.
     */
    public static final String HOOK_PUBLISH_QUEUE_BYTES_PROP_NAME = "skylark.hook.publish.queue.bytes";
    public static final int HOOK_PUBLISH_QUEUE_BYTES_DEFAULT = 16 * 1024 * 1024;

    /**
     * On SIGTERM, how long the broker waits for clients to leave by themselves after {@code /readyz} turned 503 and
     * the MQTT listeners stopped accepting, ms; the clients still connected then get DISCONNECT 0x8B. 0 (default):
     * no wait.
     */
    public static final String SHUTDOWN_DRAIN_MS_PROP_NAME = "skylark.shutdown.drain.ms";
    public static final long SHUTDOWN_DRAIN_MS_DEFAULT = 0;

    /**
     * Environment variables that name settings: {@code SKYLARK_} then the name after {@code skylark.} in upper case
     * with dots as underscores ({@code SKYLARK_MQTT_PORT=1884}). Read by the {@code skylark} command, above the file
     * and below JVM flags and command-line flags.
     */
    public static final String ENV_PREFIX = "SKYLARK_";

    /** Environment variables of the launcher ({@code bin/skylark}) that share the prefix but are not settings. */
    public static final java.util.Set<String> ENV_RESERVED = java.util.Set.of("SKYLARK_HOME", "SKYLARK_OPTS",
        "SKYLARK_CONF", "SKYLARK_JAVA");

    /**
     * Broker-wide authorization rules file (Skylark's format or Mosquitto's {@code acl_file}); empty for none. It
     * applies in every authentication mode; with tokens both the token's {@code acl} and the file must allow. Reloaded
     * when it changes (polled every {@code skylark.auth.watch.interval.ms}) and on SIGHUP. See docs/authorization.md.
     */
    public static final String ACL_FILE_PROP_NAME = "skylark.acl.file";
    public static final String ACL_FILE_DEFAULT = "";

    /** The rules file's format: {@code auto} (Mosquitto when it starts with user/topic/pattern), {@code skylark}, {@code mosquitto}. */
    public static final String ACL_FORMAT_PROP_NAME = "skylark.acl.format";
    public static final String ACL_FORMAT_DEFAULT = "auto";

    /** What a rules file (Skylark format) decides when no rule matches: {@code deny} or {@code allow}. Mosquitto files always deny. */
    public static final String ACL_DEFAULT_PROP_NAME = "skylark.acl.default";
    public static final String ACL_DEFAULT_DEFAULT = "deny";

    /**
     * Comma-separated topic prefixes the broker owns: clients may not publish (or set wills) there. Other {@code $}
     * topics ({@code $aws/...}, {@code $iothub/...}) are ordinary topics governed by the rules; a leading {@code +}
     * or {@code #} never matches any {@code $} topic [MQTT-4.7.2-1]. Empty: nothing reserved.
     */
    public static final String RESERVED_TOPIC_PREFIXES_PROP_NAME = "skylark.reserved.topic.prefixes";
    public static final String RESERVED_TOPIC_PREFIXES_DEFAULT = "$SYS/";

    /** Lowest level logged: {@code trace}, {@code debug}, {@code info}, {@code warn} or {@code error}. */
    public static final String LOG_LEVEL_PROP_NAME = "skylark.log.level";
    public static final String LOG_LEVEL_DEFAULT = "info";

    /** Log lines as {@code text} (zoned timestamp, level, thread, logger, message) or {@code json} (one object a line). */
    public static final String LOG_FORMAT_PROP_NAME = "skylark.log.format";
    public static final String LOG_FORMAT_DEFAULT = "text";

    /**
     * Port of the management listener: {@code /metrics}, {@code /healthz}, {@code /readyz} and the admin API on their
     * own port, which the public HTTP listener then no longer serves (-1 = off: they stay on the HTTP listener).
     */
    public static final String MANAGEMENT_PORT_PROP_NAME = "skylark.management.port";
    public static final int MANAGEMENT_PORT_DEFAULT = -1;

    /** Address the management listener binds to (loopback unless set). */
    public static final String MANAGEMENT_BIND_ADDRESS_PROP_NAME = "skylark.management.bind.address";
    public static final String MANAGEMENT_BIND_ADDRESS_DEFAULT = "127.0.0.1";

    /**
     * This node's id in a Skylark cluster (0 to 63, one of {@code skylark.cluster.members}); empty = no cluster:
     * nothing cluster-related starts and a single node pays nothing for it. See docs/cluster.md.
     */
    public static final String CLUSTER_NODE_ID_PROP_NAME = "skylark.cluster.node.id";
    public static final String CLUSTER_NODE_ID_DEFAULT = "";

    /**
     * The cluster's members, {@code id=host:basePort} comma-separated, e.g.
     * {@code 0=127.0.0.1:9100,1=127.0.0.1:9200,2=127.0.0.1:9300}, the same list on every node. Each member uses six
     * UDP ports from its base: +0 cluster ingress, +1 consensus, +2 log, +3 catch-up, +4 archive control, +5
     * node-to-node messages.
     */
    public static final String CLUSTER_MEMBERS_PROP_NAME = "skylark.cluster.members";
    public static final String CLUSTER_MEMBERS_DEFAULT = "";

    /** Where the node keeps its Raft log, archive and snapshots; empty = {@code <data.dir>/cluster}. */
    public static final String CLUSTER_DIR_PROP_NAME = "skylark.cluster.dir";
    public static final String CLUSTER_DIR_DEFAULT = "";

    /** How long a Raft election may take before it starts over, ms (Aeron Cluster's election timeout). */
    public static final String CLUSTER_ELECTION_TIMEOUT_MS_PROP_NAME = "skylark.cluster.election.timeout.ms";
    public static final long CLUSTER_ELECTION_TIMEOUT_MS_DEFAULT = 1000;

    /**
     * A leader not heard from for this long is replaced (an election starts), ms: the floor of fail-over time after
     * a leader dies. Above the heartbeat interval (200 ms) with room for GC pauses.
     */
    public static final String CLUSTER_LEADER_HEARTBEAT_TIMEOUT_MS_PROP_NAME = "skylark.cluster.leader.heartbeat.timeout.ms";
    public static final long CLUSTER_LEADER_HEARTBEAT_TIMEOUT_MS_DEFAULT = 5000;

    /** A node whose registry session is silent this long is declared down (its routes dropped), ms. */
    public static final String CLUSTER_SESSION_TIMEOUT_MS_PROP_NAME = "skylark.cluster.session.timeout.ms";
    public static final long CLUSTER_SESSION_TIMEOUT_MS_DEFAULT = 10_000;

    /** The leader asks for a registry snapshot once this many command bytes were appended since the last one. */
    public static final String CLUSTER_SNAPSHOT_LOG_BYTES_PROP_NAME = "skylark.cluster.snapshot.log.bytes";
    public static final long CLUSTER_SNAPSHOT_LOG_BYTES_DEFAULT = 64L * 1024 * 1024;

    /** The leader asks for a registry snapshot this long after the last one when commands came since, ms (0 = only by size). */
    public static final String CLUSTER_SNAPSHOT_INTERVAL_MS_PROP_NAME = "skylark.cluster.snapshot.interval.ms";
    public static final long CLUSTER_SNAPSHOT_INTERVAL_MS_DEFAULT = 3_600_000;

    /** Bytes of all retained messages the cluster registry keeps; a set that would go past it is refused and counted. */
    public static final String CLUSTER_RETAINED_MAX_BYTES_PROP_NAME = "skylark.cluster.retained.max.bytes";
    public static final long CLUSTER_RETAINED_MAX_BYTES_DEFAULT = 64L * 1024 * 1024;

    /** Term length of each node-to-node publication (a message is at most an eighth of it), bytes. */
    public static final String CLUSTER_PEER_TERM_LENGTH_PROP_NAME = "skylark.cluster.peer.term.length";
    public static final int CLUSTER_PEER_TERM_LENGTH_DEFAULT = 16 * 1024 * 1024;

    /**
     * Server Reference a clustered node sends its v5 clients when it leaves cleanly (shutdown): DISCONNECT 0x9C Use
     * another server with it. Empty: 0x8B Server shutting down, without a reference.
     */
    public static final String CLUSTER_SERVER_REFERENCE_PROP_NAME = "skylark.cluster.server.reference";
    public static final String CLUSTER_SERVER_REFERENCE_DEFAULT = "";

    /**
     * Diagnostic for tests: a file this node's registry appends every client-id ownership change it applies to, in
     * log order (claims, releases and moves, with the log position, epoch and previous owner), for the double
     * ownership checker (docs/cluster.md, "Tests"). Costs a walk over all client ids per registry command: not for
     * production. Empty = off.
     */
    public static final String CLUSTER_OWNERSHIP_LOG_PROP_NAME = "skylark.cluster.ownership.log";
    public static final String CLUSTER_OWNERSHIP_LOG_DEFAULT = "";

    /**
     * What a clustered node's PUBACK/PUBREC waits for: {@code replica} — the message is in this node's journal and in
     * its buddy's replica of it (it survives the loss of this node; with no other node live, acknowledgements wait);
     * {@code local} — in this node's journal only (the single-node promise; the journal is still replicated). Ignored
     * with {@code skylark.durability=none} (nothing is journaled, so nothing is replicated) and in a one-member
     * cluster (no buddy can exist: {@code local}).
     */
    public static final String CLUSTER_ACK_PROP_NAME = "skylark.cluster.ack";
    public static final String CLUSTER_ACK_DEFAULT = "replica";

    /**
     * On a clean leave (shutdown), how long a clustered node waits at most for its heir to take over its persistent
     * sessions, ms; what is not handed over by then stays owned by this node (part 2's heir takes it from the
     * replica). 0: no hand-over.
     */
    public static final String CLUSTER_LEAVE_TIMEOUT_MS_PROP_NAME = "skylark.cluster.leave.timeout.ms";
    public static final long CLUSTER_LEAVE_TIMEOUT_MS_DEFAULT = 5000;

    private static final Map<String, Setting> SETTINGS = new LinkedHashMap<>();

    static
    {
        port(MQTT_PORT_PROP_NAME, MQTT_PORT_DEFAULT, "MQTT/TCP listener port (0 = any free port)");
        port(HTTP_PORT_PROP_NAME, HTTP_PORT_DEFAULT, "HTTP + MQTT-over-WebSocket port (0 = any free port, -1 = off)");
        text(BIND_ADDRESS_PROP_NAME, BIND_ADDRESS_DEFAULT, "address the listeners bind to");
        text(DATA_DIR_PROP_NAME, DATA_DIR_DEFAULT, "directory for journal, keys and state");
        choice(DURABILITY_PROP_NAME, DURABILITY_DEFAULT, "what a PUBACK promises: os (survives kill -9), fsync (survives power loss), none (memory only)", "os", "fsync", "none");
        longInteger(JOURNAL_CHECKPOINT_BYTES_PROP_NAME, JOURNAL_CHECKPOINT_BYTES_DEFAULT, 4096, Long.MAX_VALUE, "journal bytes between checkpoints (older journal deleted)");
        integer(IO_THREADS_PROP_NAME, IO_THREADS_DEFAULT, 1, 256, "selector I/O threads (default: available processors; 1 on 2 or fewer)");
        add(AUTH_MODE_PROP_NAME, AUTH_MODE_DEFAULT, "client authentication, modes tried in order: token, password, certificate (comma-separated), or none",
            (v) -> checkAuthModes(v));
        bool(AUTH_ANONYMOUS_PROP_NAME, AUTH_ANONYMOUS_DEFAULT, "admit clients no auth mode accepts, as anonymous (not with none: everyone is admitted)");
        optionalText(AUTH_PASSWORD_FILE_PROP_NAME, AUTH_PASSWORD_FILE_DEFAULT, "Mosquitto-format password file of auth mode password (empty: <data.dir>/auth/passwd)");
        optionalText(AUTH_AUDIENCE_PROP_NAME, AUTH_AUDIENCE_DEFAULT, "aud every token must name, and token issue writes (empty: not checked)");
        optionalText(AUTH_ISSUER_PROP_NAME, AUTH_ISSUER_DEFAULT, "iss every token must carry, and token issue writes (empty: not checked)");
        longInteger(AUTH_CLOCK_SKEW_S_PROP_NAME, AUTH_CLOCK_SKEW_S_DEFAULT, 0, 3600, "leeway on token exp/nbf, seconds");
        longInteger(AUTH_TOKEN_MAX_LIFETIME_S_PROP_NAME, AUTH_TOKEN_MAX_LIFETIME_S_DEFAULT, 0, Long.MAX_VALUE / 1000,
            "longest a token is honoured from its iat, seconds (0 = no limit)");
        choice(AUTH_EXPIRY_DISCONNECT_PROP_NAME, AUTH_EXPIRY_DISCONNECT_DEFAULT, "disconnect clients when their token expires",
            "true", "false");
        integer(AUTH_TOKEN_MAX_BYTES_PROP_NAME, AUTH_TOKEN_MAX_BYTES_DEFAULT, 64, 65_535, "longest token accepted, bytes");
        optionalText(AUTH_JWKS_FILE_PROP_NAME, AUTH_JWKS_FILE_DEFAULT, "JWK set file of extra public keys (EdDSA/ES256/RS256)");
        optionalText(AUTH_HS256_SECRET_FILE_PROP_NAME, AUTH_HS256_SECRET_FILE_DEFAULT, "file holding an HS256 shared secret");
        integer(AUTH_WATCH_INTERVAL_MS_PROP_NAME, AUTH_WATCH_INTERVAL_MS_DEFAULT, 10, 3_600_000,
            "how often revocations/keys changed by the CLI are picked up, ms");
        optionalText(ACL_FILE_PROP_NAME, ACL_FILE_DEFAULT, "authorization rules file (Skylark or Mosquitto acl_file format)");
        choice(ACL_FORMAT_PROP_NAME, ACL_FORMAT_DEFAULT, "rules file format", "auto", "skylark", "mosquitto");
        choice(ACL_DEFAULT_PROP_NAME, ACL_DEFAULT_DEFAULT, "what the rules file decides when no rule matches", "deny", "allow");
        optionalText(RESERVED_TOPIC_PREFIXES_PROP_NAME, RESERVED_TOPIC_PREFIXES_DEFAULT,
            "topic prefixes owned by the broker, comma-separated (clients may not publish there)");
        choice(IDLE_STRATEGY_PROP_NAME, IDLE_STRATEGY_DEFAULT, "what idle threads do", "park", "spin");
        choice(THREADING_PROP_NAME, THREADING_DEFAULT, "routing agent on its own thread, on I/O thread 0, or auto (shared on <= 2 cores)", "auto", "dedicated", "shared");
        integer(MAX_CONNECTIONS_PROP_NAME, 0, 0, Integer.MAX_VALUE, "open connections allowed (0 = unlimited)");
        integer(MAX_CONNECTIONS_PER_ADDRESS_PROP_NAME, 0, 0, Integer.MAX_VALUE, "open connections per source address (0 = unlimited)");
        integer(SUBSCRIPTIONS_PER_CLIENT_MAX_PROP_NAME, 0, 0, Integer.MAX_VALUE, "subscriptions per client (0 = unlimited)");
        integer(SUBSCRIBERS_PER_FILTER_MAX_PROP_NAME, 0, 0, Integer.MAX_VALUE, "subscribers per topic filter, shared members included (0 = unlimited)");
        integer(SHARED_GROUPS_PER_FILTER_MAX_PROP_NAME, SHARED_GROUPS_PER_FILTER_MAX_DEFAULT, 0, Integer.MAX_VALUE, "shared groups ($share/<group>/) per topic filter (0 = unlimited)");
        integer(SHARED_GROUPS_PER_CLIENT_MAX_PROP_NAME, SHARED_GROUPS_PER_CLIENT_MAX_DEFAULT, 0, Integer.MAX_VALUE, "shared groups one client may join (0 = unlimited)");
        longInteger(SYS_INTERVAL_S_PROP_NAME, 10, 0, 86_400, "seconds between $SYS/broker/... updates (0 = off)");
        bool(ADMIN_REMOTE_PROP_NAME, false, "admin API reachable from other machines");
        choice(PRESET_PROP_NAME, PRESET_DEFAULT, "limits preset", "default", "hosted");
        integer(TOPIC_MAX_LENGTH_PROP_NAME, TOPIC_MAX_LENGTH_DEFAULT, 1, 65_535, "longest topic name or filter, bytes");
        integer(TOPIC_MAX_DEPTH_PROP_NAME, TOPIC_MAX_DEPTH_DEFAULT, 1, 65_535, "most levels in a topic or filter");
        integer(CLIENT_ID_MAX_LENGTH_PROP_NAME, CLIENT_ID_MAX_LENGTH_DEFAULT, 1, 65_535, "longest client ID, bytes");
        integer(RATE_LIMIT_PACKETS_PROP_NAME, RATE_LIMIT_PACKETS_DEFAULT, 0, Integer.MAX_VALUE, "packets per second per client (0 = unlimited)");
        integer(RATE_LIMIT_BURST_PROP_NAME, RATE_LIMIT_BURST_DEFAULT, 1, Integer.MAX_VALUE, "packets a client may send at once");
        choice(RATE_LIMIT_MODE_PROP_NAME, RATE_LIMIT_MODE_DEFAULT, "over the rate: disconnect (0x96) or slow the reader", "disconnect", "slow");
        integer(MAX_PACKET_SIZE_PROP_NAME, MAX_PACKET_SIZE_DEFAULT, 64, 268_435_460, "largest MQTT packet accepted, bytes");
        integer(CONNECT_TIMEOUT_MS_PROP_NAME, CONNECT_TIMEOUT_MS_DEFAULT, 100, 3_600_000, "close sockets that send no CONNECT within this, ms");
        integer(INFLIGHT_MAX_PROP_NAME, INFLIGHT_MAX_DEFAULT, 1, 65_535, "unacknowledged QoS 1/2 messages sent to one client");
        integer(INFLIGHT_MAX_BYTES_PROP_NAME, INFLIGHT_MAX_BYTES_DEFAULT, 1024, 1024 * 1024 * 1024, "stored bytes of QoS 1/2 messages in flight to one client");
        integer(RECEIVE_MAXIMUM_PROP_NAME, RECEIVE_MAXIMUM_DEFAULT, 1, 65_535, "unacknowledged QoS 1/2 publishes accepted from one client");
        integer(QUEUE_MAX_MESSAGES_PROP_NAME, QUEUE_MAX_MESSAGES_DEFAULT, 0, Integer.MAX_VALUE, "queued QoS 1/2 messages per session");
        longInteger(QUEUE_MAX_BYTES_PROP_NAME, QUEUE_MAX_BYTES_DEFAULT, 0, Long.MAX_VALUE, "queued QoS 1/2 message bytes per session, online or offline (0 = unlimited)");
        integer(TOPIC_ALIAS_MAXIMUM_PROP_NAME, TOPIC_ALIAS_MAXIMUM_DEFAULT, 0, 65_535, "topic aliases a v5 client may use");
        longInteger(SESSION_EXPIRY_MAX_PROP_NAME, SESSION_EXPIRY_MAX_DEFAULT, 0, 0xFFFF_FFFFL, "largest session expiry granted, seconds");
        integer(OUTBOUND_BUFFER_MAX_PROP_NAME, OUTBOUND_BUFFER_MAX_DEFAULT, 4096, Integer.MAX_VALUE, "bytes buffered per slow subscriber");
        longInteger(STORE_HIGH_WATER_PROP_NAME, STORE_HIGH_WATER_DEFAULT, 1024 * 1024, Long.MAX_VALUE, "stored message bytes before publishers are held back");
        integer(KEEP_ALIVE_MAX_PROP_NAME, KEEP_ALIVE_MAX_DEFAULT, 0, 65_535, "longest keep-alive clients may use, seconds (0 = theirs)");
        add(RESPONSE_INFORMATION_PREFIX_PROP_NAME, RESPONSE_INFORMATION_PREFIX_DEFAULT, "Response Information prefix for v5 clients that ask (empty = none)", (v) -> null);
        choice(SHARED_SUBSCRIPTION_POLICY_PROP_NAME, SHARED_SUBSCRIPTION_POLICY_DEFAULT, "member choice in a $share group", "round-robin", "sticky", "least-in-flight");
        integer(MAXIMUM_QOS_PROP_NAME, MAXIMUM_QOS_DEFAULT, 0, 2, "highest QoS accepted and granted");
        bool(RETAIN_AVAILABLE_PROP_NAME, true, "retained messages supported");
        bool(WILDCARD_SUBSCRIPTIONS_PROP_NAME, true, "wildcard subscriptions supported");
        bool(SHARED_SUBSCRIPTIONS_PROP_NAME, true, "shared subscriptions supported");
        bool(SUBSCRIPTION_IDENTIFIERS_PROP_NAME, true, "subscription identifiers supported");
        bool(PAYLOAD_FORMAT_CHECK_PROP_NAME, false, "refuse payloads marked UTF-8 that are not (0x99)");
        bool(PUBACK_NO_MATCHING_SUBSCRIBERS_PROP_NAME, PUBACK_NO_MATCHING_SUBSCRIBERS_DEFAULT, "v5 PUBACK/PUBREC say 0x10 when no subscription matched (false = 0x00)");
        longInteger(SLOW_CONSUMER_TIMEOUT_MS_PROP_NAME, SLOW_CONSUMER_TIMEOUT_MS_DEFAULT, 0, Long.MAX_VALUE, "disconnect subscribers behind the outbound limit this long (0 = never)");
        integer(RETAINED_MAX_MESSAGES_PROP_NAME, RETAINED_MAX_MESSAGES_DEFAULT, 0, Integer.MAX_VALUE, "retained messages in all (0 = unlimited)");
        longInteger(RETAINED_MAX_BYTES_PROP_NAME, RETAINED_MAX_BYTES_DEFAULT, 0, Long.MAX_VALUE, "stored bytes of all retained messages (0 = unlimited)");
        integer(RETAINED_CLIENT_MAX_MESSAGES_PROP_NAME, RETAINED_CLIENT_MAX_MESSAGES_DEFAULT, 0, Integer.MAX_VALUE, "retained messages set by one client (0 = unlimited)");
        longInteger(RETAINED_CLIENT_MAX_BYTES_PROP_NAME, RETAINED_CLIENT_MAX_BYTES_DEFAULT, 0, Long.MAX_VALUE, "stored bytes of the retained messages set by one client (0 = unlimited)");
        integer(WILL_MAX_BYTES_PROP_NAME, WILL_MAX_BYTES_DEFAULT, 0, Integer.MAX_VALUE, "largest will in a CONNECT, bytes (0 = unlimited)");
        powerOfTwo(INBOUND_RING_CAPACITY_PROP_NAME, INBOUND_RING_CAPACITY_DEFAULT, "I/O -> routing ring, bytes");
        powerOfTwo(OUTBOUND_RING_CAPACITY_PROP_NAME, OUTBOUND_RING_CAPACITY_DEFAULT, "routing -> I/O ring, bytes (each)");
        add(WS_PATH_PROP_NAME, WS_PATH_DEFAULT, "MQTT-over-WebSocket path on the HTTP(S) listeners",
            (v) -> v.startsWith("/") && !v.contains(" ") ? null : "must be a path starting with '/'");
        bool(WS_SUBPROTOCOL_STRICT_PROP_NAME, WS_SUBPROTOCOL_STRICT_DEFAULT, "refuse WebSocket handshakes that name no subprotocol");
        optionalText(WS_ALLOWED_ORIGINS_PROP_NAME, WS_ALLOWED_ORIGINS_DEFAULT, "Origin values allowed for WebSocket, comma-separated (empty = any)");
        optionalText(HTTP_TRUSTED_PROXIES_PROP_NAME, HTTP_TRUSTED_PROXIES_DEFAULT, "proxy IPs whose X-Forwarded-For is logged as the client");
        port(MQTTS_PORT_PROP_NAME, MQTTS_PORT_DEFAULT, "MQTT/TLS port, when a certificate is configured (-1 = off)");
        port(HTTPS_PORT_PROP_NAME, HTTPS_PORT_DEFAULT, "HTTPS + WSS port, when a certificate is configured (-1 = off)");
        optionalText(TLS_CERT_PROP_NAME, "", "PEM certificate chain for the TLS listeners");
        optionalText(TLS_KEY_PROP_NAME, "", "PEM PKCS#8 private key of that certificate");
        optionalText(TLS_KEYSTORE_PROP_NAME, "", "PKCS#12 keystore (instead of cert + key)");
        optionalText(TLS_KEYSTORE_PASSWORD_PROP_NAME, "", "password of the PKCS#12 keystore");
        choice(TLS_CLIENT_AUTH_PROP_NAME, TLS_CLIENT_AUTH_DEFAULT, "client certificates (mutual TLS)", "none", "optional", "required");
        optionalText(TLS_CA_PROP_NAME, "", "PEM CA bundle for client certificates");
        choice(TLS_IDENTITY_PROP_NAME, TLS_IDENTITY_DEFAULT, "client certificate name that becomes the user name", "cn", "san-dns", "san-uri", "none");
        bool(TLS_SELF_SIGNED_PROP_NAME, TLS_SELF_SIGNED_DEFAULT, "make a self-signed localhost certificate in the data dir when none is set");
        add(HOOK_PUBLISH_URL_PROP_NAME, HOOK_PUBLISH_URL_DEFAULT, "publish hook URL (http/https) that sees every hooked message first (empty = no hook)",
            (v) -> v.isEmpty() ? null : dev.skylark.broker.hook.HookSettings.checkUrl(v));
        add(HOOK_PUBLISH_TOPICS_PROP_NAME, HOOK_PUBLISH_TOPICS_DEFAULT, "topic filters that go through the publish hook, comma-separated",
            (v) -> dev.skylark.broker.hook.HookSettings.checkTopics(dev.skylark.broker.hook.HookSettings.parseTopics(v)));
        longInteger(HOOK_PUBLISH_TIMEOUT_MS_PROP_NAME, HOOK_PUBLISH_TIMEOUT_MS_DEFAULT, 1, 3_600_000, "publish hook request timeout, ms");
        choice(HOOK_PUBLISH_POLICY_PROP_NAME, HOOK_PUBLISH_POLICY_DEFAULT, "when the publish hook fails: drop (0x80) or deliver unchanged", "fail-closed", "fail-open");
        integer(HOOK_PUBLISH_BATCH_MAX_MESSAGES_PROP_NAME, HOOK_PUBLISH_BATCH_MAX_MESSAGES_DEFAULT, 1, 100_000, "most messages in one publish hook request");
        integer(HOOK_PUBLISH_BATCH_MAX_BYTES_PROP_NAME, HOOK_PUBLISH_BATCH_MAX_BYTES_DEFAULT, 1024, 1 << 30, "most message bytes in one publish hook request");
        powerOfTwo(HOOK_PUBLISH_QUEUE_BYTES_PROP_NAME, HOOK_PUBLISH_QUEUE_BYTES_DEFAULT, "bytes that may wait for the publish hook");
        longInteger(SHUTDOWN_DRAIN_MS_PROP_NAME, SHUTDOWN_DRAIN_MS_DEFAULT, 0, 3_600_000, "on SIGTERM, wait this long for clients to leave before DISCONNECT 0x8B, ms");
        choice(LOG_LEVEL_PROP_NAME, LOG_LEVEL_DEFAULT, "lowest level logged", "trace", "debug", "info", "warn", "error");
        choice(LOG_FORMAT_PROP_NAME, LOG_FORMAT_DEFAULT, "log lines as text or JSON (one object a line)", "text", "json");
        port(MANAGEMENT_PORT_PROP_NAME, MANAGEMENT_PORT_DEFAULT, "management listener for /metrics, /healthz, /readyz and the admin API (-1 = off: on the HTTP listener)");
        text(MANAGEMENT_BIND_ADDRESS_PROP_NAME, MANAGEMENT_BIND_ADDRESS_DEFAULT, "address the management listener binds to");
        add(CLUSTER_NODE_ID_PROP_NAME, CLUSTER_NODE_ID_DEFAULT, "this node's id in a cluster, 0-63 (empty = no cluster)",
            (v) -> v.isEmpty() ? null : checkRange(v, 0, dev.skylark.broker.cluster.ClusterMembers.MAX_NODE_ID));
        add(CLUSTER_MEMBERS_PROP_NAME, CLUSTER_MEMBERS_DEFAULT, "cluster members, id=host:basePort comma-separated (6 UDP ports each from the base)",
            (v) -> v.isEmpty() ? null : checkMembers(v));
        optionalText(CLUSTER_DIR_PROP_NAME, CLUSTER_DIR_DEFAULT, "cluster log, archive and snapshots (empty: <data.dir>/cluster)");
        longInteger(CLUSTER_ELECTION_TIMEOUT_MS_PROP_NAME, CLUSTER_ELECTION_TIMEOUT_MS_DEFAULT, 100, 600_000, "Raft election timeout, ms");
        longInteger(CLUSTER_LEADER_HEARTBEAT_TIMEOUT_MS_PROP_NAME, CLUSTER_LEADER_HEARTBEAT_TIMEOUT_MS_DEFAULT, 500, 600_000, "a silent leader is replaced after this, ms");
        longInteger(CLUSTER_SESSION_TIMEOUT_MS_PROP_NAME, CLUSTER_SESSION_TIMEOUT_MS_DEFAULT, 1000, 3_600_000, "a silent node is declared down after this, ms");
        longInteger(CLUSTER_SNAPSHOT_LOG_BYTES_PROP_NAME, CLUSTER_SNAPSHOT_LOG_BYTES_DEFAULT, 4096, Long.MAX_VALUE, "registry log bytes between snapshots");
        longInteger(CLUSTER_SNAPSHOT_INTERVAL_MS_PROP_NAME, CLUSTER_SNAPSHOT_INTERVAL_MS_DEFAULT, 0, Long.MAX_VALUE / 1_000_000, "longest time between registry snapshots, ms (0 = only by size)");
        longInteger(CLUSTER_RETAINED_MAX_BYTES_PROP_NAME, CLUSTER_RETAINED_MAX_BYTES_DEFAULT, 0, Long.MAX_VALUE, "bytes of retained messages in the cluster registry");
        add(CLUSTER_PEER_TERM_LENGTH_PROP_NAME, CLUSTER_PEER_TERM_LENGTH_DEFAULT, "term length of each node-to-node publication, bytes (power of two, 64k to 1g)",
            (v) ->
            {
                final String why = checkRange(v, 64 * 1024, 1 << 30);
                return why != null ? why : Integer.bitCount(Integer.parseInt(v)) == 1 ? null : "must be a power of two";
            });
        add(CLUSTER_SERVER_REFERENCE_PROP_NAME, CLUSTER_SERVER_REFERENCE_DEFAULT, "Server Reference v5 clients get with DISCONNECT 0x9C when this node leaves (empty: 0x8B)",
            (v) -> v.length() > 1024 ? "at most 1024 characters" : v.chars().anyMatch((ch) -> ch < 0x20 || ch == 0x7F) ?
                "no control characters" : null);
        optionalText(CLUSTER_OWNERSHIP_LOG_PROP_NAME, CLUSTER_OWNERSHIP_LOG_DEFAULT, "diagnostic for tests: file the registry appends every ownership change it applies to (empty = off)");
        choice(CLUSTER_ACK_PROP_NAME, CLUSTER_ACK_DEFAULT, "what a clustered node's PUBACK/PUBREC waits for: replica (its journal and its buddy's replica), local (its journal only)", "replica", "local");
        longInteger(CLUSTER_LEAVE_TIMEOUT_MS_PROP_NAME, CLUSTER_LEAVE_TIMEOUT_MS_DEFAULT, 0, 600_000, "on a clean leave, longest wait for the heir to take the persistent sessions over, ms (0 = no hand-over)");
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

    /**
     * The setting an environment variable names ({@code SKYLARK_MQTT_PORT} is {@code skylark.mqtt.port}), or null
     * when it names none.
     */
    public static String settingOfEnvironmentVariable(final String variable)
    {
        for (final String name : SETTINGS.keySet())
        {
            if (environmentVariableOf(name).equals(variable))
            {
                return name;
            }
        }
        return null;
    }

    /** The environment variable of a setting: {@code skylark.mqtt.port} is {@code SKYLARK_MQTT_PORT}. */
    public static String environmentVariableOf(final String name)
    {
        return name.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    /**
     * A name as written in a properties file or on the command line, with the {@code skylark.} prefix added when it
     * has none ({@code mqtt.port} is {@code skylark.mqtt.port}).
     */
    public static String fullName(final String name)
    {
        return name.startsWith(PREFIX) ? name : PREFIX + name;
    }

    static String get(final Properties properties, final String name)
    {
        final String value = properties.getProperty(name);
        return value != null ? value.trim() : defaultValue(properties, name);
    }

    /** The preset's value for a setting the user did not give, else the setting's own default. */
    private static String defaultValue(final Properties properties, final String name)
    {
        final String preset = properties.getProperty(PRESET_PROP_NAME, PRESET_DEFAULT).trim();
        final String fromPreset = "hosted".equals(preset) ? HOSTED_PRESET.get(name) : null;
        return fromPreset != null ? fromPreset : SETTINGS.get(name).defaultValue();
    }

    /**
     * The {@code hosted} preset: the published limits of a hosted MQTT service — 64 KB messages, 10 packets per
     * second per client, topic depth 8, 23-byte client IDs — instead of the permissive defaults.
     */
    public static final Map<String, String> HOSTED_PRESET = Map.of(
        "skylark.max.packet.size", String.valueOf(64 * 1024 + 512),
        "skylark.rate.limit.packets", "10",
        "skylark.rate.limit.burst", "20",
        "skylark.topic.max.depth", "8",
        "skylark.topic.max.length", "256",
        "skylark.client.id.max.length", "23",
        "skylark.subscriptions.per.client.max", "50");

    /** Like {@link #get} but keeps an empty value (for settings where empty means "off"). */
    static String getRaw(final Properties properties, final String name)
    {
        final String value = properties.getProperty(name);
        return value != null ? value : defaultValue(properties, name);
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

    private static void optionalText(final String name, final String def, final String description)
    {
        add(name, def, description, (v) -> null);
    }

    private static void choice(final String name, final String def, final String description, final String... allowed)
    {
        add(name, def, description, (v) -> List.of(allowed).contains(v) ? null : "must be one of " + List.of(allowed));
    }

    private static void bool(final String name, final boolean def, final String description)
    {
        add(name, def, description, (v) -> "true".equals(v) || "false".equals(v) ? null : "must be true or false");
    }

    static boolean getBoolean(final Properties properties, final String name)
    {
        return Boolean.parseBoolean(get(properties, name));
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

    private static String checkAuthModes(final String value)
    {
        try
        {
            dev.skylark.broker.auth.AuthMode.list(value);
            return null;
        }
        catch (final IllegalArgumentException ex)
        {
            return ex.getMessage();
        }
    }

    private static String checkMembers(final String value)
    {
        try
        {
            dev.skylark.broker.cluster.ClusterMembers.parse(value);
            return null;
        }
        catch (final IllegalArgumentException ex)
        {
            return ex.getMessage();
        }
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
