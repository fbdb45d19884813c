package dev.skylark.broker;

import dev.skylark.broker.auth.AccessRules;
import dev.skylark.broker.auth.AuthMode;
import dev.skylark.broker.net.TlsIdentity;
import dev.skylark.broker.hook.HookPolicy;
import dev.skylark.broker.hook.HookSettings;
import dev.skylark.broker.net.ListenerSpec;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;

/**
 * Fills a {@link Broker.Context} from {@code skylark.*} properties (already validated by {@link Configuration}):
 * each setting's value, the preset's or its default. Called by the Context's constructors only.
 */
final class ContextDefaults
{
    private ContextDefaults()
    {
    }

    static void load(final Broker.Context c, final Properties properties)
    {
        c.mqttPort = Configuration.getInt(properties, Configuration.MQTT_PORT_PROP_NAME);
        c.httpPort = Configuration.getInt(properties, Configuration.HTTP_PORT_PROP_NAME);
        c.bindAddress = Configuration.get(properties, Configuration.BIND_ADDRESS_PROP_NAME);
        c.dataDir = Configuration.get(properties, Configuration.DATA_DIR_PROP_NAME);
        final String clusterNodeId = Configuration.get(properties, Configuration.CLUSTER_NODE_ID_PROP_NAME);
        c.clusterNodeId = clusterNodeId.isEmpty() ? -1 : Integer.parseInt(clusterNodeId);
        c.clusterMembers = Configuration.get(properties, Configuration.CLUSTER_MEMBERS_PROP_NAME);
        c.clusterDir = Configuration.get(properties, Configuration.CLUSTER_DIR_PROP_NAME);
        c.clusterElectionTimeoutMs = Configuration.getLong(properties, Configuration.CLUSTER_ELECTION_TIMEOUT_MS_PROP_NAME);
        c.clusterLeaderHeartbeatTimeoutMs =
            Configuration.getLong(properties, Configuration.CLUSTER_LEADER_HEARTBEAT_TIMEOUT_MS_PROP_NAME);
        c.clusterSessionTimeoutMs = Configuration.getLong(properties, Configuration.CLUSTER_SESSION_TIMEOUT_MS_PROP_NAME);
        c.clusterSnapshotLogBytes = Configuration.getLong(properties, Configuration.CLUSTER_SNAPSHOT_LOG_BYTES_PROP_NAME);
        c.clusterSnapshotIntervalMs = Configuration.getLong(properties, Configuration.CLUSTER_SNAPSHOT_INTERVAL_MS_PROP_NAME);
        c.clusterRetainedMaxBytes = Configuration.getLong(properties, Configuration.CLUSTER_RETAINED_MAX_BYTES_PROP_NAME);
        c.clusterPeerTermLength = Configuration.getInt(properties, Configuration.CLUSTER_PEER_TERM_LENGTH_PROP_NAME);
        c.clusterServerReference = Configuration.get(properties, Configuration.CLUSTER_SERVER_REFERENCE_PROP_NAME);
        c.clusterOwnershipLog = Configuration.get(properties, Configuration.CLUSTER_OWNERSHIP_LOG_PROP_NAME);
        c.clusterAck = Configuration.get(properties, Configuration.CLUSTER_ACK_PROP_NAME);
        c.clusterLeaveTimeoutMs = Configuration.getLong(properties, Configuration.CLUSTER_LEAVE_TIMEOUT_MS_PROP_NAME);
        c.ioThreads = Configuration.getInt(properties, Configuration.IO_THREADS_PROP_NAME);
        c.authModes = AuthMode.list(Configuration.get(properties, Configuration.AUTH_MODE_PROP_NAME));
        c.authMode = c.authModes.get(0);
        c.authAnonymous = Configuration.getBoolean(properties, Configuration.AUTH_ANONYMOUS_PROP_NAME);
        c.authPasswordFile = Configuration.get(properties, Configuration.AUTH_PASSWORD_FILE_PROP_NAME);
        c.authAudience = Configuration.get(properties, Configuration.AUTH_AUDIENCE_PROP_NAME);
        c.authIssuer = Configuration.get(properties, Configuration.AUTH_ISSUER_PROP_NAME);
        c.idleMode = IdleMode.named(Configuration.get(properties, Configuration.IDLE_STRATEGY_PROP_NAME));
        c.threadingMode = ThreadingMode.named(Configuration.get(properties, Configuration.THREADING_PROP_NAME),
            Runtime.getRuntime().availableProcessors());
        c.adminRemote = Configuration.getBoolean(properties, Configuration.ADMIN_REMOTE_PROP_NAME);
        c.sysIntervalS = Configuration.getLong(properties, Configuration.SYS_INTERVAL_S_PROP_NAME);
        c.logLevel = Configuration.get(properties, Configuration.LOG_LEVEL_PROP_NAME);
        c.logFormat = Configuration.get(properties, Configuration.LOG_FORMAT_PROP_NAME);
        c.managementPort = Configuration.getInt(properties, Configuration.MANAGEMENT_PORT_PROP_NAME);
        c.managementBindAddress = Configuration.get(properties, Configuration.MANAGEMENT_BIND_ADDRESS_PROP_NAME);
        c.subscriptionsPerClientMax = Configuration.getInt(properties, Configuration.SUBSCRIPTIONS_PER_CLIENT_MAX_PROP_NAME);
        c.subscribersPerFilterMax = Configuration.getInt(properties, Configuration.SUBSCRIBERS_PER_FILTER_MAX_PROP_NAME);
        c.sharedGroupsPerFilterMax = Configuration.getInt(properties, Configuration.SHARED_GROUPS_PER_FILTER_MAX_PROP_NAME);
        c.sharedGroupsPerClientMax = Configuration.getInt(properties, Configuration.SHARED_GROUPS_PER_CLIENT_MAX_PROP_NAME);
        c.queueMaxBytes = Configuration.getLong(properties, Configuration.QUEUE_MAX_BYTES_PROP_NAME);
        c.maxConnections = Configuration.getInt(properties, Configuration.MAX_CONNECTIONS_PROP_NAME);
        c.maxConnectionsPerAddress = Configuration.getInt(properties, Configuration.MAX_CONNECTIONS_PER_ADDRESS_PROP_NAME);
        c.maxPacketSize = Configuration.getInt(properties, Configuration.MAX_PACKET_SIZE_PROP_NAME);
        c.connectTimeoutMs = Configuration.getInt(properties, Configuration.CONNECT_TIMEOUT_MS_PROP_NAME);
        c.inflightMax = Configuration.getInt(properties, Configuration.INFLIGHT_MAX_PROP_NAME);
        c.inflightMaxBytes = Configuration.getInt(properties, Configuration.INFLIGHT_MAX_BYTES_PROP_NAME);
        c.receiveMaximum = Configuration.getInt(properties, Configuration.RECEIVE_MAXIMUM_PROP_NAME);
        c.queueMaxMessages = Configuration.getInt(properties, Configuration.QUEUE_MAX_MESSAGES_PROP_NAME);
        c.topicAliasMaximum = Configuration.getInt(properties, Configuration.TOPIC_ALIAS_MAXIMUM_PROP_NAME);
        c.sessionExpiryMax = Configuration.getLong(properties, Configuration.SESSION_EXPIRY_MAX_PROP_NAME);
        c.outboundBufferMax = Configuration.getInt(properties, Configuration.OUTBOUND_BUFFER_MAX_PROP_NAME);
        c.storeHighWater = Configuration.getLong(properties, Configuration.STORE_HIGH_WATER_PROP_NAME);
        c.keepAliveMax = Configuration.getInt(properties, Configuration.KEEP_ALIVE_MAX_PROP_NAME);
        c.sharedSubscriptionPolicy = Configuration.get(properties, Configuration.SHARED_SUBSCRIPTION_POLICY_PROP_NAME);
        c.responseInformationPrefix =
            Configuration.getRaw(properties, Configuration.RESPONSE_INFORMATION_PREFIX_PROP_NAME);
        c.maximumQos = Configuration.getInt(properties, Configuration.MAXIMUM_QOS_PROP_NAME);
        c.retainAvailable = Configuration.getBoolean(properties, Configuration.RETAIN_AVAILABLE_PROP_NAME);
        c.wildcardSubscriptionsAvailable =
            Configuration.getBoolean(properties, Configuration.WILDCARD_SUBSCRIPTIONS_PROP_NAME);
        c.sharedSubscriptionsAvailable =
            Configuration.getBoolean(properties, Configuration.SHARED_SUBSCRIPTIONS_PROP_NAME);
        c.subscriptionIdentifiersAvailable =
            Configuration.getBoolean(properties, Configuration.SUBSCRIPTION_IDENTIFIERS_PROP_NAME);
        c.payloadFormatCheck = Configuration.getBoolean(properties, Configuration.PAYLOAD_FORMAT_CHECK_PROP_NAME);
        c.pubackNoMatchingSubscribers =
            Configuration.getBoolean(properties, Configuration.PUBACK_NO_MATCHING_SUBSCRIBERS_PROP_NAME);
        c.topicMaxLength = Configuration.getInt(properties, Configuration.TOPIC_MAX_LENGTH_PROP_NAME);
        c.topicMaxDepth = Configuration.getInt(properties, Configuration.TOPIC_MAX_DEPTH_PROP_NAME);
        c.clientIdMaxLength = Configuration.getInt(properties, Configuration.CLIENT_ID_MAX_LENGTH_PROP_NAME);
        c.ratePacketsPerSecond = Configuration.getInt(properties, Configuration.RATE_LIMIT_PACKETS_PROP_NAME);
        c.rateBurst = Configuration.getInt(properties, Configuration.RATE_LIMIT_BURST_PROP_NAME);
        c.slowConsumerTimeoutMs = Configuration.getLong(properties, Configuration.SLOW_CONSUMER_TIMEOUT_MS_PROP_NAME);
        c.retainedMaxMessages = Configuration.getInt(properties, Configuration.RETAINED_MAX_MESSAGES_PROP_NAME);
        c.retainedMaxBytes = Configuration.getLong(properties, Configuration.RETAINED_MAX_BYTES_PROP_NAME);
        c.retainedClientMaxMessages =
            Configuration.getInt(properties, Configuration.RETAINED_CLIENT_MAX_MESSAGES_PROP_NAME);
        c.retainedClientMaxBytes = Configuration.getLong(properties, Configuration.RETAINED_CLIENT_MAX_BYTES_PROP_NAME);
        c.willMaxBytes = Configuration.getInt(properties, Configuration.WILL_MAX_BYTES_PROP_NAME);
        c.rateSlowsReader = "slow".equals(Configuration.get(properties, Configuration.RATE_LIMIT_MODE_PROP_NAME));
        c.inboundRingCapacity = Configuration.getInt(properties, Configuration.INBOUND_RING_CAPACITY_PROP_NAME);
        c.outboundRingCapacity = Configuration.getInt(properties, Configuration.OUTBOUND_RING_CAPACITY_PROP_NAME);
        c.authClockSkewS = Configuration.getLong(properties, Configuration.AUTH_CLOCK_SKEW_S_PROP_NAME);
        c.authMaxLifetimeS = Configuration.getLong(properties, Configuration.AUTH_TOKEN_MAX_LIFETIME_S_PROP_NAME);
        c.authExpiryDisconnect = "true".equals(Configuration.get(properties, Configuration.AUTH_EXPIRY_DISCONNECT_PROP_NAME));
        c.authTokenMaxBytes = Configuration.getInt(properties, Configuration.AUTH_TOKEN_MAX_BYTES_PROP_NAME);
        c.authJwksFile = Configuration.get(properties, Configuration.AUTH_JWKS_FILE_PROP_NAME);
        c.authHs256SecretFile = Configuration.get(properties, Configuration.AUTH_HS256_SECRET_FILE_PROP_NAME);
        c.authWatchIntervalMs = Configuration.getInt(properties, Configuration.AUTH_WATCH_INTERVAL_MS_PROP_NAME);
        c.aclFile = Configuration.get(properties, Configuration.ACL_FILE_PROP_NAME);
        c.aclFormat = AccessRules.Format.valueOf(
            Configuration.get(properties, Configuration.ACL_FORMAT_PROP_NAME).toUpperCase(java.util.Locale.ROOT));
        c.aclDefaultAllow = "allow".equals(Configuration.get(properties, Configuration.ACL_DEFAULT_PROP_NAME));
        c.reservedTopicPrefixes =
            prefixes(Configuration.get(properties, Configuration.RESERVED_TOPIC_PREFIXES_PROP_NAME));
        c.wsPath = Configuration.get(properties, Configuration.WS_PATH_PROP_NAME);
        c.wsSubprotocolStrict = Configuration.getBoolean(properties, Configuration.WS_SUBPROTOCOL_STRICT_PROP_NAME);
        c.wsAllowedOrigins = list(Configuration.get(properties, Configuration.WS_ALLOWED_ORIGINS_PROP_NAME));
        c.httpTrustedProxies = list(Configuration.get(properties, Configuration.HTTP_TRUSTED_PROXIES_PROP_NAME));
        c.mqttsPort = Configuration.getInt(properties, Configuration.MQTTS_PORT_PROP_NAME);
        c.httpsPort = Configuration.getInt(properties, Configuration.HTTPS_PORT_PROP_NAME);
        c.tlsCert = emptyToNull(Configuration.get(properties, Configuration.TLS_CERT_PROP_NAME));
        c.tlsKey = emptyToNull(Configuration.get(properties, Configuration.TLS_KEY_PROP_NAME));
        c.tlsKeystore = emptyToNull(Configuration.get(properties, Configuration.TLS_KEYSTORE_PROP_NAME));
        c.tlsKeystorePassword = Configuration.get(properties, Configuration.TLS_KEYSTORE_PASSWORD_PROP_NAME);
        c.tlsClientAuth = clientAuth(Configuration.get(properties, Configuration.TLS_CLIENT_AUTH_PROP_NAME));
        c.tlsCa = emptyToNull(Configuration.get(properties, Configuration.TLS_CA_PROP_NAME));
        c.tlsIdentity = TlsIdentity.named(Configuration.get(properties, Configuration.TLS_IDENTITY_PROP_NAME));
        c.tlsSelfSigned = Configuration.getBoolean(properties, Configuration.TLS_SELF_SIGNED_PROP_NAME);
        c.durability = Durability.named(Configuration.get(properties, Configuration.DURABILITY_PROP_NAME));
        c.journalCheckpointBytes = Configuration.getLong(properties, Configuration.JOURNAL_CHECKPOINT_BYTES_PROP_NAME);
        c.hookPublishUrl = Configuration.get(properties, Configuration.HOOK_PUBLISH_URL_PROP_NAME);
        c.hookPublishTopics = HookSettings.parseTopics(
            Configuration.get(properties, Configuration.HOOK_PUBLISH_TOPICS_PROP_NAME));
        c.hookPublishTimeoutMs = Configuration.getLong(properties, Configuration.HOOK_PUBLISH_TIMEOUT_MS_PROP_NAME);
        c.hookPublishPolicy = HookPolicy.named(Configuration.get(properties, Configuration.HOOK_PUBLISH_POLICY_PROP_NAME));
        c.hookPublishBatchMaxMessages =
            Configuration.getInt(properties, Configuration.HOOK_PUBLISH_BATCH_MAX_MESSAGES_PROP_NAME);
        c.hookPublishBatchMaxBytes = Configuration.getInt(properties, Configuration.HOOK_PUBLISH_BATCH_MAX_BYTES_PROP_NAME);
        c.hookPublishQueueBytes = Configuration.getInt(properties, Configuration.HOOK_PUBLISH_QUEUE_BYTES_PROP_NAME);
        c.shutdownDrainMs = Configuration.getLong(properties, Configuration.SHUTDOWN_DRAIN_MS_PROP_NAME);
    }

    /** Comma-separated prefixes, trimmed, empty ones left out. */
    private static List<String> prefixes(final String value)
    {
        final List<String> prefixes = new ArrayList<>();
        for (final String prefix : value.split(","))
        {
            if (!prefix.isBlank())
            {
                prefixes.add(prefix.strip());
            }
        }
        return List.copyOf(prefixes);
    }

    private static Set<String> list(final String value)
    {
        final Set<String> items = new LinkedHashSet<>();
        for (final String item : value.split(","))
        {
            if (!item.isBlank())
            {
                items.add(item.trim());
            }
        }
        return Set.copyOf(items);
    }

    static ListenerSpec.ClientAuth clientAuth(final String value)
    {
        try
        {
            return ListenerSpec.ClientAuth.valueOf(value.toUpperCase(Locale.ROOT));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(Configuration.TLS_CLIENT_AUTH_PROP_NAME +
                " must be none, optional or required: " + value, ex);
        }
    }

    private static String emptyToNull(final String value)
    {
        return value == null || value.isEmpty() ? null : value;
    }
}
