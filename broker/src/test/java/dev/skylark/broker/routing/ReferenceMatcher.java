package dev.skylark.broker.routing;

/**
 * Brute force topic filter matching straight from MQTT 4.7, the oracle for randomized tests.
 */
final class ReferenceMatcher
{
    private ReferenceMatcher()
    {
    }

    static boolean matches(final String filter, final String topic)
    {
        final String[] f = filter.split("/", -1);
        final String[] t = topic.split("/", -1);
        if (topic.startsWith("$") && (f[0].equals("+") || f[0].equals("#")))
        {
            return false;
        }

        for (int i = 0; i < f.length; i++)
        {
            if (f[i].equals("#"))
            {
                return true;
            }
            if (i >= t.length || (!f[i].equals("+") && !f[i].equals(t[i])))
            {
                return false;
            }
        }

        return f.length == t.length;
    }
}
