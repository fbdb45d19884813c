package dev.skylark.broker.auth;

import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.jose4j.jwk.EcJwkGenerator;
import org.jose4j.jwk.EllipticCurveJsonWebKey;
import org.jose4j.jwk.JsonWebKey;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwk.OctetKeyPairJsonWebKey;
import org.jose4j.jwk.OkpJwkGenerator;
import org.jose4j.jwk.RsaJsonWebKey;
import org.jose4j.jwk.RsaJwkGenerator;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.keys.EllipticCurves;
import org.jose4j.keys.HmacKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenAuthenticatorTest
{
    private static final long NOW_MS = 1_800_000_000_000L;
    private static final String SECRET = "0123456789abcdef0123456789abcdef-shared";

    @TempDir
    Path dir;
    private final CachedEpochClock clock = new CachedEpochClock();
    private AuthService auth;

    private AuthService open(final Path jwks, final Path secret)
    {
        clock.update(NOW_MS);
        auth = AuthService.open(new AuthSettings(dir, 30, 0, true, 8192, jwks, secret), clock);
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

    private ClientGrant verify(final String token, final String clientId, final String userName)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(("..." + token).getBytes(StandardCharsets.US_ASCII));
        return auth.authenticator().authenticate(clientId, userName, buffer, 3, buffer.capacity() - 3);
    }

    private String valid(final String subject)
    {
        return Tokens.sign(auth.keyRing(), Tokens.claims(subject, "jti-" + subject, NOW_MS, 3_600_000));
    }

    @Test
    void firstOpenCreatesAnOwnerOnlyKeyFileAndAValidTokenPasses() throws Exception
    {
        open(null, null);
        assertTrue(auth.keyRing().created());
        final Path keys = dir.resolve("auth").resolve(KeyRing.FILE_NAME);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys)));
        assertEquals("rw-------", PosixFilePermissions.toString(
            Files.getPosixFilePermissions(dir.resolve("auth").resolve(AuthService.ADMIN_TOKEN_FILE))));
        assertTrue(auth.keyRing().publicJwks().contains("\"kty\":\"OKP\""));
        assertFalse(auth.keyRing().publicJwks().contains("\"d\""), "no private part in the public set");

        final ClientGrant grant = verify(valid("dev1"), "dev1", "dev1");
        assertFalse(grant.refused(), grant.why());
        assertEquals("dev1", grant.clientId());
        assertEquals(NOW_MS + 3_600_000 + 30_000, grant.expiresAtMs());
        assertTrue(grant.publishAcl().unrestricted());

        auth.close();
        auth = AuthService.open(AuthSettings.defaults(dir), clock);
        assertFalse(auth.keyRing().created(), "second open loads the same key");
        assertFalse(verify(valid("dev1"), "dev1", null).refused());
    }

    @Test
    void emptyClientIdTakesTheSubject()
    {
        open(null, null);
        final ClientGrant grant = verify(valid("dev1"), "", null);
        assertFalse(grant.refused(), grant.why());
        assertEquals("dev1", grant.clientId());
    }

    @Test
    void expiryAndNotBeforeWithClockSkewBoundaries()
    {
        open(null, null);
        final String token = Tokens.sign(auth.keyRing(), Tokens.claims("d", "j", NOW_MS, 60_000));
        clock.update(NOW_MS + 60_000 + 30_000 - 1);
        assertFalse(verify(token, "d", null).refused());
        clock.update(NOW_MS + 60_000 + 30_000);
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, verify(token, "d", null).reasonCode());

        final JwtClaims future = Tokens.claims("d", "j", NOW_MS, 0);
        future.setNotBefore(org.jose4j.jwt.NumericDate.fromMilliseconds(NOW_MS + 100_000));
        final String early = Tokens.sign(auth.keyRing(), future);
        clock.update(NOW_MS + 100_000 - 30_000 - 1);
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, verify(early, "d", null).reasonCode());
        clock.update(NOW_MS + 100_000 - 30_000);
        assertFalse(verify(early, "d", null).refused());
    }

    @Test
    void tokenWithoutExpNeverExpiresUnlessAMaximumLifetimeIsSet()
    {
        open(null, null);
        final String token = Tokens.sign(auth.keyRing(), Tokens.claims("d", "j", NOW_MS, 0));
        assertEquals(0, verify(token, "d", null).expiresAtMs());
        auth.close();
        auth = AuthService.open(new AuthSettings(dir, 30, 3600, true, 8192, null, null), clock);
        assertEquals(NOW_MS + 3_600_000, verify(token, "d", null).expiresAtMs());
        clock.update(NOW_MS + 3_600_000);
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, verify(token, "d", null).reasonCode());
    }

    @Test
    void everyBrokenTokenIsBadUserNameOrPassword()
    {
        open(null, null);
        final JwtClaims claims = Tokens.claims("d", "j", NOW_MS, 60_000);
        final String good = Tokens.sign(auth.keyRing(), claims);
        final int bad = ReasonCode.BAD_USER_NAME_OR_PASSWORD;
        assertEquals(bad, verify(Tokens.tamper(good), "d", null).reasonCode(), "bad signature");
        assertEquals(bad, verify(Tokens.unsigned(claims), "d", null).reasonCode(), "alg none");
        assertEquals(bad, verify(Tokens.sign(claims, "HS256", null, new HmacKey(SECRET.getBytes())), "d", null).reasonCode(),
            "HS256 against an EdDSA-only broker");
        assertEquals(bad, verify(Tokens.sign(claims, "EdDSA", "nobody", auth.keyRing().signingKey().getPrivateKey()),
            "d", null).reasonCode(), "unknown kid");
        assertEquals(bad, verify("not-a-token", "d", null).reasonCode(), "not a JWS");
        assertEquals(bad, verify("@@@.###.$$$", "d", null).reasonCode(), "bad base64");
        final Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        final String[] parts = good.split("\\.");
        assertEquals(bad, verify(parts[0] + "." + b64.encodeToString("{not json".getBytes()) + "." + parts[2], "d", null)
            .reasonCode(), "payload not JSON (and signature no longer matches)");
        assertEquals(bad, verify(b64.encodeToString("[1,2]".getBytes()) + "." + parts[1] + "." + parts[2], "d", null)
            .reasonCode(), "header not a JSON object");
        assertEquals(bad, verify("a".repeat(8193), "d", null).reasonCode(), "oversized");
        assertEquals(bad, auth.authenticator().authenticate("d", null, null, 0, -1).reasonCode(), "no password");
        final JwtClaims badAcl = Tokens.claims("d", "j", NOW_MS, 60_000);
        badAcl.setClaim("acl", java.util.Map.of("pub", "a/b"));
        assertEquals(bad, verify(Tokens.sign(auth.keyRing(), badAcl), "d", null).reasonCode(), "acl.pub not an array");
        assertEquals(bad, verify(Tokens.sign(auth.keyRing(), Tokens.claims(null, "j", NOW_MS, 60_000)), "d", null)
            .reasonCode(), "no sub");
    }

    @Test
    void identityMismatchesAndRevocation()
    {
        open(null, null);
        assertEquals(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, verify(valid("dev1"), "dev2", null).reasonCode());
        assertEquals(ReasonCode.NOT_AUTHORIZED, verify(valid("dev1"), "dev1", "someone").reasonCode());
        auth.revocations().revoke(List.of("jti-dev1"));
        assertEquals(ReasonCode.NOT_AUTHORIZED, verify(valid("dev1"), "dev1", null).reasonCode());
        auth.revocations().unrevoke(List.of("jti-dev1"));
        assertFalse(verify(valid("dev1"), "dev1", null).refused());
    }

    @Test
    void liveCheckSeesRevocationAndExpiry()
    {
        open(null, null);
        final ClientGrant grant = verify(valid("dev1"), "dev1", null);
        assertEquals(0, grant.liveCheck());
        auth.revocations().revoke(List.of("someone-else"));
        assertEquals(0, grant.liveCheck());
        auth.revocations().revoke(List.of("jti-dev1"));
        assertEquals(ReasonCode.ADMINISTRATIVE_ACTION, grant.liveCheck());

        final ClientGrant other = verify(valid("dev2"), "dev2", null);
        clock.update(other.expiresAtMs() - 1);
        assertEquals(0, other.liveCheck());
        clock.update(other.expiresAtMs());
        assertEquals(ReasonCode.MAXIMUM_CONNECT_TIME, other.liveCheck());
    }

    @Test
    void revocationsMadeByAnotherProcessArePickedUp() throws Exception
    {
        open(null, null);
        final ClientGrant grant = verify(valid("dev1"), "dev1", null);
        assertEquals(0, grant.liveCheck());
        try (AuthService cli = AuthService.open(AuthSettings.defaults(dir), clock))
        {
            cli.revocations().revoke(List.of("jti-dev1"));
        }
        auth.refresh();
        assertEquals(ReasonCode.ADMINISTRATIVE_ACTION, grant.liveCheck());
        assertEquals(ReasonCode.NOT_AUTHORIZED, verify(valid("dev1"), "dev1", null).reasonCode());
    }

    @Test
    void keyRotationKeepsTheOldKeyValidUntilTheNextRotation()
    {
        open(null, null);
        final String before = valid("dev1");
        final String oldKid = auth.keyRing().signingKey().getKeyId();
        final String newKid = auth.keyRing().rotate();
        assertNotEquals(oldKid, newKid);
        assertEquals(newKid, auth.keyRing().signingKey().getKeyId());
        assertTrue(auth.keyRing().publicJwks().contains(oldKid) && auth.keyRing().publicJwks().contains(newKid));
        assertFalse(verify(before, "dev1", null).refused(), "old key still verifies");
        final String after = valid("dev2");
        assertTrue(after.startsWith(before.substring(0, 0)));
        assertFalse(verify(after, "dev2", null).refused());
        auth.keyRing().rotate();
        assertEquals(ReasonCode.BAD_USER_NAME_OR_PASSWORD, verify(before, "dev1", null).reasonCode(), "oldest retired");
        assertFalse(verify(after, "dev2", null).refused());
    }

    @Test
    void configuredEs256Rs256AndHs256KeysAreAcceptedOnlyWithTheirOwnAlgorithm() throws Exception
    {
        final EllipticCurveJsonWebKey ec = EcJwkGenerator.generateJwk(EllipticCurves.P256);
        ec.setKeyId("ec1");
        final RsaJsonWebKey rsa = RsaJwkGenerator.generateJwk(2048);
        rsa.setKeyId("rsa1");
        final OctetKeyPairJsonWebKey ed = OkpJwkGenerator.generateJwk(OctetKeyPairJsonWebKey.SUBTYPE_ED25519);
        ed.setKeyId("ed-external");
        final Path jwks = dir.resolve("extra.jwks");
        Files.writeString(jwks, new JsonWebKeySet(ec, rsa, ed).toJson(JsonWebKey.OutputControlLevel.PUBLIC_ONLY));
        final Path secret = dir.resolve("hs256.secret");
        Files.writeString(secret, SECRET + "\n");
        open(jwks, secret);

        final JwtClaims claims = Tokens.claims("d", "j", NOW_MS, 60_000);
        assertFalse(verify(Tokens.sign(claims, "ES256", "ec1", ec.getPrivateKey()), "d", null).refused());
        assertFalse(verify(Tokens.sign(claims, "RS256", "rsa1", rsa.getPrivateKey()), "d", null).refused());
        assertFalse(verify(Tokens.sign(claims, "EdDSA", "ed-external", ed.getPrivateKey()), "d", null).refused());
        assertFalse(verify(Tokens.sign(claims, "HS256", null, new HmacKey(SECRET.getBytes())), "d", null).refused());
        assertFalse(verify(valid("d"), "d", null).refused(), "the broker's own key still works");

        final int bad = ReasonCode.BAD_USER_NAME_OR_PASSWORD;
        assertEquals(bad, verify(Tokens.sign(claims, "HS256", null, new HmacKey((SECRET + "x").getBytes())), "d", null)
            .reasonCode(), "wrong secret");
        assertEquals(bad, verify(Tokens.sign(claims, "RS384", "rsa1", rsa.getPrivateKey()), "d", null).reasonCode(),
            "RS384 not accepted");
        // HS256 signed with the RSA public key's bytes under the RSA kid: the classic confusion attack.
        assertEquals(bad, verify(Tokens.sign(claims, "HS256", "rsa1",
            new HmacKey(rsa.getPublicKey().getEncoded())), "d", null).reasonCode());
        assertEquals(bad, verify(Tokens.sign(claims, "ES256", "ec1",
            EcJwkGenerator.generateJwk(EllipticCurves.P256).getPrivateKey()), "d", null).reasonCode(), "other EC key");
    }

    @Test
    void aclClaimNarrowsTopics()
    {
        open(null, null);
        final String token = Tokens.sign(auth.keyRing(),
            Tokens.withAcl(Tokens.claims("d", "j", NOW_MS, 60_000), List.of("up/d/#"), List.of()));
        final ClientGrant grant = verify(token, "d", null);
        assertFalse(grant.refused(), grant.why());
        final UnsafeBuffer allowed = new UnsafeBuffer("up/d/x".getBytes());
        final UnsafeBuffer denied = new UnsafeBuffer("up/e/x".getBytes());
        assertTrue(grant.mayPublish(allowed, 0, allowed.capacity()));
        assertFalse(grant.mayPublish(denied, 0, denied.capacity()));
        assertFalse(grant.maySubscribe(allowed, 0, allowed.capacity()), "sub: [] allows nothing");
    }
}
