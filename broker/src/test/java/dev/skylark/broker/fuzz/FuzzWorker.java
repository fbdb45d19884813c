package dev.skylark.broker.fuzz;

import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Runs fuzz cases against the broker, many per connection where the protocol allows: a connection starts with a
 * CONNECT case (mutated, random, known-answer or valid), then, while the broker keeps it open, carries mutated
 * packets of a connected client, each case closed by a PINGREQ whose PINGRESP says the broker took it (or by the
 * close that says it refused it). Every answer goes through the {@link ResponseOracle}; a case that gets neither an
 * answer nor a close within {@link #CASE_TIMEOUT_S} s fails the run, printing the seed, the worker, the case number
 * and its bytes.
 */
final class FuzzWorker implements Callable<Long>
{
    static final int CASE_TIMEOUT_S = 10;

    enum Transport
    {
        TCP, WEBSOCKET
    }

    private final int index;
    private final Transport transport;
    private final int port;
    private final long seed;
    private final long cases;
    private final int maxPacketSize;
    private final ConcurrentHashMap<String, LongAdder> outcomes;
    private final AtomicBoolean failed;
    private final Random random;
    private final Mutator mutator;
    private final Corpus corpus;
    private final KnownAnswers known;
    private final StreamModel model = new StreamModel();
    private final String clientId;
    private final InetAddress local;
    private long done;
    private long connections;
    private String current = "";
    /** A valid CONNECT not sent yet: it goes out in front of the next case, saving a round trip. */
    private byte[] pendingConnect;
    /** The connection speaks MQTT 5 (known from the CONNECT sent or the CONNACK). */
    private boolean v5;

    FuzzWorker(
        final int index,
        final Transport transport,
        final int port,
        final long seed,
        final long cases,
        final int maxPacketSize,
        final ConcurrentHashMap<String, LongAdder> outcomes,
        final AtomicBoolean failed) throws IOException
    {
        this.index = index;
        this.transport = transport;
        this.port = port;
        this.seed = seed;
        this.cases = cases;
        this.maxPacketSize = maxPacketSize;
        this.outcomes = outcomes;
        this.failed = failed;
        this.random = new Random(seed * 1_000_003L + index);
        this.mutator = new Mutator(random);
        // Client ids of two workers differ in two places: one mutated byte never turns one into another.
        this.clientId = "fz" + (char)('a' + index) + (char)('A' + 3 * index);
        this.corpus = new Corpus(clientId);
        this.known = new KnownAnswers(random, maxPacketSize);
        this.local = InetAddress.getByAddress(new byte[]{127, 0, 0, (byte)(2 + index)});
    }

    long connections()
    {
        return connections;
    }

    @Override
    public Long call() throws Exception
    {
        try
        {
            while (done < cases && !failed.get())
            {
                connection();
            }
            return done;
        }
        catch (final Throwable ex)
        {
            failed.set(true);
            throw new AssertionError(transport + " worker " + index + ", case " + done + " of seed " + seed + " (" +
                current + "): " + ex.getMessage(), ex);
        }
    }

    private void connection() throws IOException
    {
        connections++;
        try (Wire wire = transport == Transport.TCP ? Wire.tcp(local, port) : Wire.webSocket(local, port, random))
        {
            if (wire instanceof Wire.WebSocket ws)
            {
                if (random.nextInt(50) == 0)
                {
                    mutatedUpgrade(ws);
                    return;
                }
                ws.upgrade(Wire.WebSocket.REQUEST.getBytes(java.nio.charset.StandardCharsets.US_ASCII), true);
            }
            pendingConnect = null;
            if (!connectCase(wire))
            {
                return;
            }
            if (pendingConnect == null)
            {
                v5 = wire.oracle.isV5();
            }
            final int limit = 16 + random.nextInt(500);
            for (int i = 0; i < limit && done < cases; i++)
            {
                final int kind = random.nextInt(100);
                final boolean alive;
                if (kind < 4)
                {
                    alive = knownSessionCase(wire);
                }
                else if (kind < 10 && wire instanceof Wire.WebSocket ws)
                {
                    alive = kind < 6 ? knownFrameCase(ws) : mutatedFrameCase(ws);
                }
                else
                {
                    final List<byte[]> pool = v5 ? corpus.session5 : corpus.session3;
                    alive = streamCase(wire, mutator.mutatedFrom(pool), "mutated");
                }
                if (!alive)
                {
                    return;
                }
            }
        }
    }

    /** The first case of a connection; true when it left the connection connected. */
    private boolean connectCase(final Wire wire) throws IOException
    {
        final int kind = random.nextInt(100);
        if (kind < 30)
        {
            final List<byte[]> pool = kind < 2 ? corpus.connects31 : kind % 2 == 0 ? corpus.connects5 : corpus.connects3;
            return streamCase(wire, mutator.mutate(pool.get(random.nextInt(pool.size())), pool), "mutated CONNECT");
        }
        if (kind < 35)
        {
            return streamCase(wire, mutator.randomBytes(), "random bytes");
        }
        if (kind < 40)
        {
            knownConnectCase(wire);
            return false;
        }
        v5 = random.nextBoolean();
        final List<byte[]> pool = v5 ? corpus.connects5 : corpus.connects3;
        pendingConnect = pool.get(random.nextInt(pool.size()));
        return true;
    }

    /**
     * Sends one case and learns its fate: with a PINGREQ behind it, alive when the PINGRESP comes; or, when its
     * framing must make the broker close, the close (with the reason code the specification names, if any).
     */
    private boolean streamCase(final Wire wire, final byte[] bytes, final String what) throws IOException
    {
        done++;
        current = what + " " + Packets.hex(bytes, 96);
        model.analyse(bytes, maxPacketSize);
        final ResponseOracle oracle = wire.oracle;
        final boolean wasV5 = (pendingConnect != null || oracle.isConnected()) && v5;
        final byte[] connect = takePendingConnect();
        if (model.mustClose != 0)
        {
            wire.send(Packets.concat(connect, StreamModel.padded(bytes, model)));
            wire.awaitClose(deadline());
            checkConnectTaken(connect, oracle);
            if (wasV5 && model.mustCloseAt == 0 && oracle.disconnectReason >= 0 && !(wire instanceof Wire.WebSocket))
            {
                final int expected = model.mustClose == StreamModel.TOO_LARGE ? 0x95 : 0x81;
                check(oracle.disconnectReason == expected, "DISCONNECT " + hex(oracle.disconnectReason) +
                    " for a " + (expected == 0x95 ? "packet over the maximum size" : "malformed Remaining Length") +
                    ", not " + hex(expected));
            }
            count(what, "closed: " + (model.mustClose == StreamModel.TOO_LARGE ? "too large" : "malformed length") +
                describeEnd(wire));
            return false;
        }
        final byte[] padded = StreamModel.padded(bytes, model);
        wire.send(Packets.concat(connect, padded, Packets.PINGREQ));
        final boolean alive = wire.awaitPings(oracle.pingResponses + model.pings + 1, deadline());
        checkConnectTaken(connect, oracle);
        count(what, alive ? "taken" : "closed" + describeEnd(wire));
        return alive;
    }

    private static void checkConnectTaken(final byte[] connect, final ResponseOracle oracle)
    {
        if (connect.length > 0)
        {
            check(oracle.connackReason == 0, "a valid CONNECT got CONNACK " + hex(oracle.connackReason) + ": " +
                Packets.hex(connect, 64));
        }
    }

    private byte[] takePendingConnect()
    {
        final byte[] connect = pendingConnect == null ? new byte[0] : pendingConnect;
        pendingConnect = null;
        return connect;
    }

    private void knownSessionCase(final Wire wire, final KnownAnswers.Case c) throws IOException
    {
        done++;
        current = "known answer '" + c.name() + "' " + Packets.hex(c.bytes(), 64);
        wire.send(Packets.concat(takePendingConnect(), c.bytes()));
        wire.awaitClose(deadline());
        if (v5)
        {
            check(wire.oracle.disconnectReason == c.expected(), "'" + c.name() + "' got DISCONNECT " +
                hex(wire.oracle.disconnectReason) + ", the specification says " + hex(c.expected()));
        }
        else
        {
            check(wire.oracle.disconnectReason < 0, "3.1.1 has no DISCONNECT from the server");
        }
        count("known answer", c.name() + (v5 ? " v5" : " 3.1.1"));
    }

    private boolean knownSessionCase(final Wire wire) throws IOException
    {
        knownSessionCase(wire, known.session(v5, clientId));
        return false;
    }

    private void knownConnectCase(final Wire wire) throws IOException
    {
        final KnownAnswers.Case c = known.connect(clientId);
        done++;
        current = "known answer '" + c.name() + "' " + Packets.hex(c.bytes(), 64);
        wire.send(c.bytes());
        wire.awaitClose(deadline());
        final ResponseOracle oracle = wire.oracle;
        if (c.expected() == KnownAnswers.SILENT_CLOSE)
        {
            check(oracle.packets == 0, "'" + c.name() + "' must be closed without an answer");
        }
        else if (c.expected() == 0x01)
        {
            check(oracle.connackReason == 0x01 && !oracle.isV5() || oracle.connackReason == 0x84 && oracle.isV5(),
                "'" + c.name() + "' must get CONNACK 0x01 (3.1.1) or 0x84 (v5), got " + hex(oracle.connackReason));
        }
        else
        {
            check(oracle.connackReason == c.expected(), "'" + c.name() + "' got CONNACK " +
                hex(oracle.connackReason) + ", the specification says " + hex(c.expected()));
        }
        count("known answer", c.name());
    }

    private boolean knownFrameCase(final Wire.WebSocket ws) throws IOException
    {
        final KnownAnswers.Case c = known.frame(random);
        done++;
        current = "known WebSocket answer '" + c.name() + "' " + Packets.hex(c.bytes(), 64);
        sendPendingConnect(ws);
        ws.sendRaw(c.bytes());
        ws.awaitClose(deadline());
        check(ws.closeCode == c.expected(), "'" + c.name() + "' got close code " + ws.closeCode + ", RFC 6455 says " +
            c.expected());
        count("known answer", "WebSocket " + c.name());
        return false;
    }

    /** Valid frames carrying a valid packet, then one to three header or payload bytes changed; then a FIN. */
    private boolean mutatedFrameCase(final Wire.WebSocket ws) throws IOException
    {
        final List<byte[]> pool = v5 ? corpus.session5 : corpus.session3;
        final byte[] frames = ws.frames(pool.get(random.nextInt(pool.size())));
        final int edits = 1 + random.nextInt(3);
        for (int i = 0; i < edits; i++)
        {
            final int at = random.nextInt(Math.min(frames.length, random.nextBoolean() ? 2 : 14));
            frames[at] = (byte)(random.nextBoolean() ? frames[at] ^ (1 << random.nextInt(8)) : random.nextInt(256));
        }
        done++;
        current = "mutated frame " + Packets.hex(frames, 64);
        sendPendingConnect(ws);
        ws.sendRaw(frames);
        ws.halfClose();
        ws.awaitClose(deadline());
        count("mutated frame", ws.closeCode < 0 ? "closed" : "close " + ws.closeCode);
        return false;
    }

    /** A mutated upgrade request, then a FIN: any well-formed HTTP answer (or none) and a close. */
    private void mutatedUpgrade(final Wire.WebSocket ws) throws IOException
    {
        final byte[] request = Wire.WebSocket.REQUEST.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        final int edits = 1 + random.nextInt(3);
        for (int i = 0; i < edits; i++)
        {
            request[random.nextInt(request.length)] = (byte)(random.nextBoolean() ? random.nextInt(128) : ' ');
        }
        done++;
        current = "mutated upgrade " + new String(request, java.nio.charset.StandardCharsets.ISO_8859_1);
        ws.upgrade(request, false);
        ws.halfClose();
        ws.awaitClose(deadline());
        count("mutated upgrade", ws.status < 0 ? "closed" : "HTTP " + ws.status);
    }

    private void sendPendingConnect(final Wire wire) throws IOException
    {
        final byte[] connect = takePendingConnect();
        if (connect.length > 0)
        {
            wire.send(connect);
        }
    }

    private static long deadline()
    {
        return System.nanoTime() + TimeUnit.SECONDS.toNanos(CASE_TIMEOUT_S);
    }

    private static String describeEnd(final Wire wire)
    {
        final ResponseOracle oracle = wire.oracle;
        if (oracle.disconnectReason >= 0)
        {
            return " after DISCONNECT " + hex(oracle.disconnectReason);
        }
        if (oracle.connackReason > 0)
        {
            return " after CONNACK " + hex(oracle.connackReason);
        }
        if (wire instanceof Wire.WebSocket ws && ws.closeCode >= 0)
        {
            return " after close " + ws.closeCode;
        }
        return "";
    }

    private void count(final String kind, final String outcome)
    {
        outcomes.computeIfAbsent(kind + ": " + outcome, (k) -> new LongAdder()).increment();
    }

    private static String hex(final int code)
    {
        return code < 0 ? "none" : String.format("0x%02X", code);
    }

    private static void check(final boolean condition, final String what)
    {
        if (!condition)
        {
            throw new AssertionError(what);
        }
    }
}
