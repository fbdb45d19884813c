/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * The publishers of one {@link ClientAgent}: each duty cycle, round robin, every READY publisher appends up to
 * {@link #PUBLISH_BATCH} pre-encoded PUBLISH packets to its send buffer and the {@link ClientSendEndPoint} flushes
 * it once.
 * <p>
 * Paced ({@code --rate N}): an open-loop schedule, publisher {@code i} of {@code P} sends at
 * {@code startNs + i * interval / P + k * interval} and stamps that <em>intended</em> time in the payload, so a late
 * send shows as latency (coordinated-omission corrected); the largest lag is counted. Flat out ({@code --rate 0}):
 * stamps the send time, bounded by socket writability, the QoS &gt; 0 in-flight window and
 * {@code --max-outstanding} over all agents. Nothing allocates per message.
 */
final class PublishPacer
{
    static final int PUBLISH_BATCH = 64;
    private static final long OUTSTANDING_RECHECK_NS = TimeUnit.MICROSECONDS.toNanos(50);

    private final LoadConfig config;
    private final ClientConnection[] publishers;
    private final ClientSendEndPoint sender;
    private final long intervalNs;
    private final boolean paced;
    private final long maxOutstanding;
    private final int copies;
    private AgentCounters[] allCounters;

    private long startNs = Long.MAX_VALUE;
    private long measureStartNs = Long.MAX_VALUE;
    private long measureEndNs = Long.MAX_VALUE;
    private long nextDueNs = Long.MAX_VALUE;
    private int roundRobin;

    private long sentTotal;
    private long sentInWindow;
    private long inflight;
    private long maxSendLagNs;
    private long outstandingPauses;

    /**
     * @param config      of the run.
     * @param connections of the agent; the publishers among them are paced here.
     * @param sender      flushes a publisher after each batch.
     */
    PublishPacer(final LoadConfig config, final ClientConnection[] connections, final ClientSendEndPoint sender)
    {
        this.config = config;
        this.sender = sender;
        int publisherCount = 0;
        for (final ClientConnection c : connections)
        {
            publisherCount += c.role == ClientConnection.Role.PUBLISHER ? 1 : 0;
        }
        this.publishers = new ClientConnection[publisherCount];
        int p = 0;
        for (final ClientConnection c : connections)
        {
            if (c.role == ClientConnection.Role.PUBLISHER)
            {
                publishers[p++] = c;
            }
        }
        this.intervalNs = config.publisherIntervalNs();
        this.paced = intervalNs > 0;
        this.maxOutstanding = config.maxOutstanding;
        this.copies = Math.max(1, config.copiesPerMessage());
    }

    /**
     * @param allCounters of all agents, read to bound flat-out publishing by {@code --max-outstanding}.
     */
    void allCounters(final AgentCounters[] allCounters)
    {
        this.allCounters = allCounters;
    }

    /**
     * The run's schedule as the agent read it at the start of this duty cycle.
     */
    void schedule(final long startNs, final long measureStartNs, final long measureEndNs)
    {
        this.startNs = startNs;
        this.measureStartNs = measureStartNs;
        this.measureEndNs = measureEndNs;
    }

    boolean hasPublishers()
    {
        return publishers.length > 0;
    }

    /**
     * @return when the earliest paced publisher that could send is due next, or {@link Long#MAX_VALUE}.
     */
    long nextDueNs()
    {
        return nextDueNs;
    }

    /**
     * One duty cycle of publishing.
     *
     * @param nowNs this duty cycle's clock read.
     * @return publishes written.
     */
    int publish(final long nowNs)
    {
        final ClientConnection[] publishers = this.publishers;
        final int count = publishers.length;
        final boolean started = nowNs - startNs >= 0 && startNs != Long.MAX_VALUE;
        final boolean flatOutActive = started && !paced && nowNs - measureEndNs < 0;
        long nextDueNs = Long.MAX_VALUE;
        long inflight = 0;
        int workCount = 0;
        long allowed = Long.MAX_VALUE;
        if (flatOutActive && maxOutstanding > 0 && null != allCounters)
        {
            final long received = AgentCounters.sum(allCounters, AgentCounters.RECEIVED_TOTAL);
            allowed = (maxOutstanding - (sentTotal * copies - received)) / copies;
            if (allowed <= 0)
            {
                outstandingPauses++;
                this.nextDueNs = nowNs + OUTSTANDING_RECHECK_NS;
                for (final ClientConnection c : publishers)
                {
                    inflight += c.inflight;
                }
                this.inflight = inflight;
                return 0;
            }
        }

        int i = roundRobin;
        for (int n = 0; n < count; n++)
        {
            final ClientConnection c = publishers[i];
            if (++i == count)
            {
                i = 0;
            }

            if (c.state == ClientConnection.State.READY && (flatOutActive || (paced && started)))
            {
                final int sent = publishBatch(c, nowNs, allowed);
                allowed -= sent;
                workCount += sent;
                if (paced && c.nextIntendedNs - measureEndNs < 0 && (0 == config.qos || c.inflight < c.window) &&
                    c.tx.remaining() >= c.template.length())
                {
                    nextDueNs = Math.min(nextDueNs, c.nextIntendedNs);
                }
            }
            inflight += c.inflight;
        }

        if (++roundRobin >= count)
        {
            roundRobin = 0;
        }
        this.nextDueNs = nextDueNs;
        this.inflight = inflight;

        return workCount;
    }

    private int publishBatch(final ClientConnection c, final long nowNs, final long allowed)
    {
        final PublishTemplate template = c.template;
        final ByteBuffer tx = c.tx;
        final int qos = config.qos;
        if (paced && 0 == c.nextIntendedNs)
        {
            c.nextIntendedNs = startNs + (c.index * intervalNs) / config.publishers;
        }

        int sent = 0;
        final long limit = Math.min(PUBLISH_BATCH, allowed);
        while (sent < limit && tx.remaining() >= template.length() && (0 == qos || c.inflight < c.window))
        {
            final long stampNs;
            if (paced)
            {
                stampNs = c.nextIntendedNs;
                if (stampNs - nowNs > 0 || stampNs - measureEndNs >= 0)
                {
                    break;
                }
                c.nextIntendedNs = stampNs + intervalNs;
                if (stampNs - measureStartNs >= 0)
                {
                    maxSendLagNs = Math.max(maxSendLagNs, nowNs - stampNs);
                }
            }
            else
            {
                stampNs = nowNs;
            }

            final int packetId = 0 == qos ? 0 : c.acquirePacketId();
            template.writeTo(tx, packetId, stampNs, c.index, c.sequence++);
            sentTotal++;
            if (stampNs - measureStartNs >= 0 && stampNs - measureEndNs < 0)
            {
                sentInWindow++;
                if (0 != packetId)
                {
                    c.trackAck(packetId, stampNs);
                }
            }
            sent++;
        }

        if (sent > 0)
        {
            sender.flush(c);
        }

        return sent;
    }

    long sentTotal()
    {
        return sentTotal;
    }

    long sentInWindow()
    {
        return sentInWindow;
    }

    long inflight()
    {
        return inflight;
    }

    long maxSendLagNs()
    {
        return maxSendLagNs;
    }

    long outstandingPauses()
    {
        return outstandingPauses;
    }
}
