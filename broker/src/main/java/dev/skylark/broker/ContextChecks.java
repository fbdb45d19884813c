package dev.skylark.broker;

import dev.skylark.broker.auth.AccessRules;
import dev.skylark.broker.auth.AccessRulesException;
import dev.skylark.broker.auth.AuthMethod;
import dev.skylark.broker.auth.AuthMode;
import dev.skylark.broker.net.TlsIdentity;
import dev.skylark.broker.auth.JwtAuthMethod;
import dev.skylark.broker.hook.HookSettings;
import dev.skylark.broker.ipc.IpcDurableLog;
import dev.skylark.broker.net.IoAgent;
import dev.skylark.broker.net.ListenerSpec;
import dev.skylark.broker.routing.DurableLog;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * What {@link Broker.Context#conclude()} checks: every value against the same rule as its {@code skylark.*}
 * property (so a fluent setter cannot get past a range the properties path refuses), then the limits against each
 * other (packet size against the rings and the journal's Aeron message length, TLS material, the publish hook's
 * queue, invoker threading against durability). Called once per context, before any thread starts.
 */
final class ContextChecks
{
    private ContextChecks()
    {
    }

    /** Every problem found, each naming its setting; empty when the context is good to launch. */
    static List<String> problems(final Broker.Context context)
    {
        final List<String> problems = new ArrayList<>(Configuration.validate(asProperties(context)));
        if (context.threadingMode == null || context.durability == null || context.authMode == null ||
            context.idleMode == null || context.tlsClientAuth == null || context.hookPublishPolicy == null ||
            context.nanoClock == null || context.epochClock == null)
        {
            problems.add("threading, durability, auth mode, idle mode, TLS client auth, hook policy and the clocks " +
                "must not be null");
            return problems;
        }
        checkPacketSize(context, problems);
        if (context.ioThreads > (1 << IoAgent.AGENT_INDEX_BITS))
        {
            problems.add(Configuration.IO_THREADS_PROP_NAME + " is at most " + (1 << IoAgent.AGENT_INDEX_BITS));
        }
        if (context.threadingMode == ThreadingMode.INVOKER && context.durability != Durability.NONE)
        {
            problems.add("threading mode INVOKER needs " + Configuration.DURABILITY_PROP_NAME + "=none (the journal's " +
                "Aeron pieces run on their own threads)");
        }
        checkAuth(context, problems);
        checkAccessRules(context, problems);
        checkTls(context, problems);
        if (!context.hookPublishUrl.isEmpty())
        {
            checkHook(context, problems);
        }
        checkCluster(context, problems);
        return problems;
    }

    /**
     * The context's values as {@code skylark.*} properties, for the range and choice checks of {@link Configuration}.
     * Settings that have no single property (clocks, routers, auth methods) are checked elsewhere or not at all.
     */
    static Properties asProperties(final Broker.Context c)
    {
        final Properties p = new Properties();
        put(p, Configuration.MQTT_PORT_PROP_NAME, c.mqttPort);
        put(p, Configuration.HTTP_PORT_PROP_NAME, c.httpPort);
        put(p, Configuration.MQTTS_PORT_PROP_NAME, c.mqttsPort);
        put(p, Configuration.HTTPS_PORT_PROP_NAME, c.httpsPort);
        put(p, Configuration.BIND_ADDRESS_PROP_NAME, c.bindAddress);
        put(p, Configuration.DATA_DIR_PROP_NAME, c.dataDir);
        put(p, Configuration.JOURNAL_CHECKPOINT_BYTES_PROP_NAME, c.journalCheckpointBytes);
        put(p, Configuration.IO_THREADS_PROP_NAME, c.ioThreads);
        put(p, Configuration.AUTH_CLOCK_SKEW_S_PROP_NAME, c.authClockSkewS);
        put(p, Configuration.AUTH_TOKEN_MAX_LIFETIME_S_PROP_NAME, c.authMaxLifetimeS);
        put(p, Configuration.AUTH_TOKEN_MAX_BYTES_PROP_NAME, c.authTokenMaxBytes);
        put(p, Configuration.AUTH_WATCH_INTERVAL_MS_PROP_NAME, c.authWatchIntervalMs);
        put(p, Configuration.MAX_CONNECTIONS_PROP_NAME, c.maxConnections);
        put(p, Configuration.MAX_CONNECTIONS_PER_ADDRESS_PROP_NAME, c.maxConnectionsPerAddress);
        put(p, Configuration.SUBSCRIPTIONS_PER_CLIENT_MAX_PROP_NAME, c.subscriptionsPerClientMax);
        put(p, Configuration.SUBSCRIBERS_PER_FILTER_MAX_PROP_NAME, c.subscribersPerFilterMax);
        put(p, Configuration.SHARED_GROUPS_PER_FILTER_MAX_PROP_NAME, c.sharedGroupsPerFilterMax);
        put(p, Configuration.SHARED_GROUPS_PER_CLIENT_MAX_PROP_NAME, c.sharedGroupsPerClientMax);
        put(p, Configuration.SYS_INTERVAL_S_PROP_NAME, c.sysIntervalS);
        put(p, Configuration.LOG_LEVEL_PROP_NAME, c.logLevel);
        put(p, Configuration.LOG_FORMAT_PROP_NAME, c.logFormat);
        put(p, Configuration.MANAGEMENT_PORT_PROP_NAME, c.managementPort);
        put(p, Configuration.MANAGEMENT_BIND_ADDRESS_PROP_NAME, c.managementBindAddress);
        put(p, Configuration.TOPIC_MAX_LENGTH_PROP_NAME, c.topicMaxLength);
        put(p, Configuration.TOPIC_MAX_DEPTH_PROP_NAME, c.topicMaxDepth);
        put(p, Configuration.CLIENT_ID_MAX_LENGTH_PROP_NAME, c.clientIdMaxLength);
        put(p, Configuration.RATE_LIMIT_PACKETS_PROP_NAME, c.ratePacketsPerSecond);
        put(p, Configuration.RATE_LIMIT_BURST_PROP_NAME, c.rateBurst);
        put(p, Configuration.MAX_PACKET_SIZE_PROP_NAME, c.maxPacketSize);
        put(p, Configuration.CONNECT_TIMEOUT_MS_PROP_NAME, c.connectTimeoutMs);
        put(p, Configuration.INFLIGHT_MAX_PROP_NAME, c.inflightMax);
        put(p, Configuration.INFLIGHT_MAX_BYTES_PROP_NAME, c.inflightMaxBytes);
        put(p, Configuration.RECEIVE_MAXIMUM_PROP_NAME, c.receiveMaximum);
        put(p, Configuration.QUEUE_MAX_MESSAGES_PROP_NAME, c.queueMaxMessages);
        put(p, Configuration.QUEUE_MAX_BYTES_PROP_NAME, c.queueMaxBytes);
        put(p, Configuration.TOPIC_ALIAS_MAXIMUM_PROP_NAME, c.topicAliasMaximum);
        put(p, Configuration.SESSION_EXPIRY_MAX_PROP_NAME, c.sessionExpiryMax);
        put(p, Configuration.OUTBOUND_BUFFER_MAX_PROP_NAME, c.outboundBufferMax);
        put(p, Configuration.STORE_HIGH_WATER_PROP_NAME, c.storeHighWater);
        put(p, Configuration.KEEP_ALIVE_MAX_PROP_NAME, c.keepAliveMax);
        put(p, Configuration.SHARED_SUBSCRIPTION_POLICY_PROP_NAME, c.sharedSubscriptionPolicy);
        put(p, Configuration.MAXIMUM_QOS_PROP_NAME, c.maximumQos);
        put(p, Configuration.SLOW_CONSUMER_TIMEOUT_MS_PROP_NAME, c.slowConsumerTimeoutMs);
        put(p, Configuration.RETAINED_MAX_MESSAGES_PROP_NAME, c.retainedMaxMessages);
        put(p, Configuration.RETAINED_MAX_BYTES_PROP_NAME, c.retainedMaxBytes);
        put(p, Configuration.RETAINED_CLIENT_MAX_MESSAGES_PROP_NAME, c.retainedClientMaxMessages);
        put(p, Configuration.RETAINED_CLIENT_MAX_BYTES_PROP_NAME, c.retainedClientMaxBytes);
        put(p, Configuration.WILL_MAX_BYTES_PROP_NAME, c.willMaxBytes);
        put(p, Configuration.INBOUND_RING_CAPACITY_PROP_NAME, c.inboundRingCapacity);
        put(p, Configuration.OUTBOUND_RING_CAPACITY_PROP_NAME, c.outboundRingCapacity);
        put(p, Configuration.WS_PATH_PROP_NAME, c.wsPath);
        put(p, Configuration.SHUTDOWN_DRAIN_MS_PROP_NAME, c.shutdownDrainMs);
        put(p, Configuration.CLUSTER_NODE_ID_PROP_NAME, c.clusterNodeId < 0 ? "" : String.valueOf(c.clusterNodeId));
        put(p, Configuration.CLUSTER_MEMBERS_PROP_NAME, c.clusterMembers == null ? "" : c.clusterMembers);
        if (c.clusterNodeId >= 0)
        {
            put(p, Configuration.CLUSTER_ELECTION_TIMEOUT_MS_PROP_NAME, c.clusterElectionTimeoutMs);
            put(p, Configuration.CLUSTER_LEADER_HEARTBEAT_TIMEOUT_MS_PROP_NAME, c.clusterLeaderHeartbeatTimeoutMs);
            put(p, Configuration.CLUSTER_SESSION_TIMEOUT_MS_PROP_NAME, c.clusterSessionTimeoutMs);
            put(p, Configuration.CLUSTER_SNAPSHOT_LOG_BYTES_PROP_NAME, c.clusterSnapshotLogBytes);
            put(p, Configuration.CLUSTER_SNAPSHOT_INTERVAL_MS_PROP_NAME, c.clusterSnapshotIntervalMs);
            put(p, Configuration.CLUSTER_RETAINED_MAX_BYTES_PROP_NAME, c.clusterRetainedMaxBytes);
            put(p, Configuration.CLUSTER_PEER_TERM_LENGTH_PROP_NAME, c.clusterPeerTermLength);
            put(p, Configuration.CLUSTER_SERVER_REFERENCE_PROP_NAME, c.clusterServerReference);
            put(p, Configuration.CLUSTER_OWNERSHIP_LOG_PROP_NAME, c.clusterOwnershipLog);
            put(p, Configuration.CLUSTER_ACK_PROP_NAME, c.clusterAck);
            put(p, Configuration.CLUSTER_LEAVE_TIMEOUT_MS_PROP_NAME, c.clusterLeaveTimeoutMs);
        }
        put(p, Configuration.HOOK_PUBLISH_URL_PROP_NAME, c.hookPublishUrl);
        if (!c.hookPublishUrl.isEmpty())
        {
            put(p, Configuration.HOOK_PUBLISH_TIMEOUT_MS_PROP_NAME, c.hookPublishTimeoutMs);
            put(p, Configuration.HOOK_PUBLISH_BATCH_MAX_MESSAGES_PROP_NAME, c.hookPublishBatchMaxMessages);
            put(p, Configuration.HOOK_PUBLISH_BATCH_MAX_BYTES_PROP_NAME, c.hookPublishBatchMaxBytes);
            put(p, Configuration.HOOK_PUBLISH_QUEUE_BYTES_PROP_NAME, c.hookPublishQueueBytes);
        }
        return p;
    }

    private static void put(final Properties properties, final String name, final Object value)
    {
        properties.setProperty(name, String.valueOf(value));
    }

    /** A packet becomes one ring record (plus headers), and one journal record: it must fit in both. */
    private static void checkPacketSize(final Broker.Context context, final List<String> problems)
    {
        final int maxRecord = Math.min(context.inboundRingCapacity, context.outboundRingCapacity) / 8;
        if (context.maxPacketSize + 256L > maxRecord)
        {
            problems.add(Configuration.MAX_PACKET_SIZE_PROP_NAME + "=" + context.maxPacketSize + " needs ring " +
                "capacities of at least 8 x (max packet size + 256); raise " +
                Configuration.INBOUND_RING_CAPACITY_PROP_NAME + " and " + Configuration.OUTBOUND_RING_CAPACITY_PROP_NAME);
        }
        if (context.durability != Durability.NONE && context.maxPacketSize > 0)
        {
            final int record = BrokerAgents.journalRecordSize(Math.min(context.maxPacketSize, 1 << 30));
            final int aeronMax = IpcDurableLog.maxMessageLength(record);
            if (record > aeronMax)
            {
                problems.add(Configuration.MAX_PACKET_SIZE_PROP_NAME + "=" + context.maxPacketSize + " does not fit " +
                    "the journal's largest Aeron message (" + aeronMax + " bytes, less " +
                    BrokerAgents.journalRecordSize(0) + " bytes of headers); lower it or set " +
                    Configuration.DURABILITY_PROP_NAME + "=none");
            }
            // The smallest records a message is cut into: its header and the largest message, and one target.
            final int recordMax = IpcDurableLog.maxRecordLength(record);
            final long smallest = Math.max(
                DurableLog.MESSAGE_HEADER_LENGTH + 256L + record - BrokerAgents.journalRecordSize(0),
                DurableLog.SMALLEST_TARGETS_RECORD);
            if (smallest > recordMax)
            {
                problems.add(Configuration.MAX_PACKET_SIZE_PROP_NAME + "=" + context.maxPacketSize + ": the " +
                    "smallest journal record of a message (" + smallest + " bytes) does not fit the journal link's " +
                    recordMax + "; lower it or set " + Configuration.DURABILITY_PROP_NAME + "=none");
            }
        }
    }

    private static void checkAuth(final Broker.Context context, final List<String> problems)
    {
        final Set<String> methodNames = new LinkedHashSet<>();
        if (context.tokenAuth())
        {
            methodNames.add(JwtAuthMethod.NAME);
        }
        for (final AuthMethod method : context.authMethods)
        {
            if (!methodNames.add(method.name()))
            {
                problems.add("authentication method '" + method.name() + "' is registered twice");
            }
        }
        if (context.tokenAuth() && !context.authJwksFile.isEmpty() && !Files.isReadable(Path.of(context.authJwksFile)))
        {
            problems.add(Configuration.AUTH_JWKS_FILE_PROP_NAME + "=" + context.authJwksFile + " is not a readable file");
        }
        if (context.tokenAuth() && !context.authHs256SecretFile.isEmpty() &&
            !Files.isReadable(Path.of(context.authHs256SecretFile)))
        {
            problems.add(Configuration.AUTH_HS256_SECRET_FILE_PROP_NAME + "=" + context.authHs256SecretFile +
                " is not a readable file");
        }
        checkAuthModes(context, problems);
    }

    /** Several modes, the password file, certificates as identities. */
    private static void checkAuthModes(final Broker.Context context, final List<String> problems)
    {
        final List<AuthMode> modes = context.authModes;
        if (modes == null || modes.isEmpty() || modes.get(0) != context.authMode)
        {
            problems.add(Configuration.AUTH_MODE_PROP_NAME + " needs at least one mode");
            return;
        }
        if (modes.contains(AuthMode.NONE) && modes.size() > 1)
        {
            problems.add(Configuration.AUTH_MODE_PROP_NAME + "=none cannot be combined with other modes");
        }
        if (modes.contains(AuthMode.PASSWORD))
        {
            final Path file = context.passwordFile();
            if (!Files.isReadable(file))
            {
                problems.add(Configuration.AUTH_MODE_PROP_NAME + "=password needs the password file " + file +
                    " (" + Configuration.AUTH_PASSWORD_FILE_PROP_NAME + "): make it with 'skylark passwd add USER' " +
                    "or point at a mosquitto_passwd file");
            }
        }
        if (modes.contains(AuthMode.CERTIFICATE) &&
            (context.tlsClientAuth == ListenerSpec.ClientAuth.NONE || context.tlsIdentity == TlsIdentity.NONE))
        {
            problems.add(Configuration.AUTH_MODE_PROP_NAME + "=certificate needs client certificates: " +
                Configuration.TLS_CLIENT_AUTH_PROP_NAME + "=optional or required, and " +
                Configuration.TLS_IDENTITY_PROP_NAME + " other than none");
        }
    }

    /** A rules file that cannot be used stops the start with its file, line and why. */
    private static void checkAccessRules(final Broker.Context context, final List<String> problems)
    {
        for (final String prefix : context.reservedTopicPrefixes)
        {
            if (prefix.indexOf('+') >= 0 || prefix.indexOf('#') >= 0)
            {
                problems.add(Configuration.RESERVED_TOPIC_PREFIXES_PROP_NAME + ": '" + prefix +
                    "' holds a wildcard");
            }
        }
        if (context.aclFile == null || context.aclFile.isEmpty())
        {
            return;
        }
        try
        {
            AccessRules.read(Path.of(context.aclFile), context.aclFormat, context.aclDefaultAllow);
        }
        catch (final AccessRulesException ex)
        {
            problems.add(Configuration.ACL_FILE_PROP_NAME + ": " + ex.getMessage());
        }
    }

    private static void checkTls(final Broker.Context context, final List<String> problems)
    {
        if ((context.tlsCert == null) != (context.tlsKey == null))
        {
            problems.add(Configuration.TLS_CERT_PROP_NAME + " and " + Configuration.TLS_KEY_PROP_NAME + " go together");
        }
        if (context.tlsCert != null && context.tlsKeystore != null)
        {
            problems.add("set either " + Configuration.TLS_CERT_PROP_NAME + " + " + Configuration.TLS_KEY_PROP_NAME +
                " or " + Configuration.TLS_KEYSTORE_PROP_NAME + ", not both");
        }
        if (context.tlsClientAuth != ListenerSpec.ClientAuth.NONE && context.tlsCa == null)
        {
            problems.add(Configuration.TLS_CLIENT_AUTH_PROP_NAME + "=" +
                context.tlsClientAuth.name().toLowerCase(java.util.Locale.ROOT) + " needs " + Configuration.TLS_CA_PROP_NAME);
        }
    }

    private static void checkHook(final Broker.Context context, final List<String> problems)
    {
        final String badTopics = HookSettings.checkTopics(context.hookPublishTopics);
        if (badTopics != null)
        {
            problems.add(Configuration.HOOK_PUBLISH_TOPICS_PROP_NAME + " " + badTopics);
        }
        // One message, with its publisher's client id and token id, must fit in one record of the queue.
        final long record = context.maxPacketSize + Math.max(context.clientIdMaxLength, 256) +
            (context.tokenAuth() ? 2L * context.authTokenMaxBytes : 0) + 64;
        final int queueBytes = context.hookPublishQueueBytes;
        if (Integer.bitCount(queueBytes) != 1 || queueBytes / 8 < record)
        {
            problems.add(Configuration.HOOK_PUBLISH_QUEUE_BYTES_PROP_NAME + "=" + queueBytes +
                " must be a power of two of at least 8 x (max packet size + client id + token id + 64) = " + 8 * record);
        }
    }

    /** A node id needs members that name it; members need a node id; the cluster runs threads; messages fit. */
    private static void checkCluster(final Broker.Context c, final List<String> problems)
    {
        final boolean hasMembers = c.clusterMembers != null && !c.clusterMembers.isEmpty();
        if (c.clusterNodeId < 0)
        {
            if (hasMembers && c.clusterLink == null)
            {
                problems.add(Configuration.CLUSTER_MEMBERS_PROP_NAME + " is set but " +
                    Configuration.CLUSTER_NODE_ID_PROP_NAME + " is not: which member is this node?");
            }
            return;
        }
        if (!hasMembers)
        {
            problems.add(Configuration.CLUSTER_NODE_ID_PROP_NAME + "=" + c.clusterNodeId + " needs " +
                Configuration.CLUSTER_MEMBERS_PROP_NAME + " (id=host:basePort,...)");
            return;
        }
        try
        {
            final dev.skylark.broker.cluster.ClusterMembers members =
                dev.skylark.broker.cluster.ClusterMembers.parse(c.clusterMembers);
            if (members.member(c.clusterNodeId) == null)
            {
                problems.add(Configuration.CLUSTER_NODE_ID_PROP_NAME + "=" + c.clusterNodeId + " is not one of " +
                    Configuration.CLUSTER_MEMBERS_PROP_NAME + " (" + members + ")");
            }
        }
        catch (final IllegalArgumentException ex)
        {
            return; // reported by the property check
        }
        if (c.clusterLeaderHeartbeatTimeoutMs >= c.clusterSessionTimeoutMs)
        {
            problems.add(Configuration.CLUSTER_SESSION_TIMEOUT_MS_PROP_NAME + " must be above " +
                Configuration.CLUSTER_LEADER_HEARTBEAT_TIMEOUT_MS_PROP_NAME + " (a node's session must outlive an " +
                "election)");
        }
        if (c.threadingMode == ThreadingMode.INVOKER)
        {
            problems.add("threading mode INVOKER cannot run a cluster node (Aeron Cluster runs its own threads)");
        }
        if ((long)c.maxPacketSize + 64 > c.clusterPeerTermLength / 8)
        {
            problems.add(Configuration.MAX_PACKET_SIZE_PROP_NAME + " (" + c.maxPacketSize + ") must fit an eighth of " +
                Configuration.CLUSTER_PEER_TERM_LENGTH_PROP_NAME + " (" + c.clusterPeerTermLength + ") to be forwarded");
        }
    }
}
