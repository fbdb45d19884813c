package dev.skylark.broker.hook;

import dev.skylark.broker.auth.KeyRing;
import dev.skylark.broker.routing.MessageLayout;
import dev.skylark.broker.routing.RouterProxy;
import dev.skylark.codec.mqtt.PublishView;
import dev.skylark.codec.mqtt.ReasonCode;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.lang.System.Logger.Level;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The publish hook's agent, on its own thread: drains what waits in the queue into one batch (bounded by count and
 * bytes), POSTs it as signed JSON, and when the answer comes hands the routing agent what the hook returned, in
 * publish order; then the next batch goes at once with whatever queued meanwhile. One request is in flight at a
 * time, so each publisher's messages reach subscribers in the order they were published.
 * <p>
 * A status other than 200, no answer within the timeout, an unreadable answer or a failed connection apply the
 * {@link HookPolicy} to the whole batch; each is counted and logged (at most one line a second). When the routing
 * agent's ring is full (or publishers are held back) the agent waits, its queue fills, and the I/O agents drop QoS 0
 * and hold QoS 1/2 publishers back: the hook never makes the broker buffer without bound.
 */
public final class PublishHookAgent implements Agent
{
    private static final System.Logger LOG = System.getLogger(PublishHookAgent.class.getName());
    private static final long KEY_CHECK_INTERVAL_MS = 1000;
    private static final long LOG_INTERVAL_MS = 1000;

    private enum Failure
    {
        STATUS, TIMEOUT, MALFORMED, TRANSPORT
    }

    private final HookSettings settings;
    private final RingBuffer queue;
    private final RouterProxy router;
    private final KeyRing keyRing;
    private final HookSigner signer;
    private final HookCounters counters;
    private final EpochClock epochClock;
    private final NanoClock nanoClock;
    private final HookBatch batch;
    private final HookJson json;
    private final long timeoutNs;
    private final long answerMaxBytes;
    private final ExecutorService httpExecutor;
    private final HttpClient client;
    private final HttpResponse.BodyHandler<byte[]> bodyHandler;
    private final BiConsumer<Object, Throwable> wakeOnAnswer;
    private final UnsafeBuffer changedProperties = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer changedPayload = new UnsafeBuffer(0, 0);
    /** The message being forwarded to the routing agent, re-wrapped per message. */
    private final PublishView view = new PublishView();

    private long nextSequence = 1;
    private CompletableFuture<HttpResponse<byte[]>> inFlight;
    private long sentNs;
    private boolean forwarding;
    private int forwardIndex;
    private long nextKeyCheckMs;
    private long lastLogMs;
    private long failuresNotLogged;

