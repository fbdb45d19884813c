/**
 * Zero-copy flyweight codecs for MQTT 3.1.1 / 5.0 and WebSocket (RFC 6455).
 * Depends on Agrona only; never touches a socket.
 */
package dev.skylark.codec;
