package dev.skylark.broker.net;

/** A duty-cycle hook with nothing to do: an {@link IoAgent} driven by hand in a test, with no protocol above it. */
final class NoHook implements DutyCycleHook
{
    @Override
    public int doWork(final long nowNs)
    {
        return 0;
    }

    @Override
    public boolean hasWork()
    {
        return false;
    }

    @Override
    public boolean hasRetries()
    {
        return false;
    }
}
