package dev.skylark.broker.auth;

/**
 * Decides a CONNECT, once, on the connection's I/O thread. Implementations are thread-safe: every I/O agent
 * shares one.
 */
@FunctionalInterface
public interface Authenticator
{
    /** Accepts everyone with no topic restriction ({@code skylark.auth.mode=none}). */
    Authenticator NONE = (clientId, userName, password, passwordOffset, passwordLength) -> ClientGrant.UNRESTRICTED;

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
}
