/**
 * Aeron wiring: the embedded media driver and the IPC stream from the routing agent to the journal agent. The
 * only package that imports {@code io.aeron}.
 */
package dev.skylark.broker.ipc;
