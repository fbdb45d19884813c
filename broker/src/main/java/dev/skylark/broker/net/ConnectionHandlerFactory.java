package dev.skylark.broker.net;

/**
 * Creates the protocol handler for each accepted connection, on the connection's I/O thread.
 */
@FunctionalInterface
public interface ConnectionHandlerFactory
{
    ConnectionHandler newHandler(Connection connection);
}
