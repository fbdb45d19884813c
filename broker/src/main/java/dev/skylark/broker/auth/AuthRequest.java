package dev.skylark.broker.auth;

/**
 * Who is authenticating, for an {@link AuthMethod}.
 *
 * @param clientId the CONNECT's client identifier ("" when the client asks for one to be assigned); at
 *                 re-authentication, the connection's client identifier.
 * @param userName the CONNECT's user name, or null when it has none.
 * @param phase    at CONNECT, or re-authentication of a live connection.
 */
public record AuthRequest(String clientId, String userName, Phase phase)
{
    /** When an exchange happens. */
    public enum Phase
    {
        /** Between CONNECT and CONNACK. */
        CONNECT,
        /** On a connected client's AUTH 0x19 (Re-authenticate); packets keep flowing under the previous grant. */
        REAUTHENTICATE
    }
}
