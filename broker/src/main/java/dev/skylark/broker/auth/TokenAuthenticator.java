package dev.skylark.broker.auth;

import dev.skylark.codec.LogText;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.EpochClock;
import org.jose4j.jwa.AlgorithmConstraints;
import org.jose4j.jwk.EllipticCurveJsonWebKey;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.OctetKeyPairJsonWebKey;
import org.jose4j.jwk.PublicJsonWebKey;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.MalformedClaimException;
import org.jose4j.jwt.NumericDate;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.keys.HmacKey;
import org.jose4j.lang.JoseException;

import java.security.Key;
import java.util.List;
import java.util.ArrayList;
import java.util.Map;

/**
 * Verifies the CONNECT password as a signed JWT (compact JWS), once per CONNECT.
 * <p>
 * Accepted: EdDSA (Ed25519) from the broker's {@link KeyRing}; EdDSA, ES256 (P-256) and RS256 from a configured JWK
 * set; HS256 with a configured shared secret. The algorithm must be the one of the key that verifies it: a token
 * says {@code alg} and (for asymmetric keys) {@code kid}, and the broker picks the key by {@code kid} and refuses
 * any other algorithm; {@code alg: none} is always refused. The claims: {@code sub} must equal the client
 * identifier (an empty client identifier takes it), a user name if present must equal it too, {@code exp} and
 * {@code nbf} are enforced with a small clock skew, an {@code iat} further in the future than that skew is refused,
 * {@code iss} and {@code aud} must be the configured ones when {@code skylark.auth.issuer} / {@code audience} are
 * set (an {@code aud} array must contain it), a revoked {@code jti} is refused, and the optional
 * {@code acl} claim narrows the topics: {@code "acl": {"pub": [filters], "sub": [filters]}} (a list absent: all
 * topics; {@code []}: none). The lists sit in an object because the top-level {@code sub} is the registered subject.
 * <p>
 * Refusals (v5 CONNACK reason codes): 0x86 for anything wrong with the token itself, 0x85 when the client
 * identifier is not the token's subject, 0x87 when the token is revoked or the user name does not match.
 */
public final class TokenAuthenticator implements Authenticator
{
    /** Claim holding the topic ACL object. */
    public static final String ACL_CLAIM = "acl";
    /** Member of {@link #ACL_CLAIM}: topic filters the client may publish to (absent: all; []: none). */
    public static final String PUBLISH_MEMBER = "pub";
    /** Member of {@link #ACL_CLAIM}: topic filters the client may subscribe to (absent: all; []: none). */
    public static final String SUBSCRIBE_MEMBER = "sub";

    private final AuthSettings settings;
    private final KeyRing keyRing;
    private final RevocationList revocations;
    private final EpochClock clock;
    private final List<JsonWebKey> configuredKeys;
    private final byte[] hs256Secret;
    private final AuthCounters counters = new AuthCounters();

    public TokenAuthenticator(
        final AuthSettings settings,
        final KeyRing keyRing,
        final RevocationList revocations,
        final EpochClock clock,
        final List<JsonWebKey> configuredKeys,
        final byte[] hs256Secret)
    {
        this.settings = settings;
        this.keyRing = keyRing;
        this.revocations = revocations;
        this.clock = clock;
        this.configuredKeys = configuredKeys == null ? List.of() : List.copyOf(configuredKeys);
        this.hs256Secret = hs256Secret;
    }

    /** What this authenticator and its grants counted. */
    public AuthCounters counters()
    {
        return counters;
    }

