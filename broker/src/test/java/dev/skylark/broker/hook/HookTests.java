package dev.skylark.broker.hook;

import com.fasterxml.jackson.databind.JsonNode;
import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import dev.skylark.broker.Broker;
import dev.skylark.broker.cli.SkylarkMain;
import dev.skylark.broker.status.CountersSnapshot;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** What the publish hook tests share: clients, counters, waiting with deadlines, signature checks. */
final class HookTests
{
    private HookTests()
    {
    }

    static Broker.Context context(final Path dataDir, final HookServer hook)
    {
        return new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1")
            .dataDir(dataDir.toString()).hookPublish(hook.url());
    }

    static Mqtt5BlockingClient connect(final Broker broker, final String id, final List<Mqtt5BlockingClient> clients)
    {
        final Mqtt5BlockingClient client = Mqtt5Client.builder().identifier(id)
            .serverHost("127.0.0.1").serverPort(broker.mqttPort()).buildBlocking();
        client.connectWith().cleanStart(true).send();
        clients.add(client);
        return client;
    }

    static void disconnectAll(final List<Mqtt5BlockingClient> clients)
    {
        for (final Mqtt5BlockingClient client : clients)
        {
            try
            {
                if (client.getState().isConnected())
                {
                    client.disconnect();
                }
            }
            catch (final RuntimeException ignore)
            {
                // already gone
            }
        }
    }

    static Mqtt5BlockingClient.Mqtt5Publishes publishes(final Mqtt5BlockingClient client)
    {
        return client.publishes(MqttGlobalPublishFilter.ALL);
    }

    static Mqtt5Publish receive(final Mqtt5BlockingClient.Mqtt5Publishes publishes) throws InterruptedException
    {
        final Optional<Mqtt5Publish> message = publishes.receive(10, TimeUnit.SECONDS);
        assertTrue(message.isPresent(), "no message within 10 s");
        return message.get();
    }

    static String text(final Mqtt5Publish publish)
    {
        return new String(publish.getPayloadAsBytes(), StandardCharsets.UTF_8);
    }

    /** One counter's value, summed over its label sets when {@code labels} is null. */
    static long counter(final Broker broker, final String name, final String labels)
    {
        long total = 0;
        for (final CountersSnapshot.Entry entry : CountersSnapshot.of(broker.countersFile().reader()).entries())
        {
            if (entry.name().equals(name) && (labels == null || entry.labels().equals(labels)))
            {
                total += entry.value();
            }
        }
        return total;
    }

    static long counter(final Broker broker, final String name)
    {
        return counter(broker, name, null);
    }

    static void await(final String what, final BooleanSupplier condition) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out waiting for " + what);
            }
            Thread.onSpinWait();
            TimeUnit.MILLISECONDS.sleep(1); // a poll interval, not a wait for something to happen
        }
    }

    /** The public JWK set exactly as {@code skylark keys} prints it for this data directory. */
    static String publicKeys(final Path dataDir)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, SkylarkMain.execute(new String[]{"keys", "--data.dir", dataDir.toString()},
            new PrintStream(out, true, StandardCharsets.UTF_8)));
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * The Java verification of docs/publish-hook.md, verbatim in spirit: JWK "x" → X.509 key → a numeric, fresh timestamp →
     * Ed25519 over the domain, timestamp and body.
     */
    static boolean verify(final String jwks, final HookServer.Request request) throws Exception
    {
        for (final JsonNode jwk : HookServer.JSON.readTree(jwks).get("keys"))
        {
            if (!jwk.get("kid").asText().equals(request.keyId()))
            {
                continue;
            }
            final String x = jwk.get("x").asText();
            final String timestamp = request.timestamp();
            final String signature = request.signature();
            final byte[] body = request.body();
            // From here on, the README's snippet as it stands.
            byte[] spki = HexFormat.of().parseHex("302a300506032b6570032100");   // X.509 prefix of an Ed25519 public key
            PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(
                ByteBuffer.allocate(44).put(spki).put(Base64.getUrlDecoder().decode(x)).array()));
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(key);
            if (!timestamp.matches("[0-9]{1,15}") ||
                Math.abs(System.currentTimeMillis() - Long.parseLong(timestamp)) > 5 * 60 * 1000) return false;
            verifier.update(("skylark-publish-hook-v1:" + timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            verifier.update(body);
            boolean valid = verifier.verify(Base64.getUrlDecoder().decode(signature));
            return valid;
        }
        return false;
    }

    /** Every message of every request received so far. */
    static List<JsonNode> allMessages(final List<HookServer.Request> requests)
    {
        final List<JsonNode> messages = new ArrayList<>();
        for (final HookServer.Request request : requests)
        {
            request.messages().forEach(messages::add);
        }
        return messages;
    }
}
