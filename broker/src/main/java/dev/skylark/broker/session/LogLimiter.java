package dev.skylark.broker.session;

/**
 * At most {@link #LINES_PER_SECOND} lines a second for one kind of event on one I/O thread, so a flood of bad clients
 * cannot flood the log; the next line that gets through says how many were held back.
 */
final class LogLimiter
{
    static final int LINES_PER_SECOND = 20;
    private static final long SECOND_NS = 1_000_000_000L;

    private long windowStartNs;
    private int linesInWindow;
    private long suppressed;

    /**
     * @return null when this line must be dropped; else a prefix to put in front of it ("" or a note of how many
     * were suppressed).
     */
    String admit(final long nowNs)
    {
        if (nowNs - windowStartNs >= SECOND_NS)
        {
            windowStartNs = nowNs;
            linesInWindow = 0;
        }
        if (++linesInWindow > LINES_PER_SECOND)
        {
            suppressed++;
            return null;
        }
        if (suppressed > 0)
        {
            final String note = "(" + suppressed + " similar lines suppressed) ";
            suppressed = 0;
            return note;
        }
        return "";
    }
}
