package dev.skylark.broker.auth;

import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.concurrent.SystemEpochClock;
import org.jose4j.json.JsonUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminApiTest
{
    @TempDir
    Path dir;
    private AuthService auth;
    private AdminApi api;
    private String bearer;

    @BeforeEach
    void open() throws Exception
    {
        auth = AuthService.open(AuthSettings.defaults(dir), SystemEpochClock.INSTANCE);
        api = new AdminApi(auth);
        bearer = "Bearer " + Files.readString(dir.resolve("auth").resolve(AuthService.ADMIN_TOKEN_FILE)).trim();
    }

    @AfterEach
    void close()
    {
        auth.close();
    }

    private Map<String, Object> json(final AdminApi.Response response) throws Exception
    {
        assertEquals("application/json", response.contentType());
        return JsonUtil.parseJson(response.bodyText());
    }

    private AdminApi.Response call(final String method, final String path, final String body)
    {
        return api.handle(method, path, bearer, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void refusesWithoutTheAdminToken()
    {
        assertEquals(401, api.handle("GET", "/admin/v1/keys", null, null).status());
        assertEquals(401, api.handle("GET", "/admin/v1/keys", "Bearer wrong", null).status());
        assertEquals(401, api.handle("GET", "/admin/v1/keys", "Basic " + bearer.substring(7), null).status());
        assertEquals(200, call("GET", "/admin/v1/keys", null).status());
    }

    @Test
    void issuesTokensThatVerifyAndRevokesThem() throws Exception
    {
        final AdminApi.Response issued = call("POST", "/admin/v1/tokens",
            "{\"clientIds\":[\"dev-1\",\"dev-2\"],\"ttl\":\"48h\",\"pub\":[\"up/#\"],\"sub\":[]}");
        assertEquals(200, issued.status(), issued.bodyText());
        final Map<String, Object> tokens = json(issued);
        assertEquals(List.of("dev-1", "dev-2"), List.copyOf(tokens.keySet()));
        final ClientGrant grant = auth.tokenAuthenticator().verify((String)tokens.get("dev-1"), "dev-1", null);
        assertFalse(grant.refused(), grant.why());
        assertFalse(grant.publishAcl().unrestricted());
        assertFalse(grant.subscribeAcl().allowsFilter("up/x"));

        final AdminApi.Response revoked = call("POST", "/admin/v1/revocations", "{\"jti\":[\"" + grant.jti() + "\"]}");
        assertEquals(200, revoked.status());
        assertEquals(1L, json(revoked).get("revoked"));
        assertEquals(List.of(grant.jti()), json(call("GET", "/admin/v1/revocations", null)).get("revoked"));
        assertEquals(ReasonCode.NOT_AUTHORIZED,
            auth.tokenAuthenticator().verify((String)tokens.get("dev-1"), "dev-1", null).reasonCode());
        assertEquals(1L, json(call("DELETE", "/admin/v1/revocations/" + grant.jti(), null)).get("unrevoked"));
        assertFalse(auth.tokenAuthenticator().verify((String)tokens.get("dev-1"), "dev-1", null).refused());
    }

    @Test
    void randomClientIdsAreUniqueAndShort() throws Exception
    {
        final Map<String, Object> tokens = json(call("POST", "/admin/v1/tokens", "{\"count\":100}"));
        assertEquals(100, tokens.size());
        for (final String id : tokens.keySet())
        {
            assertTrue(id.length() <= 23, id);
        }
        assertEquals(400, call("POST", "/admin/v1/tokens", "{\"count\":101}").status());
        assertEquals(400, call("POST", "/admin/v1/tokens", "{\"count\":0}").status());
    }

    @Test
    void rotatesKeys() throws Exception
    {
        final String before = auth.keyRing().signingKey().getKeyId();
        final Map<String, Object> rotated = json(call("POST", "/admin/v1/keys/rotate", null));
        final String kid = (String)rotated.get("kid");
        final String jwks = call("GET", "/admin/v1/keys", null).bodyText();
        assertTrue(jwks.contains(before) && jwks.contains(kid), jwks);
    }

    @Test
    void badRequests()
    {
        assertEquals(404, call("GET", "/admin/v1/nothing", null).status());
        assertEquals(404, call("GET", "/other", null).status());
        assertEquals(405, call("DELETE", "/admin/v1/keys", null).status());
        assertEquals(405, call("GET", "/admin/v1/tokens", null).status());
        assertEquals(400, call("POST", "/admin/v1/tokens", "{not json").status());
        assertEquals(400, call("POST", "/admin/v1/tokens", "{\"pub\":[\"a/#/b\"]}").status());
        assertEquals(400, call("POST", "/admin/v1/tokens", "{\"ttl\":\"soon\"}").status());
        assertEquals(400, call("POST", "/admin/v1/revocations", "{}").status());
    }
}
