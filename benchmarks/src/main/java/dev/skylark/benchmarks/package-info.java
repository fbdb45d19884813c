/** JMH benchmarks and the end-to-end load generator. */
package dev.skylark.benchmarks;
