package dev.skylark.broker.it;

import dev.skylark.broker.Broker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** mosquitto_pub → Skylark → mosquitto_sub, when the mosquitto clients are installed. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MosquittoInteropTest
{
    private static Broker broker;

    @BeforeAll
    static void start()
    {
        assumeTrue(onPath("mosquitto_pub") && onPath("mosquitto_sub") && onPath("stdbuf"),
            "mosquitto clients (and stdbuf) not on PATH");
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).bindAddress("127.0.0.1"));
    }

    @AfterAll
    static void stop()
    {
        if (broker != null)
        {
            broker.close();
        }
    }

    private static boolean onPath(final String exe)
    {
        for (final String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        {
            if (new File(dir, exe).canExecute())
            {
                return true;
            }
        }
        return false;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mqttv311", "mqttv5"})
    void subReceivesWhatPubSends(final String version) throws Exception
    {
        final String port = Integer.toString(broker.mqttPort());
        final String topic = "interop/" + version;
        final Process sub = new ProcessBuilder("stdbuf", "-oL", "mosquitto_sub", // line-buffered so SUBACK shows at once
             "-h", "127.0.0.1", "-p", port, "-V", version,
            "-t", topic, "-q", "1", "-C", "1", "-W", "10", "-d").redirectErrorStream(true).start();
        try
        {
            // wait until the subscriber's SUBACK is logged (-d), so the publish cannot race the subscribe
            final List<String> lines = new ArrayList<>();
            final var reader = new java.io.BufferedReader(
                new java.io.InputStreamReader(sub.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null && !line.contains("SUBACK"))
            {
                lines.add(line);
            }
            assertTrue(line != null, "no SUBACK: " + lines);

            final Process pub = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-V", version,
                "-t", topic, "-q", "1", "-m", "hello-" + version).redirectErrorStream(true).start();
            assertTrue(pub.waitFor(10, TimeUnit.SECONDS), "mosquitto_pub finished");
            assertEquals(0, pub.exitValue(), new String(pub.getInputStream().readAllBytes()));

            String payload = null;
            while ((line = reader.readLine()) != null)
            {
                if (line.equals("hello-" + version))
                {
                    payload = line;
                }
            }
            assertTrue(sub.waitFor(10, TimeUnit.SECONDS), "mosquitto_sub finished");
            assertEquals("hello-" + version, payload);
            assertEquals(0, sub.exitValue());
        }
        finally
        {
            sub.destroyForcibly();
        }
    }
}
