package dev.skylark.broker.status;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The broker's version (from the build) and the JVM it runs on: for the start line, {@code /metrics} and $SYS. */
public final class BuildInfo
{
    /** The Maven project version, e.g. {@code 0.1.0-SNAPSHOT}; {@code unknown} when the build did not stamp it. */
    public static final String VERSION = readVersion();

    private BuildInfo()
    {
    }

    /** The Java runtime version, e.g. {@code 17.0.12+7}. */
    public static String javaVersion()
    {
        return Runtime.version().toString();
    }

    private static String readVersion()
    {
        try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties"))
        {
            if (in != null)
            {
                final Properties properties = new Properties();
                properties.load(in);
                final String version = properties.getProperty("version", "");
                if (!version.isEmpty() && !version.startsWith("$"))
                {
                    return version;
                }
            }
            final String fromManifest = BuildInfo.class.getPackage().getImplementationVersion();
            return fromManifest != null ? fromManifest : "unknown";
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
