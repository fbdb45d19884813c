package dev.skylark.broker.auth;

import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;

import java.util.List;

/**
 * The authentication modes of {@code skylark.auth.mode} tried in their configured order, so that every connection
 * ends with one trustworthy identity: its client identifier and a user name (the grant's
 * {@link ClientGrant#userName()}) that the rules file can use.
 * <p>
 * Each mode either <em>applies</em> to a CONNECT, and then its verdict is final (a wrong password is never retried as
 * a token), or passes it on to the next mode:
 * <ul>
 *   <li>{@code certificate} applies when the TLS client certificate named someone ({@code skylark.tls.identity});
 *       that name is the user name.</li>
 *   <li>{@code token} applies when there is a password shaped like a compact JWS ({@code xxx.yyy.zzz}), or any password
 *       when {@code password} is not among the modes; the token's subject is the user name, unless a client
 *       certificate named the connection: then the certificate's name is, and the token is required on top.</li>
 *   <li>{@code password} applies when the CONNECT has a user name (or, with no user name, a certificate name and a
 *       password): the user and password are checked against the password file; with a certificate, the user name
 *       must be the certificate's name.</li>
 * </ul>
 * When no mode applies, the connection is anonymous: admitted only with {@code skylark.auth.anonymous=true} (its user
 * name is then the certificate's name, if any, else none), else refused with 0x86 Bad user name or password (3.1.1:
 * return code 4). Refusals are counted in {@link AuthCounters#connectsRefused}.
 * <p>
 * Thread-safe and stateless: every I/O agent shares one; it runs once per CONNECT, on the connection's I/O thread.
 */
public final class AuthChain implements Authenticator
{
    private final List<AuthMode> modes;
    private final boolean anonymous;
    private final TokenAuthenticator tokens;
    private final PasswordFile passwords;
    private final AuthCounters counters;
    private final boolean tokenTakesAnyPassword;

    /**
     * @param modes     the modes in order ({@link AuthMode#NONE} not among them).
     * @param anonymous admit a CONNECT no mode applies to.
     * @param tokens    the token verifier, when {@code modes} has {@link AuthMode#TOKEN}.
     * @param passwords the password file, when {@code modes} has {@link AuthMode#PASSWORD}.
     * @param counters  where refusals are counted (the token authenticator's, so {@code stat} shows one number).
     */
    public AuthChain(
        final List<AuthMode> modes,
        final boolean anonymous,
        final TokenAuthenticator tokens,
        final PasswordFile passwords,
        final AuthCounters counters)
    {
        if (modes.contains(AuthMode.NONE))
        {
            throw new IllegalArgumentException("auth mode none has no chain");
        }
        if (modes.contains(AuthMode.TOKEN) && tokens == null || modes.contains(AuthMode.PASSWORD) && passwords == null)
        {
            throw new IllegalArgumentException("modes " + AuthMode.propertyValue(modes) + " need their verifiers");
        }
        this.modes = List.copyOf(modes);
        this.anonymous = anonymous;
        this.tokens = tokens;
        this.passwords = passwords;
        this.counters = counters;
        this.tokenTakesAnyPassword = !modes.contains(AuthMode.PASSWORD);
    }

    /** The modes, in the order they are tried. */
    public List<AuthMode> modes()
    {
        return modes;
    }

    public boolean anonymous()
    {
        return anonymous;
    }

    @Override
    public ClientGrant authenticate(
        final String clientId,
        final String userName,
        final DirectBuffer password,
        final int passwordOffset,
        final int passwordLength)
    {
        return authenticate(clientId, userName, null, password, passwordOffset, passwordLength);
    }

    @Override
    public ClientGrant authenticate(
        final String clientId,
        final String userName,
        final String certificateIdentity,
        final DirectBuffer password,
        final int passwordOffset,
        final int passwordLength)
    {
        final boolean hasPassword = password != null;
        for (final AuthMode mode : modes)
        {
            switch (mode)
            {
                case CERTIFICATE:
                    if (certificateIdentity != null)
                    {
                        return ClientGrant.UNRESTRICTED.withUserName(certificateIdentity);
                    }
                    break;
                case TOKEN:
                    if (hasPassword && (tokenTakesAnyPassword ||
                        looksLikeToken(password, passwordOffset, passwordLength)))
                    {
                        // a certificate's name stands in for the user name, which the token checks against its subject
                        final ClientGrant grant = tokens.authenticate(clientId,
                            certificateIdentity != null ? null : userName, password, passwordOffset, passwordLength);
                        return grant.refused() ? grant :
                            grant.withUserName(certificateIdentity != null ? certificateIdentity : grant.clientId());
                    }
                    break;
                case PASSWORD:
                    if (userName != null || certificateIdentity != null && hasPassword)
                    {
                        return checkPassword(userName, certificateIdentity, password, passwordOffset, passwordLength);
                    }
                    break;
                default:
                    break;
            }
        }
        if (anonymous)
        {
            return ClientGrant.UNRESTRICTED.withUserName(certificateIdentity);
        }
        return refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "no credentials that auth mode " +
            AuthMode.propertyValue(modes) + " accepts, and anonymous access is off (skylark.auth.anonymous=false)");
    }

    private ClientGrant checkPassword(
        final String userName,
        final String certificateIdentity,
        final DirectBuffer password,
        final int passwordOffset,
        final int passwordLength)
    {
        if (certificateIdentity != null && userName != null && !userName.equals(certificateIdentity))
        {
            return refuse(ReasonCode.NOT_AUTHORIZED,
                "user name '" + userName + "' is not the client certificate's '" + certificateIdentity + "'");
        }
        final String user = userName != null ? userName : certificateIdentity;
        if (password == null)
        {
            return refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "user '" + user + "' sent no password");
        }
        if (passwordLength > PasswordFile.MAX_PASSWORD_BYTES)
        {
            return refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "password too long");
        }
        final byte[] bytes = new byte[passwordLength];
        password.getBytes(passwordOffset, bytes);
        final boolean valid = passwords.verify(user, bytes);
        java.util.Arrays.fill(bytes, (byte)0);
        if (!valid)
        {
            return refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "bad user name or password for '" + user + "'");
        }
        return ClientGrant.UNRESTRICTED.withUserName(user);
    }

    private ClientGrant refuse(final int reasonCode, final String why)
    {
        counters.connectsRefused.incrementAndGet();
        return ClientGrant.refuse(reasonCode, why, counters);
    }

    /** Two dots and only base64url characters between them: the shape of a compact JWS. */
    static boolean looksLikeToken(final DirectBuffer password, final int offset, final int length)
    {
        int dots = 0;
        for (int i = 0; i < length; i++)
        {
            final byte b = password.getByte(offset + i);
            if (b == '.')
            {
                dots++;
            }
            else if (!(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_'))
            {
                return false;
            }
        }
        return dots == 2;
    }
}
