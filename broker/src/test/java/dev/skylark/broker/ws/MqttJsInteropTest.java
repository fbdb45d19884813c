package dev.skylark.broker.ws;

import dev.skylark.broker.Broker;
import dev.skylark.broker.net.SelfSignedCertificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MQTT.js (Node.js) over ws://, wss://, mqtt:// and mqtts://, MQTT 3.1.1 and 5.0: a WebSocket client and a TCP
 * client exchange messages both ways. Skipped when node or web/node_modules are missing (.ci/run installs them).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MqttJsInteropTest
{
    @TempDir
    static Path dir;
    private static Broker broker;
    private static SelfSignedCertificate.Files certificate;

    @BeforeAll
    static void start()
    {
        NodeScripts.node();
        NodeScripts.assumeModules("mqtt");
        certificate = SelfSignedCertificate.create(dir, List.of("localhost", "127.0.0.1"), 30);
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0).mqttsPort(0).httpsPort(0)
            .bindAddress("127.0.0.1")
            .tlsCertificate(certificate.certificate().toString(), certificate.privateKey().toString()));
    }

    @AfterAll
    static void stop()
    {
        if (broker != null)
        {
            broker.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "4", "5" })
    void webSocketAndTcp(final String version) throws Exception
    {
        final String output = NodeScripts.run(60, "interop.mjs", "ws://127.0.0.1:" + broker.httpPort() + "/mqtt",
            "mqtt://127.0.0.1:" + broker.mqttPort(), version);
        assertTrue(output.contains("ok "), output);
    }

    @ParameterizedTest
    @ValueSource(strings = { "4", "5" })
    void secureWebSocketAndTls(final String version) throws Exception
    {
        final String output = NodeScripts.run(60, "interop.mjs", "wss://localhost:" + broker.httpsPort() + "/mqtt",
            "mqtts://localhost:" + broker.mqttsPort(), version, certificate.certificate().toString());
        assertTrue(output.contains("ok "), output);
    }
}
