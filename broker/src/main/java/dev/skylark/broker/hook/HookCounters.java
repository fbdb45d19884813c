package dev.skylark.broker.hook;

import dev.skylark.broker.status.CounterHistogram;
import dev.skylark.broker.status.Counters;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * What the publish hook counts, in the broker's counters file ({@code skylark stat}, {@code /metrics}). The
 * agent's counters have one writer, the hook agent; {@link Io} counters are per I/O agent.
 */
public final class HookCounters
{
    /** Requests (batches) sent. */
    public final AtomicCounter requests;
    public final AtomicCounter messagesSent;
    /** Messages the hook returned and that were routed (changed or not). */
    public final AtomicCounter messagesDelivered;
    /** Of those, the ones whose payload or properties the hook changed. */
    public final AtomicCounter messagesChanged;
    /** Messages the hook left out of its answer, or returned with another id or topic. */
    public final AtomicCounter messagesDropped;
    /** Requests that failed, by why: a status other than 200, no answer in time, an unreadable answer, no connection. */
    public final AtomicCounter failedStatus;
    public final AtomicCounter failedTimeout;
    public final AtomicCounter failedMalformed;
    public final AtomicCounter failedTransport;
    /** Messages of failed requests dropped (fail-closed) or routed unchanged (fail-open). */
    public final AtomicCounter failedMessagesDropped;
    public final AtomicCounter failedMessagesDelivered;
    /** Sum of request round trips (divide by requests for the mean) and the last one, microseconds. */
    public final AtomicCounter latencyMicrosTotal;
    public final AtomicCounter latencyMicrosLast;
    /** Bytes waiting in the queue for the hook. */
    public final AtomicCounter queueBytes;

    /** Hook round trips as a histogram ({@code skylark_hook_request_seconds}); written by the hook agent only. */
    public final CounterHistogram latency;

    public HookCounters(final Counters counters)
    {
        requests = counters.counter("skylark_hook_requests_total", "hook requests sent", null);
        messagesSent = counters.counter("skylark_hook_messages_sent_total", "messages sent to the hook", null);
        messagesDelivered = counters.counter("skylark_hook_messages_delivered_total",
            "messages the hook returned (routed)", null);
        messagesChanged = counters.counter("skylark_hook_messages_changed_total",
            "messages the hook changed", null);
        messagesDropped = counters.counter("skylark_hook_messages_dropped_total",
            "messages the hook dropped", null);
        failedStatus = failure(counters, "status", "status other than 200");
        failedTimeout = failure(counters, "timeout", "no answer in time");
        failedMalformed = failure(counters, "malformed", "unreadable answer");
        failedTransport = failure(counters, "transport", "connection failed");
        failedMessagesDropped = counters.counter("skylark_hook_failed_messages_dropped_total",
            "messages dropped: hook failed (fail-closed)", null);
        failedMessagesDelivered = counters.counter("skylark_hook_failed_messages_delivered_total",
            "messages routed unchanged: hook failed (fail-open)", null);
        latencyMicrosTotal = counters.counter("skylark_hook_request_micros_total",
            "time waiting for hook answers, microseconds", null);
        latencyMicrosLast = counters.gauge("skylark_hook_request_micros_last",
            "last hook round trip, microseconds", null);
        queueBytes = counters.gauge("skylark_hook_queue_bytes", "bytes waiting for the hook", null);
        latency = new CounterHistogram(counters, "skylark_hook_request_seconds", "hook request round trips");
    }

    private static AtomicCounter failure(final Counters counters, final String reason, final String why)
    {
        return counters.counter("skylark_hook_failures_total{reason=\"" + reason + "\"}",
            "hook requests failed (" + why + ")", null);
    }

    /** Counted on one I/O agent's thread when the hook's queue is full. */
    public static final class Io
    {
        /** QoS 0 messages dropped. */
        public final AtomicCounter queueFullDropped;
        /** Times a QoS 1/2 publisher was held back. */
        public final AtomicCounter heldBack;

        public Io(final Counters counters, final String io)
        {
            queueFullDropped = counters.counter("skylark_hook_queue_full_dropped_total",
                "QoS 0 dropped: hook queue full", io);
            heldBack = counters.counter("skylark_hook_held_back_total",
                "QoS 1/2 publishers held back: hook queue full", io);
        }
    }
}
