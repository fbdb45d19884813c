/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.perf.hivemq;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import com.hivemq.embedded.EmbeddedExtension;
import com.hivemq.embedded.EmbeddedHiveMQ;
import com.hivemq.extension.sdk.api.ExtensionMain;
import com.hivemq.extension.sdk.api.auth.SimpleAuthenticator;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStartOutput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopInput;
import com.hivemq.extension.sdk.api.parameter.ExtensionStopOutput;
import com.hivemq.extension.sdk.api.services.Services;

/**
 * HiveMQ Community Edition, embedded, as a peer broker of {@code perf-scripts/compare.sh}.
 * <p>
 * {@code java -cp <launcher and HiveMQ class path> dev.skylark.perf.hivemq.HiveMqLauncher <port> <work dir>} writes
 * its own {@code config.xml} into {@code <work dir>/conf}: one TCP listener on {@code 127.0.0.1:<port>}, in-memory
 * persistence, anonymous usage statistics off (HiveMQ CE makes no other outbound call: it has no update check), and
 * otherwise HiveMQ's defaults. Anonymous access comes from an embedded extension that authenticates every client
 * (what HiveMQ's own {@code hivemq-allow-all-extension} does; without an authenticator HiveMQ CE refuses every
 * CONNECT). It runs until the process gets SIGTERM or SIGINT, then stops HiveMQ.
 */
public final class HiveMqLauncher
{
    private HiveMqLauncher()
    {
    }

    /**
     * @param args port, work directory, and optionally {@code max-queue-size} (HiveMQ's per-client queue; its
     *             default 1000 when absent).
     * @throws Exception when HiveMQ does not start.
     */
    public static void main(final String[] args) throws Exception
    {
        if (args.length < 2)
        {
            System.err.println("usage: HiveMqLauncher <port> <work dir> [<max queued messages per client>]");
            System.exit(1);
        }
        final int port = Integer.parseInt(args[0]);
        final Path work = Path.of(args[1]);
        final String maxQueue = args.length > 2 ? args[2] : null;
        final Path conf = Files.createDirectories(work.resolve("conf"));
        final Path data = Files.createDirectories(work.resolve("data"));
        final Path extensions = Files.createDirectories(work.resolve("extensions"));
        writeConfig(conf.resolve("config.xml"), port, maxQueue);

        final EmbeddedExtension allowAll = EmbeddedExtension.builder()
            .withId("skylark-perf-allow-all")
            .withName("allow every client (benchmarking only)")
            .withVersion("1")
            .withPriority(0)
            .withStartPriority(1000)
            .withExtensionMain(new AllowAll())
            .build();
        final EmbeddedHiveMQ hivemq = EmbeddedHiveMQ.builder()
            .withConfigurationFolder(conf)
            .withDataFolder(data)
            .withExtensionsFolder(extensions)
            .withEmbeddedExtension(allowAll)
            .build();
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() ->
        {
            try
            {
                hivemq.stop().join();
                hivemq.close();
            }
            catch (final Exception ex)
            {
                System.err.println("HiveMQ stop: " + ex);
            }
            stopped.countDown();
        }, "hivemq-stop"));
        hivemq.start().join();
        System.out.println("HiveMQ CE listening on 127.0.0.1:" + port);
        stopped.await();
    }

    private static void writeConfig(final Path file, final int port, final String maxQueue) throws IOException
    {
        final String mqtt = null == maxQueue ? "" :
            "    <mqtt>\n" +
            "        <queued-messages><max-queue-size>" + Long.parseLong(maxQueue) + "</max-queue-size></queued-messages>\n" +
            "    </mqtt>\n";
        final String xml =
            "<?xml version=\"1.0\"?>\n" +
            "<hivemq>\n" +
            "    <listeners>\n" +
            "        <tcp-listener>\n" +
            "            <port>" + port + "</port>\n" +
            "            <bind-address>127.0.0.1</bind-address>\n" +
            "        </tcp-listener>\n" +
            "    </listeners>\n" +
            mqtt +
            "    <persistence>\n" +
            "        <mode>in-memory</mode>\n" +
            "    </persistence>\n" +
            "    <anonymous-usage-statistics>\n" +
            "        <enabled>false</enabled>\n" +
            "    </anonymous-usage-statistics>\n" +
            "</hivemq>\n";
        Files.writeString(file, xml, StandardCharsets.UTF_8);
    }

    /** An authenticator that lets every client in, with HiveMQ's default (allow-all) permissions. */
    static final class AllowAll implements ExtensionMain
    {
        @Override
        public void extensionStart(final ExtensionStartInput input, final ExtensionStartOutput output)
        {
            Services.securityRegistry().setAuthenticatorProvider(providerInput ->
                (SimpleAuthenticator)(connect, result) -> result.authenticateSuccessfully());
        }

        @Override
        public void extensionStop(final ExtensionStopInput input, final ExtensionStopOutput output)
        {
        }
    }
}
