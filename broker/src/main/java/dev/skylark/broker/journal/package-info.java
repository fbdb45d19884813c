/**
 * The journal: an append-only log of the routing agent's durable records on Chronicle Queue, in generations that
 * each begin with a checkpoint, and its replay at start. The only package that imports {@code net.openhft.chronicle}.
 */
package dev.skylark.broker.journal;
