package dev.skylark.broker.cli;

import sun.misc.Signal;

/**
 * The broker process's signals: SIGTERM and SIGINT stop it gracefully (exit status 0, not the 143 a JVM killed by
 * SIGTERM reports), SIGHUP reloads (instead of the JVM's default, which stops the process). The handlers run on the
 * JVM's signal thread; each hands its work to a thread of its own so that a slow reload delays no other signal.
 */
final class Signals
{
    private static final System.Logger LOG = System.getLogger(Signals.class.getName());

    private Signals()
    {
    }

    /** SIGTERM and SIGINT run {@code stop}; false when the JVM does not let the process handle them (-Xrs). */
    static boolean onStop(final Runnable stop)
    {
        return handle("TERM", stop) & handle("INT", stop);
    }

    /** SIGHUP runs {@code reload}, one at a time. */
    static boolean onReload(final Runnable reload)
    {
        final Object lock = new Object();
        return handle("HUP", () ->
        {
            synchronized (lock)
            {
                reload.run();
            }
        });
    }

    private static boolean handle(final String name, final Runnable task)
    {
        try
        {
            Signal.handle(new Signal(name), (signal) ->
            {
                LOG.log(System.Logger.Level.INFO, "SIG" + name + " received");
                final Thread thread = new Thread(() ->
                {
                    try
                    {
                        task.run();
                    }
                    catch (final RuntimeException ex)
                    {
                        LOG.log(System.Logger.Level.ERROR, "SIG" + name + " handling failed", ex);
                    }
                }, "skylark-sig" + name.toLowerCase(java.util.Locale.ROOT));
                thread.start();
            });
            return true;
        }
        catch (final IllegalArgumentException ex)
        {
            LOG.log(System.Logger.Level.WARNING, "cannot handle SIG" + name + ": " + ex.getMessage());
            return false;
        }
    }
}
