package dev.skylark.broker.auth;

import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Token audience, issuer and issued-at checks, and what {@code token issue} writes. */
class TokenClaimsTest
{
    private static final long NOW_MS = 1_800_000_000_000L;

    @TempDir
    Path dir;
    private final CachedEpochClock clock = new CachedEpochClock();
    private AuthService auth;

    private AuthService open(final String audience, final String issuer)
    {
        clock.update(NOW_MS);
        auth = AuthService.open(AuthSettings.defaults(dir).withAudienceAndIssuer(audience, issuer), clock);
        return auth;
    }

    @AfterEach
    void close()
    {
        if (auth != null)
        {
            auth.close();
        }
    }

    private ClientGrant verify(final JwtClaims claims)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(Tokens.sign(auth.keyRing(), claims).getBytes(StandardCharsets.US_ASCII));
        return auth.authenticator().authenticate("dev", null, buffer, 0, buffer.capacity());
    }

    private static JwtClaims claims(final String audience, final String issuer)
    {
        final JwtClaims claims = Tokens.claims("dev", "j1", NOW_MS, 3_600_000);
        if (audience != null)
        {
            claims.setAudience(audience);
        }
        if (issuer != null)
        {
            claims.setIssuer(issuer);
        }
        return claims;
    }

    @Test
    void audienceAndIssuerAreCheckedWhenSet()
    {
        open("mqtt.example.com", "https://idp.example.com");
        assertFalse(verify(claims("mqtt.example.com", "https://idp.example.com")).refused());
        final JwtClaims several = claims(null, "https://idp.example.com");
        several.setAudience("other", "mqtt.example.com");
        assertFalse(verify(several).refused(), "an aud array containing it");

        final int bad = ReasonCode.BAD_USER_NAME_OR_PASSWORD;
        assertEquals(bad, verify(claims(null, "https://idp.example.com")).reasonCode(), "no aud");
        assertEquals(bad, verify(claims("mqtt.example.org", "https://idp.example.com")).reasonCode(), "other aud");
        assertEquals(bad, verify(claims("mqtt.example.com", null)).reasonCode(), "no iss");
        final ClientGrant otherIssuer = verify(claims("mqtt.example.com", "https://idp.example.org"));
        assertEquals(bad, otherIssuer.reasonCode(), "other iss");
        assertTrue(otherIssuer.why().contains("issuer"), otherIssuer.why());
    }

    @Test
    void withoutSettingsAudienceAndIssuerAreNotLookedAt()
    {
        open(null, "");
        assertFalse(verify(claims("anything", "anyone")).refused());
        assertFalse(verify(claims(null, null)).refused());
    }

    @Test
    void anIatInTheFutureBeyondTheSkewIsRefused()
    {
        open(null, null);
        final long skewMs = AuthSettings.defaults(dir).clockSkewS() * 1000;
        final JwtClaims atSkew = claims(null, null);
        atSkew.setIssuedAt(NumericDate.fromMilliseconds(NOW_MS + skewMs));
        assertFalse(verify(atSkew).refused(), "iat exactly the skew ahead");
        final JwtClaims beyond = claims(null, null);
        beyond.setIssuedAt(NumericDate.fromMilliseconds(NOW_MS + skewMs + 1000));
        final ClientGrant refused = verify(beyond);
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, refused.reasonCode());
        assertTrue(refused.why().contains("future"), refused.why());
    }

    @Test
    void issuedTokensCarryTheConfiguredAudienceAndIssuerAndPass() throws Exception
    {
        open("mqtt.example.com", "skylark-test");
        final Map<String, String> tokens = auth.issuer().issue(new TokenIssuer.Request(0, List.of("dev"), 60, null, null));
        final String token = tokens.get("dev");
        final JwtClaims claims = JwtClaims.parse(new String(java.util.Base64.getUrlDecoder().decode(token.split("\\.")[1]),
            StandardCharsets.UTF_8));
        assertEquals(List.of("mqtt.example.com"), claims.getAudience());
        assertEquals("skylark-test", claims.getIssuer());
        final UnsafeBuffer buffer = new UnsafeBuffer(token.getBytes(StandardCharsets.US_ASCII));
        final ClientGrant grant = auth.authenticator().authenticate("dev", null, buffer, 0, buffer.capacity());
        assertFalse(grant.refused());
        assertEquals("dev", grant.userName(), "a token's identity is its subject");
    }

    @Test
    void reauthenticationOfAConnectionNamedByItsCertificateChecksTheSubjectAgainstTheClientId()
    {
        open(null, null);
        final JwtAuthMethod method = new JwtAuthMethod(auth.tokenAuthenticator());
        final byte[] token = Tokens.sign(auth.keyRing(), claims(null, null)).getBytes(StandardCharsets.US_ASCII);
        // the connection's user name is its certificate's CN, not the token's subject
        final AuthStep renewed = method.start(new AuthRequest("dev", "device-1", AuthRequest.Phase.REAUTHENTICATE), token);
        assertEquals(AuthStep.Kind.SUCCESS, renewed.kind(), String.valueOf(renewed.why()));
        final AuthStep otherClient = method.start(new AuthRequest("other", "device-1", AuthRequest.Phase.REAUTHENTICATE), token);
        assertEquals(AuthStep.Kind.FAILURE, otherClient.kind(), "the subject must still be the client id");
        final AuthStep atConnect = method.start(new AuthRequest("dev", "device-1", AuthRequest.Phase.CONNECT), token);
        assertEquals(ReasonCode.NOT_AUTHORIZED, atConnect.reasonCode(), "at CONNECT a user name must be the subject");
    }

    @Test
    void firstStartTokensAreLimitedToDemoTopicsAndSaySo()
    {
        open(null, null);
        final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        FirstStart.printWelcome(auth, "0.0.0.0", 1883, new java.io.PrintStream(bytes, true, StandardCharsets.UTF_8));
        final String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("limited to the topics demo/#"), text);
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile("client id (\\S+)  token (\\S+)").matcher(text);
        assertTrue(m.find(), text);
        final UnsafeBuffer buffer = new UnsafeBuffer(m.group(2).getBytes(StandardCharsets.US_ASCII));
        final ClientGrant grant = auth.authenticator().authenticate(m.group(1), null, buffer, 0, buffer.capacity());
        assertFalse(grant.refused());
        final UnsafeBuffer demo = new UnsafeBuffer("demo/hello".getBytes(StandardCharsets.US_ASCII));
        final UnsafeBuffer other = new UnsafeBuffer("devices/42/telemetry".getBytes(StandardCharsets.US_ASCII));
        assertTrue(grant.mayPublish(demo, 0, demo.capacity()));
        assertTrue(grant.maySubscribe(demo, 0, demo.capacity()));
        assertFalse(grant.mayPublish(other, 0, other.capacity()));
        assertFalse(grant.maySubscribe(other, 0, other.capacity()));
    }
}
