/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.IOException;

/**
 * How a load-generator connection becomes READY and how it ends, for all the parts of one {@link ClientAgent}:
 * counts the READY connections, closes a connection and reports why (unreachable, lost, protocol error) to
 * {@link LoadControl}. While the agent is closing, a lost connection is expected and not a failure.
 * <p>
 * Called by {@link ClientAgent}, {@link ClientConnector}, {@link ClientInputAdapter} and {@link ClientSendEndPoint}
 * on the agent's thread.
 */
final class ClientLifecycle
{
    private final LoadConfig config;
    private final LoadControl control;
    private long ready;
    private boolean closing;

    ClientLifecycle(final LoadConfig config, final LoadControl control)
    {
        this.config = config;
        this.control = control;
    }

    /**
     * @return connections that completed CONNECT (and SUBSCRIBE for subscribers) and are not closed.
     */
    long ready()
    {
        return ready;
    }

    /**
     * @return true once the agent is closing its connections.
     */
    boolean closing()
    {
        return closing;
    }

    /**
     * The agent closes its connections: from now on a lost connection is not a failure.
     */
    void onClosing()
    {
        closing = true;
    }

    /**
     * The handshake of {@code c} is complete (CONNACK, and SUBACK for a subscriber).
     */
    void onReady(final ClientConnection c)
    {
        c.state = ClientConnection.State.READY;
        ready++;
    }

    void close(final ClientConnection c)
    {
        if (c.state == ClientConnection.State.READY)
        {
            ready--;
        }
        c.state = ClientConnection.State.CLOSED;
        if (null != c.key)
        {
            c.key.cancel();
        }
        try
        {
            c.channel.close();
        }
        catch (final IOException ignore)
        {
        }
    }

    void unreachable(final ClientConnection c, final IOException ex)
    {
        control.fail(LoadControl.EXIT_UNREACHABLE,
            "cannot connect to broker at " + config.host + ":" + config.port +
            (null == c.localAddress ? "" : " from " + c.localAddress.getAddress().getHostAddress()) +
            " (connection " + (c.index + 1) + "): " + ex);
    }

    void connectionLost(final ClientConnection c, final String reason)
    {
        if (!closing)
        {
            control.fail(c.state == ClientConnection.State.AWAIT_CONNACK ||
                c.state == ClientConnection.State.TLS_HANDSHAKE || c.state == ClientConnection.State.WS_UPGRADE ?
                LoadControl.EXIT_REFUSED : LoadControl.EXIT_PROTOCOL,
                "connection " + c.clientId + " lost (" + c.state + "): " + reason);
        }
        close(c);
    }

    void protocolError(final ClientConnection c, final String message)
    {
        control.fail(LoadControl.EXIT_PROTOCOL, "protocol error on " + c.clientId + ": " + message);
        close(c);
    }

    /**
     * Record {@code exitCode} with {@code message} as the run's failure (unless one came first) and close {@code c}.
     */
    void fail(final ClientConnection c, final int exitCode, final String message)
    {
        control.fail(exitCode, message);
        close(c);
    }
}
