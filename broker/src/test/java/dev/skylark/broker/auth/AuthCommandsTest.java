package dev.skylark.broker.auth;

import dev.skylark.broker.cli.SkylarkMain;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.concurrent.SystemEpochClock;
import org.jose4j.json.JsonUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code skylark token ...} and {@code skylark keys ...} commands, in-process on a temporary data directory. */
class AuthCommandsTest
{
    @TempDir
    Path dir;

    private String run(final String... args)
    {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--data.dir";
        all[args.length + 1] = dir.toString();
        assertEquals(0, SkylarkMain.execute(all, new PrintStream(bytes, true, StandardCharsets.UTF_8)));
        return bytes.toString(StandardCharsets.UTF_8).trim();
    }

    @Test
    void issueRevokeUnrevokeAndKeysEndToEnd() throws Exception
    {
        final Map<String, Object> random = JsonUtil.parseJson(run("token", "issue", "--count", "3", "--ttl", "48h"));
        assertEquals(3, random.size());
        random.keySet().forEach((id) -> assertTrue(id.length() <= 23, id));

        final Map<String, Object> named = JsonUtil.parseJson(run("token", "issue", "--client-id", "dev-a",
            "--client-id", "dev-b", "--pub", "up/+/x", "--sub", "down/#", "--ttl", "1h"));
        assertEquals(List.of("dev-a", "dev-b"), List.copyOf(named.keySet()));

        try (AuthService auth = AuthService.open(AuthSettings.defaults(dir), SystemEpochClock.INSTANCE))
        {
            final ClientGrant grant = auth.tokenAuthenticator().verify((String)named.get("dev-a"), "dev-a", "dev-a");
            assertFalse(grant.refused(), grant.why());
            assertTrue(grant.subscribeAcl().allowsFilter("down/1"));
            assertFalse(grant.subscribeAcl().allowsFilter("up/1/x"));
            assertTrue(grant.expiresAtMs() > 0);

            assertEquals(Map.of("revoked", 1L), JsonUtil.parseJson(run("token", "revoke", grant.jti())));
            assertEquals(List.of(grant.jti()), JsonUtil.parseJson(run("token", "revocations")).get("revoked"));
            auth.refresh(); // what the broker's watcher does
            assertEquals(ReasonCode.NOT_AUTHORIZED,
                auth.tokenAuthenticator().verify((String)named.get("dev-a"), "dev-a", null).reasonCode());
            assertEquals(Map.of("unrevoked", 1L), JsonUtil.parseJson(run("token", "unrevoke", grant.jti())));
            auth.refresh();
            assertFalse(auth.tokenAuthenticator().verify((String)named.get("dev-a"), "dev-a", null).refused());

            final String kid = (String)JsonUtil.parseJson(run("keys", "rotate")).get("kid");
            final String jwks = run("keys");
            assertTrue(jwks.contains(kid) && jwks.contains("\"crv\":\"Ed25519\"") && !jwks.contains("\"d\""), jwks);
            auth.refresh();
            assertEquals(kid, auth.keyRing().signingKey().getKeyId(), "running broker picks up the rotation");
            assertFalse(auth.tokenAuthenticator().verify((String)named.get("dev-b"), "dev-b", null).refused(),
                "tokens of the previous key still verify");
        }
    }

    @Test
    void badArguments()
    {
        assertThrows(IllegalArgumentException.class, () -> run("token", "issue", "--count", "101"));
        assertThrows(IllegalArgumentException.class, () -> run("token", "issue", "--count", "0"));
        assertThrows(IllegalArgumentException.class, () -> run("token", "issue", "--ttl", "forever"));
        assertThrows(IllegalArgumentException.class, () -> run("token", "issue", "--pub", "a/#/b"));
        assertThrows(IllegalArgumentException.class, () -> run("token", "revoke"));
        assertThrows(IllegalArgumentException.class, () -> run("token", "mint"));
        assertThrows(IllegalArgumentException.class, () -> run("keys", "delete"));
    }
}
