package dev.skylark.broker.net;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An idle I/O agent blocks in select() after a short spin (#21, moderate load): 8 empty duty cycles, not 64, so at
 * 5,000 msgs/s the thread sleeps between packets instead of spinning through the gap; work resets the count.
 */
class SelectorIdleStrategyTest
{
    @Test
    void blocksInSelectOnTheNinthEmptyCycleAndEveryOneAfterUntilWorkIsDone()
    {
        final int[] selects = new int[1];
        final SelectorIdleStrategy idle = new SelectorIdleStrategy(() -> selects[0]++);
        for (int i = 0; i < 8; i++)
        {
            idle.idle(0);
        }
        assertEquals(0, selects[0], "spins 8 empty cycles first");
        idle.idle(0);
        assertEquals(1, selects[0], "the 9th empty cycle selects");
        idle.idle(0);
        assertEquals(2, selects[0]);

        idle.idle(3); // work done: spin again before the next select
        for (int i = 0; i < 8; i++)
        {
            idle.idle(0);
        }
        assertEquals(2, selects[0]);
        idle.idle(0);
        assertEquals(3, selects[0]);

        idle.reset();
        idle.idle();
        assertEquals(3, selects[0], "reset: spins again");
    }
}
