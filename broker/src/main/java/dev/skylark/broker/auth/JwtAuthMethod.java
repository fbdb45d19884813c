package dev.skylark.broker.auth;

import dev.skylark.codec.mqtt.ReasonCode;

import java.nio.charset.StandardCharsets;

/**
 * Enhanced authentication method {@value #NAME}: the Authentication Data is a signed JWT, verified exactly as a
 * CONNECT password token by {@link TokenAuthenticator} ({@code sub} = client identifier, signature, {@code exp}/
 * {@code nbf}, revocation, {@code acl}). One step: the CONNECT (or the AUTH 0x19 of a re-authentication) carries
 * the token, the broker answers CONNACK (or AUTH 0x00). The CONNECT's password, if any, is not looked at.
 */
public final class JwtAuthMethod implements AuthMethod
{
    /** The Authentication Method name. */
    public static final String NAME = "skylark-jwt";

    private final TokenAuthenticator tokens;

    public JwtAuthMethod(final TokenAuthenticator tokens)
    {
        this.tokens = tokens;
    }

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public AuthStep start(final AuthRequest request, final byte[] data)
    {
        final boolean reauth = request.phase() == AuthRequest.Phase.REAUTHENTICATE;
        final ClientGrant grant;
        if (data == null || data.length == 0)
        {
            grant = tokens.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD,
                "no token in the Authentication Data of " + NAME, request.phase());
        }
        else if (data.length > tokens.maxTokenBytes())
        {
            grant = tokens.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "Authentication Data of " + data.length +
                " bytes is longer than a token may be (" + tokens.maxTokenBytes() + ")", request.phase());
        }
        else
        {
            final String token = new String(data, StandardCharsets.US_ASCII);
            // At re-authentication the identity was settled at CONNECT: the subject must still be the client id,
            // but the connection's user name may be a client certificate's name rather than the subject.
            grant = reauth ? tokens.reverify(token, request.clientId(), null) :
                tokens.verify(token, request.clientId(), request.userName());
        }
        return AuthStep.of(grant);
    }
}
