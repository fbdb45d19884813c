package dev.skylark.broker.cluster;

import io.aeron.Aeron;
import io.aeron.archive.Archive;
import io.aeron.archive.ArchiveThreadingMode;
import io.aeron.archive.client.AeronArchive;
import io.aeron.cluster.ClusterControl;
import io.aeron.cluster.ClusteredMediaDriver;
import io.aeron.cluster.ConsensusModule;
import io.aeron.cluster.client.AeronCluster;
import io.aeron.cluster.service.Cluster;
import io.aeron.cluster.service.ClusteredServiceContainer;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.agrona.CloseHelper;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.NoOpLock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One member of a Skylark cluster, hosted in the broker's process: its own media driver (SHARED threading, so
 * one thread; the broker's embedded journal driver is left alone), an Archive (SHARED), the ConsensusModule, the
 * {@link RegistryService} in a ClusteredServiceContainer, and {@link ClusterNodeAgent} on one more thread, which
 * keeps this node's registry client session (an {@link AeronCluster}), receives node-to-node messages and triggers
 * snapshots. The routing agent talks to all of it through {@link #link()}.
 * <p>
 * Every agent here is off the hot path and idles with a {@link BackoffIdleStrategy} that parks after a few spins
 * (2 cores can host 3 nodes). Directories: {@code <dir>/driver} (Aeron's, deleted on start), {@code <dir>/archive}
 * and {@code <dir>/consensus} (kept: the log and snapshots a restart recovers from).
 */
public final class ClusterNode implements AutoCloseable
{
    /** Everything a node needs, validated by the caller (the broker's {@code conclude()}). */
    public record Settings(
        int nodeId,
        ClusterMembers members,
        File dir,
        long electionTimeoutMs,
        long leaderHeartbeatTimeoutMs,
        long sessionTimeoutMs,
        long snapshotLogBytes,
        long snapshotIntervalMs,
        long retainedMaxBytes,
        int peerTermLength,
        int maxMessageLength,
        String ownershipLog)
    {
        /** Without the ownership log (a diagnostic for tests, see {@link OwnershipLog}). */
        public Settings(
            final int nodeId, final ClusterMembers members, final File dir, final long electionTimeoutMs,
            final long leaderHeartbeatTimeoutMs, final long sessionTimeoutMs, final long snapshotLogBytes,
            final long snapshotIntervalMs, final long retainedMaxBytes, final int peerTermLength,
            final int maxMessageLength)
        {
            this(nodeId, members, dir, electionTimeoutMs, leaderHeartbeatTimeoutMs, sessionTimeoutMs, snapshotLogBytes,
                snapshotIntervalMs, retainedMaxBytes, peerTermLength, maxMessageLength, "");
        }
    }

    static final int CLUSTER_ID = 0;
    static final int PEER_STREAM_ID = 1101;
    static final int LOG_TERM_LENGTH = 4 * 1024 * 1024;
    static final int INGRESS_TERM_LENGTH = 1024 * 1024;

    private final Settings settings;
    private final RegistryService service;
    private final ClusteredMediaDriver clusteredMediaDriver;
    private final ClusteredServiceContainer container;
    private final Aeron aeron;
    private final AeronClusterLink link;
    private final ClusterNodeAgent agent;
    private final AgentRunner agentRunner;
    private final FileChannel lockChannel;
    private volatile boolean running = true;

    private ClusterNode(
        final Settings settings, final FileChannel lockChannel, final Runnable wakeRouter,
        final ErrorHandler errors, final ClusterMetrics metrics)
    {
        // While closing, the parts see each other go (service client closed, unexpected termination): not errors.
        final ErrorHandler errorHandler = (t) ->
        {
            if (running)
            {
                errors.onError(t);
            }
        };
        this.settings = settings;
        this.lockChannel = lockChannel;
        final ClusterMembers.Member self = settings.members().member(settings.nodeId());
        final String host = self.host();
        final File driverDir = new File(settings.dir(), "driver");
        final Supplier<IdleStrategy> idle = ClusterNode::offHotPathIdle;

        final int ringBytes = ringBytes(settings.maxMessageLength());
        final OneToOneRingBuffer eventRing = ring(ringBytes);
        final OneToOneRingBuffer peerRing = ring(ringBytes);
        final OneToOneRingBuffer commandRing = ring(ringBytes);
        final Registry registry = new Registry(settings.nodeId(), settings.retainedMaxBytes(), null);
        registry.events(new RegistryEvents.Writer(eventRing, offHotPathIdle(), () -> running, wakeRouter)
            .sessions(registry::sessionOf));
        service = new RegistryService(registry, settings.nodeId());
        if (settings.ownershipLog() != null && !settings.ownershipLog().isEmpty())
        {
            service.ownershipLog(new OwnershipLog(new File(settings.ownershipLog()), settings.nodeId()));
        }

        final MediaDriver.Context driver = new MediaDriver.Context()
            .aeronDirectoryName(driverDir.getAbsolutePath())
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .threadingMode(ThreadingMode.SHARED)
            .sharedIdleStrategy(offHotPathIdle())
            .termBufferSparseFile(true)
            .publicationTermBufferLength(settings.peerTermLength())
            .ipcTermBufferLength(INGRESS_TERM_LENGTH)
            .errorHandler(errorHandler);
        if (System.getProperty(io.aeron.driver.Configuration.MTU_LENGTH_PROP_NAME) == null)
        {
            driver.mtuLength(datagramMtu(host));
        }

        final Archive.Context archive = new Archive.Context()
            .aeronDirectoryName(driverDir.getAbsolutePath())
            .archiveDir(new File(settings.dir(), "archive"))
            .controlChannel("aeron:udp?endpoint=" + self.endpoint(ClusterMembers.ARCHIVE_OFFSET))
            .archiveClientContext(new AeronArchive.Context().controlResponseChannel("aeron:udp?endpoint=" + host + ":0"))
            .localControlChannel("aeron:ipc?term-length=64k")
            .replicationChannel("aeron:udp?endpoint=" + host + ":0")
            .recordingEventsEnabled(false)
            .threadingMode(ArchiveThreadingMode.SHARED)
            .idleStrategySupplier(idle)
            .archiveId(settings.nodeId())
            .deleteArchiveOnStart(false)
            .errorHandler(errorHandler);

        final AeronArchive.Context archiveClient = new AeronArchive.Context()
            .lock(NoOpLock.INSTANCE)
            .controlRequestChannel(archive.localControlChannel())
            .controlRequestStreamId(archive.localControlStreamId())
            .controlResponseChannel(archive.localControlChannel())
            .aeronDirectoryName(driverDir.getAbsolutePath());

        final File consensusDir = new File(settings.dir(), "consensus");
        final ConsensusModule.Context consensus = new ConsensusModule.Context()
            .clusterId(CLUSTER_ID)
            .clusterMemberId(settings.nodeId())
            .clusterMembers(settings.members().consensusMembers())
            .clusterDir(consensusDir)
            .aeronDirectoryName(driverDir.getAbsolutePath())
            .archiveContext(archiveClient.clone())
            .serviceCount(1)
            .logChannel("aeron:udp?term-length=" + LOG_TERM_LENGTH)
            .ingressChannel("aeron:udp")
            .replicationChannel("aeron:udp?endpoint=" + host + ":0")
            .electionTimeoutNs(TimeUnit.MILLISECONDS.toNanos(settings.electionTimeoutMs()))
            .leaderHeartbeatTimeoutNs(TimeUnit.MILLISECONDS.toNanos(settings.leaderHeartbeatTimeoutMs()))
            .sessionTimeoutNs(TimeUnit.MILLISECONDS.toNanos(settings.sessionTimeoutMs()))
            .startupCanvassTimeoutNs(TimeUnit.MILLISECONDS.toNanos(Math.max(
                2 * settings.leaderHeartbeatTimeoutMs(), 2 * settings.electionTimeoutMs())))
            .idleStrategySupplier(idle)
            .errorHandler(errorHandler);

        final ClusteredServiceContainer.Context serviceContext = new ClusteredServiceContainer.Context()
            .clusterId(CLUSTER_ID)
            .aeronDirectoryName(driverDir.getAbsolutePath())
            .archiveContext(archiveClient.clone())
            .clusterDir(consensusDir)
            .clusteredService(service)
            .serviceId(0)
            .idleStrategySupplier(idle)
            .errorHandler(errorHandler);

        ClusteredMediaDriver cmd = null;
        ClusteredServiceContainer csc = null;
        Aeron client = null;
        try
        {
            cmd = ClusteredMediaDriver.launch(driver, archive, consensus);
            csc = ClusteredServiceContainer.launch(serviceContext);
            client = Aeron.connect(new Aeron.Context()
                .aeronDirectoryName(driverDir.getAbsolutePath())
                .errorHandler(errorHandler));
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(client, csc, cmd);
            throw ex;
        }
        clusteredMediaDriver = cmd;
        container = csc;
        aeron = client;

        link = new AeronClusterLink(settings, aeron, commandRing, eventRing, peerRing, metrics);
        final AeronCluster.Context clientContext = new AeronCluster.Context()
            .aeron(aeron)
            .ownsAeronClient(false)
            .ingressChannel("aeron:udp?term-length=" + INGRESS_TERM_LENGTH)
            .ingressEndpoints(settings.members().ingressEndpoints())
            .egressChannel("aeron:udp?endpoint=" + host + ":0")
            .messageTimeoutNs(TimeUnit.MILLISECONDS.toNanos(Math.max(1000, settings.electionTimeoutMs())));
        agent = new ClusterNodeAgent(settings, clientContext, aeron, service, link, commandRing, peerRing,
            wakeRouter, errorHandler, metrics);
        link.agent(agent);
        agentRunner = new AgentRunner(offHotPathIdle(), errorHandler, null, agent);
        AgentRunner.startOnThread(agentRunner);
    }

    /** Starts node {@code settings.nodeId()} with its figures in memory only (tests, tools). */
    public static ClusterNode launch(final Settings settings, final Runnable wakeRouter, final ErrorHandler errors)
    {
        return launch(settings, wakeRouter, errors,
            new ClusterMetrics(dev.skylark.broker.status.Counters.inMemory(), settings.members(), settings.nodeId()));
    }

    /**
     * Starts node {@code settings.nodeId()}; {@code wakeRouter} wakes the routing agent when events arrive; its
     * figures go to {@code metrics}. A node with bad settings fails here with a message naming the problem.
     */
    public static ClusterNode launch(
        final Settings settings, final Runnable wakeRouter, final ErrorHandler errors, final ClusterMetrics metrics)
    {
        if (settings.members().member(settings.nodeId()) == null)
        {
            throw new IllegalArgumentException("node id " + settings.nodeId() + " is not one of the members " +
                settings.members());
        }
        final FileChannel lock = lock(settings.dir());
        try
        {
            removeStaleMarkFiles(settings.dir());
            return new ClusterNode(settings, lock, wakeRouter, errors, metrics);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(lock);
            throw ex;
        }
    }

    /**
     * Locks {@code <dir>/node.lock} for this process (the OS drops the lock when the process dies, even on SIGKILL):
     * two processes never run one node directory.
     */
    private static FileChannel lock(final File dir)
    {
        try
        {
            Files.createDirectories(dir.toPath());
            final FileChannel channel = FileChannel.open(dir.toPath().resolve("node.lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            if (channel.tryLock() == null)
            {
                channel.close();
                throw new IllegalStateException("cluster directory " + dir + " is in use by another process");
            }
            return channel;
        }
        catch (final IOException | OverlappingFileLockException ex)
        {
            throw new IllegalStateException("cannot lock cluster directory " + dir + ": " + ex, ex);
        }
    }

    /**
     * With the node lock held, mark files left by a killed process are stale: Aeron would otherwise refuse to start
     * until their heartbeat ages out (a restart right after kill -9 fails with "active mark file detected").
     */
    private static void removeStaleMarkFiles(final File dir)
    {
        for (final String sub : new String[] {"archive", "consensus"})
        {
            final File[] files = new File(dir, sub).listFiles((d, name) -> name.contains("-mark") &&
                name.endsWith(".dat"));
            if (files != null)
            {
                for (final File file : files)
                {
                    if (!file.delete())
                    {
                        throw new IllegalStateException("cannot remove stale mark file " + file);
                    }
                }
            }
        }
    }

    /** Aeron's largest datagram payload where the interface carries 8 KiB whole (loopback, jumbo frames). */
    static final int LARGE_MTU = 8192;
    private static final int IP_UDP_HEADERS = 28;

    /**
     * The MTU of the node's Aeron streams (peer messages, journal replication, the registry's log): {@link #LARGE_MTU}
     * when the interface of {@code host} carries such datagrams unfragmented, else Aeron's default (1,408, safe on
     * any Ethernet). Each datagram is one send and one receive per driver duty cycle, so on a busy node the larger one
     * moves several times the messages for the same CPU. {@code -Daeron.mtu.length} overrides it.
     */
    static int datagramMtu(final String host)
    {
        try
        {
            final java.net.NetworkInterface nic =
                java.net.NetworkInterface.getByInetAddress(java.net.InetAddress.getByName(host));
            if (nic != null && nic.getMTU() - IP_UDP_HEADERS >= LARGE_MTU)
            {
                return LARGE_MTU;
            }
        }
        catch (final IOException | RuntimeException ex)
        {
            // not an address of this machine, or unreadable: the default is safe everywhere
        }
        return io.aeron.driver.Configuration.MTU_LENGTH_DEFAULT;
    }

    /** The idle strategy of every cluster agent: a few spins and yields, then parks from 1 µs up to 1 ms. */
    static IdleStrategy offHotPathIdle()
    {
        return new BackoffIdleStrategy(10, 10, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1));
    }

    static int ringBytes(final int maxMessageLength)
    {
        int bytes = 1024 * 1024;
        while (bytes / 8 < maxMessageLength + 64)
        {
            bytes <<= 1;
        }
        return bytes;
    }

    private static OneToOneRingBuffer ring(final int bytes)
    {
        return new OneToOneRingBuffer(new UnsafeBuffer(
            ByteBuffer.allocateDirect(bytes + RingBufferDescriptor.TRAILER_LENGTH)));
    }

    /** The link the routing agent uses. */
    public AeronClusterLink link()
    {
        return link;
    }

    public int nodeId()
    {
        return settings.nodeId();
    }

    /** This member's Raft role: "leader", "follower" or "candidate". */
    public String role()
    {
        final Cluster.Role role = service.role();
        return role.name().toLowerCase();
    }

    public boolean isLeader()
    {
        return isLeaderRole(service);
    }

    static boolean isLeaderRole(final RegistryService service)
    {
        return service.role() == Cluster.Role.LEADER;
    }

    /** The leader as this node's registry client last heard it, or -1. */
    public int leaderId()
    {
        return agent.leaderId();
    }

    /** True while this node's registry session is open (commands can be offered). */
    public boolean connected()
    {
        return agent.connected();
    }

    /** Bit n set: the registry holds node n as live. */
    public long liveNodesMask()
    {
        return service.liveNodesMask();
    }

    /**
     * This node's buddy as the registry holds it now: the node that keeps the replica of this node's journal (and
     * becomes its heir), {@link dev.skylark.broker.routing.ClusterLink#NO_NODE} when no other node is live. Any
     * thread; it changes as nodes come and go.
     */
    public int buddyId()
    {
        return buddyOf(settings.nodeId(), service.liveNodesMask());
    }

    /**
     * The buddy of a live {@code nodeId} as the registry holds it now, or {@code NO_NODE} when {@code nodeId} is not
     * live (or has no buddy). Any thread.
     */
    public int liveBuddyOf(final int nodeId)
    {
        final long live = service.liveNodesMask();
        return nodeId >= 0 && nodeId < 64 && (live & (1L << nodeId)) != 0 ? buddyOf(nodeId, live) :
            dev.skylark.broker.routing.ClusterLink.NO_NODE;
    }

    /**
     * {@link Registry#buddyOf} over a live-node mask: the next live node id above {@code nodeId}, wrapping round;
     * {@code NO_NODE} when no other node is live.
     */
    static int buddyOf(final int nodeId, final long liveMask)
    {
        final long others = liveMask & ~(1L << nodeId);
        if (others == 0)
        {
            return dev.skylark.broker.routing.ClusterLink.NO_NODE;
        }
        final long above = nodeId >= 63 ? 0 : others & (-1L << (nodeId + 1));
        return Long.numberOfTrailingZeros(above != 0 ? above : others);
    }

    /** Bit n set: node n is a member. */
    public long membersMask()
    {
        long mask = 0;
        for (final int id : settings.members().all().keySet())
        {
            mask |= 1L << id;
        }
        return mask;
    }

    /** {@code host:port} of a member's node-to-node port (base + 5), which journal replication shares. */
    public String peerEndpoint(final int nodeId)
    {
        return settings.members().member(nodeId).endpoint(ClusterMembers.PEER_OFFSET);
    }

    /** The directory of this node's media driver, which carries the node-to-node UDP streams. */
    public String aeronDirectoryName()
    {
        return aeron.context().aeronDirectoryName();
    }

    public int routeEntries()
    {
        return service.routeEntries();
    }

    public long snapshots()
    {
        return service.snapshots();
    }

    public long commandsApplied()
    {
        return service.commands();
    }

    public long appliedLogPosition()
    {
        return service.appliedLogPosition();
    }

    /** Bytes of commands appended since the last snapshot. */
    public long logBytesSinceSnapshot()
    {
        return service.logBytesSinceSnapshot();
    }

    /**
     * The registry's state hash and the log position it was taken at, computed on the service thread; waits up to
     * {@code timeoutMs}. Returns {hash, position}, or null on timeout.
     */
    public long[] stateHash(final long timeoutMs) throws InterruptedException
    {
        service.requestStateHash();
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline)
        {
            final long position = service.stateHashPosition();
            if (position >= 0)
            {
                return new long[] {service.stateHash(), position};
            }
            Thread.onSpinWait();
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        return null;
    }

    /**
     * The cluster's nodes for the admin API: {@code {"self": N, "leader": N, "nodes": [{"id", "host", "basePort",
     * "live", "role"}]}}; live as the registry holds it, role "leader" or "follower" (of live nodes, as this node
     * knows the leader), else "down".
     */
    public String nodesJson()
    {
        final long live = service.liveNodesMask();
        final int leader = leaderId();
        final StringBuilder sb = new StringBuilder(128).append("{\"self\": ").append(settings.nodeId())
            .append(", \"leader\": ").append(leader).append(", \"nodes\": [");
        boolean first = true;
        for (final ClusterMembers.Member m : settings.members().all().values())
        {
            final boolean isLive = (live & (1L << m.id())) != 0;
            sb.append(first ? "" : ", ").append("{\"id\": ").append(m.id()).append(", \"host\": \"")
                .append(m.host().replace("\\", "\\\\").replace("\"", "\\\"")).append("\", \"basePort\": ")
                .append(m.basePort()).append(", \"live\": ").append(isLive).append(", \"role\": \"")
                .append(m.id() == leader ? "leader" : isLive ? "follower" : "down").append("\"}");
            first = false;
        }
        return sb.append("]}").toString();
    }

    /** Asks for a snapshot now (leader only; false elsewhere or while one is under way). */
    public boolean snapshot()
    {
        return agent.toggleSnapshot();
    }

    ClusterControl.ToggleState toggleState()
    {
        return agent.toggleState();
    }

    @Override
    public void close()
    {
        running = false;
        CloseHelper.quietClose(agentRunner);
        CloseHelper.quietClose(agent::closeClient);
        CloseHelper.quietClose(link);
        CloseHelper.quietClose(container);
        CloseHelper.quietClose(aeron);
        CloseHelper.quietClose(clusteredMediaDriver);
        CloseHelper.quietClose(lockChannel);
    }
}
