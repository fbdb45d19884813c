/** The Skylark broker. */
package dev.skylark.broker;
