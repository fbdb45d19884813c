package dev.skylark.broker.auth;

/**
 * Decides a CONNECT, once, on the connection's I/O thread. Implementations are thread-safe: every I/O agent
 * shares one.
 */
public interface Authenticator
{
    /**
     * Accepts everyone with no topic restriction ({@code skylark.auth.mode=none}); the user name is the TLS client
     * certificate's name when there is one, else whatever the CONNECT says.
     */
    Authenticator NONE = new Authenticator()
    {
        @Override
        public ClientGrant authenticate(
            final String clientId, final String userName, final org.agrona.DirectBuffer password,
            final int passwordOffset, final int passwordLength)
        {
            return ClientGrant.UNRESTRICTED.withUserName(userName);
        }

        @Override
        public ClientGrant authenticate(
            final String clientId, final String userName, final String certificateIdentity,
            final org.agrona.DirectBuffer password, final int passwordOffset, final int passwordLength)
        {
            return ClientGrant.UNRESTRICTED.withUserName(certificateIdentity != null ? certificateIdentity : userName);
        }
    };

    /**
     * @param clientId       the CONNECT's client identifier, possibly empty.
     * @param userName       the user name, or null when the CONNECT has none.
     * @param password       the CONNECT packet bytes holding the password, or null when it has none.
     * @param passwordOffset where the password starts in {@code password}.
     * @param passwordLength its length.
     * @return the grant for the connection, or a refusal ({@link ClientGrant#refused()}).
     */
    ClientGrant authenticate(String clientId, String userName, org.agrona.DirectBuffer password,
        int passwordOffset, int passwordLength);

    /**
     * As {@link #authenticate(String, String, org.agrona.DirectBuffer, int, int)}, for a connection whose TLS client
     * certificate named {@code certificateIdentity} ({@code skylark.tls.identity}); null when it presented none.
     * Authenticators that do not use certificates ignore it.
     */
    default ClientGrant authenticate(String clientId, String userName, String certificateIdentity,
        org.agrona.DirectBuffer password, int passwordOffset, int passwordLength)
    {
        return authenticate(clientId, userName, password, passwordOffset, passwordLength);
    }
}
