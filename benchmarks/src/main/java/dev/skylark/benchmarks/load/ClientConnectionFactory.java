/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadLocalRandom;

import javax.net.ssl.SSLContext;

/**
 * Builds the {@link ClientConnection}s of a run for the configured scenario and transport: client ids unique to the
 * run, buffer sizes fit for the payload and the number of connections, the publish templates, and with TLS one
 * engine per connection and room in the receive buffer for one more record. Called once by {@link LoadGenerator}
 * before any agent starts.
 */
final class ClientConnectionFactory
{
    private final LoadConfig config;
    private final String runId;
    private final SSLContext tlsContext;
    private final int tlsRoom;

    /**
     * @param config of the run.
     * @throws IOException if the TLS context cannot be built (e.g. an unreadable {@code --cafile}).
     */
    ClientConnectionFactory(final LoadConfig config) throws IOException
    {
        this.config = config;
        // Client ids unique to this run: a persistent 3.1.1 subscriber (Clean Session 0) resumes the broker's session
        // of its id, so an id an earlier run used would get that run's queued messages; the time makes a pid reused
        // by the OS plus the same random number not enough to collide.
        this.runId = Long.toString(ProcessHandle.current().pid(), 36) + "-" +
            Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36) +
            (config.persistentSubscribers ? "-" + Long.toString(System.currentTimeMillis(), 36) : "");
        if (config.tls())
        {
            tlsContext = ClientTls.context(config);
            // room for one whole record's plaintext on top of what a buffer keeps of a partial packet
            tlsRoom = ClientTls.applicationBufferSize(tlsContext);
        }
        else
        {
            tlsContext = null;
            tlsRoom = 0;
        }
    }

    /**
     * @return the subscribers of a publish/subscribe scenario, each with its filter.
     */
    ClientConnection[] subscribers()
    {
        final ClientConnection[] subscribers = new ClientConnection[config.subscribers];
        final int trackedPublishers = null == config.sharedGroup ? config.publishers : 0;
        // Many subscribers (fan-out) each get a smaller receive buffer; still room for several packets.
        final int subscriberRx = Math.max(config.subscribers > 16 ? 32 * 1024 : 256 * 1024,
            4 * (config.payloadLength + 512));
        for (int i = 0; i < subscribers.length; i++)
        {
            subscribers[i] = connection(ClientConnection.Role.SUBSCRIBER, i,
                "skylark-sub-" + runId + "-" + i, subscriberRx, config.subscribers > 16 ? 8 * 1024 : 64 * 1024,
                null, 0, trackedPublishers);
            subscribers[i].filter = config.subscriptionFilter(i);
        }

        return subscribers;
    }

    /**
     * @return the publishers of a publish/subscribe scenario, each with its pre-encoded PUBLISH template.
     */
    ClientConnection[] publishers()
    {
        final ClientConnection[] publishers = new ClientConnection[config.publishers];
        final int publisherTx = Math.max(64 * 1024, 4 * (config.payloadLength + 512));
        for (int i = 0; i < publishers.length; i++)
        {
            final PublishTemplate template = ClientPacketEncoder.publishTemplate(
                config.protocolVersion, config.publishTopic(i), config.qos, config.payloadLength);
            publishers[i] = connection(ClientConnection.Role.PUBLISHER, i,
                "skylark-pub-" + runId + "-" + i, 16 * 1024, publisherTx, template,
                config.qos > 0 ? config.inflight : 0, 0);
        }

        return publishers;
    }

    /**
     * Scenario {@code connections}: idle subscribers on {@code idle/<i>}, spread over loopback source addresses.
     *
     * @param addresses loopback source addresses 127.0.0.1..N to bind to; 1 = no bind.
     * @return the connections.
     */
    ClientConnection[] idleConnections(final int addresses)
    {
        final ClientConnection[] connections = new ClientConnection[config.connections];
        for (int i = 0; i < connections.length; i++)
        {
            // Small buffers: CONNECT, SUBSCRIBE and their acks are all these connections carry.
            final ClientConnection c = connection(ClientConnection.Role.SUBSCRIBER, i,
                "skylark-idle-" + runId + "-" + i, 2048, 1024, null, 0, 0);
            c.filter = config.subscriptionFilter(i);
            if (addresses > 1)
            {
                c.localAddress = new InetSocketAddress("127.0.0." + (1 + i % addresses), 0);
            }
            connections[i] = c;
        }

        return connections;
    }

    /**
     * A connection over the configured transport; with TLS its receive buffer gets room for one more record.
     */
    private ClientConnection connection(
        final ClientConnection.Role role,
        final int index,
        final String clientId,
        final int rxCapacity,
        final int txCapacity,
        final PublishTemplate template,
        final int window,
        final int trackedPublishers)
    {
        final ClientConnection c = new ClientConnection(role, index, clientId, rxCapacity + tlsRoom, txCapacity,
            template, window, trackedPublishers, config.webSocket());
        c.remoteAddress = new InetSocketAddress(config.host, config.portOf(role, index));
        c.endSessionOnDisconnect =
            config.sessionExpiryS(role) > 0 && ClientPacketEncoder.MQTT_5 == config.protocolVersion;
        if (null != tlsContext)
        {
            c.tls = new ClientTls(tlsContext, config, Math.min(rxCapacity, 64 * 1024), Math.min(txCapacity, 64 * 1024));
        }

        return c;
    }
}
