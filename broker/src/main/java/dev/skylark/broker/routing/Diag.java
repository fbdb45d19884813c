package dev.skylark.broker.routing;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** TEMPORARY diagnostics (NodeFailureTest ordering): runs of "publisher seq" payload heads. */
final class Diag
{
    static final System.Logger LOG = System.getLogger("DIAG");

    static String head(final DirectBuffer buffer, final int layoutOffset)
    {
        try
        {
            final int p = MessageLayout.payloadOffset(buffer, layoutOffset);
            final int n = Math.min(32, MessageLayout.payloadLength(buffer, layoutOffset));
            final byte[] b = new byte[n];
            buffer.getBytes(p, b);
            final String s = new String(b, StandardCharsets.US_ASCII);
            final String[] parts = s.split(" ");
            return parts.length >= 2 ? parts[0] + " " + parts[1] : "?";
        }
        catch (final RuntimeException ex)
        {
            return "?";
        }
    }

    static String queue(final Session session, final MessageStore store)
    {
        final Runs runs = new Runs();
        final UnsafeBuffer view = new UnsafeBuffer(0, 0);
        for (final PendingMessage m : session.window.inFlightOrder())
        {
            if (m.handle != MessageStore.NULL_HANDLE)
            {
                store.wrap(m.handle, view);
                runs.add("F:" + head(view, 0));
            }
        }
        for (final PendingMessage m : session.window.queue)
        {
            if (m.handle != MessageStore.NULL_HANDLE)
            {
                store.wrap(m.handle, view);
                runs.add(head(view, 0));
            }
        }
        return runs.toString();
    }

    /** Per publisher, runs of consecutive sequence numbers in arrival order. */
    static final class Runs
    {
        final Map<String, int[]> lastRun = new LinkedHashMap<>();
        final Map<String, StringBuilder> out = new LinkedHashMap<>();
        int count;

        void add(final String item)
        {
            final int sp = item.lastIndexOf(' ');
            if (sp < 0)
            {
                return;
            }
            final String p = item.substring(0, sp);
            final int seq;
            try
            {
                seq = Integer.parseInt(item.substring(sp + 1));
            }
            catch (final NumberFormatException ex)
            {
                return;
            }
            count++;
            final int[] run = lastRun.get(p);
            if (run != null && seq == run[1] + 1)
            {
                run[1] = seq;
                return;
            }
            if (run != null)
            {
                flush(p, run);
            }
            lastRun.put(p, new int[] {seq, seq});
        }

        private void flush(final String p, final int[] run)
        {
            out.computeIfAbsent(p, (k) -> new StringBuilder()).append(' ').append(run[0])
                .append(run[0] == run[1] ? "" : "-" + run[1]);
        }

        @Override
        public String toString()
        {
            lastRun.forEach(this::flush);
            lastRun.clear();
            final StringBuilder s = new StringBuilder().append(count).append(" msgs;");
            out.forEach((p, b) -> s.append(' ').append(p).append(':').append(b).append(';'));
            return s.toString();
        }
    }

    static MessageStore store;
    static final Map<String, Runs> STREAMS = new LinkedHashMap<>();
}
