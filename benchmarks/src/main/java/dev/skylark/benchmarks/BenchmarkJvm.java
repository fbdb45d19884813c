/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks;

/**
 * JVM flags every JMH fork needs, in one place.
 * <p>
 * JMH starts each fork with {@code java -cp benchmarks.jar ...}, so the jar manifest's {@code Add-Exports} does not
 * reach it and Agrona 2.x fails with {@code IllegalAccessError} on {@code jdk.internal.misc}. Every benchmark
 * declares {@code @Fork(value = 1, jvmArgsAppend = {BenchmarkJvm.ADD_EXPORTS_MISC, BenchmarkJvm.ADD_EXPORTS_NIO})}.
 * Passing {@code -jvmArgsAppend} on the JMH command line replaces these, so add them there too when you do.
 */
public final class BenchmarkJvm
{
    /** Agrona's {@code UnsafeApi} and ring buffers read {@code jdk.internal.misc.Unsafe}. */
    public static final String ADD_EXPORTS_MISC = "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED";

    /** Agrona's {@code BufferUtil}/selector helpers touch {@code sun.nio.ch}; the broker jar exports it too. */
    public static final String ADD_EXPORTS_NIO = "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED";

    private BenchmarkJvm()
    {
    }
}
