/**
 * The routing agent and the data it alone owns. Where a PUBLISH goes:
 * <ol>
 * <li>an I/O agent encodes it with {@link dev.skylark.broker.routing.RouterProxy} onto the inbound ring;</li>
 * <li>{@link dev.skylark.broker.routing.RoutingAgent}'s duty cycle reads the ring through
 * {@link dev.skylark.broker.routing.RouterCommandAdapter}, which decodes each record and calls the part that
 * handles it;</li>
 * <li>{@link dev.skylark.broker.routing.InboundQos} keeps the publisher's QoS 2 state and acknowledges once the
 * journal is durable; {@link dev.skylark.broker.routing.MessageRouter} matches the topic once in the
 * {@link dev.skylark.broker.routing.TopicTree}, updates the {@link dev.skylark.broker.routing.RetainedIndex}, and
 * hands each QoS 1/2 copy to its session's {@link dev.skylark.broker.routing.DeliveryWindow} (in flight, or
 * queued) through {@link dev.skylark.broker.routing.Deliveries};</li>
 * <li>{@link dev.skylark.broker.routing.DeliveryPublisher} writes the message once per I/O agent, with an entry per
 * subscriber.</li>
 * </ol>
 * Around that: {@link dev.skylark.broker.routing.SessionRegistry} (CONNECT, takeover, DISCONNECT, expiry) with
 * {@link dev.skylark.broker.routing.Wills}, {@link dev.skylark.broker.routing.SharedRedistributor} and
 * {@link dev.skylark.broker.routing.SessionTimers} (a deadline timer wheel, not a scan);
 * {@link dev.skylark.broker.routing.Subscriptions} (SUBSCRIBE, quotas, retained on subscribe); and the journal's
 * {@link dev.skylark.broker.routing.CheckpointWriter} and start-up {@link dev.skylark.broker.routing.JournalReplayAdapter}.
 * <p>
 * None of these classes is thread safe: they follow the single-writer principle and must only be touched by the
 * routing agent's thread. Hot paths ({@code TopicTree.match}, {@code MessageStore.store/release}, routing and
 * delivery) allocate nothing in steady state.
 */
package dev.skylark.broker.routing;