    @Override
    public ClientGrant authenticate(
        final String clientId,
        final String userName,
        final DirectBuffer password,
        final int passwordOffset,
        final int passwordLength)
    {
        if (password == null || passwordLength == 0)
        {
            return refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "no password: a signed token is required",
                AuthRequest.Phase.CONNECT);
        }
        if (passwordLength > settings.maxTokenBytes())
        {
            return refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "password of " + passwordLength +
                " bytes is longer than a token may be (" + settings.maxTokenBytes() + ")", AuthRequest.Phase.CONNECT);
        }
        final String token = password.getStringWithoutLengthAscii(passwordOffset, passwordLength);
        return verify(token, clientId, userName);
    }

    /** Longest token accepted, bytes ({@code skylark.auth.token.max.bytes}). */
    public int maxTokenBytes()
    {
        return settings.maxTokenBytes();
    }

    /** Verifies a token for a client identifier ("" to take the subject) and user name (null when none). */
    public ClientGrant verify(final String token, final String clientId, final String userName)
    {
        final ClientGrant grant = check(token, clientId, userName);
        if (grant.refused())
        {
            counters.connectsRefused.incrementAndGet();
            counters.connectsRefusedByReason.incrementAndGet(grant.reasonCode() & 0xFF);
        }
        return grant;
    }

    /**
     * Verifies the new token of a live connection's re-authentication, by the same rules as at CONNECT; counted as
     * a re-authentication, not as a CONNECT.
     */
    public ClientGrant reverify(final String token, final String clientId, final String userName)
    {
        final ClientGrant grant = check(token, clientId, userName);
        (grant.refused() ? counters.reauthenticationsRefused : counters.reauthentications).incrementAndGet();
        return grant;
    }

    /** A refusal decided before any token parsing, counted as a refused CONNECT or re-authentication. */
    ClientGrant refuse(final int reasonCode, final String why, final AuthRequest.Phase phase)
    {
        (phase == AuthRequest.Phase.REAUTHENTICATE ? counters.reauthenticationsRefused : counters.connectsRefused).incrementAndGet();
        return ClientGrant.refuse(reasonCode, why, counters);
    }

    private ClientGrant check(final String token, final String clientId, final String userName)
    {
        final JwtClaims claims;
        try
        {
            claims = verifySignature(token);
        }
        catch (final Refusal refusal)
        {
            return ClientGrant.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, refusal.getMessage(), counters);
        }

        try
        {
            final long nowMs = clock.time();
            final long skewMs = settings.clockSkewS() * 1000;
            final String subject = claims.getSubject();
            if (subject == null || subject.isEmpty())
            {
                return ClientGrant.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "token has no 'sub'", counters);
            }
            final NumericDate exp = claims.getExpirationTime();
            final NumericDate nbf = claims.getNotBefore();
            final NumericDate iat = claims.getIssuedAt();
            if (exp != null && nowMs >= exp.getValueInMillis() + skewMs)
            {
                return ClientGrant.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "token expired at " + exp, counters);
            }
            if (nbf != null && nowMs + skewMs < nbf.getValueInMillis())
            {
                return ClientGrant.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "token not valid before " + nbf, counters);
            }
            if (iat != null && iat.getValueInMillis() > nowMs + skewMs)
            {
                return ClientGrant.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD,
                    "token issued in the future (iat " + iat + ", beyond the clock skew of " + settings.clockSkewS() +
                    " s)", counters);
            }
            if (settings.issuer() != null && !settings.issuer().equals(claims.getIssuer()))
            {
                return ClientGrant.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "token issuer '" +
                    claims.getIssuer() + "' is not '" + settings.issuer() + "'", counters);
            }
            if (settings.audience() != null && (!claims.hasAudience() || !claims.getAudience().contains(settings.audience())))
            {
                return ClientGrant.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "token audience " +
                    claims.getAudience() + " does not include '" + settings.audience() + "'", counters);
            }
            long expiresAtMs = exp != null ? exp.getValueInMillis() + skewMs : 0;
            if (settings.maxLifetimeS() > 0)
            {
                final long limitMs = (iat != null ? iat.getValueInMillis() : nowMs) + settings.maxLifetimeS() * 1000;
                if (nowMs >= limitMs)
                {
                    return ClientGrant.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD,
                        "token older than the maximum lifetime of " + settings.maxLifetimeS() + " s", counters);
                }
                expiresAtMs = expiresAtMs == 0 ? limitMs : Math.min(expiresAtMs, limitMs);
            }
            if (!clientId.isEmpty() && !clientId.equals(subject))
            {
                return ClientGrant.refuse(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID,
                    "client id '" + LogText.of(clientId) + "' is not the token's subject '" + LogText.of(subject) + "'", counters);
            }
            if (userName != null && !userName.equals(subject))
            {
                return ClientGrant.refuse(ReasonCode.NOT_AUTHORIZED,
                    "user name '" + LogText.of(userName) + "' is not the client id '" + LogText.of(subject) + "'", counters);
            }
            final String jti = claims.getJwtId();
            if (revocations.contains(jti))
            {
                return ClientGrant.refuse(ReasonCode.NOT_AUTHORIZED, "token " + jti + " is revoked", counters);
            }
            final Map<?, ?> acl = aclClaim(claims);
            final TopicAcl publishAcl = TopicAcl.of(stringList(acl, PUBLISH_MEMBER));
            final TopicAcl subscribeAcl = TopicAcl.of(stringList(acl, SUBSCRIBE_MEMBER));
            return new ClientGrant(ReasonCode.SUCCESS, null, subject, jti,
                settings.disconnectOnExpiry() ? expiresAtMs : 0, publishAcl, subscribeAcl, revocations, clock, counters)
                .withUserName(subject);
        }
        catch (final MalformedClaimException | IllegalArgumentException ex)
        {
            return ClientGrant.refuse(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "malformed claims: " + ex.getMessage(), counters);
        }
    }

    private static Map<?, ?> aclClaim(final JwtClaims claims) throws MalformedClaimException
    {
        final Object value = claims.getClaimValue(ACL_CLAIM);
        if (value == null)
        {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?> map))
        {
            throw new MalformedClaimException("'" + ACL_CLAIM + "' must be an object");
        }
        return map;
    }

    private static List<String> stringList(final Map<?, ?> acl, final String name) throws MalformedClaimException
    {
        final Object value = acl.get(name);
        if (value == null)
        {
            return null;
        }
        if (!(value instanceof List<?> list))
        {
            throw new MalformedClaimException("'" + ACL_CLAIM + "." + name + "' must be an array of topic filters");
        }
        final List<String> filters = new ArrayList<>(list.size());
        for (final Object item : list)
        {
            if (!(item instanceof String filter))
            {
                throw new MalformedClaimException("'" + ACL_CLAIM + "." + name + "' must hold strings");
            }
            filters.add(filter);
        }
        return filters;
    }

    private JwtClaims verifySignature(final String token) throws Refusal
    {
        final JsonWebSignature jws = new JsonWebSignature();
        try
        {
            jws.setCompactSerialization(token);
        }
        catch (final JoseException | RuntimeException ex)
        {
            throw new Refusal("malformed token (not a compact JWS)");
        }
        final String alg = jws.getAlgorithmHeaderValue();
        if (alg == null || AlgorithmIdentifiers.NONE.equals(alg))
        {
            throw new Refusal("token algorithm '" + LogText.of(alg) + "' is not accepted");
        }
        final String kid = jws.getKeyIdHeaderValue();
        final Key key = keyFor(alg, kid);
        jws.setAlgorithmConstraints(new AlgorithmConstraints(AlgorithmConstraints.ConstraintType.PERMIT, alg));
        jws.setKey(key);
        try
        {
            if (!jws.verifySignature())
            {
                throw new Refusal("bad signature (kid " + LogText.of(kid) + ", alg " + LogText.of(alg) + ")");
            }
            return JwtClaims.parse(jws.getUnverifiedPayload());
        }
        catch (final InvalidJwtException ex)
        {
            throw new Refusal("malformed claims (not a JSON object)");
        }
        catch (final JoseException | RuntimeException ex)
        {
            throw new Refusal("cannot verify token (kid " + LogText.of(kid) + ", alg " + LogText.of(alg) + "): " +
                LogText.of(ex.getMessage()));
        }
    }

    /** The key that may verify a token of this algorithm and key id; refuses any algorithm/key mismatch. */
    private Key keyFor(final String alg, final String kid) throws Refusal
    {
        if (AlgorithmIdentifiers.HMAC_SHA256.equals(alg))
        {
            if (hs256Secret == null)
            {
                throw new Refusal("HS256 token, but no shared secret is configured");
            }
            return new HmacKey(hs256Secret);
        }
        if (!AlgorithmIdentifiers.EDDSA.equals(alg) && !AlgorithmIdentifiers.ECDSA_USING_P256_CURVE_AND_SHA256.equals(alg) &&
            !AlgorithmIdentifiers.RSA_USING_SHA256.equals(alg))
        {
            throw new Refusal("token algorithm '" + LogText.of(alg) + "' is not accepted");
        }
        PublicJsonWebKey found = null;
        int candidates = 0;
        for (final OctetKeyPairJsonWebKey key : keyRing.keys())
        {
            if (kid == null || kid.equals(key.getKeyId()))
            {
                found = key;
                candidates++;
            }
        }
        for (final JsonWebKey key : configuredKeys)
        {
            if (key instanceof PublicJsonWebKey publicKey && (kid == null || kid.equals(key.getKeyId())))
            {
                found = publicKey;
                candidates++;
            }
        }
        if (found == null)
        {
            throw new Refusal("unknown key id '" + LogText.of(kid) + "'");
        }
        if (kid == null && candidates > 1)
        {
            throw new Refusal("token has no 'kid' and several keys could verify it");
        }
        final String expected = algorithmOf(found);
        if (!alg.equals(expected))
        {
            throw new Refusal("token algorithm '" + LogText.of(alg) + "' does not fit key '" + found.getKeyId() + "' (" + expected + ")");
        }
        return found.getPublicKey();
    }

    private static String algorithmOf(final PublicJsonWebKey key)
    {
        if (key instanceof OctetKeyPairJsonWebKey)
        {
            return AlgorithmIdentifiers.EDDSA;
        }
        if (key instanceof EllipticCurveJsonWebKey ec)
        {
            return org.jose4j.keys.EllipticCurves.P_256.equals(ec.getCurveName()) ?
                AlgorithmIdentifiers.ECDSA_USING_P256_CURVE_AND_SHA256 : "unsupported curve " + ec.getCurveName();
        }
        if (key instanceof RsaJsonWebKey)
        {
            return AlgorithmIdentifiers.RSA_USING_SHA256;
        }
        return "unsupported key type " + key.getKeyType();
    }

    /** Why a token is refused; never carries the token. */
    private static final class Refusal extends Exception
    {
        private static final long serialVersionUID = 1L;

        Refusal(final String why)
        {
            super(why, null, false, false);
        }
    }
}
