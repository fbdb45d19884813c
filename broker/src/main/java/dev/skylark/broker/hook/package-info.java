/**
 * The on-publish webhook: messages on hooked topics go from the I/O agents through a bounded ring
 * ({@link dev.skylark.broker.hook.PublishHookProxy}) to the {@link dev.skylark.broker.hook.PublishHookAgent}, which
 * POSTs them in batches as signed JSON ({@link dev.skylark.broker.hook.HookJson},
 * {@link dev.skylark.broker.hook.HookSigner}) and hands what the hook returns to the routing agent.
 * <p>
 * The agent runs on its own thread; one request is in flight at a time, so every publisher's messages keep their
 * order. Nothing here runs on the I/O threads except the topic match and the copy into the ring.
 */
package dev.skylark.broker.hook;
