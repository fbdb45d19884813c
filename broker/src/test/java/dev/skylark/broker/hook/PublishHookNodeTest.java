package dev.skylark.broker.hook;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PayloadFormatIndicator;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.Broker;
import dev.skylark.broker.auth.KeyRing;
import dev.skylark.broker.auth.Tokens;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.skylark.broker.hook.HookTests.counter;
import static dev.skylark.broker.hook.HookTests.publishes;
import static dev.skylark.broker.hook.HookTests.receive;
import static dev.skylark.broker.hook.HookTests.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Node.js hook of docs/publish-hook.md, taken from that page and run as it stands: it verifies the broker's
 * signatures with the output of {@code skylark keys}, drops "drop me" and tags the rest. Skipped when node is not
 * installed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PublishHookNodeTest
{
    private static final String MARKER = "<!-- hook-example-node";

    @TempDir
    Path dataDir;
    private Process node;
    private Broker broker;
    private final List<Mqtt5BlockingClient> clients = new ArrayList<>();

    @AfterEach
    void stop()
    {
        HookTests.disconnectAll(clients);
        if (broker != null)
        {
            broker.close();
        }
        if (node != null)
        {
            node.destroyForcibly();
        }
    }

    @Test
    void readmeHookVerifiesAndFilters() throws Exception
    {
        final Path nodeBinary = Path.of("/usr/bin/node");
        Assumptions.assumeTrue(Files.isExecutable(nodeBinary), "node is not installed");
        final Path script = dataDir.resolve("hook.js");
        Files.writeString(script, readmeExample());
        final Path keys = dataDir.resolve("skylark-keys.json");
        Files.writeString(keys, HookTests.publicKeys(dataDir)); // skylark keys > skylark-keys.json

        final ProcessBuilder builder = new ProcessBuilder(nodeBinary.toString(), script.toString())
            .redirectErrorStream(true);
        builder.environment().put("SKYLARK_KEYS", keys.toString());
        builder.environment().put("PORT", "0");
        node = builder.start();
        final BufferedReader output = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8));
        final String line = CompletableFuture.supplyAsync(() ->
        {
            try
            {
                return output.readLine();
            }
            catch (final java.io.IOException ex)
            {
                throw new java.io.UncheckedIOException(ex);
            }
        }).get(20, TimeUnit.SECONDS);
        assertTrue(line != null && line.startsWith("hook listening on "), "node said: " + line);
        final String url = "http://127.0.0.1:" + line.substring("hook listening on ".length()).trim() + "/";

        // An unsigned request is refused by the hook.
        final HttpResponse<String> unsigned = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
            .POST(HttpRequest.BodyPublishers.ofString("[]")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, unsigned.statusCode());
        refusesTokensStaleAndNonNumericTimestamps(url);

        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .dataDir(dataDir.toString()).hookPublish(url));
        final Mqtt5BlockingClient sub = HookTests.connect(broker, "sub", clients);
        final Mqtt5BlockingClient pub = HookTests.connect(broker, "pub", clients);
        try (Mqtt5BlockingClient.Mqtt5Publishes received = publishes(sub))
        {
            sub.subscribeWith().topicFilter("n/#").qos(MqttQos.AT_LEAST_ONCE).send();
            for (final String payload : List.of("hello", "drop me", "after"))
            {
                pub.publishWith().topic("n/1").qos(MqttQos.AT_LEAST_ONCE).payload(payload.getBytes())
                    .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UTF_8).send();
            }
            for (final String expected : List.of("hello", "after"))
            {
                final Mqtt5Publish message = receive(received);
                assertEquals(expected, text(message));
                assertEquals("checked", message.getUserProperties().asList().get(0).getName().toString());
            }
        }
        assertEquals(0, counter(broker, "skylark_hook_failures_total"), "every signature verified in Node");
        assertEquals(1, counter(broker, "skylark_hook_messages_dropped_total"));
    }

    /**
     * Issue #15: hook requests and tokens are signed with the same key. A token sent as a hook request (its header
     * as the timestamp, its payload as the body) used to verify; a stale or non-numeric timestamp is refused too,
     * while a fresh request signed as the broker signs is accepted.
     */
    private void refusesTokensStaleAndNonNumericTimestamps(final String url) throws Exception
    {
        final KeyRing ring = KeyRing.openOrCreate(dataDir.resolve("auth"));
        final String keyId = ring.currentSigningKey().keyId();
        final long nowMs = System.currentTimeMillis();
        final String[] token = Tokens.sign(ring, Tokens.claims("forger", "j1", nowMs, 60_000)).split("\\.");
        assertEquals(401, post(url, token[0], keyId, token[2], token[1].getBytes(StandardCharsets.US_ASCII)),
            "a token replayed as a hook request");

        final byte[] empty = "[]".getBytes(StandardCharsets.US_ASCII);
        final HookSigner signer = new HookSigner(ring);
        final HookSigner.Signed stale = signer.sign(nowMs - TimeUnit.MINUTES.toMillis(6), empty);
        assertEquals(401, post(url, stale.timestamp(), keyId, stale.signature(), empty), "6 minutes old");

        final String spaced = " " + nowMs; // Number(" 1764...") is a number: only a plain run of digits will do
        final Signature ed25519 = Signature.getInstance("Ed25519");
        ed25519.initSign(ring.currentSigningKey().privateKey());
        ed25519.update((HookSigner.DOMAIN + spaced + ".[]").getBytes(StandardCharsets.US_ASCII));
        final String spacedSignature = Base64.getUrlEncoder().withoutPadding().encodeToString(ed25519.sign());
        assertEquals(401, post(url, spaced, keyId, spacedSignature, empty), "timestamp not a plain number");

        final HookSigner.Signed fresh = signer.sign(nowMs, empty);
        assertEquals(200, post(url, fresh.timestamp(), keyId, fresh.signature(), empty), "signed as the broker signs");
    }

    private static int post(
        final String url, final String timestamp, final String keyId, final String signature, final byte[] body)
        throws Exception
    {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
            .header(HookSigner.TIMESTAMP_HEADER, timestamp)
            .header(HookSigner.KEY_ID_HEADER, keyId)
            .header(HookSigner.SIGNATURE_HEADER, signature)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding())
            .statusCode();
    }

    /** The first ```js block after the marker in the repository's docs/publish-hook.md. */
    private static String readmeExample() throws Exception
    {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("docs/publish-hook.md")))
        {
            dir = dir.getParent();
        }
        Assumptions.assumeTrue(dir != null, "docs/publish-hook.md not found");
        final String readme = Files.readString(dir.resolve("docs/publish-hook.md"));
        final int marker = readme.indexOf(MARKER);
        assertTrue(marker >= 0, "docs/publish-hook.md has the hook example marker");
        final int start = readme.indexOf("```js\n", marker) + "```js\n".length();
        final int end = readme.indexOf("```", start);
        return readme.substring(start, end);
    }
}
