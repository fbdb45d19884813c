package dev.skylark.broker.auth;

import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.lang.JoseException;

import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** Test tokens: any claims, any header, any key (including the wrong ones). */
public final class Tokens
{
    private Tokens()
    {
    }

    public static JwtClaims claims(final String subject, final String jti, final long nowMs, final long ttlMs)
    {
        final JwtClaims claims = new JwtClaims();
        claims.setSubject(subject);
        claims.setJwtId(jti);
        claims.setIssuedAt(NumericDate.fromMilliseconds(nowMs));
        if (ttlMs > 0)
        {
            claims.setExpirationTime(NumericDate.fromMilliseconds(nowMs + ttlMs));
        }
        return claims;
    }

    public static JwtClaims withAcl(final JwtClaims claims, final List<String> pub, final List<String> sub)
    {
        final Map<String, Object> acl = new java.util.HashMap<>();
        if (pub != null)
        {
            acl.put("pub", pub);
        }
        if (sub != null)
        {
            acl.put("sub", sub);
        }
        claims.setClaim("acl", acl);
        return claims;
    }

    public static String sign(final JwtClaims claims, final String alg, final String kid, final Key key)
    {
        final JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setAlgorithmHeaderValue(alg);
        if (kid != null)
        {
            jws.setKeyIdHeaderValue(kid);
        }
        jws.setKey(key);
        try
        {
            return jws.getCompactSerialization();
        }
        catch (final JoseException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** Signed by the broker's current key. */
    public static String sign(final KeyRing ring, final JwtClaims claims)
    {
        return sign(claims, "EdDSA", ring.signingKey().getKeyId(), ring.signingKey().getPrivateKey());
    }

    /** {@code alg: none}, no signature. */
    public static String unsigned(final JwtClaims claims)
    {
        final Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        return b64.encodeToString("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "." +
            b64.encodeToString(claims.toJson().getBytes(StandardCharsets.UTF_8)) + ".";
    }

    /** A token whose signature bytes were changed. */
    public static String tamper(final String token)
    {
        final int dot = token.lastIndexOf('.');
        final char last = token.charAt(dot + 1);
        return token.substring(0, dot + 1) + (last == 'A' ? 'B' : 'A') + token.substring(dot + 2);
    }
}
