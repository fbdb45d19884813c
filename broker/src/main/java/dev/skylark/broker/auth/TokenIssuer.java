package dev.skylark.broker.auth;

import org.agrona.concurrent.EpochClock;
import org.jose4j.jws.AlgorithmIdentifiers;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwk.OctetKeyPairJsonWebKey;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.lang.JoseException;

import java.security.SecureRandom;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Signs tokens with the newest key of a {@link KeyRing} (EdDSA). */
public final class TokenIssuer
{
    /** Most tokens one request may issue. */
    public static final int MAX_COUNT = 100;
    /** Longest generated client id (the MQTT 3.1.1 limit every server must accept). */
    public static final int CLIENT_ID_LENGTH = 23;
    private static final char[] ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789".toCharArray();

    private final KeyRing keyRing;
    private final EpochClock clock;
    private final SecureRandom random = new SecureRandom();
    private final String audience;
    private final String issuer;

    public TokenIssuer(final KeyRing keyRing, final EpochClock clock)
    {
        this(keyRing, clock, null, null);
    }

    /**
     * @param audience null, or the {@code aud} every token gets ({@code skylark.auth.audience}).
     * @param issuer   null, or the {@code iss} every token gets ({@code skylark.auth.issuer}).
     */
    public TokenIssuer(final KeyRing keyRing, final EpochClock clock, final String audience, final String issuer)
    {
        this.keyRing = keyRing;
        this.clock = clock;
        this.audience = audience;
        this.issuer = issuer;
    }

    /** What to issue. {@code clientIds} empty: {@code count} random ids. {@code ttlS} 0: no {@code exp}. */
    public record Request(int count, List<String> clientIds, long ttlS, List<String> pub, List<String> sub)
    {
        public Request
        {
            clientIds = clientIds == null ? List.of() : List.copyOf(clientIds);
            pub = pub == null ? null : List.copyOf(pub);
            sub = sub == null ? null : List.copyOf(sub);
        }
    }

    /**
     * Issues tokens.
     *
     * @return client id to token, in request order.
     * @throws IllegalArgumentException on a bad count, client id, TTL or topic filter.
     */
    public Map<String, String> issue(final Request request)
    {
        final List<String> ids;
        if (!request.clientIds().isEmpty())
        {
            ids = request.clientIds();
            if (ids.size() > MAX_COUNT)
            {
                throw new IllegalArgumentException("at most " + MAX_COUNT + " tokens at once");
            }
            for (final String id : ids)
            {
                if (id.isEmpty() || id.length() > 65_535 || id.chars().anyMatch(Character::isISOControl))
                {
                    throw new IllegalArgumentException("bad client id '" + id + "'");
                }
            }
        }
        else
        {
            if (request.count() < 1 || request.count() > MAX_COUNT)
            {
                throw new IllegalArgumentException("count must be between 1 and " + MAX_COUNT);
            }
            final java.util.ArrayList<String> generated = new java.util.ArrayList<>();
            while (generated.size() < request.count())
            {
                final String id = randomClientId();
                if (!generated.contains(id))
                {
                    generated.add(id);
                }
            }
            ids = generated;
        }
        if (request.ttlS() < 0)
        {
            throw new IllegalArgumentException("ttl must not be negative");
        }
        TopicAcl.of(request.pub());
        TopicAcl.of(request.sub());

        final Map<String, String> tokens = new LinkedHashMap<>();
        for (final String id : ids)
        {
            tokens.put(id, sign(id, request.ttlS(), request.pub(), request.sub()));
        }
        return tokens;
    }

    String sign(final String subject, final long ttlS, final List<String> pub, final List<String> sub)
    {
        final long nowMs = clock.time();
        final JwtClaims claims = new JwtClaims();
        claims.setSubject(subject);
        if (audience != null)
        {
            claims.setAudience(audience);
        }
        if (issuer != null)
        {
            claims.setIssuer(issuer);
        }
        claims.setIssuedAt(NumericDate.fromMilliseconds(nowMs));
        if (ttlS > 0)
        {
            claims.setExpirationTime(NumericDate.fromMilliseconds(nowMs + ttlS * 1000));
        }
        claims.setJwtId(randomJti());
        if (pub != null || sub != null)
        {
            final Map<String, Object> acl = new HashMap<>();
            if (pub != null)
            {
                acl.put(TokenAuthenticator.PUBLISH_MEMBER, pub);
            }
            if (sub != null)
            {
                acl.put(TokenAuthenticator.SUBSCRIBE_MEMBER, sub);
            }
            claims.setClaim(TokenAuthenticator.ACL_CLAIM, acl);
        }
        final OctetKeyPairJsonWebKey key = keyRing.signingKey();
        final JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setAlgorithmHeaderValue(AlgorithmIdentifiers.EDDSA);
        jws.setKeyIdHeaderValue(key.getKeyId());
        jws.setHeader("typ", "JWT");
        jws.setKey(key.getPrivateKey());
        try
        {
            return jws.getCompactSerialization();
        }
        catch (final JoseException ex)
        {
            throw new IllegalStateException("cannot sign a token: " + ex.getMessage(), ex);
        }
    }

    private String randomClientId()
    {
        final char[] id = new char[CLIENT_ID_LENGTH];
        "sky-".getChars(0, 4, id, 0);
        for (int i = 4; i < id.length; i++)
        {
            id[i] = ALPHABET[random.nextInt(ALPHABET.length)];
        }
        return new String(id);
    }

    private String randomJti()
    {
        final byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return java.util.HexFormat.of().formatHex(bytes);
    }

    /** Parses a duration such as {@code 48h}, {@code 30m}, {@code 90s}, {@code 7d} or plain seconds; 0 = no expiry. */
    public static long parseTtlSeconds(final String text)
    {
        final String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.isEmpty())
        {
            throw new IllegalArgumentException("empty ttl");
        }
        final char unit = t.charAt(t.length() - 1);
        final long multiplier = switch (unit)
        {
            case 's' -> 1;
            case 'm' -> 60;
            case 'h' -> 3600;
            case 'd' -> 86_400;
            default -> 0;
        };
        try
        {
            return multiplier == 0 ? Long.parseLong(t) : Math.multiplyExact(Long.parseLong(t.substring(0, t.length() - 1)), multiplier);
        }
        catch (final NumberFormatException | ArithmeticException ex)
        {
            throw new IllegalArgumentException("bad ttl '" + text + "' (try 48h, 30m, 7d or seconds)");
        }
    }
}
