package dev.caravan.support;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A log4j appender on the root logger that keeps every event at INFO and above while open, for a test to wait on
 * (a WARN it expects) or to search (a secret that must not appear). Every logger is additive, so the root's
 * appenders see all events of the gateways this JVM runs.
 */
public final class LogCapture extends AbstractAppender implements AutoCloseable, BeforeEachCallback, AfterEachCallback {

    /** One event: its logger, level and formatted message (with the exception's text, if any). */
    public record Captured(String logger, Level level, String message) {
    }

    private final List<Captured> events = new CopyOnWriteArrayList<>();

    /** Loggers with appenders of their own (additivity off in log4j2.properties): captured there too. */
    private static final List<String> OWN_APPENDERS = List.of("dev.caravan.access");

    private LogCapture() {
        super("test-log-capture-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY);
    }

    /** Capturing from now until {@link #close()}. */
    public static LogCapture install() {
        LogCapture capture = new LogCapture();
        capture.attach();
        return capture;
    }

    /** Capturing during each test, as an instance field: {@code @RegisterExtension final LogCapture logs = ...}. */
    public static LogCapture perTest() {
        return new LogCapture();
    }

    private void attach() {
        start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().addAppender(this, Level.INFO, null);
        for (String own : OWN_APPENDERS) { // loggers that do not pass their events on to the root
            LoggerConfig logger = context.getConfiguration().getLoggers().get(own);
            if (logger != null) {
                logger.addAppender(this, Level.INFO, null);
            }
        }
        context.updateLoggers();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        attach();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }

    @Override
    public void append(LogEvent event) {
        String message = event.getMessage() == null ? "" : event.getMessage().getFormattedMessage();
        if (event.getThrown() != null) {
            message = message + " " + event.getThrown();
        }
        events.add(new Captured(event.getLoggerName(), event.getLevel(), message));
    }

    /** The message of the first event that passes the test, or null. */
    public String find(Predicate<Captured> test) {
        for (Captured e : events) {
            if (test.test(e)) {
                return e.message();
            }
        }
        return null;
    }

    public int count(Predicate<Captured> test) {
        return (int) events.stream().filter(test).count();
    }

    /** Every event so far as "logger message". */
    public List<String> lines() {
        return events.stream().map(e -> e.logger() + " " + e.message()).toList();
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(getName());
        for (String own : OWN_APPENDERS) {
            LoggerConfig logger = context.getConfiguration().getLoggers().get(own);
            if (logger != null) {
                logger.removeAppender(getName());
            }
        }
        context.updateLoggers();
        stop();
    }
}
