package dev.skylark.broker.ws;

import dev.skylark.broker.Broker;
import dev.skylark.broker.net.SelfSignedCertificate;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo page in a real browser (Debian's headless Chromium, driven by playwright-core): it connects over
 * WebSocket, receives a message a TCP client publishes, and publishes one the TCP client receives. Skipped when
 * chromium, node or web/node_modules are missing, or when the page was built without its bundle.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BrowserDemoTest
{
    private static void assumeBrowser()
    {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/chromium")), "chromium is not installed");
        NodeScripts.node();
        NodeScripts.assumeModules("mqtt", "playwright-core");
        Assumptions.assumeTrue(BrowserDemoTest.class.getClassLoader().getResource("web/app.js") != null,
            "the demo bundle web/app.js was not built");
    }

    @Test
    void demoPageOverHttpsUsesWss(@TempDir final Path dir) throws Exception
    {
        assumeBrowser();
        final SelfSignedCertificate.Files certificate =
            SelfSignedCertificate.create(dir, List.of("localhost", "127.0.0.1"), 30);
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).mqttsPort(-1).httpsPort(0)
            .bindAddress("127.0.0.1")
            .tlsCertificate(certificate.certificate().toString(), certificate.privateKey().toString())))
        {
            final String output = NodeScripts.run(90, "browser.mjs", "https://localhost:" + broker.httpsPort() + "/",
                "mqtt://127.0.0.1:" + broker.mqttPort());
            assertTrue(output.contains("ok browser over wss://"), output);
        }
    }

    @Test
    void demoPageTalksToATcpClient() throws Exception
    {
        assumeBrowser();
        try (Broker broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(0).bindAddress("127.0.0.1")))
        {
            // The page after the run (telemetry chart included) is saved: target/browser-demo.png unless told.
            final Path screenshot = Path.of(System.getProperty("demo.screenshot", "target/browser-demo.png"))
                .toAbsolutePath();
            java.nio.file.Files.deleteIfExists(screenshot);
            final String output = NodeScripts.run(90, "browser.mjs", "http://127.0.0.1:" + broker.httpPort() + "/",
                "mqtt://127.0.0.1:" + broker.mqttPort(), screenshot.toString());
            assertTrue(output.contains("ok browser"), output);
            assertTrue(output.contains("chart points"), output);
            assertTrue(java.nio.file.Files.size(screenshot) > 0, "screenshot saved");
        }
    }

    @Test
    void tokenModeTakesTheClientIdFromTheTokenAndShowsTheReasonString(@TempDir final Path dir) throws Exception
    {
        assumeBrowser();
        try (Broker broker = Broker.launch(new Broker.Context().authMode("token").mqttPort(0).httpPort(0)
            .bindAddress("127.0.0.1").dataDir(dir.resolve("data").toString())))
        {
            final String output = NodeScripts.run(90, "browser-refusal.mjs", "http://127.0.0.1:" + broker.httpPort() + "/");
            assertTrue(output.contains("ok refusal: The broker refused the connection: "), output);
            assertTrue(!output.contains("ok refusal: The broker refused the connection: reason code"),
                "the broker's own Reason String is shown: " + output);
        }
    }
}
