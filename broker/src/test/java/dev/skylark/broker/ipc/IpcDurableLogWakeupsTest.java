package dev.skylark.broker.ipc;

import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The journal's embedded media driver wakes rarely when there is nothing to do (#21, moderate load: every wake-up
 * counts): no async executor thread (it woke ~800 times a second and IPC has no names to resolve) and a 10 ms idle
 * sleep on the driver's thread instead of 1 ms. Records still become durable.
 */
class IpcDurableLogWakeupsTest
{
    @TempDir
    Path dataDir;

    @Test
    void theDriverHasNoExecutorThreadAndSleepsTenMillisecondsWhenIdleYetRecordsBecomeDurable()
    {
        try (IpcDurableLog log = new IpcDurableLog(dataDir, false, 64 * 1024, () -> { }, new SystemNanoClock()))
        {
            log.start();
            assertFalse(log.driverContext().asyncExecutorEnabled(), "async executor");
            assertFalse(Thread.getAllStackTraces().keySet().stream()
                .anyMatch((thread) -> thread.isAlive() && thread.getName().contains("aeron-executor")),
                "an aeron-executor thread runs");
            final var idle = log.driverContext().sharedIdleStrategy();
            assertTrue(idle instanceof SleepingMillisIdleStrategy, String.valueOf(idle));
            assertTrue(idle.toString().contains("sleepPeriodMs=" + IpcDurableLog.DRIVER_IDLE_MS), idle.toString());
            assertEquals(10, IpcDurableLog.DRIVER_IDLE_MS);

            log.beginCheckpoint(); // the journal takes records once a checkpoint has begun
            log.endCheckpoint();
            final long sequence = log.append(new UnsafeBuffer(new byte[] {1, 2, 3}), 0, 3);
            final long deadline = System.nanoTime() + 30_000_000_000L;
            while (log.durableSequence() < sequence)
            {
                log.doWork();
                assertTrue(System.nanoTime() < deadline, "durable within 30 s");
                Thread.onSpinWait();
            }
        }
    }
}
