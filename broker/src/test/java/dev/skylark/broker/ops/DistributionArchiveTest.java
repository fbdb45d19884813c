package dev.skylark.broker.ops;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The distribution archive {@code mvn package} builds: unpacked, its {@code bin/skylark} answers {@code --version},
 * runs the broker on free ports with the configuration in {@code conf/}, an independent MQTT client (HiveMQ) publishes
 * and receives through it, {@code bin/skylark stat --json} reads it, and SIGTERM stops it with exit status 0. Runs in
 * the integration-test phase (after package); skipped when run before the archive exists.
 */
@Timeout(180)
class DistributionArchiveTest
{
    @TempDir
    Path dir;

    @Test
    void unpackStartConnectStop() throws Exception
    {
        final Optional<Path> archive;
        try (Stream<Path> files = Files.list(Path.of("target")))
        {
            archive = files.filter((p) -> p.getFileName().toString().matches("skylark-.*-dist\\.tar\\.gz")).findFirst();
        }
        assumeTrue(archive.isPresent(), "no distribution archive in target/ (run mvn package first)");

        run(List.of("tar", "xzf", archive.get().toAbsolutePath().toString(), "-C", dir.toString()));
        final Path home;
        try (Stream<Path> unpacked = Files.list(dir))
        {
            home = unpacked.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        final Path launcher = home.resolve("bin/skylark");
        assertTrue(Files.isExecutable(launcher), "bin/skylark is executable");
        for (final String part : List.of("lib/skylark.jar", "conf/skylark.properties.example",
            "ops/systemd/skylark.service", "LICENSE", "CHANGELOG.md", "README.md"))
        {
            assertTrue(Files.exists(home.resolve(part)), part);
        }
        final String unit = Files.readString(home.resolve("ops/systemd/skylark.service"));
        assertTrue(unit.contains("LimitNOFILE=") && unit.contains("--data.dir /var/lib/skylark/data") &&
            unit.contains("ExecReload=/bin/kill -HUP $MAINPID"), unit);

        final Map<String, String> environment = Map.of("JAVA_HOME", System.getProperty("java.home"));
        assertTrue(run(List.of(launcher.toString(), "--version"), environment).startsWith("skylark "));

        // The launcher reads conf/skylark.properties (short names) by itself.
        Files.writeString(home.resolve("conf/skylark.properties"), "mqtt.port=0\nhttp.port=0\n" +
            "bind.address=127.0.0.1\nauth.mode=none\ndurability=none\nio.threads=1\n");
        final Path data = dir.resolve("data");
        try (SkylarkProcess broker = SkylarkProcess.launch(
            List.of(launcher.toString(), "--data.dir", data.toString()), environment))
        {
            final int port = broker.port("mqtt");
            final Mqtt5BlockingClient client = MqttClient.builder().useMqttVersion5().identifier("dist-test")
                .serverHost("127.0.0.1").serverPort(port).buildBlocking();
            client.connect();
            try (Mqtt5BlockingClient.Mqtt5Publishes publishes = client.publishes(
                com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL))
            {
                client.subscribeWith().topicFilter("dist/#").qos(MqttQos.AT_LEAST_ONCE).send();
                client.publishWith().topic("dist/hello").qos(MqttQos.AT_LEAST_ONCE)
                    .payload("from the archive".getBytes(StandardCharsets.UTF_8)).send();
                final Mqtt5Publish received = publishes.receive(30, TimeUnit.SECONDS).orElseThrow();
                assertEquals("from the archive", new String(received.getPayloadAsBytes(), StandardCharsets.UTF_8));
            }

            final String stat = run(List.of(launcher.toString(), "stat", "--json", "--data.dir", data.toString()),
                environment);
            assertTrue(stat.contains("\"running\":true"), stat);
            client.disconnect();

            broker.signal("TERM");
            assertEquals(0, broker.awaitExit(60), broker.log());
            assertTrue(broker.log().contains("Skylark stopped"), broker.log());
        }
    }

    private static String run(final List<String> command) throws IOException, InterruptedException
    {
        return run(command, Map.of());
    }

    private static String run(final List<String> command, final Map<String, String> environment)
        throws IOException, InterruptedException
    {
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().keySet().removeIf((name) -> name.startsWith("SKYLARK_"));
        builder.environment().putAll(environment);
        final Process process = builder.start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, process.exitValue(), String.join(" ", command) + ":\n" + output);
        return output;
    }
}
