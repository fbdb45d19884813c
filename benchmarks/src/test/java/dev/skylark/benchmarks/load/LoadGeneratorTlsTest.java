/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.skylark.broker.Broker;
import dev.skylark.broker.net.SelfSignedCertificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the load generator over TLS (mqtts) and over WebSocket over TLS (wss) against an in-process broker with a
 * self-signed certificate for localhost and 127.0.0.1.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LoadGeneratorTlsTest
{
    @TempDir
    static Path dir;
    private static SelfSignedCertificate.Files certificate;
    private static Broker broker;

    @BeforeAll
    static void startBroker()
    {
        certificate = SelfSignedCertificate.create(dir.resolve("tls"), List.of("localhost", "127.0.0.1"), 2);
        broker = Broker.launch(new Broker.Context().authMode("none").mqttPort(0).httpPort(-1).mqttsPort(0)
            .httpsPort(0).bindAddress("127.0.0.1").durability("none").dataDir(dir.resolve("data").toString())
            .tlsCertificate(certificate.certificate().toString(), certificate.privateKey().toString()));
    }

    @AfterAll
    static void stopBroker()
    {
        if (null != broker)
        {
            broker.close();
        }
    }

    @Test
    void shouldDeliverEveryQos1MessageOverTlsTrustingTheBrokersCertificate() throws IOException
    {
        final LoadResult result = run("--transport", "tls", "--port", Integer.toString(broker.mqttsPort()),
            "--cafile", certificate.certificate().toString(), "--publishers", "2", "--qos", "1");

        assertNull(result.failure());
        assertTrue(result.received() > 0, () -> "received\n" + result.report());
        assertEquals(0, result.lost(), () -> "QoS 1 loss\n" + result.report());
        assertEquals(0, result.gaps(), () -> "missing sequence numbers\n" + result.report());
        assertTrue(result.resultLine().contains(" transport=tls "), result.resultLine());
    }

    @Test
    void shouldDeliverEveryQos2MessageOverSecureWebSocketWithTrustAll() throws IOException
    {
        final LoadResult result = run("--transport", "wss", "--port", Integer.toString(broker.httpsPort()),
            "--trust-all", "--publishers", "2", "--qos", "2", "--mqtt-version", "5");

        assertNull(result.failure());
        assertTrue(result.received() > 0, () -> "received\n" + result.report());
        assertEquals(0, result.lost(), () -> "QoS 2 loss\n" + result.report());
        assertEquals(0, result.gaps(), () -> "missing sequence numbers\n" + result.report());
        assertTrue(result.resultLine().contains(" transport=wss "), result.resultLine());
    }

    @Test
    void shouldCarryLargePayloadsAcrossRecordBoundaries() throws IOException
    {
        // 40 KB messages span several TLS records (16 KiB of plaintext at most) and WebSocket frames
        final LoadResult result = run("--transport", "wss", "--port", Integer.toString(broker.httpsPort()),
            "--cafile", certificate.certificate().toString(), "--publishers", "1", "--qos", "1",
            "--payload", "40000", "--rate", "500");

        assertNull(result.failure());
        assertTrue(result.received() > 0, () -> "received\n" + result.report());
        assertEquals(0, result.lost(), () -> "QoS 1 loss\n" + result.report());
    }

    @Test
    void shouldExitWithRefusedWhenTheCertificateIsNotTrusted()
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exitCode = LoadGenerator.run(new String[]{ "--transport", "tls",
            "--port", Integer.toString(broker.mqttsPort()), "--duration", "1s", "--quiet" },
            new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));

        final String message = err.toString(StandardCharsets.UTF_8);
        assertEquals(LoadControl.EXIT_REFUSED, exitCode, message);
        assertTrue(message.contains("TLS handshake") && message.contains("--cafile"), message);
    }

    @Test
    void shouldRefuseTrustOptionsWithoutTls()
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exitCode = LoadGenerator.run(new String[]{ "--transport", "tcp", "--trust-all" },
            new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));

        assertEquals(1, exitCode);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("need --transport tls or wss"));
    }

    private static LoadResult run(final String... args) throws IOException
    {
        final String[] all = new String[args.length + 5];
        System.arraycopy(args, 0, all, 0, args.length);
        System.arraycopy(new String[]{ "--duration", "1s", "--warmup", "200ms", "--quiet" }, 0, all, args.length, 5);
        return new LoadGenerator(LoadConfig.parse(all), new PrintStream(new ByteArrayOutputStream())).execute();
    }
}
