package dev.skylark.broker.ws;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
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
    @Test
    void demoPageTalksToATcpClient() throws Exception
    {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/chromium")), "chromium is not installed");
        NodeScripts.node();
        NodeScripts.assumeModules("mqtt", "playwright-core");
        Assumptions.assumeTrue(BrowserDemoTest.class.getClassLoader().getResource("web/app.js") != null,
            "the demo bundle web/app.js was not built");
        try (Broker broker = Broker.launch(new Broker.Context().mqttPort(0).httpPort(0).bindAddress("127.0.0.1")))
        {
            final String screenshot = System.getProperty("demo.screenshot", "");
            final String output = screenshot.isEmpty() ?
                NodeScripts.run(90, "browser.mjs", "http://127.0.0.1:" + broker.httpPort() + "/",
                    "mqtt://127.0.0.1:" + broker.mqttPort()) :
                NodeScripts.run(90, "browser.mjs", "http://127.0.0.1:" + broker.httpPort() + "/",
                    "mqtt://127.0.0.1:" + broker.mqttPort(), screenshot);
            assertTrue(output.contains("ok browser"), output);
        }
    }
}
