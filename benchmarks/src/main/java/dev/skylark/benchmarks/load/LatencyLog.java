/*
 * Copyright 2025 Skylark contributors
 */
package dev.skylark.benchmarks.load;

import java.io.FileNotFoundException;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * The latency histograms of a run: the recorder the subscribers' agent writes, the interval histograms the main
 * thread takes from it each second (written to the {@code --hlog} file when given) and their running total.
 * <p>
 * The agents only call {@link SingleWriterRecorder#recordValue(long)} on {@link #recorder()}; everything else here
 * runs on the main thread ({@link LoadGenerator}, {@link RunMonitor}).
 */
final class LatencyLog
{
    /**
     * Single writer: only the agent that owns the subscribers records (publishers never receive a PUBLISH), which
     * saves the atomic count updates of a concurrent recorder on every delivery (measured 25 vs 14 ns per value).
     */
    private final SingleWriterRecorder recorder = new SingleWriterRecorder(1, ClientAgent.HIGHEST_TRACKABLE_NS, 3);
    private final Histogram total = new Histogram(1, ClientAgent.HIGHEST_TRACKABLE_NS, 3);
    /** Acknowledgement latency (PUBACK/PUBCOMP); single writer: the agent that owns the publishers. */
    private final SingleWriterRecorder ackRecorder = new SingleWriterRecorder(1, ClientAgent.HIGHEST_TRACKABLE_NS, 3);
    private final Histogram ackTotal = new Histogram(1, ClientAgent.HIGHEST_TRACKABLE_NS, 3);
    private Histogram ackInterval;
    private Histogram interval;
    private HistogramLogWriter logWriter;

    /**
     * @return the recorder the agents record end-to-end latency into, in ns.
     */
    SingleWriterRecorder recorder()
    {
        return recorder;
    }

    /**
     * @return the recorder the publishers' agent records acknowledgement latency (send to PUBACK/PUBCOMP) into, in ns.
     */
    SingleWriterRecorder ackRecorder()
    {
        return ackRecorder;
    }

    /**
     * @return the acknowledgement latency of every interval collected so far, added up (not in the {@code --hlog}).
     */
    Histogram ackTotal()
    {
        return ackTotal;
    }

    /**
     * @return every interval collected so far, added up.
     */
    Histogram total()
    {
        return total;
    }

    /**
     * Start the {@code --hlog} file when one is configured.
     *
     * @param config of the run.
     * @throws FileNotFoundException if the file cannot be created.
     */
    void open(final LoadConfig config) throws FileNotFoundException
    {
        if (null != config.hlogPath)
        {
            logWriter = new HistogramLogWriter(config.hlogPath);
            logWriter.outputComment("skylark load generator: " + config.scenario + " qos=" + config.qos +
                " publishers=" + config.publishers + " rate=" + config.rate + "; values in ns");
            logWriter.outputLogFormatVersion();
            final long nowMs = System.currentTimeMillis();
            logWriter.setBaseTime(nowMs);
            logWriter.outputStartTime(nowMs);
            logWriter.outputLegend();
        }
    }

    /**
     * Take what was recorded since the last call, add it to the total and log it.
     *
     * @return the interval histogram, reused by the next call.
     */
    Histogram collectInterval()
    {
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
        ackInterval = ackRecorder.getIntervalHistogram(ackInterval);
        ackTotal.add(ackInterval);
        if (null != logWriter && interval.getTotalCount() > 0)
        {
            logWriter.outputIntervalHistogram(interval);
        }

        return interval;
    }

    /**
     * Close the {@code --hlog} file, if open.
     */
    void close()
    {
        if (null != logWriter)
        {
            logWriter.close();
        }
    }
}
