/**
 * Routing data structures owned by the single routing agent thread: the subscription trie ({@link
 * dev.skylark.broker.routing.TopicTree}) with shared subscription groups, the retained message index ({@link
 * dev.skylark.broker.routing.RetainedIndex}) and the refcounted message byte store ({@link
 * dev.skylark.broker.routing.MessageStore}).
 * <p>
 * None of these classes is thread safe: they follow the single-writer principle and must only be touched by the
 * thread that owns them. Hot paths ({@code TopicTree.match}, {@code MessageStore.store/release}) allocate nothing in
 * steady state.
 */
package dev.skylark.broker.routing;
