package dev.skylark.broker.session;

import dev.skylark.broker.auth.AuthMethod;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * What one connection keeps of its enhanced authentication (AUTH, MQTT 5 section 4.12): the method, and the state of
 * an exchange under way, at CONNECT or on re-authentication. Created only for a connection that authenticates with
 * a method (or re-authenticates with the password method), so password clients pay nothing; driven by
 * {@link ConnectHandshake}.
 */
final class AuthExchange
{
    /** The CONNECT's method; re-authentication must use the same [MQTT-4.12.1-1]. */
    final AuthMethod method;
    /** What the method keeps between the steps of an exchange under way. */
    Object state;
    /** Authentication Data the method's success returned, for the CONNACK. */
    byte[] responseData;
    /** A CONNECT kept while its exchange continues (the receive buffer moves on), else null. */
    UnsafeBuffer pendingConnect;
    /** The exchange succeeded but the routing ring was full: the CONNECT goes to the routing agent on the retry. */
    boolean admitPending;
    /** A re-authentication exchange (AUTH 0x19, then 0x18s) is under way; packets flow under the current grant. */
    boolean reauthenticating;

    AuthExchange(final AuthMethod method)
    {
        this.method = method;
    }
}
