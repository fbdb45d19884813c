package dev.skylark.broker.status;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

import java.net.URL;
import java.util.Locale;
import java.util.Objects;

/**
 * The logging set-up: Logback behind SLF4J (the broker's classes log with {@code System.Logger}, which
 * {@code slf4j-jdk-platform-logging} routes there), configured by {@code logback.xml} on the class path. That file reads
 * {@code skylark.log.level} and {@code skylark.log.format} from JVM flags; {@link #apply} re-reads it with the values
 * of a {@code Broker.Context} (which may come from a properties file or the command line). Chronicle Queue's
 * announcer and analytics are switched off through its own system properties, which must be set before its classes
 * load ({@link #quietChronicle()}); its remaining chatter is held back by the {@code net.openhft} logger's level.
 */
public final class LogSetup
{
    /** Chronicle's own switches (set only when the operator has not set them): no banner, no analytics. */
    private static final String[][] CHRONICLE_QUIET = {
        {"chronicle.announcer.disable", "true"},
        {"chronicle.analytics.disable", "true"},
    };

    private static String appliedLevel;
    private static String appliedFormat;

    private LogSetup()
    {
    }

    /** Sets Chronicle's quiet switches unless set already; call before any Chronicle class loads. */
    public static void quietChronicle()
    {
        for (final String[] property : CHRONICLE_QUIET)
        {
            if (System.getProperty(property[0]) == null)
            {
                System.setProperty(property[0], property[1]);
            }
        }
    }

    /**
     * Applies a log level and format ({@code text} or {@code json}) to Logback, re-reading the configuration only
     * when they differ from what is in force. Does nothing when Logback is not the SLF4J backend, or when the operator
     * gave their own {@code -Dlogback.configurationFile}.
     */
    public static synchronized void apply(final String level, final String format)
    {
        final ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext) || System.getProperty("logback.configurationFile") != null)
        {
            return;
        }
        final String wantedLevel = level.toUpperCase(Locale.ROOT);
        final String wantedFormat = format.toLowerCase(Locale.ROOT);
        final String currentLevel = appliedLevel != null ? appliedLevel :
            System.getProperty("skylark.log.level", "info").toUpperCase(Locale.ROOT);
        final String currentFormat = appliedFormat != null ? appliedFormat :
            System.getProperty("skylark.log.format", "text").toLowerCase(Locale.ROOT);
        if (wantedLevel.equals(currentLevel) && wantedFormat.equals(currentFormat))
        {
            return;
        }
        final LoggerContext context = (LoggerContext)factory;
        final URL config = Objects.requireNonNull(LogSetup.class.getClassLoader().getResource("logback.xml"));
        context.reset();
        context.putProperty("skylark.log.level", wantedLevel);
        context.putProperty("skylark.log.format", wantedFormat);
        final JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try
        {
            configurator.doConfigure(config);
        }
        catch (final JoranException ex)
        {
            throw new IllegalStateException("cannot configure logging from " + config, ex);
        }
        appliedLevel = wantedLevel;
        appliedFormat = wantedFormat;
    }
}