    /**
     * @param router          this agent's own proxy onto the routing agent's ring.
     * @param maxMessageBytes largest message the hook may return (the broker's maximum packet size).
     * @param wake            wakes this agent's thread (its idle strategy) when an answer arrives.
     */
    public PublishHookAgent(
        final HookSettings settings,
        final RingBuffer queue,
        final RouterProxy router,
        final KeyRing keyRing,
        final HookCounters counters,
        final EpochClock epochClock,
        final NanoClock nanoClock,
        final int maxMessageBytes,
        final Runnable wake)
    {
        this.settings = settings;
        this.queue = queue;
        this.router = router;
        this.keyRing = keyRing;
        this.signer = new HookSigner(keyRing);
        this.counters = counters;
        this.epochClock = epochClock;
        this.nanoClock = nanoClock;
        this.batch = new HookBatch(settings.batchMaxMessages(), settings.batchMaxBytes());
        this.json = new HookJson(Long.toString(epochClock.time(), 36) + "-", maxMessageBytes);
        this.timeoutNs = TimeUnit.MILLISECONDS.toNanos(settings.timeoutMs());
        // Room for a hook that enlarges every message (base64 grows by a third), and no more.
        this.answerMaxBytes = Math.min(Integer.MAX_VALUE - 8,
            4L * settings.batchMaxBytes() + 2L * maxMessageBytes + 1024 * 1024);
        this.httpExecutor = Executors.newSingleThreadExecutor((runnable) ->
        {
            final Thread thread = new Thread(runnable, "skylark-hook-http");
            thread.setDaemon(true);
            return thread;
        });
        this.client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofMillis(settings.timeoutMs()))
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(httpExecutor)
            .build();
        this.bodyHandler = (info) -> info.statusCode() == 200 ?
            new BoundedBody(answerMaxBytes) : HttpResponse.BodySubscribers.replacing(null);
        this.wakeOnAnswer = (response, error) -> wake.run();
    }

    @Override
    public String roleName()
    {
        return "skylark-hook";
    }

    @Override
    public void onStart()
    {
        LOG.log(Level.INFO, "publish hook: POST " + settings.url() + " for topics " + settings.topics() + ", policy " +
            settings.policy().settingValue() + ", timeout " + settings.timeoutMs() + " ms, batches of up to " +
            settings.batchMaxMessages() + " messages / " + settings.batchMaxBytes() + " bytes, signed with key " +
            keyRing.currentSigningKey().keyId());
    }

    @Override
    public int doWork()
    {
        int work = 0;
        final int waiting = queue.size();
        counters.queueBytes.setRelease(waiting);
        if (forwarding)
        {
            work += forward();
            if (forwarding)
            {
                return work;
            }
        }
        if (inFlight != null)
        {
            final long nowNs = nanoClock.nanoTime();
            if (inFlight.isDone())
            {
                decide(nowNs);
            }
            else if (nowNs - sentNs >= timeoutNs)
            {
                inFlight.cancel(true);
                recordLatency(nowNs);
                fail(Failure.TIMEOUT, "no answer within " + settings.timeoutMs() + " ms");
            }
            else
            {
                return work;
            }
            inFlight = null;
            forwarding = true;
            forwardIndex = 0;
            work++;
            work += forward();
            if (forwarding)
            {
                return work;
            }
        }
        refreshKeys();
        if (waiting > 0 || queue.size() > 0)
        {
            send();
            work++;
        }
        return work;
    }

    /** For the idle strategy: an answer has arrived, or messages wait and nothing is in flight. */
    public boolean hasWork()
    {
        if (forwarding)
        {
            return false; // the routing agent is full: retried after a short park
        }
        return inFlight != null ? inFlight.isDone() : queue.size() > 0;
    }

    @Override
    public void onClose()
    {
        final int undecided = inFlight != null || forwarding ? batch.size() - forwardIndex : 0;
        if (inFlight != null)
        {
            inFlight.cancel(true);
        }
        httpExecutor.shutdownNow();
        if (undecided > 0 || queue.size() > 0)
        {
            LOG.log(Level.INFO, "publish hook stopped with " + undecided + " message(s) undecided and " +
                queue.size() + " bytes queued: not routed (QoS 1/2 were not acknowledged)");
        }
    }

    private void send()
    {
        batch.clear(nextSequence);
        queue.controlledRead(batch);
        final int size = batch.size();
        if (size == 0)
        {
            return;
        }
        nextSequence += size;
        counters.requests.incrementRelease();
        counters.messagesSent.getAndAddRelease(size);
        sentNs = nanoClock.nanoTime();
        try
        {
            final byte[] body = json.encode(batch);
            final HookSigner.Signed signed = signer.sign(epochClock.time(), body);
            // No HttpRequest.timeout: the agent keeps the deadline itself (with a per-request timer the JDK 17
            // client took 16 ms instead of 2.4 ms per small request when measured). A request given up on is not
            // aborted (Java 17 cannot): its connection is freed when the hook answers or closes it.
            final HttpRequest request = HttpRequest.newBuilder(settings.url())
                .header("Content-Type", "application/json")
                .header(HookSigner.TIMESTAMP_HEADER, signed.timestamp())
                .header(HookSigner.KEY_ID_HEADER, signed.keyId())
                .header(HookSigner.SIGNATURE_HEADER, signed.signature())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
            inFlight = client.sendAsync(request, bodyHandler);
        }
        catch (final RuntimeException ex)
        {
            inFlight = CompletableFuture.failedFuture(ex);
        }
        inFlight.whenComplete(wakeOnAnswer);
    }

    /** The answer (or the failure) is in: decide every message of the batch. */
    private void decide(final long nowNs)
    {
        recordLatency(nowNs);
        final HttpResponse<byte[]> response;
        try
        {
            response = inFlight.get();
        }
        catch (final ExecutionException | CompletionException ex)
        {
            final Throwable cause = ex.getCause() != null ? ex.getCause() : ex;
            if (cause instanceof HttpTimeoutException)
            {
                fail(Failure.TIMEOUT, "no answer within " + settings.timeoutMs() + " ms");
            }
            else if (cause instanceof MalformedAnswerException)
            {
                fail(Failure.MALFORMED, "answer " + cause.getMessage());
            }
            else
            {
                fail(Failure.TRANSPORT, String.valueOf(cause));
            }
            return;
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
            fail(Failure.TRANSPORT, "interrupted");
            return;
        }
        if (response.statusCode() != 200)
        {
            fail(Failure.STATUS, "answered HTTP " + response.statusCode());
            return;
        }
        try
        {
            json.decode(response.body() == null ? new byte[0] : response.body(), batch);
        }
        catch (final MalformedAnswerException ex)
        {
            fail(Failure.MALFORMED, "malformed answer: " + ex.getMessage());
            return;
        }
        int delivered = 0;
        int changed = 0;
        for (int i = 0; i < batch.size(); i++)
        {
            final byte outcome = batch.outcome(i);
            delivered += outcome == HookBatch.ORIGINAL || outcome == HookBatch.CHANGED ? 1 : 0;
            changed += outcome == HookBatch.CHANGED ? 1 : 0;
        }
        counters.messagesDelivered.getAndAddRelease(delivered);
        counters.messagesChanged.getAndAddRelease(changed);
        counters.messagesDropped.getAndAddRelease(batch.size() - delivered);
    }

    private void fail(final Failure failure, final String why)
    {
        (switch (failure)
        {
            case STATUS -> counters.failedStatus;
            case TIMEOUT -> counters.failedTimeout;
            case MALFORMED -> counters.failedMalformed;
            case TRANSPORT -> counters.failedTransport;
        }).incrementRelease();
        final boolean open = settings.policy() == HookPolicy.FAIL_OPEN;
        batch.decideAll(open ? HookBatch.ORIGINAL : HookBatch.FAILED);
        (open ? counters.failedMessagesDelivered : counters.failedMessagesDropped).getAndAddRelease(batch.size());
        final long nowMs = epochClock.time();
        if (nowMs - lastLogMs >= LOG_INTERVAL_MS)
        {
            lastLogMs = nowMs;
            final long held = failuresNotLogged;
            failuresNotLogged = 0;
            LOG.log(Level.WARNING, "publish hook " + settings.url() + " failed (" +
                failure.name().toLowerCase() + "): " + why + "; " + batch.size() + " message(s) " +
                (open ? "delivered unchanged (fail-open)" : "dropped (fail-closed)") +
                (held > 0 ? " (" + held + " earlier failure(s) not logged)" : ""));
        }
        else
        {
            failuresNotLogged++;
        }
    }

    private void recordLatency(final long nowNs)
    {
        final long micros = TimeUnit.NANOSECONDS.toMicros(nowNs - sentNs);
        counters.latencyMicrosTotal.getAndAddRelease(micros);
        counters.latencyMicrosLast.setRelease(micros);
        counters.latency.recordMicros(micros);
    }

    /**
     * Hands the decided messages to the routing agent in publish order; stops where its ring is full (or publishers
     * are held back) and goes on from there next time.
     */
    private int forward()
    {
        final ExpandableArrayBuffer buffer = batch.buffer();
        int work = 0;
        while (forwardIndex < batch.size())
        {
            final int i = forwardIndex;
            final int record = batch.offset(i);
            final long connectionId = HookRecord.connectionId(buffer, record);
            final int message = HookRecord.messageOffset(buffer, record);
            final int qos = MessageLayout.qos(buffer, message);
            final int packetId = MessageLayout.packetId(buffer, message);
            final boolean handed = switch (batch.outcome(i))
            {
                case HookBatch.ORIGINAL -> router.publish(connectionId, MessageLayout.wrap(buffer, message, view));
                case HookBatch.CHANGED -> router.publish(connectionId, MessageLayout.wrap(buffer, message, view)
                    .properties(wrap(changedProperties, batch.changedProperties(i), buffer), 0,
                        batch.changedProperties(i).length)
                    .payload(wrap(changedPayload, batch.changedPayload(i), buffer), 0, batch.changedPayload(i).length));
                case HookBatch.DROPPED -> qos == 0 || router.notRouted(connectionId, qos, packetId, ReasonCode.SUCCESS);
                default -> qos == 0 ||
                    router.notRouted(connectionId, qos, packetId, ReasonCode.UNSPECIFIED_ERROR);
            };
            if (!handed)
            {
                return work;
            }
            forwardIndex++;
            work++;
        }
        forwarding = false;
        return work;
    }

    /** A view of the bytes; an empty array is read from nowhere, so any buffer does. */
    private static DirectBuffer wrap(final UnsafeBuffer view, final byte[] bytes, final DirectBuffer empty)
    {
        if (bytes.length == 0)
        {
            return empty;
        }
        view.wrap(bytes);
        return view;
    }

    private void refreshKeys()
    {
        final long nowMs = epochClock.time();
        if (nowMs >= nextKeyCheckMs)
        {
            nextKeyCheckMs = nowMs + KEY_CHECK_INTERVAL_MS;
            try
            {
                keyRing.refreshIfChanged(); // picks up `skylark keys rotate` also when token auth is off
            }
            catch (final RuntimeException ex)
            {
                LOG.log(Level.WARNING, "cannot reload the signing keys: " + ex.getMessage());
            }
        }
    }
}
